// Test-time UnionPay-style certificate hierarchy, built here with node-forge and
// node:crypto only (independently of @pay/sandbox's generator): root CA, middle
// CA, a leaf with the CN format `041@…@中国银联股份有限公司@…`, a merchant .pfx, and
// whatever odd certificate a negative test needs.
import { createHash, createSign, generateKeyPairSync, type KeyObject, randomInt } from 'node:crypto';
import { type Certificate, parseCertificate } from '@pay/core';
import forge from 'node-forge';

export interface TestCert {
  pem: string;
  /** The PEM as UnionPay sends it in signPubKeyCert: CRLF, no final line break. */
  crlfPem: string;
  key: KeyObject;
  publicKey: KeyObject;
  cert: Certificate;
  certId: string;
}

const DAY = 86_400_000;
/**
 * A fresh RSA key pair (node:crypto). Throw-away certificates of negative tests use
 * 1024 bits to keep the suite fast; the main hierarchy uses 2048.
 */
export function newKeyPair(bits = 1024): { privateKey: KeyObject; publicKey: KeyObject } {
  return generateKeyPairSync('rsa', { modulusLength: bits });
}

export interface CertOptions {
  cn: string;
  issuer?: TestCert;
  ca?: boolean;
  notBefore?: number;
  notAfter?: number;
  keyPair?: { privateKey: KeyObject; publicKey: KeyObject };
  serial?: bigint;
}

export function makeCert(o: CertOptions): TestCert {
  const pair = o.keyPair ?? newKeyPair();
  const c = forge.pki.createCertificate();
  c.publicKey = forge.pki.publicKeyFromPem(pair.publicKey.export({ type: 'spki', format: 'pem' }).toString());
  const serial = o.serial ?? BigInt(60_000_000_000 + randomInt(39_999_999_999));
  let hex = serial.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  if (Number.parseInt(hex.slice(0, 2), 16) >= 0x80) hex = `00${hex}`;
  c.serialNumber = hex;
  const now = Date.now();
  c.validity.notBefore = new Date(o.notBefore ?? now - DAY);
  c.validity.notAfter = new Date(o.notAfter ?? now + 365 * DAY);
  const attrs = [
    { shortName: 'C', value: 'CN' },
    { shortName: 'O', value: 'test OCA1' },
    { shortName: 'CN', value: o.cn, valueTagClass: forge.asn1.Type.UTF8 as unknown as number },
  ];
  c.setSubject(attrs as never);
  c.setIssuer(o.issuer ? forge.pki.certificateFromPem(o.issuer.pem).subject.attributes : (attrs as never));
  c.setExtensions(
    o.ca
      ? [
          { name: 'basicConstraints', cA: true, critical: true },
          { name: 'keyUsage', keyCertSign: true, cRLSign: true },
        ]
      : [
          { name: 'basicConstraints', cA: false },
          { name: 'keyUsage', digitalSignature: true, nonRepudiation: true, keyEncipherment: true },
        ],
  );
  const signer = o.issuer?.key ?? pair.privateKey;
  c.sign(forge.pki.privateKeyFromPem(signer.export({ type: 'pkcs1', format: 'pem' }).toString()), forge.md.sha256.create());
  const pem = forge.pki.certificateToPem(c).replace(/\r\n/g, '\n');
  const cert = parseCertificate(pem);
  return {
    pem,
    crlfPem: pem.trim().replace(/\n/g, '\r\n'),
    key: pair.privateKey,
    publicKey: pair.publicKey,
    cert,
    certId: cert.serialDecimal,
  };
}

/** A `.pfx` (3DES) of a key, its certificate and a chain. */
export function makePfx(holder: TestCert, chain: TestCert[], password: string): Buffer {
  const key = forge.pki.privateKeyFromPem(holder.key.export({ type: 'pkcs1', format: 'pem' }).toString());
  const certs = [holder, ...chain].map((c) => forge.pki.certificateFromPem(c.pem));
  const asn1 = forge.pkcs12.toPkcs12Asn1(key, certs, password, { algorithm: '3des' });
  return Buffer.from(forge.asn1.toDer(asn1).getBytes(), 'binary');
}

export const UNIONPAY_TEST_CN_FULL = '041@8310000000083040@中国银联股份有限公司@00016495';

export interface Hierarchy {
  root: TestCert;
  middle: TestCert;
  /** UnionPay's signing certificate (signPubKeyCert). */
  leaf: TestCert;
  merchant: TestCert;
  merchantPfx: Buffer;
  enc: TestCert;
}

/** root → middle → { UnionPay leaf, merchant, encryption }. About five key generations. */
export function makeHierarchy(): Hierarchy {
  const now = Date.now();
  const k = () => newKeyPair(2048);
  const root = makeCert({ cn: 'test CS CA', ca: true, notBefore: now - 30 * DAY, notAfter: now + 3650 * DAY, keyPair: k() });
  const middle = makeCert({ cn: 'test OCA1', ca: true, issuer: root, notBefore: now - 30 * DAY, notAfter: now + 3000 * DAY, keyPair: k() });
  const leaf = makeCert({ cn: UNIONPAY_TEST_CN_FULL, issuer: middle, keyPair: k() });
  const merchant = makeCert({ cn: '041@Z2014-11-11@777290058110048:SIGN@00000003', issuer: middle, keyPair: k() });
  const enc = makeCert({ cn: '041@8310000000083040@00040000:SIGN@00000006', issuer: middle, keyPair: k() });
  return { root, middle, leaf, merchant, merchantPfx: makePfx(merchant, [middle, root], '000000'), enc };
}

// ---- an independent implementation of the gateway's side (node:crypto only) ----

/** Sorted `k=v&…` of every field but signature, raw values. */
export function referenceSigningString(fields: Record<string, string>): string {
  return Object.keys(fields)
    .filter((k) => k !== 'signature')
    .sort()
    .map((k) => `${k}=${fields[k]}`)
    .join('&');
}

/** Signs fields as the 5.1.0 gateway does: signPubKeyCert + SHA-256 hex + SHA256withRSA. */
export function gatewaySign(fields: Record<string, string>, signer: TestCert, certText = signer.crlfPem): Record<string, string> {
  const out: Record<string, string> = { ...fields, signPubKeyCert: certText };
  delete out.signature;
  const digest = createHash('sha256').update(referenceSigningString(out), 'utf8').digest('hex');
  out.signature = createSign('RSA-SHA256').update(digest, 'utf8').sign(signer.key, 'base64');
  return out;
}

/** The raw response text: sorted fields, then signPubKeyCert and signature. */
export function rawResponse(fields: Record<string, string>): string {
  const tail = ['signPubKeyCert', 'signature'];
  const keys = Object.keys(fields)
    .filter((k) => !tail.includes(k))
    .sort();
  for (const k of tail) if (fields[k] !== undefined) keys.push(k);
  return keys.map((k) => `${k}=${fields[k]}`).join('&');
}

/** A form-encoded body (as notifications arrive). */
export function formBody(fields: Record<string, string>): string {
  return new URLSearchParams(fields).toString();
}
