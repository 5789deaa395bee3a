/**
 * Gateway responses: the exact raw text of `xxx_response` (or `error_response`)
 * is found by a scanner that matches braces while respecting strings and
 * escapes, its signature is verified over those bytes (always), an AES-encrypted
 * value is verified as the quoted string and then decrypted, and only then is
 * the verified text parsed.
 *
 * @module
 */
import { aes128CbcDecrypt, aes128CbcEncrypt, PayCertificateError, PayDecryptError, PayResponseError, PaySignatureError } from '@pay/core';
import type { AlipayVerifyKey, ResolvedAlipayConfig } from './config.js';
import { type AlipayErrorBody, alipayError, alipayHint, PREFIX, PROVIDER_NAME } from './errors.js';
import { verifyWithAny } from './sign.js';

/** The top-level members of a gateway answer, located in its raw text. */
export interface ExtractedResponse {
  /** The member found: `xxx_response` or `error_response`. */
  key: string;
  /** True when it is `error_response`. */
  isError: boolean;
  /** The exact raw text of its value: an object `{…}`, or a quoted string `"…"` when encrypted. */
  text: string;
  /** True when the value is a JSON string (AES-encrypted content). */
  encrypted: boolean;
  /** The `sign` member, decoded. */
  sign?: string;
  /** The `alipay_cert_sn` member (certificate mode). */
  certSn?: string;
}

function malformed(what: string, raw: string): never {
  const start = raw.trimStart().slice(0, 1);
  const hint = start === '<' ? 'the body looks like HTML or XML: the gateway URL is probably wrong, or a proxy answered' : undefined;
  throw new PayResponseError(
    `${PREFIX} malformed gateway response: ${what}`,
    hint === undefined ? { provider: PROVIDER_NAME } : { provider: PROVIDER_NAME, hint },
  );
}

function skipWs(s: string, i: number): number {
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
    i++;
  }
  return i;
}

/** Index just past the string starting at `i` (which holds `"`). */
function scanString(s: string, i: number, raw: string): number {
  let j = i + 1;
  while (j < s.length) {
    const c = s.charCodeAt(j);
    if (c === 0x5c) j += 2;
    else if (c === 0x22) return j + 1;
    else j++;
  }
  return malformed(`unterminated string starting at offset ${i}`, raw);
}

/** Index just past the value starting at `i`. */
function scanValue(s: string, i: number, raw: string): number {
  const c = s[i];
  if (c === '"') return scanString(s, i, raw);
  if (c === '{' || c === '[') {
    let depth = 0;
    let j = i;
    while (j < s.length) {
      const d = s[j];
      if (d === '"') {
        j = scanString(s, j, raw);
        continue;
      }
      if (d === '{' || d === '[') depth++;
      else if (d === '}' || d === ']') {
        depth--;
        if (depth === 0) return j + 1;
      }
      j++;
    }
    return malformed(`unbalanced braces in the value starting at offset ${i}`, raw);
  }
  let j = i;
  while (j < s.length && !',}] \n\r\t'.includes(s[j] as string)) j++;
  if (j === i) malformed(`expected a value at offset ${i}`, raw);
  return j;
}

/**
 * Splits the top-level object of a gateway answer into its members' raw texts.
 *
 * @throws PayResponseError when the text is not one JSON object or a member appears twice
 */
export function topLevelMembers(raw: string): Map<string, string> {
  const members = new Map<string, string>();
  let i = skipWs(raw, raw.charCodeAt(0) === 0xfeff ? 1 : 0);
  if (raw[i] !== '{') malformed(`expected a JSON object, got ${JSON.stringify(raw.slice(0, 30))}`, raw);
  i = skipWs(raw, i + 1);
  if (raw[i] === '}') return members;
  for (;;) {
    if (raw[i] !== '"') malformed(`expected a member name at offset ${i}`, raw);
    const keyEnd = scanString(raw, i, raw);
    let key: string;
    try {
      key = JSON.parse(raw.slice(i, keyEnd)) as string;
    } catch {
      return malformed(`bad member name at offset ${i}`, raw);
    }
    i = skipWs(raw, keyEnd);
    if (raw[i] !== ':') malformed(`expected ':' after "${key}"`, raw);
    i = skipWs(raw, i + 1);
    const end = scanValue(raw, i, raw);
    if (members.has(key)) malformed(`the member "${key}" appears twice (a signature can cover only one)`, raw);
    members.set(key, raw.slice(i, end));
    i = skipWs(raw, end);
    if (raw[i] === ',') {
      i = skipWs(raw, i + 1);
      continue;
    }
    if (raw[i] === '}') break;
    malformed(`expected ',' or '}' at offset ${i}`, raw);
  }
  if (skipWs(raw, i + 1) !== raw.length) malformed('text after the JSON object', raw);
  return members;
}

