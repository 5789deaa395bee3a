/**
 * ACP request signing.
 *
 * - 5.1.0, signMethod `01`: blank values are dropped and values trimmed,
 *   `certId` is added, every key but `signature` is sorted into `k=v&…` with
 *   raw values; `signature = base64(SHA256withRSA(lower-case hex SHA-256 of that string))`.
 * - 5.0.0, signMethod `01`: the same with SHA-1 in both places.
 * - signMethod `11` / `12`: `signature = sha256hex(string + "&" + sha256hex(secureKey))`,
 *   or the same with SM3.
 *
 * @module
 */
import type { KeyObject } from 'node:crypto';
import { canonicalString, PayArgumentError, rsaSign, sha1Hex, sha256Hex, sm3Hex } from '@pay/core';
import type { AcpSignMethod, AcpVersion } from './config.js';
import { PREFIX } from './fields.js';

/** A flat ACP message: field name → value, names as UnionPay spells them. */
export type AcpFields = Record<string, string>;

const SIGNATURE_ONLY = new Set(['signature']);

/**
 * The string ACP signs and verifies: every field but `signature`, sorted by
 * name, as `k=v` joined by `&`, values raw (not URL-encoded), empty values kept.
 *
 * @example
 * ```ts
 * acpSigningString({ b: '2', a: '1', signature: 'x' }); // 'a=1&b=2'
 * ```
 */
export function acpSigningString(fields: Readonly<AcpFields>): string {
  return canonicalString(fields, { exclude: SIGNATURE_ONLY, dropEmpty: false });
}

/**
 * Prepares request fields the way UnionPay's SDKs do before signing: values
 * trimmed, blank ones dropped, everything turned into strings. The input is not changed.
 *
 * @throws PayArgumentError for a value that is not a string or a number
 */
export function prepareFields(input: Readonly<Record<string, string | number | undefined>>): AcpFields {
  const out: AcpFields = {};
  for (const key of Object.keys(input)) {
    const raw = input[key];
    if (raw === undefined || raw === null) continue;
    if (typeof raw !== 'string' && typeof raw !== 'number') {
      throw new PayArgumentError(`${PREFIX}: field ${key}: expected a string or a number, got ${typeof raw}`);
    }
    const value = String(raw).trim();
    if (value !== '') out[key] = value;
  }
  return out;
}

/** What signs requests: the algorithm and key from the configuration. */
export interface AcpSigner {
  /** The configured version. */
  readonly version: AcpVersion;
  /** The configured signature method. */
  readonly signMethod: AcpSignMethod;
  /**
   * Signs prepared fields: sets `signMethod` (and `certId` for `01`) and adds `signature`.
   * Returns a new object; the input is not changed.
   */
  sign(fields: Readonly<AcpFields>): AcpFields;
}

/**
 * Builds the signer of a configuration.
 *
 * @param options - version, method and key material (parsed once)
 * @throws PayArgumentError when the key material for the method is missing
 */
export function createSigner(options: {
  version: AcpVersion;
  signMethod: AcpSignMethod;
  privateKey?: KeyObject | undefined;
  certId?: string | undefined;
  secureKeyDigest?: string | undefined;
}): AcpSigner {
  const { version, signMethod } = options;
  if (signMethod === '01') {
    const { privateKey, certId } = options;
    if (privateKey === undefined || certId === undefined) {
      throw new PayArgumentError(`${PREFIX}: signMethod 01 needs the merchant private key and certId (signCert)`);
    }
    const hash = version === '5.1.0' ? 'sha256' : 'sha1';
    const digest = version === '5.1.0' ? sha256Hex : sha1Hex;
    return {
      version,
      signMethod,
      sign(fields) {
        const out: AcpFields = { ...fields, signMethod, certId };
        delete out.signature;
        out.signature = rsaSign(hash, privateKey, digest(acpSigningString(out)));
        return out;
      },
    };
  }
  const keyDigest = options.secureKeyDigest;
  if (keyDigest === undefined) throw new PayArgumentError(`${PREFIX}: signMethod ${signMethod} needs the secure key`);
  const digest = signMethod === '11' ? sha256Hex : sm3Hex;
  return {
    version,
    signMethod,
    sign(fields) {
      const out: AcpFields = { ...fields, signMethod };
      delete out.signature;
      delete out.certId;
      out.signature = digest(`${acpSigningString(out)}&${keyDigest}`);
      return out;
    },
  };
}
