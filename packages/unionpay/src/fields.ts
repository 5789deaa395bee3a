/**
 * Field rules of the ACP gateway, enforced before anything is signed: order
 * numbers, transaction times in Beijing time, amounts in fen, the currency,
 * reserved fields and URLs. Every rule fails with a {@link PayArgumentError}
 * that names the field, what was expected and what was found.
 *
 * @module
 */
import { assertMinorUnits, PayArgumentError } from '@pay/core';

/** The prefix of every message this package raises. @internal */
export const PREFIX = '@pay/unionpay';

/** UnionPay `orderId`: 8 to 32 letters or digits (no `-` or `_`). */
export const ORDER_ID_PATTERN = /^[A-Za-z0-9]{8,32}$/;

const TXN_TIME_PATTERN = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$/;
const BEIJING_OFFSET_MS = 8 * 3600 * 1000;

function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  return value === undefined ? 'nothing' : typeof value === 'number' ? String(value) : typeof value;
}

/**
 * Checks an `orderId` (also a refund's or an undo's own `orderId`).
 *
 * @param value - the order number
 * @param what - the field name used in the error
 * @throws PayArgumentError unless it is 8–32 letters or digits
 */
export function assertOrderId(value: unknown, what = 'orderId'): asserts value is string {
  if (typeof value !== 'string' || !ORDER_ID_PATTERN.test(value)) {
    throw new PayArgumentError(`${PREFIX}: ${what}: expected 8–32 letters or digits (no "-" or "_"), got ${show(value)}`);
  }
}

/**
 * Checks a `txnTime` (or `payTimeout`): `YYYYMMDDhhmmss`, a real calendar time.
 *
 * @param value - the time text, Beijing time (UTC+8)
 * @param what - the field name used in the error
 * @throws PayArgumentError unless it is 14 digits forming a valid date and time
 */
export function assertTxnTime(value: unknown, what = 'txnTime'): asserts value is string {
  if (typeof value !== 'string' || parseTxnTimeOrNaN(value) === undefined) {
    throw new PayArgumentError(`${PREFIX}: ${what}: expected YYYYMMDDhhmmss in Beijing time (e.g. 20240105145046), got ${show(value)}`);
  }
}

function parseTxnTimeOrNaN(text: string): number | undefined {
  const m = TXN_TIME_PATTERN.exec(text);
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 59) return undefined;
  const utc = Date.UTC(y, mo - 1, d, h, mi, s);
  const back = new Date(utc);
  if (back.getUTCDate() !== d || back.getUTCMonth() !== mo - 1) return undefined; // 20240231
  return utc - BEIJING_OFFSET_MS;
}

/**
 * Formats an instant as `YYYYMMDDhhmmss` in Beijing time, as `txnTime` and `payTimeout` need.
 *
 * @example
 * ```ts
 * formatTxnTime(Date.UTC(2024, 0, 5, 6, 50, 46)); // '20240105145046'
 * ```
 * @param epochMs - the instant, epoch milliseconds
 */
export function formatTxnTime(epochMs: number): string {
  const iso = new Date(epochMs + BEIJING_OFFSET_MS).toISOString(); // 2024-01-05T14:50:46.000Z
  return iso.slice(0, 19).replace(/[-T:]/g, '');
}

/**
 * Reads a `txnTime` (Beijing time) as epoch milliseconds.
 *
 * @throws PayArgumentError when the text is not a valid `YYYYMMDDhhmmss`
 */
export function parseTxnTime(text: string, what = 'txnTime'): number {
  assertTxnTime(text, what);
  return parseTxnTimeOrNaN(text) as number;
}

/**
 * Turns an amount in fen into `txnAmt` text (at most 12 digits).
 *
 * @param fen - a positive integer number of fen
 * @param what - the field name used in the error
 * @throws PayArgumentError for fractions, zero, negatives or more than 12 digits
 */
