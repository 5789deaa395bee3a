/**
 * Generated App Store signing chains: a root, an intermediate carrying Apple's
 * WWDR OID (`1.2.840.113635.100.6.2.1`) and a leaf carrying the receipt-signing
 * OID (`1.2.840.113635.100.6.11.1`), all EC P-256, signed with node:crypto
 * ECDSA over DER this module writes. Used by the App Store emulator and by the
 * always-on tests of `@pay/iap` (which never need Apple's real keys).
 *
 * @module
 */
import { createHash, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import {
  derBitString,
  derBoolean,
  derExplicit,
  derInteger,
  derNull,
  derOctetString,
  derOid,
  derPrintable,
  derSequence,
  derSet,
  derTime,
  derTlv,
  derUtf8,
} from './der.js';

/** Apple's OID on the App Store receipt-signing (leaf) certificate. */
export const APPLE_LEAF_OID = '1.2.840.113635.100.6.11.1';
/** Apple's OID on the Apple Worldwide Developer Relations (intermediate) certificate. */
export const APPLE_INTERMEDIATE_OID = '1.2.840.113635.100.6.2.1';

const OID_ECDSA_SHA256 = '1.2.840.10045.4.3.2';
const OID_BASIC_CONSTRAINTS = '2.5.29.19';
const OID_KEY_USAGE = '2.5.29.15';
const OID_EXT_KEY_USAGE = '2.5.29.37';
const OID_AIA = '1.3.6.1.5.5.7.1.1';
const OID_AD_OCSP = '1.3.6.1.5.5.7.48.1';
const OID_KP_OCSP_SIGNING = '1.3.6.1.5.5.7.3.9';

const NAME_OIDS: Record<string, string> = { C: '2.5.4.6', ST: '2.5.4.8', L: '2.5.4.7', O: '2.5.4.10', OU: '2.5.4.11', CN: '2.5.4.3' };

/** A distinguished name as ordered `[type, value]` pairs, e.g. `[['C','US'],['O','Apple Inc.']]`. */
export type AppleTestName = ReadonlyArray<readonly [string, string]>;

/** Encodes a name as DER (one attribute per RDN). */
export function encodeAppleTestName(name: AppleTestName): Buffer {
  return derSequence(
    ...name.map(([type, value]) => {
      const oid = NAME_OIDS[type] ?? type;
      return derSet(derSequence(derOid(oid), type === 'C' ? derPrintable(value) : derUtf8(value)));
    }),
  );
}

/** A generated certificate with its key pair. */
export interface AppleTestCertificate {
  /** DER bytes. */
  der: Buffer;
  /** The certificate's private key (EC P-256). */
  privateKey: KeyObject;
  /** The certificate's public key. */
  publicKey: KeyObject;
  /** The serial number. */
  serial: bigint;
  /** DER of the subject name. */
  subjectDer: Buffer;
  /** Start of validity, epoch ms (whole seconds). */
  notBefore: number;
  /** End of validity, epoch ms (whole seconds). */
  notAfter: number;
}

/** Options of {@link createAppleTestCertificate}. */
export interface AppleTestCertificateOptions {
  /** Subject name. */
  subject: AppleTestName;
  /** Serial number. */
  serial: bigint | number;
  /** Validity start, epoch ms. */
  notBefore: number;
  /** Validity end, epoch ms. */
  notAfter: number;
  /** The issuing certificate; omitted for a self-signed root. */
  issuer?: AppleTestCertificate;
  /** The key pair to certify (a fresh P-256 pair by default). */
  keyPair?: { privateKey: KeyObject; publicKey: KeyObject };
  /** basicConstraints CA flag; `pathLen` is set to 0 for intermediates when given. */
  ca?: boolean;
  /** basicConstraints pathLenConstraint. */
  pathLen?: number;
  /** Extra marker extensions (OID → DER value, `05 00` NULL by default as Apple's). */
  markerOids?: readonly string[];
  /** OCSP responder URL put in the Authority Information Access extension. */
  ocspUrl?: string;
  /** Adds extendedKeyUsage id-kp-OCSPSigning (a delegated OCSP responder). */
  ocspSigning?: boolean;
}

/** A fresh EC P-256 key pair. */
export function generateAppleTestKeyPair(): { privateKey: KeyObject; publicKey: KeyObject } {
  return generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
}

function extension(oid: string, critical: boolean, value: Buffer): Buffer {
  return critical ? derSequence(derOid(oid), derBoolean(true), derOctetString(value)) : derSequence(derOid(oid), derOctetString(value));
}

function wholeSeconds(at: number): number {
  return Math.floor(at / 1000) * 1000;
}

/**
 * Creates an X.509 v3 certificate signed with ECDSA-SHA256 by `issuer` (or by
 * itself), writing its DER directly.
 */
export function createAppleTestCertificate(options: AppleTestCertificateOptions): AppleTestCertificate {
  const keys = options.keyPair ?? generateAppleTestKeyPair();
  const subjectDer = encodeAppleTestName(options.subject);
  const issuerDer = options.issuer ? options.issuer.subjectDer : subjectDer;
  const signerKey = options.issuer ? options.issuer.privateKey : keys.privateKey;
  const spki = keys.publicKey.export({ type: 'spki', format: 'der' });
  const extensions: Buffer[] = [];
  if (options.ca) {
    const bc = options.pathLen === undefined ? derSequence(derBoolean(true)) : derSequence(derBoolean(true), derInteger(options.pathLen));
    extensions.push(extension(OID_BASIC_CONSTRAINTS, true, bc));
    // keyCertSign | cRLSign
    extensions.push(extension(OID_KEY_USAGE, true, derTlv(0x03, Buffer.from([0x01, 0x06]))));
  } else {
    extensions.push(extension(OID_BASIC_CONSTRAINTS, false, derSequence()));
    // digitalSignature
    extensions.push(extension(OID_KEY_USAGE, true, derTlv(0x03, Buffer.from([0x07, 0x80]))));
  }
  if (options.ocspSigning) extensions.push(extension(OID_EXT_KEY_USAGE, false, derSequence(derOid(OID_KP_OCSP_SIGNING))));
  if (options.ocspUrl) {
    const aia = derSequence(derSequence(derOid(OID_AD_OCSP), derTlv(0x86, Buffer.from(options.ocspUrl, 'latin1'))));
    extensions.push(extension(OID_AIA, false, aia));
  }
  for (const oid of options.markerOids ?? []) extensions.push(extension(oid, false, derNull()));
  const notBefore = wholeSeconds(options.notBefore);
  const notAfter = wholeSeconds(options.notAfter);
  const sigAlg = derSequence(derOid(OID_ECDSA_SHA256));
  const tbs = derSequence(
    derExplicit(0, derInteger(2)),
    derInteger(options.serial),
    sigAlg,
    issuerDer,
    derSequence(derTime(notBefore), derTime(notAfter)),
    subjectDer,
    spki,
    derExplicit(3, derSequence(...extensions)),
  );
  const signature = sign('sha256', tbs, signerKey);
  const der = derSequence(tbs, sigAlg, derBitString(signature));
  return { der, privateKey: keys.privateKey, publicKey: keys.publicKey, serial: BigInt(options.serial), subjectDer, notBefore, notAfter };
}

/** Options of {@link generateAppleTestChain}. */
export interface AppleTestChainOptions {
  /** Start of validity of every certificate, epoch ms. Default: one day before now. */
  notBefore?: number;
  /** End of validity of every certificate, epoch ms. Default: one year after now. */
  notAfter?: number;
  /** Overrides the leaf's validity (e.g. an expired leaf under a valid intermediate). */
  leafValidity?: { notBefore: number; notAfter: number };
  /** The root to issue under (default: a new root). Rotating a chain keeps the root. */
  root?: AppleTestCertificate;
  /** The leaf's marker OID; `null` leaves it out. Default Apple's `…6.11.1`. */
  leafOid?: string | null;
  /** The intermediate's marker OID; `null` leaves it out. Default Apple's `…6.2.1`. */
  intermediateOid?: string | null;
  /** Whether the intermediate is marked a CA (default true). */
  intermediateIsCA?: boolean;
  /** OCSP URL placed in the leaf (checked against the intermediate). */
  leafOcspUrl?: string;
  /** OCSP URL placed in the intermediate (checked against the root). */
  intermediateOcspUrl?: string;
  /** A first serial number; the chain uses it and the next two. Default random. */
  serialBase?: number;
  /** Clock for the defaults, epoch ms. */
  now?: number;
}

/** A root, an intermediate and a leaf, plus the JWS `x5c` header value (leaf, intermediate, root). */
export interface AppleTestChain {
  /** Self-signed root (what a verifier is configured with). */
  root: AppleTestCertificate;
  /** Intermediate, carrying the WWDR OID. */
  intermediate: AppleTestCertificate;
  /** Leaf, carrying the receipt-signing OID; its key signs the JWS. */
  leaf: AppleTestCertificate;
  /** Base64 DER of leaf, intermediate and root: the `x5c` header. */
  x5c: [string, string, string];
}

let serialCounter = 0x1000;

function nextSerials(count: number): number {
  const first = serialCounter + 1;
  serialCounter += count;
  return first;
}

/**
 * Generates a three-certificate chain shaped like Apple's App Store signing
 * chain (root → WWDR intermediate → receipt-signing leaf), with the Apple OIDs.
 *
 * @example
 * ```ts
 * const chain = generateAppleTestChain();
 * const jws = signAppleJws({ bundleId: 'com.example', environment: 'Sandbox', signedDate: Date.now() }, chain);
 * ```
 */
export function generateAppleTestChain(options: AppleTestChainOptions = {}): AppleTestChain {
  const now = options.now ?? Date.now();
  const notBefore = options.notBefore ?? now - 86_400_000;
  const notAfter = options.notAfter ?? now + 365 * 86_400_000;
  const base = options.serialBase ?? nextSerials(3);
  const root =
    options.root ??
    createAppleTestCertificate({
      subject: [
        ['CN', 'Test Root CA - G3'],
        ['OU', 'pay-sdk sandbox'],
        ['O', 'pay-sdk'],
        ['C', 'US'],
      ],
      serial: base,
      notBefore,
      notAfter,
      ca: true,
    });
  const intermediateOid = options.intermediateOid === undefined ? APPLE_INTERMEDIATE_OID : options.intermediateOid;
  const leafOid = options.leafOid === undefined ? APPLE_LEAF_OID : options.leafOid;
  const intermediate = createAppleTestCertificate({
    subject: [
      ['CN', 'Test Worldwide Developer Relations Certification Authority'],
      ['OU', 'G6'],
      ['O', 'pay-sdk'],
      ['C', 'US'],
    ],
    serial: base + 1,
    notBefore,
    notAfter,
    issuer: root,
    ca: options.intermediateIsCA ?? true,
    ...(options.intermediateIsCA === false ? {} : { pathLen: 0 }),
    markerOids: intermediateOid === null ? [] : [intermediateOid],
    ...(options.intermediateOcspUrl ? { ocspUrl: options.intermediateOcspUrl } : {}),
  });
  const leaf = createAppleTestCertificate({
    subject: [
      ['CN', 'Test ECC Mac App Store and iTunes Store Receipt Signing'],
      ['OU', 'pay-sdk sandbox'],
      ['O', 'pay-sdk'],
      ['C', 'US'],
    ],
    serial: base + 2,
    notBefore: options.leafValidity?.notBefore ?? notBefore,
    notAfter: options.leafValidity?.notAfter ?? notAfter,
    issuer: intermediate,
    markerOids: leafOid === null ? [] : [leafOid],
    ...(options.leafOcspUrl ? { ocspUrl: options.leafOcspUrl } : {}),
  });
  return {
    root,
    intermediate,
    leaf,
    x5c: [leaf.der.toString('base64'), intermediate.der.toString('base64'), root.der.toString('base64')],
  };
}

function b64url(data: string | Buffer): string {
  return (typeof data === 'string' ? Buffer.from(data, 'utf8') : data).toString('base64url');
}

/**
 * Signs `payload` as the App Store does: compact JWS, `alg: ES256`, `x5c` of the
 * chain, signature `r || s` by the leaf key.
 *
 * @param payload - the JSON payload (transaction, renewal info, notification…)
 * @param chain - the signing chain
 * @param header - extra or replacement header fields (tests use it to break the header)
 */
export function signAppleJws(payload: unknown, chain: Pick<AppleTestChain, 'leaf' | 'x5c'>, header: Record<string, unknown> = {}): string {
  const h = { alg: 'ES256', x5c: chain.x5c, ...header };
  const input = `${b64url(JSON.stringify(h))}.${b64url(JSON.stringify(payload))}`;
  const sig = sign('sha256', Buffer.from(input, 'latin1'), { key: chain.leaf.privateKey, dsaEncoding: 'ieee-p1363' });
  return `${input}.${b64url(sig)}`;
}

/** The status an OCSP responder reports for a certificate. */
export type AppleOcspCertStatus = 'good' | 'revoked' | 'unknown';

const OID_OCSP_BASIC = '1.3.6.1.5.5.7.48.1.1';
const OID_SHA1 = '1.3.14.3.2.26';
const OID_SHA256 = '2.16.840.1.101.3.4.2.1';

function spkiBitString(key: KeyObject): Buffer {
  // SubjectPublicKeyInfo = SEQ { AlgorithmIdentifier, BIT STRING }: for P-256 the BIT
  // STRING is the last 66 bytes (03 42 00 <65-byte point>).
  const spki = key.export({ type: 'spki', format: 'der' });
  return spki.subarray(spki.length - 65);
}

/** The parts of a CertID an OCSP responder echoes back. */
export interface AppleOcspCertId {
  /** `sha1` or `sha256`. */
  hash: 'sha1' | 'sha256';
  /** Hash of the issuer's subject DER. */
  issuerNameHash: Buffer;
  /** Hash of the issuer's public key bits. */
  issuerKeyHash: Buffer;
  /** Serial of the certificate asked about. */
  serial: bigint;
}

/** The CertID of `cert` issued by `issuer`, as an OCSP client computes it. */
export function appleOcspCertId(
  cert: AppleTestCertificate,
  issuer: AppleTestCertificate,
  hash: 'sha1' | 'sha256' = 'sha256',
): AppleOcspCertId {
  return {
    hash,
    issuerNameHash: createHash(hash).update(issuer.subjectDer).digest(),
    issuerKeyHash: createHash(hash).update(spkiBitString(issuer.publicKey)).digest(),
    serial: cert.serial,
  };
}

/** Options of {@link buildAppleOcspResponse}. */
export interface AppleOcspResponseOptions {
  /** The CertID asked about (echoed back). */
  certId: AppleOcspCertId;
  /** The status to report. */
  status: AppleOcspCertStatus;
  /** The issuer of the certificate asked about: it signs the response unless `responder` is given. */
  issuer: AppleTestCertificate;
  /** A delegated responder certificate (issued by `issuer`, with id-kp-OCSPSigning). */
  responder?: AppleTestCertificate;
  /** `producedAt` / `thisUpdate`, epoch ms. */
  now: number;
  /** `nextUpdate`, epoch ms (default now + 1 h). */
  nextUpdate?: number;
  /** Sign with a different key than the responder's (a forged response). */
  signWith?: KeyObject;
}

/** Builds a signed `BasicOCSPResponse` wrapped in an `OCSPResponse` (status successful). */
export function buildAppleOcspResponse(options: AppleOcspResponseOptions): Buffer {
  const signer = options.responder ?? options.issuer;
  const id = options.certId;
  const certId = derSequence(
    derSequence(derOid(id.hash === 'sha1' ? OID_SHA1 : OID_SHA256), derNull()),
    derOctetString(id.issuerNameHash),
    derOctetString(id.issuerKeyHash),
    derInteger(id.serial),
  );
  let certStatus: Buffer;
  if (options.status === 'good') certStatus = Buffer.from([0x80, 0x00]);
  else if (options.status === 'unknown') certStatus = Buffer.from([0x82, 0x00]);
  else certStatus = derTlv(0xa1, derTlv(0x18, Buffer.from(generalized(options.now - 3_600_000), 'latin1')));
  const single = derSequence(
    certId,
    certStatus,
    derTlv(0x18, Buffer.from(generalized(options.now), 'latin1')),
    derExplicit(0, derTlv(0x18, Buffer.from(generalized(options.nextUpdate ?? options.now + 3_600_000), 'latin1'))),
  );
  const responderKeyHash = createHash('sha1').update(spkiBitString(signer.publicKey)).digest();
  const tbs = derSequence(
    derExplicit(2, derOctetString(responderKeyHash)),
    derTlv(0x18, Buffer.from(generalized(options.now), 'latin1')),
    derSequence(single),
  );
  const sigAlg = derSequence(derOid(OID_ECDSA_SHA256));
  const signature = sign('sha256', tbs, options.signWith ?? signer.privateKey);
  const basicParts = [tbs, sigAlg, derBitString(signature)];
  if (options.responder) basicParts.push(derExplicit(0, derSequence(options.responder.der)));
  const basic = derSequence(...basicParts);
  return derSequence(Buffer.from([0x0a, 0x01, 0x00]), derExplicit(0, derSequence(derOid(OID_OCSP_BASIC), derOctetString(basic))));
}

/** An `OCSPResponse` with an error status and no body (1 malformedRequest, 2 internalError, 3 tryLater, 6 unauthorized). */
export function buildAppleOcspErrorResponse(status: 1 | 2 | 3 | 5 | 6): Buffer {
  return derSequence(Buffer.from([0x0a, 0x01, status]));
}

function generalized(at: number): string {
  const d = new Date(at);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}Z`;
}

/** Creates a delegated OCSP responder certificate issued by `issuer`. */
export function createAppleOcspResponderCertificate(issuer: AppleTestCertificate, now: number): AppleTestCertificate {
  return createAppleTestCertificate({
    subject: [
      ['CN', 'Test OCSP Responder'],
      ['O', 'pay-sdk'],
    ],
    serial: nextSerials(1),
    notBefore: now - 86_400_000,
    notAfter: now + 30 * 86_400_000,
    issuer,
    ocspSigning: true,
  });
}
