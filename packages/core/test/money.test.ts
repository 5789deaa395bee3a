import { describe, expect, it } from 'vitest';
import { assertMinorUnits, currencyExponent, fromDecimalString, PayArgumentError, toDecimalString } from '../src/index.js';

describe('toDecimalString', () => {
  it('formats fen exactly', () => {
    expect(toDecimalString(8888)).toBe('88.88');
    expect(toDecimalString(1)).toBe('0.01');
    expect(toDecimalString(10)).toBe('0.10');
    expect(toDecimalString(100)).toBe('1.00');
    expect(toDecimalString(0)).toBe('0.00');
    expect(toDecimalString(Number.MAX_SAFE_INTEGER)).toBe('90071992547409.91');
  });

  it('follows the currency exponent (JPY 0, KWD 3, unknown 2)', () => {
    expect(currencyExponent('CNY')).toBe(2);
    expect(currencyExponent('jpy')).toBe(0);
    expect(currencyExponent('KWD')).toBe(3);
    expect(currencyExponent('XYZ')).toBe(2);
    expect(toDecimalString(5, 'JPY')).toBe('5');
    expect(toDecimalString(1234, 'KWD')).toBe('1.234');
    expect(toDecimalString(5, 'KWD')).toBe('0.005');
  });

  it('rejects negatives, fractions of a fen, unsafe integers, NaN, Infinity and non-numbers', () => {
    for (const bad of [-1, 0.5, 88.88, 1e-9, 2 ** 53, -(2 ** 53), Number.NaN, Number.POSITIVE_INFINITY, '100', 100n, null, undefined]) {
      expect(() => toDecimalString(bad as never), String(bad)).toThrow(PayArgumentError);
    }
    expect(() => toDecimalString(88.88)).toThrow(/expected an integer number of minor units \(fen\), got 88\.88/);
    expect(() => toDecimalString(-5)).toThrow(/expected a non-negative amount, got -5/);
    expect(() => toDecimalString(2 ** 53)).toThrow(/is not a safe integer/);
  });
});

describe('fromDecimalString', () => {
  it('parses decimal strings exactly, never through floating point', () => {
    expect(fromDecimalString('88.88')).toBe(8888);
    expect(fromDecimalString('0.01')).toBe(1);
    expect(fromDecimalString('0.1')).toBe(10);
    expect(fromDecimalString('1')).toBe(100);
    expect(fromDecimalString('0.29')).toBe(29); // 0.29 * 100 = 28.999999999999996 in floating point
    expect(fromDecimalString('1.005'.slice(0, 4))).toBe(100);
    expect(fromDecimalString(' 12.30 ')).toBe(1230);
    expect(fromDecimalString('1.000')).toBe(100); // trailing zeros beyond the exponent are not a fraction of a fen
    expect(fromDecimalString('90071992547409.91')).toBe(Number.MAX_SAFE_INTEGER);
    expect(fromDecimalString('7', 'JPY')).toBe(7);
    expect(fromDecimalString('1.234', 'KWD')).toBe(1234);
  });

  it('rejects fractions of a fen rather than rounding them', () => {
    expect(() => fromDecimalString('1.005')).toThrow(/has a fraction of a minor unit \(at most 2 decimals for CNY\)/);
    expect(() => fromDecimalString('0.001')).toThrow(PayArgumentError);
    expect(() => fromDecimalString('5.5', 'JPY')).toThrow(/at most 0 decimals for JPY/);
  });

  it('rejects negatives, signs, exponents, separators, blanks, too-large values and non-strings', () => {
    for (const bad of [
      '-1',
      '+1',
      '-0.01',
      '1e3',
      '1,000.00',
      '1.',
      '.5',
      '',
      ' ',
      'abc',
      '0x10',
      '１',
      '88.88元',
      '90071992547409.92',
      '9'.repeat(400),
    ]) {
      expect(() => fromDecimalString(bad), bad).toThrow(PayArgumentError);
    }
    expect(() => fromDecimalString('90071992547409.92')).toThrow(/is too large/);
    for (const bad of [88.88, 100n, null, undefined, {}]) expect(() => fromDecimalString(bad as never)).toThrow(PayArgumentError);
    expect(() => fromDecimalString(100n as never)).toThrow(/got the bigint 100/);
    expect(() => fromDecimalString(88.88 as never)).toThrow(/got the number 88\.88/);
  });
});

describe('assertMinorUnits', () => {
  it('accepts positive safe integers; zero only when allowed', () => {
    expect(() => assertMinorUnits(1)).not.toThrow();
    expect(() => assertMinorUnits(Number.MAX_SAFE_INTEGER)).not.toThrow();
    expect(() => assertMinorUnits(0)).toThrow(/expected a positive amount, got 0/);
    expect(() => assertMinorUnits(0, 'refund', { allowZero: true })).not.toThrow();
  });

  it('names the field and hints at fen', () => {
    try {
      assertMinorUnits(88.88, 'total_fee');
      throw new Error('not thrown');
    } catch (e) {
      expect(e).toBeInstanceOf(PayArgumentError);
      expect((e as PayArgumentError).message).toBe('@pay/core: total_fee: expected an integer number of minor units (fen), got 88.88');
      expect((e as PayArgumentError).hint).toMatch(/8888/);
    }
  });
});

describe('property: exact round trips over many values', () => {
  // A deterministic generator (xorshift) so a failure is reproducible.
  let state = 0x2545f491;
  const next = (): number => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
  const sample = (): number => {
    const scale = [10, 1000, 1e6, 1e9, 1e12, Number.MAX_SAFE_INTEGER][Math.floor(next() * 6)] as number;
    return Math.floor(next() * scale);
  };

  it('fromDecimalString(toDecimalString(n)) === n and the string has exactly two decimals (20 000 values)', () => {
    for (let i = 0; i < 20_000; i++) {
      const n = sample();
      const s = toDecimalString(n);
      expect(s).toMatch(/^\d+\.\d{2}$/);
      expect(fromDecimalString(s)).toBe(n);
      // agrees with exact bigint arithmetic
      expect(BigInt(s.replace('.', ''))).toBe(BigInt(n));
    }
  });

  it('every yuan.fen string parses to the integer a human would write (10 000 values), and one more decimal digit is refused unless it is 0', () => {
    for (let i = 0; i < 10_000; i++) {
      const yuan = Math.floor(next() * 1e9);
      const fen = Math.floor(next() * 100);
      const text = `${yuan}.${String(fen).padStart(2, '0')}`;
      expect(fromDecimalString(text)).toBe(yuan * 100 + fen);
      const extra = Math.floor(next() * 10);
      if (extra === 0) expect(fromDecimalString(`${text}0`)).toBe(yuan * 100 + fen);
      else expect(() => fromDecimalString(`${text}${extra}`)).toThrow(PayArgumentError);
    }
  });

  it('no float between two fen values is accepted as an amount', () => {
    for (let i = 0; i < 10_000; i++) {
      const x = sample() + 0.5 + next() * 0.4;
      if (Number.isInteger(x)) continue;
      expect(() => assertMinorUnits(x)).toThrow(PayArgumentError);
    }
  });
});
