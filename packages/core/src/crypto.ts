/**
 * Cryptographic primitives over node:crypto: RSA PKCS#1 v1.5 and OAEP, ECDSA
 * P-256, digests (MD5, SHA-1, SHA-256, SM3), HMAC-SHA256, AES-GCM/CBC/ECB,
 * constant-time comparison and secure nonces. Thin wrappers: keys arrive as
 * pre-parsed `KeyObject`s, so nothing here parses PEM.
 *
 * @module
 */
import {
  constants,
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  type KeyObject,
  sign as nodeSign,
  verify as nodeVerify,
  privateDecrypt,
  publicEncrypt,
  randomBytes,
  randomInt,
  randomUUID,
  timingSafeEqual,
} from 'node:crypto';
import { PayArgumentError, PayDecryptError } from './errors.js';
import { loadForge } from './lazy.js';

/** Input data accepted by the primitives: text is UTF-8 encoded. */
export type Data = string | Uint8Array;

/** Hash algorithms used with RSA signatures. */
export type RsaHash = 'sha1' | 'sha256';

/**
 * RSA PKCS#1 v1.5 signature, base64-encoded.
 *
 * @example
 * ```ts
 * const sign = rsaSign('sha256', privateKey, 'a=1&b=2'); // Alipay RSA2
 * ```
 */
export function rsaSign(hash: RsaHash, privateKey: KeyObject, data: Data): string {
  try {
    return nodeSign(hash, typeof data === 'string' ? Buffer.from(data, 'utf8') : data, privateKey).toString('base64');
  } catch (e) {
    throw new PayArgumentError(
      `@pay/core: rsaSign: expected an RSA private KeyObject and ${hash}, signing failed: ${keyProblem(privateKey, e)}`,
      {
        cause: e,
      },
    );
  }
}

/** Describes what is wrong with a key handed to a primitive, without its material. */
function keyProblem(key: unknown, e: unknown): string {
  const k = key as Partial<KeyObject> | null | undefined;
  const found =
    k && typeof k === 'object' && typeof k.type === 'string'
      ? `got a ${k.type}${k.asymmetricKeyType ? ` ${k.asymmetricKeyType}` : ''} KeyObject`
      : `got ${k === null ? 'null' : typeof k}`;
  return `${found} (${e instanceof Error ? e.message : String(e)})`;
}

/**
 * Verifies an RSA PKCS#1 v1.5 signature given in base64 (or raw bytes).
 * Returns false, never throws, for a malformed or empty signature.
 */
export function rsaVerify(hash: RsaHash, publicKey: KeyObject, data: Data, signature: string | Uint8Array): boolean {
  const sig = typeof signature === 'string' ? (decodeSignature(signature) ?? decodeBase64Strict(signature)) : signature;
  if (sig === undefined || sig.length === 0) return false;
  try {
    return nodeVerify(hash, typeof data === 'string' ? Buffer.from(data, 'utf8') : data, publicKey, sig);
  } catch {
    return false;
  }
}

/**
 * The hot-path decoder of a base64 signature: native decoding plus a length
 * check, which rejects any character outside the alphabet (Node's decoder skips
 * or stops at it, so fewer bytes come out). URL-safe `-`/`_` decode to the same
 * bytes and are accepted. Odd input (surrounding blanks) falls back to
 * {@link decodeBase64Strict}.
 */
function decodeSignature(text: string): Buffer | undefined {
  const n = text.length;
  if (n === 0 || n % 4 !== 0) return undefined;
  const bytes = Buffer.from(text, 'base64');
  const pad = text.charCodeAt(n - 1) === 61 ? (text.charCodeAt(n - 2) === 61 ? 2 : 1) : 0;
  return bytes.length === (n >> 2) * 3 - pad ? bytes : undefined;
}

const BASE64_STRICT = /^[A-Za-z0-9+/]*={0,2}$/;

/** Decodes standard base64, returning undefined when the text is not base64. */
export function decodeBase64Strict(text: string): Buffer | undefined {
  const t = text.trim();
  if (t.length % 4 !== 0 || !BASE64_STRICT.test(t)) return undefined;
  return Buffer.from(t, 'base64');
}

/**
 * RSA-OAEP (SHA-1, MGF1-SHA-1) encryption, base64 output: WeChat Pay sensitive fields.
 *
 * @throws PayArgumentError when the key is not an RSA key or the data is too long for it (214 bytes for RSA-2048)
 */
export function rsaOaepEncrypt(publicKey: KeyObject, data: Data): string {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  try {
    return publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' }, bytes).toString('base64');
  } catch (e) {
    throw new PayArgumentError(
      `@pay/core: RSA-OAEP: could not encrypt ${bytes.length} bytes (too long for the key, or not an RSA key): ${keyProblem(publicKey, e)}`,
      { cause: e },
    );
  }
}

