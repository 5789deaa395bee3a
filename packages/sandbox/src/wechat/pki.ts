/**
 * Throw-away WeChat Pay style key material generated with node:crypto and
 * node-forge: a CA in the shape of "Tenpay.com Root CA", platform certificates
 * ("Tenpay.com sign", 40-hex-digit serials), merchant API certificates
 * (`apiclient_cert.pem`, CN = mchid) and the `apiclient_cert.p12` (password =
 * mchid), plus a TLS server certificate for 127.0.0.1.
 *
 * @module
 * @internal
 */
import { generateKeyPair, type KeyObject, randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { promisify } from 'node:util';
import { type Certificate, parseCertificate } from '@pay/core';

const requireHere = createRequire(import.meta.url);
let forgeModule: typeof import('node-forge') | undefined;
function forge(): typeof import('node-forge') {
  if (forgeModule === undefined) forgeModule = requireHere('node-forge') as typeof import('node-forge');
  return forgeModule;
}

const generate = promisify(generateKeyPair);

/** An RSA key pair. @internal */
export interface RsaPair {
  /** Private key. */
  privateKey: KeyObject;
  /** Public key. */
  publicKey: KeyObject;
}

/** Generates an RSA-2048 key pair (off the main thread). @internal */
export async function rsaPair(bits = 2048): Promise<RsaPair> {
  const { privateKey, publicKey } = await generate('rsa', { modulusLength: bits });
  return { privateKey, publicKey };
}

/** A generated certificate with its key. @internal */
export interface IssuedCert {
  /** PEM, LF line breaks. */
  pem: string;
  /** Parsed. */
  cert: Certificate;
  /** Its key pair. */
  key: RsaPair;
}

/** Options of {@link issueWechatCertificate}. @internal */
export interface IssueCertOptions {
  /** Subject attributes in order. */
  subject: Array<[string, string]>;
  /** Issuer; self-signed when absent. */
  issuer?: IssuedCert;
  /** The key pair of the new certificate. */
  key: RsaPair;
  /** Serial in hex (default: 40 random hex digits, like WeChat's). */
  serialHex?: string;
  /** Validity, epoch ms. */
  notBefore: number;
  /** Validity, epoch ms. */
  notAfter: number;
  /** CA certificate. */
  ca?: boolean;
  /** IP subjectAltNames (TLS server certificates). */
  ips?: string[];
  /** Extended key usage: server or client authentication. */
  usage?: 'server' | 'client';
}

/** 40 random upper-case hex digits without a leading zero. @internal */
export function randomSerialHex(): string {
  const hex = randomBytes(20).toString('hex').toUpperCase();
  return (hex[0] === '0' ? '5' : '') + hex.slice(hex[0] === '0' ? 1 : 0);
}

/** Issues one RSA / sha256WithRSA certificate. @internal */
export function issueWechatCertificate(options: IssueCertOptions): IssuedCert {
  const f = forge();
  const c = f.pki.createCertificate();
  c.publicKey = f.pki.publicKeyFromPem(options.key.publicKey.export({ type: 'spki', format: 'pem' }).toString());
  const serial = options.serialHex ?? randomSerialHex();
  // A leading 0 byte keeps the DER INTEGER positive when the first hex digit is 8..F.
  c.serialNumber = (/^[89A-Fa-f]/.test(serial) ? '00' : '') + (serial.length % 2 ? '0' : '') + serial;
  c.validity.notBefore = new Date(options.notBefore);
  c.validity.notAfter = new Date(options.notAfter);
  const attrs = options.subject.map(([shortName, value]) => ({ shortName, value, valueTagClass: f.asn1.Type.UTF8 as never }));
  c.setSubject(attrs);
  c.setIssuer(
    options.issuer
      ? (options.issuer.cert.subject.map((a) => ({ shortName: a.type, value: a.value, valueTagClass: f.asn1.Type.UTF8 as never })) as never)
      : attrs,
  );
  const extensions: Array<Record<string, unknown>> = [{ name: 'basicConstraints', cA: options.ca === true, critical: true }];
  extensions.push(
    options.ca
      ? { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true }
      : { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
  );
  if (options.usage === 'server') extensions.push({ name: 'extKeyUsage', serverAuth: true });
  if (options.usage === 'client') extensions.push({ name: 'extKeyUsage', clientAuth: true });
  if (options.ips?.length) extensions.push({ name: 'subjectAltName', altNames: options.ips.map((ip) => ({ type: 7, ip })) });
  c.setExtensions(extensions);
  const signer = options.issuer?.key ?? options.key;
  c.sign(f.pki.privateKeyFromPem(signer.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()), f.md.sha256.create());
  const pem = f.pki.certificateToPem(c).replace(/\r\n/g, '\n');
  return { pem, cert: parseCertificate(pem), key: options.key };
}

/** Packs a key and its certificate (and chain) into a PKCS#12 file (3DES, SHA-1 MAC). @internal */
export function wechatPkcs12(key: KeyObject, certs: string[], password: string): Buffer {
  const f = forge();
  const forgeKey = f.pki.privateKeyFromPem(key.export({ type: 'pkcs8', format: 'pem' }).toString());
  const asn1 = f.pkcs12.toPkcs12Asn1(
    forgeKey,
    certs.map((p) => f.pki.certificateFromPem(p)),
    password,
    { algorithm: '3des', friendlyName: 'Tenpay Certificate' },
  );
  return Buffer.from(f.asn1.toDer(asn1).getBytes(), 'binary');
}
