/**
 * Canonical `k1=v1&k2=v2` signing strings and form encoding / decoding: the one
 * builder every provider's signature uses, with options for the differences.
 *
 * @module
 */
import { PayArgumentError } from './errors.js';

/** A flat parameter map as providers sign it. `undefined` and `null` values are always left out. */
export type Params = Readonly<Record<string, string | number | boolean | null | undefined>>;

/** Options of {@link canonicalString}. */
export interface CanonicalOptions {
  /** Keys left out of the string (e.g. `sign`, `sign_type`, `signature`). */
  exclude?: ReadonlySet<string> | readonly string[];
  /** Leave out keys whose value is the empty string (default true: Alipay, WeChat v2, UnionPay). */
  dropEmpty?: boolean;
  /** Trim values first, and drop values that are blank after trimming when `dropEmpty` (UnionPay). Default false. */
  trim?: boolean;
  /** Encode each value (e.g. `encodeURIComponent`); raw by default, as providers sign raw values. */
  encode?: (value: string, key: string) => string;
  /** Sort keys in ASCII order (default true). */
  sort?: boolean;
}

function toExcludeSet(exclude: CanonicalOptions['exclude']): ReadonlySet<string> | undefined {
  if (exclude === undefined) return undefined;
  return exclude instanceof Set ? exclude : new Set(exclude as readonly string[]);
}

function compareAscii(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Text of a number or boolean; anything else (an object, an array…) is a caller bug that would sign `[object Object]`. */
function scalarText(value: unknown, key: string): string {
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  throw new PayArgumentError(
    `@pay/core: the value of "${key}" must be a string, number or boolean, got ${Array.isArray(value) ? 'an array' : typeof value} (serialise it first, e.g. JSON.stringify(biz_content))`,
  );
}

/**
 * Builds the `k1=v1&k2=v2` string providers sign: keys in ASCII order, values raw.
 *
 * @throws PayArgumentError for a value that is an object or array (it would be signed as `[object Object]`)
 * @example
 * ```ts
 * canonicalString({ b: '2', a: '1', sign: 'x', empty: '' }, { exclude: ['sign'] }); // 'a=1&b=2'
 * ```
 */
export function canonicalString(params: Params, options: CanonicalOptions = {}): string {
  const exclude = toExcludeSet(options.exclude);
  const dropEmpty = options.dropEmpty ?? true;
  const trim = options.trim ?? false;
  const keys = Object.keys(params);
  if (options.sort ?? true) keys.sort(compareAscii);
  let out = '';
  for (const key of keys) {
    if (exclude?.has(key)) continue;
    const raw = params[key];
    if (raw === undefined || raw === null) continue;
    let value = typeof raw === 'string' ? raw : scalarText(raw, key);
    if (trim) value = value.trim();
    if (dropEmpty && value === '') continue;
    if (options.encode) value = options.encode(value, key);
    if (out.length > 0) out += '&';
    out += `${key}=${value}`;
  }
  return out;
}

/**
 * Percent-encodes a value as `application/x-www-form-urlencoded` does (space as `+`).
 *
 * @throws PayArgumentError for text that is not valid UTF-16 (a lone surrogate)
 */
export function formEncodeValue(value: string): string {
  let encoded: string;
  try {
    encoded = encodeURIComponent(value);
  } catch (e) {
    throw new PayArgumentError('@pay/core: form: a value holds a lone UTF-16 surrogate and cannot be encoded as UTF-8', { cause: e });
  }
  return encoded.replace(/%20/g, '+').replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/**
 * Encodes parameters as `application/x-www-form-urlencoded`, in the order given
 * (or sorted), leaving out `undefined` and `null`.
 *
 * @example
 * ```ts
 * formEncode({ subject: '测试 a+b', total_amount: '0.01' }); // 'subject=%E6%B5%8B%E8%AF%95+a%2Bb&total_amount=0.01'
 * ```
 * @throws PayArgumentError for a value that is an object or array, or holds a lone surrogate
 */
export function formEncode(params: Params, options: { sort?: boolean } = {}): string {
  const keys = Object.keys(params);
  if (options.sort) keys.sort(compareAscii);
  const parts: string[] = [];
  for (const key of keys) {
    const v = params[key];
    if (v === undefined || v === null) continue;
    parts.push(`${formEncodeValue(key)}=${formEncodeValue(typeof v === 'string' ? v : scalarText(v, key))}`);
  }
  return parts.join('&');
}

const PLUS = /\+/g;

function decodeComponent(text: string, what: string): string {
  // fast path (same result): without '%' there is nothing for decodeURIComponent to do
  if (text.indexOf('%') < 0) return text.indexOf('+') < 0 ? text : text.replace(PLUS, ' ');
  try {
    return decodeURIComponent(text.indexOf('+') < 0 ? text : text.replace(PLUS, ' '));
  } catch (e) {
    throw new PayArgumentError(`@pay/core: form: ${what} is not valid percent-encoding: "${text.slice(0, 40)}"`, { cause: e });
  }
}

/** Options of {@link formDecode}. */
export interface FormDecodeOptions {
  /** What to do with a key that appears twice: throw (default), keep the first, or keep the last. */
  duplicates?: 'error' | 'first' | 'last';
}

/**
 * Decodes an `application/x-www-form-urlencoded` body exactly once (`+` is a
 * space, `%2B` is a plus). A key present twice is an error by default, because
 * a signature cannot cover both values.
 *
 * @throws PayArgumentError on malformed percent-encoding or a duplicated key
 */
export function formDecode(body: string | Uint8Array, options: FormDecodeOptions = {}): Record<string, string> {
  if (typeof body !== 'string' && !(body instanceof Uint8Array)) {
    throw new PayArgumentError(
      `@pay/core: form: expected the raw body as a string or bytes, got ${body === null ? 'null' : typeof body} (a body parsed by a framework cannot be verified: keep the raw body)`,
    );
  }
  const text = typeof body === 'string' ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8');
  const out: Record<string, string> = Object.create(null);
  const mode = options.duplicates ?? 'error';
  if (text.length === 0) return out;
  for (const pair of text.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const key = decodeComponent(eq < 0 ? pair : pair.slice(0, eq), 'a key');
    const value = eq < 0 ? '' : decodeComponent(pair.slice(eq + 1), `the value of "${key}"`);
    if (Object.hasOwn(out, key)) {
      if (mode === 'error') throw new PayArgumentError(`@pay/core: form: the key "${key}" appears more than once`);
      if (mode === 'first') continue;
    }
    out[key] = value;
  }
  return out;
}