/**
 * RSA-OAEP (SHA-1) decryption of base64 ciphertext.
 *
 * @throws PayDecryptError when the ciphertext does not decrypt with this key
 */
export function rsaOaepDecrypt(privateKey: KeyObject, ciphertext: string | Uint8Array): Buffer {
  try {
    const c = typeof ciphertext === 'string' ? Buffer.from(ciphertext, 'base64') : ciphertext;
    return privateDecrypt({ key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' }, c);
  } catch (e) {
    throw new PayDecryptError('@pay/core: RSA-OAEP decryption failed (wrong key or damaged ciphertext)', { cause: e });
  }
}

/**
 * RSA PKCS#1 v1.5 encryption, base64 output: UnionPay `accNo` / `customerInfo`.
 *
 * @throws PayArgumentError when the key is not an RSA key or the data is too long for it (245 bytes for RSA-2048)
 */
export function rsaPkcs1Encrypt(publicKey: KeyObject, data: Data): string {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  try {
    return publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_PADDING }, bytes).toString('base64');
  } catch (e) {
    throw new PayArgumentError(
      `@pay/core: RSA PKCS#1 v1.5: could not encrypt ${bytes.length} bytes (too long for the key, or not an RSA key): ${keyProblem(publicKey, e)}`,
      { cause: e },
    );
  }
}

/** node-forge copies of private keys, made once per KeyObject (no PEM parsing per call). */
const forgeKeys = new WeakMap<KeyObject, import('node-forge').pki.rsa.PrivateKey>();

/**
 * RSA PKCS#1 v1.5 decryption of base64 ciphertext, through node-forge (Node 20
 * refuses PKCS#1 v1.5 private decryption since CVE-2023-46809).
 *
 * @throws PayDecryptError when the ciphertext does not decrypt with this key
 */
export function rsaPkcs1Decrypt(privateKey: KeyObject, ciphertext: string | Uint8Array): Buffer {
  const forge = loadForge();
  let key = forgeKeys.get(privateKey);
  if (key === undefined) {
    try {
      key = forge.pki.privateKeyFromPem(privateKey.export({ format: 'pem', type: 'pkcs1' }).toString());
    } catch (e) {
      throw new PayArgumentError(`@pay/core: RSA PKCS#1 v1.5 decryption: expected an RSA private KeyObject, ${keyProblem(privateKey, e)}`, {
        cause: e,
      });
    }
    forgeKeys.set(privateKey, key);
  }
  try {
    const c = typeof ciphertext === 'string' ? Buffer.from(ciphertext, 'base64') : Buffer.from(ciphertext);
    return Buffer.from((key as import('node-forge').pki.rsa.PrivateKey).decrypt(c.toString('binary'), 'RSAES-PKCS1-V1_5'), 'binary');
  } catch (e) {
    throw new PayDecryptError('@pay/core: RSA PKCS#1 v1.5 decryption failed (wrong key or damaged ciphertext)', { cause: e });
  }
}

/** Encoding of an ECDSA signature: ASN.1 DER, or the raw `r || s` of JWS (IEEE P1363). */
export type EcdsaEncoding = 'der' | 'ieee-p1363';

/**
 * ECDSA P-256 with SHA-256 (ES256).
 *
 * @example
 * ```ts
 * const jwsSignature = ecdsaSign(appleKey, `${header}.${payload}`, 'ieee-p1363'); // 64 bytes r || s
 * ```
 * @throws PayArgumentError when the key is not a P-256 private key (an RSA key would silently make an RSA signature)
 */
export function ecdsaSign(privateKey: KeyObject, data: Data, encoding: EcdsaEncoding = 'der'): Buffer {
  if (
    privateKey?.type !== 'private' ||
    privateKey.asymmetricKeyType !== 'ec' ||
    privateKey.asymmetricKeyDetails?.namedCurve !== 'prime256v1'
  ) {
    throw new PayArgumentError(
      `@pay/core: ecdsaSign: expected a P-256 (prime256v1) EC private KeyObject, ${keyProblem(privateKey, privateKey?.asymmetricKeyDetails?.namedCurve ?? 'no curve')}`,
    );
  }
  return nodeSign('sha256', typeof data === 'string' ? Buffer.from(data, 'utf8') : data, {
    key: privateKey,
    dsaEncoding: encoding,
  });
}

