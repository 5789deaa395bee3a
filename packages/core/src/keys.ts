/**
 * Loading keys in every form users paste: PEM PKCS#1 / PKCS#8 / SEC1 / SPKI,
 * certificates, bare one-line base64 DER as the providers' consoles hand them
 * out, `KeyObject`, Buffer, and PKCS#12 (`.p12` / `.pfx`) with a password.
 *
 * Keys are parsed once, when a client is constructed; everything downstream
 * works with `KeyObject`s.
 *
 * @module
 */
import { createPrivateKey, createPublicKey, type KeyObject, X509Certificate } from 'node:crypto';
import { PayConfigError } from './errors.js';
import { loadForge } from './lazy.js';
import { Certificate } from './x509.js';

/** Anything a key can be given as. */
export type KeyInput = string | Uint8Array | KeyObject;

/** Options of {@link loadPrivateKey} and {@link loadPublicKey}. */
export interface KeyLoadOptions {
  /** Name of the setting the key came from, used in error messages (e.g. `privateKey`). */
  label?: string;
  /** Passphrase of an encrypted PKCS#8 PEM. */
  passphrase?: string;
}

/** One PEM block found by {@link parsePemBlocks}. */
export interface PemBlockInfo {
  /** The label between `BEGIN ` and the dashes, e.g. `RSA PRIVATE KEY`, `CERTIFICATE`. */
  label: string;
  /** The decoded body. */
  der: Buffer;
  /** True for a legacy OpenSSL-encrypted PEM (`Proc-Type: 4,ENCRYPTED`). */
  encrypted?: boolean;
  /** The block's PEM text, kept for legacy encrypted PEMs (node:crypto needs their headers). */
  pem?: string;
}

type PemBlock = PemBlockInfo;

const PEM_RE = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;

function isKeyObject(value: unknown): value is KeyObject {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as KeyObject).type === 'string' &&
    typeof (value as KeyObject).export === 'function' &&
    typeof (value as KeyObject).equals === 'function'
  );
}

/** Normalises pasted text: literal `\n` escapes (from env files) become newlines. */
function normaliseText(text: string): string {
  let t = text.trim();
  if (t.startsWith('"') && t.endsWith('"')) t = t.slice(1, -1);
  if (t.includes('\\n')) t = t.replace(/\\r\\n|\\n/g, '\n');
  return t;
}

/**
 * Splits text into PEM blocks, tolerating CRLF, literal `\n` escapes, missing
 * line breaks and long lines. Legacy OpenSSL-encrypted blocks (`Proc-Type:
 * 4,ENCRYPTED`) are flagged `encrypted` and keep their PEM text in `pem`.
 *
 * @param text - any text holding zero or more `-----BEGIN …-----` blocks
 * @returns the blocks in order, each with its label and DER bytes
 */
export function parsePemBlocks(text: string): PemBlockInfo[] {
  const out: PemBlock[] = [];
  for (const m of normaliseText(text).matchAll(PEM_RE)) {
    const raw = m[2] as string;
    const encrypted = /^Proc-Type:\s*4,ENCRYPTED/m.test(raw);
    const body = raw.replace(/^[A-Za-z-]+:.*$/gm, '').replace(/\s+/g, '');
    const block: PemBlock = { label: m[1] as string, der: Buffer.from(body, 'base64') };
    if (encrypted) {
      block.encrypted = true;
      block.pem = m[0];
    }
    out.push(block);
  }
  return out;
}

const BASE64_RE = /^[A-Za-z0-9+/=\s_-]+$/;

/** What a value that is neither text, bytes nor a KeyObject is, for error messages. */
function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return `an object (${(value as object).constructor?.name ?? 'Object'})`;
  return `a ${typeof value}`;
}

/** Text found in place of a key: says whether it looks like a PEM cut short. */
function describeText(text: string): string {
  const begin = /-----BEGIN ([A-Z0-9 ]+)-----/.exec(text);
  if (begin) return `a PEM ${begin[1]} block without its matching END line (truncated?)`;
  return 'text that is neither PEM nor base64';
}

function bytesOf(input: string | Uint8Array): { text?: string; der?: Buffer } {
  if (typeof input === 'string') {
    const text = normaliseText(input);
    if (text.includes('-----BEGIN')) return { text };
    if (BASE64_RE.test(text) && text.replace(/\s+/g, '').length >= 32) {
      return { der: Buffer.from(text.replace(/\s+/g, ''), 'base64') };
    }
    return { text };
  }
  const buf = Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  if (buf[0] === 0x30) return { der: buf };
  return bytesOf(buf.toString('latin1'));
}

function describe(label: string | undefined, expected: string): string {
  return `@pay/core: ${label ?? 'key'}: expected ${expected}`;
}

