/**
 * Sensitive information (敏感信息): `accNo` and the secret parts of
 * `customerInfo` are encrypted with RSA PKCS#1 v1.5 under UnionPay's
 * encryption certificate (sent with its `encryptCertId`); an `accNo` UnionPay
 * returns is encrypted under the merchant's signing certificate and decrypted
 * with the merchant key.
 *
 * @module
 */
import type { KeyObject } from 'node:crypto';
import { PayArgumentError, PayDecryptError, rsaPkcs1Decrypt, rsaPkcs1Encrypt } from '@pay/core';
import { PREFIX } from './fields.js';

/** The sub-fields of `customerInfo` (names as UnionPay spells them). */
export interface CustomerInfo {
  /** ID type: `01` resident ID card, … */
  certifTp?: string;
  /** ID number. */
  certifId?: string;
  /** Cardholder name. */
  customerNm?: string;
  /** Phone number reserved at the bank (encrypted). */
  phoneNo?: string;
  /** SMS verification code. */
  smsCode?: string;
  /** CVN2 (encrypted). */
  cvn2?: string;
  /** Card expiry `YYMM` (encrypted). */
  expired?: string;
}

/** Sub-fields that go into `encryptedInfo` when encrypting. */
const ENCRYPTED_SUBFIELDS = new Set(['phoneNo', 'cvn2', 'expired']);
const KNOWN_SUBFIELDS = new Set(['certifTp', 'certifId', 'customerNm', 'phoneNo', 'smsCode', 'cvn2', 'expired']);

/**
 * Encrypts a value with the encryption certificate's key (RSA PKCS#1 v1.5, base64).
 *
 * @throws PayArgumentError for an empty value
 */
export function encryptSensitive(publicKey: KeyObject, value: string, what = 'value'): string {
  if (typeof value !== 'string' || value === '') throw new PayArgumentError(`${PREFIX}: ${what}: expected a non-empty string to encrypt`);
  return rsaPkcs1Encrypt(publicKey, value);
}

/**
 * Decrypts a value UnionPay encrypted for the merchant (e.g. `accNo` in a query answer or notification).
 *
 * @throws PayDecryptError when it does not decrypt with the merchant key
 */
export function decryptSensitive(privateKey: KeyObject, ciphertext: string, what = 'accNo'): string {
  if (typeof ciphertext !== 'string' || ciphertext === '')
    throw new PayDecryptError(`${PREFIX}: ${what}: expected base64 ciphertext, got nothing`);
  try {
    return rsaPkcs1Decrypt(privateKey, ciphertext).toString('utf8');
  } catch (e) {
    throw new PayDecryptError(
      `${PREFIX}: ${what}: does not decrypt with the merchant key (encrypted for another certificate, or damaged)`,
      {
        cause: e,
      },
    );
  }
}

/**
 * Builds `customerInfo`: base64 of `{k=v&k=v…}`. With an encryption key,
 * `phoneNo`, `cvn2` and `expired` are moved into `encryptedInfo`, encrypted
 * together (as UnionPay's SDKs do); without one, everything stays in clear text
 * (merchants not configured for sensitive-information encryption).
 *
 * @example
 * ```ts
 * buildCustomerInfo({ phoneNo: '13552535506', certifTp: '01', certifId: '341126197709218366', customerNm: '全渠道' }, encryptKey);
 * ```
 * @throws PayArgumentError for unknown sub-fields, PIN blocks, or values containing `&`, `=`, `{` or `}`
 */
export function buildCustomerInfo(info: Readonly<CustomerInfo>, encryptKey?: KeyObject): string {
  const clear: string[] = [];
  const secret: string[] = [];
  for (const [key, value] of Object.entries(info)) {
    if (value === undefined) continue;
    if (key === 'pin') throw new PayArgumentError(`${PREFIX}: customerInfo.pin: PIN blocks are not supported by this SDK`);
    if (!KNOWN_SUBFIELDS.has(key)) {
      throw new PayArgumentError(`${PREFIX}: customerInfo.${key}: unknown sub-field (expected one of ${[...KNOWN_SUBFIELDS].join(', ')})`);
    }
    if (typeof value !== 'string' || value === '' || /[&={}]/.test(value)) {
      throw new PayArgumentError(`${PREFIX}: customerInfo.${key}: expected a non-empty value without &, =, { or }`);
    }
    (encryptKey !== undefined && ENCRYPTED_SUBFIELDS.has(key) ? secret : clear).push(`${key}=${value}`);
  }
  if (clear.length === 0 && secret.length === 0) throw new PayArgumentError(`${PREFIX}: customerInfo: expected at least one sub-field`);
  if (secret.length > 0 && encryptKey !== undefined) clear.push(`encryptedInfo=${rsaPkcs1Encrypt(encryptKey, secret.join('&'))}`);
  return Buffer.from(`{${clear.join('&')}}`, 'utf8').toString('base64');
}