/** Verifies an ECDSA P-256 / SHA-256 signature; false, never a throw, on malformed input or a non-EC key. */
export function ecdsaVerify(publicKey: KeyObject, data: Data, signature: Uint8Array, encoding: EcdsaEncoding = 'der'): boolean {
  if (!(signature instanceof Uint8Array) || signature.length === 0 || publicKey?.asymmetricKeyType !== 'ec') return false;
  try {
    return nodeVerify(
      'sha256',
      typeof data === 'string' ? Buffer.from(data, 'utf8') : data,
      { key: publicKey, dsaEncoding: encoding },
      signature,
    );
  } catch {
    return false;
  }
}

/** Digest algorithms. */
export type DigestAlgorithm = 'md5' | 'sha1' | 'sha256' | 'sm3';

/** A digest in lower-case hex. */
export function digestHex(algorithm: DigestAlgorithm, data: Data): string {
  return createHash(algorithm).update(data).digest('hex');
}

/** MD5, lower-case hex. */
export function md5Hex(data: Data): string {
  return createHash('md5').update(data).digest('hex');
}

/** SHA-1, lower-case hex. */
export function sha1Hex(data: Data): string {
  return createHash('sha1').update(data).digest('hex');
}

/** SHA-256, lower-case hex. */
export function sha256Hex(data: Data): string {
  return createHash('sha256').update(data).digest('hex');
}

/** SM3 (GB/T 32905-2016), lower-case hex. */
export function sm3Hex(data: Data): string {
  return createHash('sm3').update(data).digest('hex');
}

/** HMAC-SHA256, lower-case hex. */
export function hmacSha256Hex(key: Data, data: Data): string {
  return createHmac('sha256', key).update(data).digest('hex');
}

/**
 * Compares two strings or byte arrays in constant time (for equal lengths).
 * Different lengths compare false.
 */
export function timingSafeEqualData(a: Data, b: Data): boolean {
  const x = typeof a === 'string' ? Buffer.from(a, 'utf8') : a;
  const y = typeof b === 'string' ? Buffer.from(b, 'utf8') : b;
  if (x.length !== y.length) {
    timingSafeEqual(x, x);
    return false;
  }
  return timingSafeEqual(x, y);
}

function ivBytes(iv: Uint8Array, what: string): void {
  if (!(iv instanceof Uint8Array) || iv.length !== 16) {
    throw new PayArgumentError(
      `@pay/core: ${what}: expected a 16-byte IV, got ${iv instanceof Uint8Array ? `${iv.length} bytes` : typeof iv}`,
    );
  }
}

function keyBytes(key: Data, length: number, what: string): Buffer {
  if (typeof key !== 'string' && !(key instanceof Uint8Array)) {
    throw new PayArgumentError(`@pay/core: ${what}: expected a ${length}-byte key, got ${key === null ? 'null' : typeof key}`);
  }
  const k = typeof key === 'string' ? Buffer.from(key, 'utf8') : Buffer.from(key);
  if (k.length !== length) throw new PayArgumentError(`@pay/core: ${what}: expected a ${length}-byte key, got ${k.length} bytes`);
  return k;
}

/**
 * AES-256-GCM encryption; returns ciphertext followed by the 16-byte tag.
 *
 * @param key - 32 bytes (WeChat Pay: the APIv3 key as ASCII)
 * @param iv - the nonce (WeChat Pay: 12 ASCII characters)
 * @param aad - associated data
 */
export function aes256GcmEncrypt(key: Data, iv: Data, plaintext: Data, aad: Data = ''): Buffer {
  const nonce = typeof iv === 'string' ? Buffer.from(iv, 'utf8') : iv;
  if (nonce.length === 0)
    throw new PayArgumentError('@pay/core: AES-256-GCM: expected a nonce (12 bytes for WeChat Pay), got an empty one');
  const cipher = createCipheriv('aes-256-gcm', keyBytes(key, 32, 'AES-256-GCM'), nonce);
  cipher.setAAD(typeof aad === 'string' ? Buffer.from(aad, 'utf8') : aad);
  const out = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
  return out;
}

/**
 * AES-256-GCM decryption of ciphertext followed by its 16-byte tag. The tag is
 * always checked: a tampered ciphertext, tag, nonce or AAD fails, never decrypts to garbage.
 *
 * @throws PayDecryptError on a wrong key or any tampering
 */
