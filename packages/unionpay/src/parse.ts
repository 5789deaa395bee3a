/**
 * Reading ACP messages.
 *
 * Synchronous gateway responses are raw `k=v&k=v` text that is **not**
 * URL-encoded: `signPubKeyCert` holds `+`, `/`, `=` and CRLF line breaks, and a
 * value may hold `&` inside `{…}` or `[…]` (e.g. `respMsg=成功[0000000]`,
 * `riskRateInfo={a=1&b=2}`). URL-decoding such a body turns every `+` into a
 * space and breaks the signature, so {@link parseGatewayResponse} is a
 * dedicated parser that never decodes anything.
 *
 * Notifications (`backUrl`) and front returns (`frontUrl`) are ordinary
 * `application/x-www-form-urlencoded` POST bodies, decoded exactly once by
 * {@link parseNotificationBody}.
 *
 * @module
 */
import { formDecode, PayArgumentError, PayResponseError } from '@pay/core';
import { PREFIX } from './fields.js';
import type { AcpFields } from './sign.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });

const CLOSER: Record<string, string> = { '{': '}', '[': ']' };

/**
 * Parses a raw ACP gateway response (`k=v&…`, not URL-encoded). `&` inside
 * `{…}` or `[…]` belongs to the value; only the first `=` of a field separates
 * its name; values are kept byte for byte (CRLF included).
 *
 * @example
 * ```ts
 * parseGatewayResponse('respCode=00&respMsg=成功[0000000]&x={a=1&b=2}');
 * // { respCode: '00', respMsg: '成功[0000000]', x: '{a=1&b=2}' }
 * ```
 * @param body - the response body as received (bytes are decoded as UTF-8)
 * @returns the fields, in a null-prototype object
 * @throws PayResponseError for an empty body, invalid UTF-8, a field without `=`, an empty or duplicated name, or an unclosed `{`/`[`
 */
export function parseGatewayResponse(body: string | Uint8Array): AcpFields {
  let text: string;
  if (typeof body === 'string') text = body;
  else {
    try {
      text = utf8.decode(body);
    } catch (e) {
      throw new PayResponseError(`${PREFIX}: gateway response: expected UTF-8 text, got bytes that are not valid UTF-8`, { cause: e });
    }
  }
  if (text.trim() === '') throw new PayResponseError(`${PREFIX}: gateway response: expected k=v&… fields, got an empty body`);
  if (text.startsWith('{') && text.endsWith('}')) text = text.slice(1, -1); // as UnionPay's own SDKs accept
  const out: AcpFields = Object.create(null);
  const stack: string[] = [];
  let i = 0;
  const n = text.length;
  while (i <= n) {
    // name
    let eq = -1;
    let j = i;
    for (; j < n; j++) {
      const c = text[j];
      if (c === '=') {
        eq = j;
        break;
      }
      if (c === '&') break;
    }
    if (eq < 0) {
      const fragment = text.slice(i, Math.min(j, i + 30));
      throw new PayResponseError(
        `${PREFIX}: gateway response: expected name=value at offset ${i}, found ${JSON.stringify(fragment)} without "="`,
      );
    }
    const name = text.slice(i, eq);
    if (name === '') throw new PayResponseError(`${PREFIX}: gateway response: empty field name at offset ${i}`);
    // value
    let k = eq + 1;
    for (; k < n; k++) {
      const c = text[k] as string;
      if (c === '&' && stack.length === 0) break;
      if (c === '{' || c === '[') stack.push(CLOSER[c] as string);
      else if (stack.length > 0 && c === stack[stack.length - 1]) stack.pop();
    }
    if (stack.length > 0) {
      throw new PayResponseError(
        `${PREFIX}: gateway response: the value of "${name}" opens "${stack[0] === '}' ? '{' : '['}" and never closes it (truncated body?)`,
      );
    }
    if (Object.hasOwn(out, name)) {
      throw new PayResponseError(`${PREFIX}: gateway response: the field "${name}" appears twice; a signature cannot cover both values`);
    }
    out[name] = text.slice(eq + 1, k);
    i = k + 1;
    if (k >= n) break;
  }
  return out;
}

/**
 * Decodes a notification or front-return body (`application/x-www-form-urlencoded`) exactly once.
 *
 * @param body - the raw POST body
 * @returns the fields, in a null-prototype object
 * @throws PayArgumentError for malformed percent-encoding, a duplicated field or an empty body
 */
export function parseNotificationBody(body: string | Uint8Array): AcpFields {
  let fields: AcpFields;
  try {
    fields = formDecode(body, { duplicates: 'error' });
  } catch (e) {
    throw new PayArgumentError(`${PREFIX}: notification body: ${(e as Error).message.replace(/^@pay\/core: form: /, '')}`, { cause: e });
  }
  if (Object.keys(fields).length === 0) {
    throw new PayArgumentError(`${PREFIX}: notification body: expected the form fields UnionPay posts, got an empty body`);
  }
  return fields;
}

/**
 * Serialises fields as a raw gateway response body (`k=v&…`, not encoded), the
 * way the gateway writes them: sorted names, then `signPubKeyCert` and `signature` last.
 * Used by tests and emulators.
 */
export function formatGatewayResponse(fields: Readonly<AcpFields>): string {
  const tail = ['signPubKeyCert', 'signature'];
  const keys = Object.keys(fields)
    .filter((k) => !tail.includes(k))
    .sort();
  for (const k of tail) if (fields[k] !== undefined) keys.push(k);
  return keys.map((k) => `${k}=${fields[k]}`).join('&');
}
