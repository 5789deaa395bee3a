/**
 * Signing and verifying Alipay's `k=v&…` strings, and the China-time timestamps
 * Alipay expects.
 *
 * @module
 */
import type { KeyObject } from 'node:crypto';
import { canonicalString, type Params, PayArgumentError, type RsaHash, rsaSign, rsaVerify } from '@pay/core';
import { PREFIX } from './errors.js';

const EXCLUDE_SIGN = new Set(['sign']);

/** The string an OpenAPI request signs: every non-empty parameter but `sign`, sorted, raw values. */
export function requestSignContent(params: Params): string {
  return canonicalString(params, { exclude: EXCLUDE_SIGN });
}

/** A signature with the exact content it covers. */
export interface SignedContent {
  /** The signed string. */
  content: string;
  /** The base64 signature. */
  sign: string;
}

/**
 * Signs OpenAPI request parameters (`sign_type` included in the content, `sign` left out).
 *
 * @example
 * ```ts
 * const { sign, content } = signRequestParams(params, privateKey, 'sha256');
 * ```
 */
export function signRequestParams(params: Params, privateKey: KeyObject, hash: RsaHash): SignedContent {
  const content = requestSignContent(params);
  return { content, sign: rsaSign(hash, privateKey, content) };
}

/** Verifies `signature` over `content` with any of `keys`; true when one verifies. */
export function verifyWithAny(hash: RsaHash, keys: readonly { key: KeyObject }[], content: string, signature: string): boolean {
  for (const k of keys) if (rsaVerify(hash, k.key, content, signature)) return true;
  return false;
}

const CHINA_OFFSET_MS = 8 * 3600 * 1000;

function pad(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/**
 * Formats an instant as Alipay's `yyyy-MM-dd HH:mm:ss` in China time (UTC+8, no DST).
 *
 * @example
 * ```ts
 * chinaTime(Date.UTC(2024, 0, 1, 19, 4, 5)); // '2024-01-02 03:04:05'
 * ```
 */
export function chinaTime(ms: number): string {
  const d = new Date(ms + CHINA_OFFSET_MS);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

const CHINA_TIME_RE = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/;

/**
 * Parses Alipay's `yyyy-MM-dd HH:mm:ss` (China time) into epoch ms.
 *
 * @throws PayArgumentError when the text is not in that form
 */
export function parseChinaTime(text: string): number {
  const m = CHINA_TIME_RE.exec(text);
  if (!m) throw new PayArgumentError(`${PREFIX} expected a time like "2024-01-02 03:04:05" (China time), got ${JSON.stringify(text)}`);
  const [, y, mo, d, h, mi, s] = m.map(Number) as [number, number, number, number, number, number, number];
  return Date.UTC(y, mo - 1, d, h, mi, s) - CHINA_OFFSET_MS;
}

/** A time given as epoch ms, a `Date`, or an Alipay time string, formatted as Alipay's China time. */
export function toChinaTime(value: number | Date | string, what: string): string {
  if (typeof value === 'string') {
    parseChinaTime(value);
    return value;
  }
  const ms = value instanceof Date ? value.getTime() : value;
  if (!Number.isFinite(ms)) throw new PayArgumentError(`${PREFIX} ${what}: expected a time, got ${String(value)}`);
  return chinaTime(ms);
}
