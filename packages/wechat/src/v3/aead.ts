/**
 * AEAD_AES_256_GCM as API v3 uses it: callback `resource`s and the downloaded
 * platform certificates are encrypted with the APIv3 key, the 12-character
 * nonce as IV and `associated_data` as AAD. The 16-byte tag is always checked.
 *
 * @module
 */
import {
  aes256GcmDecrypt,
  aes256GcmEncrypt,
  Certificate,
  decodeBase64Strict,
  PayCertificateError,
  PayConfigError,
  PayDecryptError,
} from '@pay/core';
import { excerpt, PKG } from '../internal.js';

/** The only algorithm API v3 uses for encrypted resources. */
export const AEAD_AES_256_GCM = 'AEAD_AES_256_GCM';

/** An encrypted object as API v3 sends it (callback `resource`, `encrypt_certificate`). */
export interface EncryptedResource {
  /** Always `AEAD_AES_256_GCM`. */
  algorithm: string;
  /** Base64 of ciphertext followed by the 16-byte tag. */
  ciphertext: string;
  /** The IV (12 characters). */
  nonce: string;
  /** The AAD (`transaction`, `refund`, `certificate`…); may be empty. */
  associated_data?: string;
  /** The type of the plaintext object, e.g. `transaction`. */
  original_type?: string;
}

/**
 * Checks and converts the APIv3 key: exactly 32 bytes.
 *
 * @param key - the APIv3 key as set in 商户平台 → 账户中心 → API安全
 * @param label - setting name for messages
 * @returns the key bytes
 * @throws PayConfigError when it is not 32 bytes, with a hint about the keys it is often confused with
 */
export function apiV3KeyBytes(key: string | Uint8Array, label = 'apiV3Key'): Buffer {
  if (typeof key !== 'string' && !(key instanceof Uint8Array)) {
    throw new PayConfigError(`${PKG}: ${label}: expected the 32-character APIv3 key, got ${typeof key}`);
  }
  const bytes = typeof key === 'string' ? Buffer.from(key, 'utf8') : Buffer.from(key);
  if (bytes.length !== 32) {
    const text = typeof key === 'string' ? key : '';
    let hint = 'the APIv3 key is the 32-character secret set in 商户平台 → 账户中心 → API安全 → 设置APIv3密钥';
    if (/^[0-9A-Fa-f]{40}$/.test(text)) hint += '; this looks like a certificate serial number, not a key';
    else if (bytes.length === 16) hint += '; 16 bytes is an AES-128 test key (e.g. the wechatpay-go samples), which API v3 does not use';
    throw new PayConfigError(`${PKG}: ${label}: expected exactly 32 bytes, got ${bytes.length}`, { hint });
  }
  return bytes;
}

/**
 * Decrypts an API v3 encrypted resource. A wrong key, a changed ciphertext, tag,
 * nonce or associated data all fail: nothing is ever returned unauthenticated.
 *
 * @example
 * ```ts
 * const plain = decryptResource(apiV3Key, notification.resource).toString('utf8');
 * ```
 * @param apiV3Key - 32 key bytes (see {@link apiV3KeyBytes})
 * @param resource - the encrypted object
 * @param what - what it is, for messages
 * @throws PayDecryptError on any failure (unknown algorithm, bad base64, authentication failure)
 */
