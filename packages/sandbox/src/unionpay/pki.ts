/**
 * A throw-away UnionPay-style certificate hierarchy, generated with node-forge:
 * a root CA, a middle CA, UnionPay's signing certificate (CN
 * `041@<16 digits>@中国银联股份有限公司@<8 digits>`), an encryption certificate
 * and a merchant signing `.pfx` — the same shapes as the real test set
 * (`acp_test_root.cer`, `acp_test_middle.cer`, `signPubKeyCert`,
 * `acp_test_enc.cer`, `acp_test_sign.pfx`), but with keys nobody else has.
 *
 * @module
 */
import { generateKeyPairSync, type KeyObject, randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { type Certificate, parseCertificate } from '@pay/core';

const requireHere = createRequire(import.meta.url);
let forgeModule: typeof import('node-forge') | undefined;
function forge(): typeof import('node-forge') {
  if (forgeModule === undefined) forgeModule = requireHere('node-forge') as typeof import('node-forge');
  return forgeModule;
}

/** The CN owner part of UnionPay's production (and current test) signing certificates. */
export const UNIONPAY_OWNER = '中国银联股份有限公司';

/** A generated certificate with its private key. */
export interface IssuedCertificate {
  /** The certificate in PEM (LF line breaks). */
  pem: string;
  /** The parsed certificate. */
  cert: Certificate;
  /** Its private key. */
  privateKey: KeyObject;
  /** Its public key. */
  publicKey: KeyObject;
  /** Its serial number in decimal (UnionPay `certId`). */
  certId: string;
}

/** Options of {@link issueCertificate}. */
export interface UnionPayIssueOptions {
  /** Subject attributes, e.g. `{ C: 'CN', O: 'CFCA OCA1', CN: '…' }` (values may be non-ASCII). */
  subject: Record<string, string>;
  /** The issuer; self-signed when absent. */
  issuer?: IssuedCertificate;
  /** A CA certificate (basicConstraints cA). */
  ca?: boolean;
  /** Start of validity, epoch ms. */
  notBefore: number;
  /** End of validity, epoch ms. */
  notAfter: number;
  /** Key size; 2048 by default. */
  bits?: number;
  /** Serial in decimal; random 11 digits by default (like UnionPay certIds). */
  serial?: string;
  /** Reuse this key pair instead of generating one. */
  keyPair?: { privateKey: KeyObject; publicKey: KeyObject };
}

const SHORT_NAMES: Record<string, string> = { C: 'C', O: 'O', OU: 'OU', CN: 'CN', L: 'L', ST: 'ST' };

function randomSerial(): string {
  // 11 digits, leading digit 6..9, like 69903319369
  const n = 60_000_000_000 + (randomBytes(6).readUIntBE(0, 6) % 39_999_999_999);
  return String(n);
}

/**
 * Issues one certificate (RSA, sha256WithRSA) with node-forge.
 *
 * @example
 * ```ts
 * const root = issueCertificate({ subject: { CN: 'Test Root' }, ca: true, notBefore, notAfter });
 * ```
 */
export function issueCertificate(options: UnionPayIssueOptions): IssuedCertificate {
  const f = forge();
  const pair = options.keyPair ?? generateKeyPairSync('rsa', { modulusLength: options.bits ?? 2048 });
  const c = f.pki.createCertificate();
  c.publicKey = f.pki.publicKeyFromPem(pair.publicKey.export({ type: 'spki', format: 'pem' }).toString());
  const serial = options.serial ?? randomSerial();
  let hex = BigInt(serial).toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  if (Number.parseInt(hex.slice(0, 2), 16) >= 0x80) hex = `00${hex}`;
  c.serialNumber = hex;
  c.validity.notBefore = new Date(options.notBefore);
  c.validity.notAfter = new Date(options.notAfter);
  const attrs = Object.entries(options.subject).map(([k, value]) => ({
    shortName: SHORT_NAMES[k] ?? k,
    value,
    valueTagClass: f.asn1.Type.UTF8 as unknown as number,
  }));
  c.setSubject(attrs as never);
  const issuer = options.issuer;
  if (issuer) {
    c.setIssuer(f.pki.certificateFromPem(issuer.pem).subject.attributes);
  } else {
    c.setIssuer(attrs as never);
  }
  c.setExtensions(
    options.ca
      ? [
          { name: 'basicConstraints', cA: true, critical: true },
          { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
          { name: 'subjectKeyIdentifier' },
        ]
      : [
          { name: 'basicConstraints', cA: false },
          { name: 'keyUsage', digitalSignature: true, nonRepudiation: true, keyEncipherment: true, dataEncipherment: true },
          { name: 'extKeyUsage', clientAuth: true, emailProtection: true },
          { name: 'subjectKeyIdentifier' },
        ],
  );
  const signer = issuer?.privateKey ?? pair.privateKey;
  c.sign(f.pki.privateKeyFromPem(signer.export({ type: 'pkcs1', format: 'pem' }).toString()), f.md.sha256.create());
  const pem = f.pki.certificateToPem(c).replace(/\r\n/g, '\n');
  const cert = parseCertificate(pem);
  return { pem, cert, privateKey: pair.privateKey, publicKey: pair.publicKey, certId: cert.serialDecimal };
}

/**
 * Packs a key and its certificate (plus chain certificates) into a PKCS#12 `.pfx`
 * (3DES, SHA-1 MAC), as UnionPay's merchant signing files are.
 */
export function createUnionPayPfx(holder: IssuedCertificate, chain: readonly IssuedCertificate[], password: string): Buffer {
  const f = forge();
  const key = f.pki.privateKeyFromPem(holder.privateKey.export({ type: 'pkcs1', format: 'pem' }).toString());
  const certs = [holder, ...chain].map((c) => f.pki.certificateFromPem(c.pem));
  const asn1 = f.pkcs12.toPkcs12Asn1(key, certs, password, { algorithm: '3des', friendlyName: 'unionpay-sandbox' });
  return Buffer.from(f.asn1.toDer(asn1).getBytes(), 'binary');
}

/**
 * A PEM the way UnionPay puts it into `signPubKeyCert`: CRLF line breaks, no final line break.
 */
export function toCrlfPem(pem: string): string {
  return pem.trim().replace(/\r?\n/g, '\r\n');
}

/** A UnionPay-style CN: `041@<16 digits>@<owner>@<8 digits>`. */
export function unionPayStyleCn(owner: string): string {
  const digits = (n: number): string =>
    Array.from(randomBytes(n))
      .map((b) => String(b % 10))
      .join('');
  return `041@${digits(16)}@${owner}@${digits(8)}`;
}

/** A generated hierarchy: root → middle → UnionPay's signing certificate, plus encryption and merchant certificates. */
export interface UnionPayHierarchy {
  /** Root CA (like `acp_test_root.cer`). */
  root: IssuedCertificate;
  /** Middle CA (like `acp_test_middle.cer`), issued by the root. */
  middle: IssuedCertificate;
  /** UnionPay's signing certificate (sent as `signPubKeyCert`), issued by the middle CA. */
  signing: IssuedCertificate;
  /** UnionPay's sensitive-information encryption certificate (like `acp_test_enc.cer`). */
  encrypt: IssuedCertificate;
  /** The merchant's signing certificate and key. */
  merchant: IssuedCertificate;
  /** The merchant's `.pfx` (key, certificate, middle and root). */
  merchantPfx: Buffer;
  /** Password of {@link UnionPayHierarchy.merchantPfx}. */
  pfxPassword: string;
}

/** Options of {@link generateUnionPayHierarchy}. */
export interface UnionPayHierarchyOptions {
  /** "Now", epoch ms: certificates are valid from a day before to a year after. */
  now?: number;
  /** Key size; 2048 by default. */
  bits?: number;
  /** Password of the merchant `.pfx`; `000000` (as UnionPay's test files) by default. */
  pfxPassword?: string;
  /** The merchant number written into the merchant certificate's CN. */
  merId?: string;
}

const DAY = 86_400_000;

/**
 * Generates a complete UnionPay-style hierarchy. Takes about a second (five RSA keys).
 */
export function generateUnionPayHierarchy(options: UnionPayHierarchyOptions = {}): UnionPayHierarchy {
  const now = options.now ?? Date.now();
  const bits = options.bits ?? 2048;
  const notBefore = now - DAY;
  const root = issueCertificate({
    subject: { C: 'CN', O: 'pay-sdk sandbox', CN: 'pay-sdk sandbox UnionPay ROOT CA' },
    ca: true,
    notBefore: now - 30 * DAY,
    notAfter: now + 3650 * DAY,
    bits,
  });
  const middle = issueCertificate({
    subject: { C: 'CN', O: 'pay-sdk sandbox', CN: 'pay-sdk sandbox UnionPay OCA1' },
    issuer: root,
    ca: true,
    notBefore: now - 30 * DAY,
    notAfter: now + 3000 * DAY,
    bits,
  });
  const leafSubject = (cn: string): Record<string, string> => ({ C: 'cn', O: 'pay-sdk sandbox OCA1', OU: 'Enterprises', CN: cn });
  const signing = issueCertificate({
    subject: leafSubject(unionPayStyleCn(UNIONPAY_OWNER)),
    issuer: middle,
    notBefore,
    notAfter: now + 365 * DAY,
    bits,
  });
  const encrypt = issueCertificate({
    subject: leafSubject(unionPayStyleCn('00040000:SIGN')),
    issuer: middle,
    notBefore,
    notAfter: now + 365 * DAY,
    bits,
  });
  const merId = options.merId ?? '777290058110048';
  const merchant = issueCertificate({
    subject: leafSubject(`041@Z${merId}@${merId}:SIGN@00000001`),
    issuer: middle,
    notBefore,
    notAfter: now + 365 * DAY,
    bits,
  });
  const pfxPassword = options.pfxPassword ?? '000000';
  return { root, middle, signing, encrypt, merchant, merchantPfx: createUnionPayPfx(merchant, [middle, root], pfxPassword), pfxPassword };
}