function stringMember(members: Map<string, string>, name: string, raw: string): string | undefined {
  const text = members.get(name);
  if (text === undefined) return undefined;
  if (!text.startsWith('"')) malformed(`"${name}" is not a string`, raw);
  try {
    return JSON.parse(text) as string;
  } catch {
    return malformed(`"${name}" is not a valid JSON string`, raw);
  }
}

/** The response member name of an OpenAPI method: `alipay.trade.query` → `alipay_trade_query_response`. */
export function responseKeyOf(method: string): string {
  return `${method.replace(/\./g, '_')}_response`;
}

/**
 * Locates `xxx_response` (or `error_response`), `sign` and `alipay_cert_sn` in the raw text.
 *
 * @example
 * ```ts
 * extractResponse('{"alipay_trade_query_response":{"code":"10000"},"sign":"…"}', 'alipay.trade.query').text;
 * // '{"code":"10000"}'
 * ```
 * @throws PayResponseError when neither member is there or the text is malformed
 */
export function extractResponse(raw: string, method: string): ExtractedResponse {
  const members = topLevelMembers(raw);
  const wanted = responseKeyOf(method);
  const key = members.has(wanted) ? wanted : members.has('error_response') ? 'error_response' : undefined;
  if (key === undefined) {
    malformed(`expected "${wanted}" or "error_response", found ${[...members.keys()].map((k) => `"${k}"`).join(', ') || 'no member'}`, raw);
  }
  const text = members.get(key) as string;
  if (!text.startsWith('{') && !text.startsWith('"')) malformed(`"${key}" is neither an object nor an encrypted string`, raw);
  const out: ExtractedResponse = { key, isError: key === 'error_response', text, encrypted: text.startsWith('"') };
  const sign = stringMember(members, 'sign', raw);
  if (sign !== undefined) out.sign = sign;
  const certSn = stringMember(members, 'alipay_cert_sn', raw);
  if (certSn !== undefined) out.certSn = certSn;
  return out;
}

function parseObject(text: string, what: string, raw: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return malformed(`${what} is not valid JSON`, raw);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) malformed(`${what} is not a JSON object`, raw);
  return value as Record<string, unknown>;
}

/**
 * Decrypts Alipay AES content (AES-128-CBC, zero IV, PKCS#7, base64) to text.
 *
 * @throws PayDecryptError on a wrong key or damaged content
 */
export function aesDecryptText(key: Uint8Array, base64: string, what: string): string {
  const bytes = Buffer.from(base64, 'base64');
  if (bytes.length === 0 || bytes.length % 16 !== 0) {
    throw new PayDecryptError(`${PREFIX} ${what}: expected base64 AES ciphertext (a multiple of 16 bytes), got ${bytes.length} bytes`, {
      provider: PROVIDER_NAME,
    });
  }
  try {
    return aes128CbcDecrypt(key, bytes).toString('utf8');
  } catch (e) {
    throw new PayDecryptError(`${PREFIX} ${what}: AES decryption failed (wrong encryptKey or damaged content)`, {
      provider: PROVIDER_NAME,
      cause: e,
    });
  }
}

/** Encrypts text as Alipay AES content (AES-128-CBC, zero IV, PKCS#7), base64. */
export function aesEncryptText(key: Uint8Array, text: string): string {
  return aes128CbcEncrypt(key, text).toString('base64');
}

