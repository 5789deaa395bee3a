/**
 * Test-time PKI: RSA keys from node:crypto, certificates and PKCS#12 files built
 * with node-forge, so always-on tests never depend on committed key material.
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import forge from 'node-forge';

/** An RSA key pair in the forms the tests need. */
export interface TestKeyPair {
  privateKey: KeyObject;
  publicKey: KeyObject;
  forgePrivate: forge.pki.rsa.PrivateKey;
  forgePublic: forge.pki.rsa.PublicKey;
}

/** A fresh RSA key pair (node:crypto is much faster than forge's key generation). */
export function rsaKeyPair(bits = 2048): TestKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: bits });
  return keyPairOf(privateKey, publicKey);
}

/** The forge forms of an RSA key pair made by node:crypto. */
export function keyPairOf(privateKey: KeyObject, publicKey: KeyObject): TestKeyPair {
  return {
    privateKey,
    publicKey,
    forgePrivate: forge.pki.privateKeyFromPem(privateKey.export({ format: 'pem', type: 'pkcs1' }).toString()),
    forgePublic: forge.pki.publicKeyFromPem(publicKey.export({ format: 'pem', type: 'spki' }).toString()),
  };
}

/** What a test certificate looks like. */
export interface CertSpec {
  /** Subject attributes in certificate order, e.g. `[['C','CN'],['O','Test'],['CN','leaf']]`. */
  subject: Array<[string, string]>;
  /** Serial in hex (no sign bit set: keep the first digit below 8). */
  serialHex?: string;
  notBefore?: Date;
  notAfter?: Date;
  /** basicConstraints cA; undefined leaves the extension out. */
  ca?: boolean;
  pathLen?: number;
  /** keyUsage flags; undefined leaves the extension out. */
  keyUsage?: { keyCertSign?: boolean; digitalSignature?: boolean; cRLSign?: boolean; keyEncipherment?: boolean };
  /** The issuer; omitted means self-signed. */
  issuer?: TestCert;
  /** The key pair to certify (a new RSA-1024 one, quick to make, when omitted). */
  keys?: TestKeyPair;
  /** subjectAltName entries: IP addresses and DNS names (TLS server certificates). */
  altNames?: { ips?: string[]; dns?: string[] };
  /** extKeyUsage: serverAuth / clientAuth. */
  extKeyUsage?: { serverAuth?: boolean; clientAuth?: boolean };
  /** Signature digest; sha256 by default. */
  digest?: 'sha1' | 'sha256';
}

/** A test certificate with its keys. */
export interface TestCert {
  der: Buffer;
  pem: string;
  forgeCert: forge.pki.Certificate;
  keys: TestKeyPair;
}

function attrs(list: Array<[string, string]>): forge.pki.CertificateField[] {
  return list.map(([shortName, value]) => ({ shortName, value, valueTagClass: forge.asn1.Type.UTF8 as never }));
}

/** Builds (and signs) one certificate. */
export function makeCert(spec: CertSpec): TestCert {
  const keys = spec.keys ?? rsaKeyPair(1024);
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.forgePublic;
  cert.serialNumber = spec.serialHex ?? '01';
  cert.validity.notBefore = spec.notBefore ?? new Date(Date.UTC(2020, 0, 1));
  cert.validity.notAfter = spec.notAfter ?? new Date(Date.UTC(2040, 0, 1));
  cert.setSubject(attrs(spec.subject));
  cert.setIssuer(spec.issuer ? spec.issuer.forgeCert.subject.attributes : attrs(spec.subject));
  const extensions: Array<Record<string, unknown>> = [];
  if (spec.ca !== undefined) {
    extensions.push({
      name: 'basicConstraints',
      cA: spec.ca,
      critical: true,
      ...(spec.pathLen !== undefined ? { pathLenConstraint: spec.pathLen } : {}),
    });
  }
  if (spec.keyUsage) extensions.push({ name: 'keyUsage', critical: true, ...spec.keyUsage });
  if (spec.extKeyUsage) extensions.push({ name: 'extKeyUsage', ...spec.extKeyUsage });
  if (spec.altNames) {
    extensions.push({
      name: 'subjectAltName',
      altNames: [
        ...(spec.altNames.ips ?? []).map((ip) => ({ type: 7, ip })),
        ...(spec.altNames.dns ?? []).map((value) => ({ type: 2, value })),
      ],
    });
  }
  if (extensions.length > 0) cert.setExtensions(extensions);
  const signer = spec.issuer ? spec.issuer.keys.forgePrivate : keys.forgePrivate;
  cert.sign(signer, spec.digest === 'sha1' ? forge.md.sha1.create() : forge.md.sha256.create());
  const der = Buffer.from(forge.asn1.toDer(forge.pki.certificateToAsn1(cert)).getBytes(), 'binary');
  return { der, pem: forge.pki.certificateToPem(cert), forgeCert: cert, keys };
}

/** A PKCS#12 file holding `cert`'s key, `cert` and `chain`, encrypted with `algorithm`. */
export function makePkcs12(
  cert: TestCert,
  password: string,
  algorithm: '3des' | 'aes128' | 'aes192' | 'aes256',
  chain: TestCert[] = [],
): Buffer {
  const asn1 = forge.pkcs12.toPkcs12Asn1(cert.keys.forgePrivate, [cert.forgeCert, ...chain.map((c) => c.forgeCert)], password, {
    algorithm,
    friendlyName: 'test',
  });
  return Buffer.from(forge.asn1.toDer(asn1).getBytes(), 'binary');
}

/** The private key of a test certificate in PEM PKCS#8 (for TLS servers and agents). */
export function keyPem(cert: TestCert): string {
  return cert.keys.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
}

/** PEM text wrapped at 64 columns. */
export function toPem(label: string, der: Uint8Array): string {
  const b64 = Buffer.from(der)
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')
    .replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}