function reason(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * Loads a private key (RSA or EC) from any common form.
 *
 * @example
 * ```ts
 * const key = loadPrivateKey(process.env.ALIPAY_PRIVATE_KEY!, { label: 'privateKey' });
 * ```
 * @param input - PEM (PKCS#1, PKCS#8, SEC1, encrypted PKCS#8), bare base64 DER, DER bytes or a `KeyObject`
 * @param options - label for error messages and an optional passphrase
 * @returns a private `KeyObject`
 * @throws PayConfigError when the input is not a private key or cannot be parsed
 */
export function loadPrivateKey(input: KeyInput, options: KeyLoadOptions = {}): KeyObject {
  const { label, passphrase } = options;
  const expected = 'a private key (PEM PKCS#1, PKCS#8, SEC1 or encrypted PKCS#8, or bare base64 DER)';
  if (isKeyObject(input)) {
    if (input.type !== 'private') {
      throw new PayConfigError(
        `${describe(label, expected)}, got a ${input.type} KeyObject${input.type === 'public' ? ' (the public half: configure the private key here)' : ''}`,
      );
    }
    return input;
  }
  if (input === undefined || input === null || (typeof input === 'string' && input.trim() === '')) {
    throw new PayConfigError(`${describe(label, expected)}, got nothing`);
  }
  if (typeof input !== 'string' && !(input instanceof Uint8Array)) {
    throw new PayConfigError(`${describe(label, expected)}, got ${kindOf(input)}`);
  }
  const { text, der } = bytesOf(input);
  if (text !== undefined) {
    const blocks = parsePemBlocks(text);
    if (blocks.length === 0) throw new PayConfigError(`${describe(label, expected)}, got ${describeText(text)}`);
    const block = blocks.find((b) => b.label.includes('PRIVATE KEY'));
    if (!block) {
      const found = blocks.map((b) => b.label).join(', ');
      throw new PayConfigError(
        `${describe(label, expected)}, got PEM ${found}${found.includes('PUBLIC') || found.includes('CERTIFICATE') ? ' (a public key or certificate, not the private key)' : ''}`,
      );
    }
    if (block.label === 'ENCRYPTED PRIVATE KEY' || block.encrypted) {
      if (passphrase === undefined) {
        throw new PayConfigError(`${describe(label, expected)}; the PEM ${block.label} is encrypted and no passphrase was given`);
      }
    }
    try {
      if (block.encrypted) return createPrivateKey({ key: block.pem as string, format: 'pem', passphrase: passphrase as string });
      if (block.label === 'ENCRYPTED PRIVATE KEY') {
        return createPrivateKey({ key: block.der, format: 'der', type: 'pkcs8', passphrase: passphrase as string });
      }
      const type = block.label === 'RSA PRIVATE KEY' ? 'pkcs1' : block.label === 'EC PRIVATE KEY' ? 'sec1' : 'pkcs8';
      return createPrivateKey({ key: block.der, format: 'der', type });
    } catch (e) {
      throw new PayConfigError(`${describe(label, expected)}; the PEM ${block.label} ${cannotParse(e)}`, { cause: e });
    }
  }
  const bytes = der as Buffer;
  const errors: unknown[] = [];
  for (const type of ['pkcs8', 'pkcs1', 'sec1'] as const) {
    try {
      return type === 'pkcs8' && passphrase !== undefined
        ? createPrivateKey({ key: bytes, format: 'der', type, passphrase })
        : createPrivateKey({ key: bytes, format: 'der', type });
    } catch (e) {
      errors.push(e);
    }
  }
  if ((errors[0] as { code?: string }).code === 'ERR_MISSING_PASSPHRASE') {
    throw new PayConfigError(`${describe(label, expected)}; the DER is an encrypted PKCS#8 key and no passphrase was given`);
  }
  if (looksPublic(bytes)) {
    throw new PayConfigError(`${describe(label, expected)}, got a public key or certificate (not the private key)`);
  }
  throw new PayConfigError(
    `${describe(label, expected)}; ${bytes.length} bytes of DER could not be parsed as PKCS#8, PKCS#1 or SEC1 ${cannotParse(errors[0]).replace(/^could not be parsed /, '')}`,
    { cause: errors[0] },
  );
}

/** Says why node:crypto refused a key, telling a wrong passphrase from damaged data. */
function cannotParse(e: unknown): string {
  const code = (e as { code?: string }).code;
  if (code === 'ERR_OSSL_BAD_DECRYPT') return 'could not be decrypted (wrong passphrase?)';
  return `could not be parsed (truncated or damaged?): ${reason(e)}`;
}

/** True when the DER parses as a private key (PKCS#8, PKCS#1 or SEC1), encrypted PKCS#8 included. */
function looksPrivate(der: Buffer): boolean {
  for (const type of ['pkcs8', 'pkcs1', 'sec1'] as const) {
    try {
      createPrivateKey({ key: der, format: 'der', type });
      return true;
    } catch (e) {
      if ((e as { code?: string }).code === 'ERR_MISSING_PASSPHRASE') return true;
    }
  }
  return false;
}

function looksPublic(der: Buffer): boolean {
  try {
    createPublicKey({ key: der, format: 'der', type: 'spki' });
    return true;
  } catch {
    try {
      new X509Certificate(der);
      return true;
    } catch {
      return false;
    }
  }
}

/**
 * Loads a public key from any common form, including a certificate (its key is used).
 *
 * @example
 * ```ts
 * const alipayKey = loadPublicKey('MIIBIjANBgkqh...IDAQAB', { label: 'alipayPublicKey' });
 * ```
 * @param input - PEM (SPKI, PKCS#1 `RSA PUBLIC KEY`, `CERTIFICATE`), bare base64 DER, DER bytes or a `KeyObject`
 * @param options - label for error messages
 * @returns a public `KeyObject`
 * @throws PayConfigError when the input is not a public key or certificate, or is a private key
 */
export function loadPublicKey(input: KeyInput, options: KeyLoadOptions = {}): KeyObject {
  const { label } = options;
  const expected = 'a public key (PEM SPKI, PKCS#1 or a certificate, or bare base64 DER)';
  const privateGiven = `${describe(label, expected)}, got a private key (never configure it where a public key belongs)`;
  if (isKeyObject(input)) {
    if (input.type !== 'public') {
      throw new PayConfigError(
        `${describe(label, expected)}, got a ${input.type} KeyObject${input.type === 'private' ? ' (never configure a private key where a public key belongs)' : ''}`,
      );
    }
    return input;
  }
  if (input === undefined || input === null || (typeof input === 'string' && input.trim() === '')) {
    throw new PayConfigError(`${describe(label, expected)}, got nothing`);
  }
  if (typeof input !== 'string' && !(input instanceof Uint8Array)) {
    throw new PayConfigError(`${describe(label, expected)}, got ${kindOf(input)}`);
  }
  const { text, der } = bytesOf(input);
  if (text !== undefined) {
    const blocks = parsePemBlocks(text);
    if (blocks.length === 0) throw new PayConfigError(`${describe(label, expected)}, got ${describeText(text)}`);
    const block = blocks.find((b) => b.label.includes('PUBLIC KEY') || b.label === 'CERTIFICATE');
    if (!block) {
      throw new PayConfigError(
        `${describe(label, expected)}, got PEM ${blocks.map((b) => b.label).join(', ')}${blocks.some((b) => b.label.includes('PRIVATE')) ? ' (a private key: never configure it where a public key belongs)' : ''}`,
      );
    }
    // node:crypto derives a public key from a private PKCS#1 structure without a word: refuse it.
    if (block.label !== 'CERTIFICATE' && looksPrivate(block.der)) throw new PayConfigError(privateGiven);
    try {
      if (block.label === 'CERTIFICATE') return new X509Certificate(block.der).publicKey;
      return createPublicKey({ key: block.der, format: 'der', type: block.label === 'RSA PUBLIC KEY' ? 'pkcs1' : 'spki' });
    } catch (e) {
      throw new PayConfigError(`${describe(label, expected)}; the PEM ${block.label} ${cannotParse(e)}`, { cause: e });
    }
  }
  const bytes = der as Buffer;
  if (looksPrivate(bytes)) throw new PayConfigError(privateGiven);
  const errors: unknown[] = [];
  for (const type of ['spki', 'pkcs1'] as const) {
    try {
      return createPublicKey({ key: bytes, format: 'der', type });
    } catch (e) {
      errors.push(e);
    }
  }
  try {
    return new X509Certificate(bytes).publicKey;
  } catch (e) {
    errors.push(e);
  }
  throw new PayConfigError(
    `${describe(label, expected)}; ${bytes.length} bytes of DER could not be parsed as SPKI, PKCS#1 or a certificate (truncated or damaged?): ${reason(errors[0])}`,
    { cause: errors[0] },
  );
}

/** The public half of a private key. */
export function publicKeyOf(privateKey: KeyObject): KeyObject {
  return createPublicKey(privateKey);
}

/** True when two keys (public or private) have the same public key. */
export function samePublicKey(a: KeyObject, b: KeyObject): boolean {
  const pa = a.type === 'private' ? createPublicKey(a) : a;
  const pb = b.type === 'private' ? createPublicKey(b) : b;
  return pa.equals(pb);
}

/** What a PKCS#12 file holds once opened. */
export interface Pkcs12Contents {
  /** The private key. */
  privateKey: KeyObject;
  /** The certificate of that key. */
  certificate: Certificate;
  /** Every other certificate in the file (chain certificates, in file order). */
  chain: Certificate[];
}

/**
 * Opens a PKCS#12 (`.p12` / `.pfx`) file with its password, using node-forge
 * (loaded on first use). Supports 3DES, RC2-40 (legacy `openssl -legacy`) and
 * PBES2/AES files with SHA-1 or SHA-2 MACs.
 *
 * @example
 * ```ts
 * const { privateKey, certificate } = loadPkcs12(readFileSync('acp_test_sign.pfx'), '000000');
 * certificate.serialDecimal; // UnionPay certId
 * ```
 * @param input - the file's bytes, or its base64
 * @param password - the password (UnionPay test files: `000000`; WeChat `apiclient_cert.p12`: the mchid)
 * @param options - label for error messages
 * @throws PayConfigError on a wrong password, a damaged file or a file without a key and its certificate
 */
export function loadPkcs12(input: Uint8Array | string, password: string, options: { label?: string } = {}): Pkcs12Contents {
  const label = options.label ?? 'pkcs12';
  if (typeof input !== 'string' && !(input instanceof Uint8Array)) {
    throw new PayConfigError(`@pay/core: ${label}: expected the bytes of a PKCS#12 (.p12/.pfx) file or their base64, got ${kindOf(input)}`);
  }
  if (typeof password !== 'string') {
    throw new PayConfigError(`@pay/core: ${label}: expected the PKCS#12 password as a string, got ${kindOf(password)}`);
  }
  const bytes = typeof input === 'string' ? Buffer.from(input.replace(/\s+/g, ''), 'base64') : Buffer.from(input);
  if (bytes.length < 16 || bytes[0] !== 0x30) {
    throw new PayConfigError(
      `@pay/core: ${label}: expected the bytes of a PKCS#12 (.p12/.pfx) file, got ${bytes.length} bytes that are not DER`,
    );
  }
  const forge = loadForge();
  let p12: import('node-forge').pkcs12.Pkcs12Pfx;
  try {
    const asn1 = forge.asn1.fromDer(forge.util.createBuffer(bytes.toString('binary')));
    p12 = forge.pkcs12.pkcs12FromAsn1(asn1, false, password);
  } catch (e) {
    const msg = reason(e);
    const hint = /MAC could not be verified|Invalid password/i.test(msg)
      ? 'the password is wrong (UnionPay test files use 000000; WeChat apiclient_cert.p12 uses the mchid)'
      : undefined;
    throw new PayConfigError(
      `@pay/core: ${label}: could not open the PKCS#12 file: ${msg}`,
      hint === undefined ? { cause: e } : { cause: e, hint },
    );
  }
  const keyBags = [
    ...(p12.getBags({ bagType: forge.pki.oids.pkcs8ShroudedKeyBag })[forge.pki.oids.pkcs8ShroudedKeyBag as string] ?? []),
    ...(p12.getBags({ bagType: forge.pki.oids.keyBag })[forge.pki.oids.keyBag as string] ?? []),
  ];
  const certBags = p12.getBags({ bagType: forge.pki.oids.certBag })[forge.pki.oids.certBag as string] ?? [];
  const keyBag = keyBags.find((b) => b.key);
  if (!keyBag?.key)
    throw new PayConfigError(`@pay/core: ${label}: the PKCS#12 file holds no private key (or a non-RSA key node-forge cannot read)`);
  const pkcs8 = forge.pki.wrapRsaPrivateKey(forge.pki.privateKeyToAsn1(keyBag.key));
  const privateKey = createPrivateKey({ key: Buffer.from(forge.asn1.toDer(pkcs8).getBytes(), 'binary'), format: 'der', type: 'pkcs8' });
  const certs: Certificate[] = [];
  for (const bag of certBags) {
    const asn1 = bag.cert ? forge.pki.certificateToAsn1(bag.cert) : (bag as { asn1?: import('node-forge').asn1.Asn1 }).asn1;
    if (!asn1) continue;
    certs.push(new Certificate(Buffer.from(forge.asn1.toDer(asn1).getBytes(), 'binary')));
  }
  const publicKey = createPublicKey(privateKey);
  const index = certs.findIndex((c) => c.publicKey.equals(publicKey));
  if (index < 0) throw new PayConfigError(`@pay/core: ${label}: the PKCS#12 file holds no certificate for its private key`);
  const certificate = certs[index] as Certificate;
  return { privateKey, certificate, chain: certs.filter((_, i) => i !== index) };
}