function keysFor(cfg: ResolvedAlipayConfig, certSn: string | undefined): readonly AlipayVerifyKey[] {
  if (cfg.mode !== 'cert' || certSn === undefined) return cfg.alipayKeys;
  const match = cfg.alipayKeys.filter((k) => k.sn === certSn);
  if (match.length === 0) {
    throw new PayCertificateError(
      `${PREFIX} the response names alipay_cert_sn ${certSn}, expected one of ${cfg.alipayKeys.map((k) => k.sn).join(', ')}`,
      {
        provider: PROVIDER_NAME,
        reason: 'UNKNOWN_CERT_SN',
        hint: 'if Alipay rotated its certificate, download the new alipayCertPublicKey_RSA2.crt from the console and add it to alipayPublicCert (current first); otherwise the response is forged',
      },
    );
  }
  return match;
}

/** A verified gateway answer. */
export interface VerifiedResponse {
  /** The member it came from. */
  key: string;
  /** The verified (and decrypted) content, parsed. */
  data: Record<string, unknown>;
  /** The exact text the signature covered. */
  signedText: string;
}

/**
 * Verifies a gateway answer and returns its content; a business failure
 * (`error_response`, or `code` ≠ `10000`) is thrown as a `PayError` after verification.
 *
 * @param cfg - the resolved client configuration
 * @param raw - the response body exactly as received
 * @param method - the OpenAPI method called
 * @param httpStatus - HTTP status, kept in errors
 * @throws PaySignatureError when the signature is missing or does not verify (an unsigned error is never trusted)
 * @throws PayCertificateError when `alipay_cert_sn` names no configured certificate
 * @throws PayDecryptError when encrypted content cannot be decrypted
 * @throws PayResponseError when the text is malformed
 * @throws PayProviderError / PayNotFoundError / PayRateLimitError for a verified business failure
 */
export function verifyGatewayResponse(cfg: ResolvedAlipayConfig, raw: string, method: string, httpStatus?: number): VerifiedResponse {
  const ex = extractResponse(raw, method);
  if (ex.sign === undefined || ex.sign === '') {
    let detail: AlipayErrorBody = {};
    if (!ex.encrypted) {
      try {
        detail = JSON.parse(ex.text) as AlipayErrorBody;
      } catch {
        detail = {};
      }
    }
    const sub = typeof detail.sub_code === 'string' ? detail.sub_code : undefined;
    const code = typeof detail.code === 'string' ? detail.code : undefined;
    const hint = alipayHint(sub, code);
    throw new PaySignatureError(
      `${PREFIX} ${method}: the gateway answer "${ex.key}" carries no sign, so it cannot be trusted${code ? ` (it claims code ${code}${sub ? ` ${sub}` : ''})` : ''}`,
      {
        provider: PROVIDER_NAME,
        reason: 'UNSIGNED_RESPONSE',
        ...(code !== undefined ? { providerCode: code } : {}),
        ...(sub !== undefined ? { providerSubCode: sub } : {}),
        ...(typeof detail.sub_msg === 'string' ? { providerMessage: detail.sub_msg } : {}),
        ...(httpStatus !== undefined ? { httpStatus } : {}),
        ...(hint !== undefined ? { hint } : {}),
      },
    );
  }
  const keys = keysFor(cfg, ex.certSn);
  if (!verifyWithAny(cfg.hash, keys, ex.text, ex.sign)) {
    throw new PaySignatureError(
      `${PREFIX} ${method}: the signature of "${ex.key}" does not verify with the configured Alipay ${cfg.mode === 'cert' ? 'certificate' : 'public key'} (${cfg.signType}) over the raw response text`,
      {
        provider: PROVIDER_NAME,
        reason: 'BAD_SIGNATURE',
        hint: 'check that alipayPublicKey is the Alipay public key of this app (production and sandbox keys differ) and signType matches the console',
      },
    );
  }
  let data: Record<string, unknown>;
  if (ex.encrypted) {
    if (cfg.encryptKey === undefined) {
      throw new PayDecryptError(`${PREFIX} ${method}: the response is AES-encrypted but no encryptKey is configured`, {
        provider: PROVIDER_NAME,
      });
    }
    const plain = aesDecryptText(cfg.encryptKey, JSON.parse(ex.text) as string, method);
    data = parseObject(plain, `the decrypted "${ex.key}"`, raw);
  } else {
    data = parseObject(ex.text, `"${ex.key}"`, raw);
  }
  const code = data.code;
  if (ex.isError || (code !== undefined && code !== '10000'))
    throw alipayError(method, data as AlipayErrorBody, httpStatus === undefined ? {} : { httpStatus });
  return { key: ex.key, data, signedText: ex.text };
}
