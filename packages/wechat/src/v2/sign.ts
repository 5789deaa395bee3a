/**
 * API v2 signatures: `stringA&key=KEY` digested with MD5 or HMAC-SHA256 and
 * written as upper-case hex (v2 安全规范). The sign type always comes from
 * configuration; comparisons are exact and constant-time.
 *
 * @module
 */
import { canonicalString, hmacSha256Hex, md5Hex, timingSafeEqualData } from '@pay/core';

/** The two v2 sign types. */
export type V2SignType = 'MD5' | 'HMAC-SHA256';

const EXCLUDE = new Set(['sign']);

/**
 * The string signed: non-empty parameters except `sign`, sorted by key, `k=v&…`, then `&key=KEY`.
 *
 * @example
 * ```ts
 * v2SignString({ mch_id: '10000100', appid: 'wxd930ea5d5a258f4f' }, KEY); // 'appid=…&mch_id=10000100&key=KEY'
 * ```
 */
export function v2SignString(params: Readonly<Record<string, string | number | undefined | null>>, apiKey: string): string {
  return `${canonicalString(params, { exclude: EXCLUDE, dropEmpty: true })}&key=${apiKey}`;
}

/**
 * Signs v2 parameters: upper-case hex MD5, or upper-case hex HMAC-SHA256 keyed with the API key.
 *
 * @param params - the parameters (`sign` is ignored)
 * @param apiKey - the API v2 key (32 characters)
 * @param signType - from configuration
 */
export function v2Sign(params: Readonly<Record<string, string | number | undefined | null>>, apiKey: string, signType: V2SignType): string {
  const text = v2SignString(params, apiKey);
  return (signType === 'HMAC-SHA256' ? hmacSha256Hex(apiKey, text) : md5Hex(text)).toUpperCase();
}

/**
 * Checks the `sign` of v2 parameters with the configured sign type: exact (upper-case) comparison
 * in constant time. A missing or empty `sign` is false.
 */
export function v2VerifySign(params: Readonly<Record<string, string | undefined>>, apiKey: string, signType: V2SignType): boolean {
  const sign = params.sign;
  if (typeof sign !== 'string' || sign === '') return false;
  return timingSafeEqualData(v2Sign(params, apiKey, signType), sign);
}