export function decryptResource(apiV3Key: Uint8Array, resource: EncryptedResource, what = 'resource'): Buffer {
  if (resource === null || typeof resource !== 'object') {
    throw new PayDecryptError(`${PKG}: ${what}: expected an encrypted object, got ${resource === null ? 'null' : typeof resource}`);
  }
  if (resource.algorithm !== AEAD_AES_256_GCM) {
    throw new PayDecryptError(`${PKG}: ${what}: expected algorithm ${AEAD_AES_256_GCM}, got ${excerpt(String(resource.algorithm))}`);
  }
  if (typeof resource.nonce !== 'string' || resource.nonce.length === 0) {
    throw new PayDecryptError(`${PKG}: ${what}: the nonce is missing`);
  }
  if (typeof resource.ciphertext !== 'string' || resource.ciphertext.length < 24) {
    throw new PayDecryptError(
      `${PKG}: ${what}: expected base64 ciphertext followed by a 16-byte tag, got ${excerpt(String(resource.ciphertext))}`,
    );
  }
  if (apiV3Key.length !== 32) {
    throw new PayDecryptError(`${PKG}: ${what}: AEAD_AES_256_GCM needs a 32-byte APIv3 key, got ${apiV3Key.length} bytes`);
  }
  // Decoded leniently on the hot path: whatever the bytes, the GCM tag decides. Only a failure
  // looks closer, to say whether the text was not base64 at all.
  const data = Buffer.from(resource.ciphertext, 'base64');
  const aad = typeof resource.associated_data === 'string' ? resource.associated_data : '';
  try {
    if (data.length < 17) throw new Error('too short');
    return aes256GcmDecrypt(apiV3Key, resource.nonce, data, aad);
  } catch (e) {
    if (decodeBase64Strict(resource.ciphertext) === undefined || data.length < 17) {
      throw new PayDecryptError(
        `${PKG}: ${what}: expected base64 ciphertext followed by a 16-byte tag, got ${excerpt(resource.ciphertext)}`,
        { cause: e },
      );
    }
    throw new PayDecryptError(
      `${PKG}: ${what}: AEAD_AES_256_GCM authentication failed (wrong APIv3 key, or the ciphertext, tag, nonce or associated data was changed)`,
      { cause: e },
    );
  }
}

/**
 * Encrypts a resource the way WeChat Pay does (used by tests and the sandbox).
 *
 * @param apiV3Key - 32 key bytes
 * @param plaintext - the object's JSON or PEM text
 * @param nonce - 12 characters
 * @param associatedData - the AAD
 */
export function encryptResource(apiV3Key: Uint8Array, plaintext: string, nonce: string, associatedData: string): EncryptedResource {
  return {
    algorithm: AEAD_AES_256_GCM,
    ciphertext: aes256GcmEncrypt(apiV3Key, nonce, plaintext, associatedData).toString('base64'),
    nonce,
    associated_data: associatedData,
  };
}

/** One entry of the `GET /v3/certificates` answer. */
export interface PlatformCertificateEntry {
  /** Serial number, upper-case hex. */
  serial_no: string;
  /** Start of validity, RFC 3339. */
  effective_time: string;
  /** End of validity, RFC 3339. */
  expire_time: string;
  /** The certificate PEM, encrypted. */
  encrypt_certificate: EncryptedResource;
}

/** The body of `GET /v3/certificates`. */
export interface DownloadCertificatesResponse {
  /** The platform certificates currently usable. */
  data: PlatformCertificateEntry[];
}

/**
 * Decrypts and parses every certificate of a `/v3/certificates` answer and
 * checks that each one's serial is the `serial_no` it was listed under.
 *
 * @example
 * ```ts
 * const certs = decryptCertificates(JSON.parse(body), apiV3Key);
 * certs[0].serialHex; // '5DEA10EF55877E3CF6C33255C2E7DEFFF7E427EC'
 * ```
 * @param body - the parsed answer
 * @param apiV3Key - 32 key bytes
 * @throws PayDecryptError when an entry does not decrypt; PayCertificateError when it is not the certificate it claims to be
 */
export function decryptCertificates(body: DownloadCertificatesResponse, apiV3Key: Uint8Array): Certificate[] {
  if (body === null || typeof body !== 'object' || !Array.isArray(body.data)) {
    throw new PayCertificateError(`${PKG}: /v3/certificates: expected {"data":[…]}, got ${excerpt(JSON.stringify(body) ?? String(body))}`);
  }
  const out: Certificate[] = [];
  for (const entry of body.data) {
    const serial = typeof entry?.serial_no === 'string' ? entry.serial_no.toUpperCase() : '';
    const pem = decryptResource(apiV3Key, entry?.encrypt_certificate, `platform certificate ${serial || '(no serial_no)'}`).toString(
      'utf8',
    );
    let cert: Certificate;
    try {
      cert = new Certificate(Buffer.from(pem.replace(/-----(BEGIN|END) CERTIFICATE-----|\s+/g, ''), 'base64'));
    } catch (e) {
      throw new PayCertificateError(`${PKG}: platform certificate ${serial}: the decrypted text is not a certificate`, { cause: e });
    }
    if (cert.serialHex !== serial.replace(/^0+/, '')) {
      throw new PayCertificateError(
        `${PKG}: platform certificate: listed as serial ${excerpt(serial)} but the decrypted certificate has serial ${cert.serialHex}`,
      );
    }
    out.push(cert);
  }
  return out;
}
