/**
 * Money as integers in the currency's minor unit (fen for CNY), with exact
 * conversion to and from decimal strings such as `"88.88"`. No floating point.
 *
 * @module
 */
import { PayArgumentError } from './errors.js';

/** Minor-unit exponent of the currencies the providers use; 2 unless listed. */
const EXPONENTS: Readonly<Record<string, number>> = { JPY: 0, KRW: 0, VND: 0, CLP: 0, ISK: 0, BHD: 3, KWD: 3, OMR: 3, JOD: 3, TND: 3 };

/** The number of decimals of a currency's minor unit (2 for CNY, 0 for JPY). */
export function currencyExponent(currency = 'CNY'): number {
  return EXPONENTS[currency.toUpperCase()] ?? 2;
}

/**
 * Checks that `amount` is a valid amount in minor units: a safe, non-negative integer.
 *
 * @param amount - the amount in fen
 * @param what - name used in the error
 * @param options - `allowZero` (default false)
 * @throws PayArgumentError when it is not
 */
export function assertMinorUnits(amount: unknown, what = 'amount', options: { allowZero?: boolean } = {}): asserts amount is number {
  if (typeof amount !== 'number' || !Number.isInteger(amount)) {
    throw new PayArgumentError(
      `@pay/core: ${what}: expected an integer number of minor units (fen), got ${typeof amount === 'number' ? amount : typeof amount}`,
      {
        hint: 'amounts are integers in fen: 88.88 yuan is 8888',
      },
    );
  }
  if (!Number.isSafeInteger(amount)) throw new PayArgumentError(`@pay/core: ${what}: ${amount} is not a safe integer`);
  if (amount < 0) throw new PayArgumentError(`@pay/core: ${what}: expected a non-negative amount, got ${amount}`);
  if (amount === 0 && !options.allowZero) throw new PayArgumentError(`@pay/core: ${what}: expected a positive amount, got 0`);
}

/**
 * Formats minor units as a decimal string: `8888` → `"88.88"`, `1` → `"0.01"`.
 *
 * @example
 * ```ts
 * toDecimalString(8888); // '88.88'
 * toDecimalString(5, 'JPY'); // '5'
 * ```
 * @throws PayArgumentError for negatives, fractions and unsafe integers
 */
export function toDecimalString(minorUnits: number, currency = 'CNY'): string {
  assertMinorUnits(minorUnits, 'amount', { allowZero: true });
  const exp = currencyExponent(currency);
  if (exp === 0) return String(minorUnits);
  const digits = String(minorUnits).padStart(exp + 1, '0');
  return `${digits.slice(0, -exp)}.${digits.slice(-exp)}`;
}

const DECIMAL_RE = /^(\d+)(?:\.(\d+))?$/;

function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'bigint') return `the bigint ${value}`;
  if (typeof value === 'number') return `the number ${value}`;
  return value === null ? 'null' : typeof value;
}

/**
 * Parses a decimal string into minor units: `"88.88"` → `8888`, `"1"` → `100`,
 * `"0.1"` → `10`. Fractions of a minor unit are rejected (`"1.005"`), not rounded.
 *
 * @throws PayArgumentError for anything that is not a non-negative decimal with at most the currency's decimals
 */
export function fromDecimalString(text: string, currency = 'CNY'): number {
  const exp = currencyExponent(currency);
  const m = typeof text === 'string' ? DECIMAL_RE.exec(text.trim()) : null;
  if (!m)
    throw new PayArgumentError(`@pay/core: amount: expected a non-negative decimal string such as "88.88", got ${describeValue(text)}`);
  const whole = m[1] as string;
  const frac = m[2] ?? '';
  if (frac.length > exp && /[1-9]/.test(frac.slice(exp))) {
    throw new PayArgumentError(`@pay/core: amount: "${text}" has a fraction of a minor unit (at most ${exp} decimals for ${currency})`);
  }
  const value = Number(whole + frac.slice(0, exp).padEnd(exp, '0'));
  if (!Number.isSafeInteger(value)) throw new PayArgumentError(`@pay/core: amount: "${text}" is too large`);
  return value;
}
