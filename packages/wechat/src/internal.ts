/**
 * Small helpers shared by the v3 and v2 modules. Not exported from the package.
 *
 * @module
 * @internal
 */
import { PayResponseError } from '@pay/core';

/** Prefix of every error message raised by this package. @internal */
export const PKG = '@pay/wechat';

/** A short, printable excerpt of untrusted text for error messages. @internal */
export function excerpt(text: string, max = 80): string {
  const oneLine = text.replace(/\s+/g, ' ');
  return JSON.stringify(oneLine.length > max ? `${oneLine.slice(0, max)}…` : oneLine);
}

/** Parses JSON from the provider, raising a PayResponseError that says what arrived. @internal */
export function parseJsonBody<T>(body: Buffer | string, what: string): T {
  const text = typeof body === 'string' ? body : body.toString('utf8');
  try {
    const value = JSON.parse(text) as unknown;
    if (value === null || typeof value !== 'object') throw new Error('not a JSON object');
    return value as T;
  } catch (e) {
    throw new PayResponseError(`${PKG}: ${what}: expected a JSON object, got ${text.length === 0 ? 'an empty body' : excerpt(text)}`, {
      cause: e,
      provider: 'wechat',
    });
  }
}

/** True when `value` is a non-empty string. @internal */
export function isNonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0;
}

/** Reads a header from a lower-cased header map. @internal */
export function header(headers: Readonly<Record<string, string | undefined>>, name: string): string | undefined {
  const v = headers[name];
  return v === undefined || v === '' ? undefined : v;
}