export function aes256GcmDecrypt(key: Data, iv: Data, ciphertextAndTag: Uint8Array, aad: Data = ''): Buffer {
  const k = keyBytes(key, 32, 'AES-256-GCM');
  if (ciphertextAndTag.length < 16) throw new PayDecryptError('@pay/core: AES-256-GCM: ciphertext shorter than its 16-byte tag');
  const data = Buffer.from(ciphertextAndTag);
  const tag = data.subarray(data.length - 16);
  try {
    const decipher = createDecipheriv('aes-256-gcm', k, typeof iv === 'string' ? Buffer.from(iv, 'utf8') : iv, { authTagLength: 16 });
    decipher.setAuthTag(tag);
    decipher.setAAD(typeof aad === 'string' ? Buffer.from(aad, 'utf8') : aad);
    return Buffer.concat([decipher.update(data.subarray(0, data.length - 16)), decipher.final()]);
  } catch (e) {
    throw new PayDecryptError(
      '@pay/core: AES-256-GCM: authentication failed (wrong key, or the ciphertext, tag, nonce or associated data was changed)',
      { cause: e },
    );
  }
}

/** AES-128-CBC with PKCS#7 padding (Alipay `encrypt_type=AES`; zero IV by default). */
export function aes128CbcEncrypt(key: Uint8Array, plaintext: Data, iv: Uint8Array = Buffer.alloc(16)): Buffer {
  ivBytes(iv, 'AES-128-CBC');
  const cipher = createCipheriv('aes-128-cbc', keyBytes(key, 16, 'AES-128-CBC'), iv);
  return Buffer.concat([cipher.update(plaintext), cipher.final()]);
}

/**
 * AES-128-CBC / PKCS#7 decryption.
 *
 * @throws PayDecryptError on a wrong key or damaged ciphertext (bad padding)
 */
export function aes128CbcDecrypt(key: Uint8Array, ciphertext: Uint8Array, iv: Uint8Array = Buffer.alloc(16)): Buffer {
  const k = keyBytes(key, 16, 'AES-128-CBC');
  ivBytes(iv, 'AES-128-CBC');
  try {
    const decipher = createDecipheriv('aes-128-cbc', k, iv);
    return Buffer.concat([decipher.update(ciphertext), decipher.final()]);
  } catch (e) {
    throw new PayDecryptError('@pay/core: AES-128-CBC: decryption failed (wrong key or damaged ciphertext)', { cause: e });
  }
}

/** AES-256-ECB with PKCS#7 padding (WeChat Pay v2 refund `req_info`). */
export function aes256EcbEncrypt(key: Data, plaintext: Data): Buffer {
  const cipher = createCipheriv('aes-256-ecb', keyBytes(key, 32, 'AES-256-ECB'), null);
  return Buffer.concat([cipher.update(plaintext), cipher.final()]);
}

/**
 * AES-256-ECB / PKCS#7 decryption.
 *
 * @throws PayDecryptError on a wrong key or damaged ciphertext
 */
export function aes256EcbDecrypt(key: Data, ciphertext: Uint8Array): Buffer {
  const k = keyBytes(key, 32, 'AES-256-ECB');
  try {
    const decipher = createDecipheriv('aes-256-ecb', k, null);
    return Buffer.concat([decipher.update(ciphertext), decipher.final()]);
  } catch (e) {
    throw new PayDecryptError('@pay/core: AES-256-ECB: decryption failed (wrong key or damaged ciphertext)', { cause: e });
  }
}

/** A source of nonces: returns a fresh random string on each call. Injectable for tests. */
export type NonceSource = () => string;

const NONCE_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/**
 * A cryptographically secure random string over `[A-Za-z0-9]` (never `Math.random`).
 *
 * @param length - number of characters, 32 by default (WeChat's `nonce_str` limit)
 * @throws PayArgumentError when the length is not a positive integer
 */
export function randomNonce(length = 32): string {
  if (!Number.isSafeInteger(length) || length < 1) {
    throw new PayArgumentError(`@pay/core: randomNonce: expected a positive integer length, got ${String(length)}`);
  }
  const bytes = randomBytes(length * 2);
  let out = '';
  for (let i = 0; i < bytes.length && out.length < length; i++) {
    const b = bytes[i] as number;
    if (b < 248) out += NONCE_ALPHABET[b % 62];
  }
  while (out.length < length) out += NONCE_ALPHABET[randomInt(62)];
  return out;
}

/** The default {@link NonceSource}: 32 secure random alphanumerics. */
export const defaultNonce: NonceSource = () => randomNonce(32);

/** A random RFC 4122 v4 UUID (Apple `appAccountToken`, record ids). */
export function randomId(): string {
  return randomUUID();
}

/** A clock: returns the current time in epoch milliseconds. Injectable for tests. */
export type Clock = () => number;

/** The system clock. */
export const systemClock: Clock = () => Date.now();

/** A clock frozen at `at` (epoch ms or a Date), for tests and for checking expired test certificates. */
export function fixedClock(at: number | Date): Clock {
  const ms = typeof at === 'number' ? at : at.getTime();
  return () => ms;
}