export function toTxnAmt(fen: unknown, what = 'txnAmt'): string {
  try {
    assertMinorUnits(fen, what);
  } catch (e) {
    throw new PayArgumentError(`${PREFIX}: ${what}: expected a positive integer number of fen (1 yuan = 100), got ${show(fen)}`, {
      cause: e,
      hint: 'UnionPay txnAmt is in fen: 88.88 yuan is 8888',
    });
  }
  const text = String(fen);
  if (text.length > 12) throw new PayArgumentError(`${PREFIX}: ${what}: at most 12 digits of fen, got ${text}`);
  return text;
}

/**
 * Reads a `txnAmt` / `settleAmt` text as fen.
 *
 * @throws PayArgumentError unless it is 1–12 digits
 */
export function fromTxnAmt(text: string | undefined, what = 'txnAmt'): number {
  if (text === undefined || !/^\d{1,12}$/.test(text)) {
    throw new PayArgumentError(`${PREFIX}: ${what}: expected 1–12 digits of fen, got ${show(text)}`);
  }
  return Number(text);
}

/**
 * Checks `currencyCode`: UnionPay online payments settle in CNY, code `156`.
 *
 * @throws PayArgumentError for any other value
 */
export function assertCurrencyCode(value: unknown): asserts value is '156' {
  if (value !== '156') {
    throw new PayArgumentError(
      `${PREFIX}: currencyCode: expected "156" (CNY, the only currency of these transactions), got ${show(value)}`,
    );
  }
}

/** Longest `reqReserved`, in bytes of UTF-8. */
export const REQ_RESERVED_MAX_BYTES = 1024;

/**
 * Checks `reqReserved` (echoed back in responses and notifications): at most 1024 bytes.
 *
 * @throws PayArgumentError when it is longer, or not a string
 */
export function assertReqReserved(value: unknown): asserts value is string {
  if (typeof value !== 'string') throw new PayArgumentError(`${PREFIX}: reqReserved: expected a string, got ${show(value)}`);
  const bytes = Buffer.byteLength(value, 'utf8');
  if (bytes > REQ_RESERVED_MAX_BYTES) {
    throw new PayArgumentError(`${PREFIX}: reqReserved: at most ${REQ_RESERVED_MAX_BYTES} bytes, got ${bytes}`);
  }
}

/**
 * Checks a UnionPay transaction id (`queryId`, `origQryId`): 1–21 letters or digits.
 *
 * @throws PayArgumentError otherwise
 */
export function assertQueryId(value: unknown, what = 'origQryId'): asserts value is string {
  if (typeof value !== 'string' || !/^[A-Za-z0-9]{1,21}$/.test(value)) {
    throw new PayArgumentError(
      `${PREFIX}: ${what}: expected the queryId UnionPay returned (up to 21 letters or digits), got ${show(value)}`,
    );
  }
}

/**
 * Checks `settleDate` of a file download: `MMDD`.
 *
 * @throws PayArgumentError otherwise
 */
export function assertSettleDate(value: unknown): asserts value is string {
  const m = typeof value === 'string' ? /^(\d{2})(\d{2})$/.exec(value) : null;
  if (!m || Number(m[1]) < 1 || Number(m[1]) > 12 || Number(m[2]) < 1 || Number(m[2]) > 31) {
    throw new PayArgumentError(`${PREFIX}: settleDate: expected MMDD (e.g. 0119), got ${show(value)}`);
  }
}

/**
 * Checks a notification or return URL (`backUrl`, `frontUrl`): absolute http(s).
 *
 * @throws PayArgumentError otherwise
 */
export function assertCallbackUrl(value: unknown, what: string): asserts value is string {
  let url: URL;
  try {
    url = new URL(String(value));
  } catch (e) {
    throw new PayArgumentError(`${PREFIX}: ${what}: expected an absolute http(s) URL, got ${show(value)}`, { cause: e });
  }
  if (typeof value !== 'string' || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
    throw new PayArgumentError(`${PREFIX}: ${what}: expected an absolute http(s) URL, got ${show(value)}`);
  }
}
