/**
 * Compact JWS (RFC 7515) pieces for ES256: strict base64url, splitting, and
 * signing with a pre-parsed P-256 key (App Store Server API bearer tokens and
 * the StoreKit signature creators).
 *
 * @module
 */
import { type KeyObject, sign } from 'node:crypto';
import { PayArgumentError, PayConfigError } from '@pay/core';
import { describeValue, PKG, verificationFailure } from './errors.js';

const BASE64URL = /^[A-Za-z0-9_-]*$/;

/**
 * Decodes base64url without padding, strictly: any other character, or a
 * length no encoder produces, is refused.
 *
 * @returns the bytes, or undefined when the text is not base64url
 */
export function decodeBase64Url(text: string): Buffer | undefined {
  if (text.length % 4 === 1 || !BASE64URL.test(text)) return undefined;
  return Buffer.from(text, 'base64url');
}

/** Encodes bytes or UTF-8 text as base64url without padding. */
export function encodeBase64Url(data: string | Uint8Array): string {
  return (typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data)).toString('base64url');
}

/** A compact JWS split into its parts (nothing verified yet). */
export interface JwsParts {
  /** The protected header segment, as received. */
  headerB64: string;
  /** The payload segment, as received. */
  payloadB64: string;
  /** `header.payload`: the signing input. */
  signingInput: string;
  /** The signature bytes. */
  signature: Buffer;
}

/**
 * Splits a compact JWS into header, payload and signature.
 *
 * @throws PaySignatureError (reason `VERIFICATION_FAILURE`) when it is not three base64url parts
 */
export function splitJws(jws: unknown, what = 'signed data'): JwsParts {
  if (typeof jws !== 'string' || jws.length === 0) {
    throw verificationFailure(`${what}: expected a compact JWS string, got ${describeValue(jws)}`);
  }
  const d1 = jws.indexOf('.');
  const d2 = d1 < 0 ? -1 : jws.indexOf('.', d1 + 1);
  if (d1 <= 0 || d2 < 0 || jws.indexOf('.', d2 + 1) >= 0) {
    throw verificationFailure(`${what}: expected a compact JWS of three dot-separated parts, got ${jws.split('.').length} part(s)`);
  }
  const headerB64 = jws.slice(0, d1);
  const payloadB64 = jws.slice(d1 + 1, d2);
  const signature = decodeBase64Url(jws.slice(d2 + 1));
  if (signature === undefined || signature.length === 0) {
    throw verificationFailure(`${what}: the JWS signature is ${signature ? 'empty' : 'not base64url'}`);
  }
  return { headerB64, payloadB64, signingInput: jws.slice(0, d2), signature };
}

/**
 * Decodes a base64url JSON object segment.
 *
 * @throws PaySignatureError (reason `VERIFICATION_FAILURE`) when it is not base64url JSON of an object
 */
export function decodeJsonSegment(segment: string, what: string): Record<string, unknown> {
  const bytes = decodeBase64Url(segment);
  if (bytes === undefined || bytes.length === 0) throw verificationFailure(`${what}: expected base64url JSON, got malformed base64url`);
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch (e) {
    throw verificationFailure(`${what}: expected base64url JSON, got text that is not JSON`, { cause: e });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw verificationFailure(`${what}: expected a JSON object, got ${describeValue(value)}`);
  }
  return value as Record<string, unknown>;
}

/**
 * Decodes the payload of a compact JWS without verifying anything. Only for
 * data whose signature was checked elsewhere, or for display.
 *
 * @throws PaySignatureError when it is not a compact JWS with a JSON object payload
 */
export function decodeJwsPayloadUnverified(jws: string): Record<string, unknown> {
  return decodeJsonSegment(splitJws(jws).payloadB64, 'JWS payload');
}

/** Checks that a key is an EC P-256 private key (ES256), at construction. @internal */
export function assertP256PrivateKey(key: KeyObject, label: string): void {
  const curve = key.asymmetricKeyDetails?.namedCurve;
  if (key.type !== 'private' || key.asymmetricKeyType !== 'ec' || curve !== 'prime256v1') {
    throw new PayConfigError(
      `${PKG}: ${label}: expected the EC P-256 private key (.p8) from App Store Connect, got a ${key.type} ${key.asymmetricKeyType ?? ''}${curve ? ` ${curve}` : ''} key`,
    );
  }
}

/**
 * Signs a JSON header and payload as an ES256 compact JWS.
 *
 * @param privateKey - a pre-parsed EC P-256 private key
 * @throws PayArgumentError when the payload cannot be serialised
 */
export function signEs256(header: Record<string, unknown>, payload: Record<string, unknown>, privateKey: KeyObject): string {
  let body: string;
  try {
    body = JSON.stringify(payload);
  } catch (e) {
    throw new PayArgumentError(`${PKG}: JWS payload cannot be serialised to JSON`, { cause: e });
  }
  const input = `${encodeBase64Url(JSON.stringify({ ...header, alg: 'ES256' }))}.${encodeBase64Url(body)}`;
  const signature = sign('sha256', Buffer.from(input, 'latin1'), { key: privateKey, dsaEncoding: 'ieee-p1363' });
  return `${input}.${signature.toString('base64url')}`;
}
