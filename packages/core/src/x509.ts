/**
 * X.509 certificates: serials in hex and decimal, issuer and subject names in
 * the order a provider needs, validity at a given time, extensions, and chain
 * verification against configured roots at an injected time.
 *
 * @module
 */
import { createHash, type KeyObject, X509Certificate } from 'node:crypto';
import { type DerNode, derBytes, derChildren, derContent, derInteger, derOid, derString, derTime, readDer } from './der.js';
import { PayCertificateError, PayConfigError } from './errors.js';

/** One attribute of a distinguished name, e.g. `{ type: 'CN', oid: '2.5.4.3', value: '…' }`. */
export interface NameAttribute {
  /** Short name (`CN`, `O`, `OU`, `C`, `ST`, `L`, `E`, …) or the dotted OID when unknown. */
  type: string;
  /** Dotted OID of the attribute type. */
  oid: string;
  /** Decoded value. */
  value: string;
}

/** One extension of a certificate. */
export interface CertificateExtension {
  /** Dotted OID. */
  oid: string;
  /** Whether it is marked critical. */
  critical: boolean;
  /** The extension's value (the content of its OCTET STRING). */
  value: Uint8Array;
}

const ATTRIBUTE_NAMES: Record<string, string> = {
  '2.5.4.3': 'CN',
  '2.5.4.4': 'SN',
  '2.5.4.5': 'SERIALNUMBER',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.9': 'STREET',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '2.5.4.12': 'T',
  '2.5.4.42': 'GN',
  '2.5.4.46': 'DNQ',
  '0.9.2342.19200300.100.1.1': 'UID',
  '0.9.2342.19200300.100.1.25': 'DC',
  '1.2.840.113549.1.9.1': 'E',
};

/** Well-known signature algorithm OIDs. */
export const SignatureAlgorithmOid = {
  /** md5WithRSAEncryption (very old certificates). */
  md5WithRSA: '1.2.840.113549.1.1.4',
  /** sha1WithRSAEncryption (older UnionPay and Alipay certificates). */
  sha1WithRSA: '1.2.840.113549.1.1.5',
  /** sha256WithRSAEncryption. */
  sha256WithRSA: '1.2.840.113549.1.1.11',
  /** sha384WithRSAEncryption. */
  sha384WithRSA: '1.2.840.113549.1.1.12',
  /** sha512WithRSAEncryption. */
  sha512WithRSA: '1.2.840.113549.1.1.13',
  /** ecdsa-with-SHA256 (Apple's test and production chains). */
  ecdsaWithSHA256: '1.2.840.10045.4.3.2',
  /** ecdsa-with-SHA384 (Apple root CA G3). */
  ecdsaWithSHA384: '1.2.840.10045.4.3.3',
  /** SM2 with SM3 (the Chinese national algorithm; the Alipay root bundle holds one such root). */
  sm2WithSM3: '1.2.156.10197.1.501',
} as const;

function parseName(node: DerNode): NameAttribute[] {
  const out: NameAttribute[] = [];
  for (const rdn of derChildren(node)) {
    for (const atv of derChildren(rdn)) {
      const [typeNode, valueNode] = derChildren(atv);
      if (!typeNode || !valueNode) continue;
      const oid = derOid(typeNode);
      out.push({ type: ATTRIBUTE_NAMES[oid] ?? oid, oid, value: derString(valueNode) });
    }
  }
  return out;
}

/** Options of {@link Certificate.issuerName} and {@link Certificate.subjectName}. */
export interface NameFormat {
  /**
   * `forward` lists attributes in certificate order (`C=CN,O=…,CN=…`); `reverse`
   * in RFC 4514 / Java order (`CN=…,O=…,C=CN`), which Alipay's certificate SN uses.
   */
  order?: 'forward' | 'reverse';
  /** Separator between attributes; `,` by default. */
  separator?: string;
}

/** One keyUsage bit of a certificate (RFC 5280 §4.2.1.3). */
export type KeyUsage =
  | 'digitalSignature'
  | 'nonRepudiation'
  | 'keyEncipherment'
  | 'dataEncipherment'
  | 'keyAgreement'
  | 'keyCertSign'
  | 'cRLSign'
  | 'encipherOnly'
  | 'decipherOnly';

/** The keyUsage bits in bit order. */
const KEY_USAGE_BITS: readonly KeyUsage[] = [
  'digitalSignature',
  'nonRepudiation',
  'keyEncipherment',
  'dataEncipherment',
  'keyAgreement',
  'keyCertSign',
  'cRLSign',
  'encipherOnly',
  'decipherOnly',
];

function parseKeyUsage(value: Uint8Array): Set<KeyUsage> {
  const bits = readDer(value);
  const c = derContent(bits);
  const out = new Set<KeyUsage>();
  for (let i = 0; i < KEY_USAGE_BITS.length; i++) {
    const byte = c[1 + (i >> 3)];
    if (byte !== undefined && (byte & (0x80 >> (i & 7))) !== 0) out.add(KEY_USAGE_BITS[i] as KeyUsage);
  }
  return out;
}

function parsePathLen(value: Uint8Array): number | undefined {
  for (const part of derChildren(readDer(value))) if (part.tag === 0x02) return Number(derInteger(part));
  return undefined;
}

function formatName(attrs: NameAttribute[], format: NameFormat = {}): string {
  const list = format.order === 'reverse' ? [...attrs].reverse() : attrs;
  return list.map((a) => `${a.type}=${a.value}`).join(format.separator ?? ',');
}

/**
 * A parsed X.509 certificate. Construct once (parsing is the costly part) and
 * keep it: every getter is a field read.
 */
export class Certificate {
  /** The DER encoding. */
  readonly der: Buffer;
  /** Node's view of the certificate (signature checks, public key). */
  readonly x509: X509Certificate;
  /** Serial number, upper-case hex without leading zeros (WeChat's form). */
  readonly serialHex: string;
  /** Serial number in decimal (UnionPay `certId`, Alipay SN input). */
  readonly serialDecimal: string;
  /** Issuer attributes in certificate order. */
  readonly issuer: readonly NameAttribute[];
  /** Subject attributes in certificate order. */
  readonly subject: readonly NameAttribute[];
  /** Start of validity, epoch milliseconds. */
  readonly notBefore: number;
  /** End of validity, epoch milliseconds. */
  readonly notAfter: number;
  /** Dotted OID of the signature algorithm. */
  readonly signatureAlgorithmOid: string;
  /** Extensions by OID. */
  readonly extensions: ReadonlyMap<string, CertificateExtension>;
  /** The certificate's public key. */
  readonly publicKey: KeyObject;
  /** Whether basicConstraints says this is a CA. */
  readonly isCA: boolean;
  /** The keyUsage bits, or undefined when the certificate has no keyUsage extension. */
  readonly keyUsage: ReadonlySet<KeyUsage> | undefined;
  /** basicConstraints `pathLenConstraint`: how many CA certificates may follow below this one; undefined when unlimited. */
  readonly pathLenConstraint: number | undefined;
  private readonly issuerDer: Buffer;
  private readonly subjectDer: Buffer;

  /**
   * @param der - the DER bytes of one certificate
   * @throws PayConfigError when the bytes are not a certificate
   */
  constructor(der: Uint8Array) {
    if (!(der instanceof Uint8Array)) {
      throw new PayConfigError(`@pay/core: expected the DER bytes of an X.509 certificate, got ${der === null ? 'null' : typeof der}`);
    }
    this.der = Buffer.from(der);
    try {
      this.x509 = new X509Certificate(this.der);
      const cert = readDer(this.der);
      const [tbs, sigAlg] = derChildren(cert);
      if (!tbs || !sigAlg) throw new Error('not a certificate sequence');
      const fields = derChildren(tbs);
      let i = 0;
      if (fields[0]?.tag === 0xa0) i++; // explicit version
      const serial = fields[i++] as DerNode;
      i++; // signature (inner)
      const issuer = fields[i++] as DerNode;
      const validity = fields[i++] as DerNode;
      const subject = fields[i++] as DerNode;
      i++; // subjectPublicKeyInfo
      const serialValue = derInteger(serial);
      this.serialHex = serialValue.toString(16).toUpperCase();
      this.serialDecimal = serialValue.toString(10);
      this.issuer = Object.freeze(parseName(issuer));
      this.subject = Object.freeze(parseName(subject));
      this.issuerDer = Buffer.from(derBytes(issuer));
      this.subjectDer = Buffer.from(derBytes(subject));
      const [nb, na] = derChildren(validity);
      this.notBefore = derTime(nb as DerNode);
      this.notAfter = derTime(na as DerNode);
      this.signatureAlgorithmOid = derOid(derChildren(sigAlg)[0] as DerNode);
      const extensions = new Map<string, CertificateExtension>();
      for (; i < fields.length; i++) {
        const f = fields[i] as DerNode;
        if (f.tag !== 0xa3) continue;
        const list = derChildren(f)[0];
        if (!list) continue;
        for (const ext of derChildren(list)) {
          const parts = derChildren(ext);
          const oid = derOid(parts[0] as DerNode);
          const critical = parts.length === 3 && (derContent(parts[1] as DerNode)[0] ?? 0) !== 0;
          const value = derContent(parts[parts.length - 1] as DerNode);
          extensions.set(oid, { oid, critical, value });
        }
      }
      this.extensions = extensions;
      this.publicKey = this.x509.publicKey;
      this.isCA = this.x509.ca;
      const keyUsage = extensions.get('2.5.29.15');
      this.keyUsage = keyUsage ? parseKeyUsage(keyUsage.value) : undefined;
      const basic = extensions.get('2.5.29.19');
      this.pathLenConstraint = basic ? parsePathLen(basic.value) : undefined;
    } catch (e) {
      if (e instanceof PayConfigError) throw e;
      throw new PayConfigError(
        `@pay/core: expected an X.509 certificate, could not parse ${this.der.length} bytes: ${e instanceof Error ? e.message : String(e)}`,
        { cause: e },
      );
    }
  }

  /** The certificate in PEM (LF line breaks). */
  get pem(): string {
    const b64 = this.der
      .toString('base64')
      .replace(/(.{64})/g, '$1\n')
      .replace(/\n$/, '');
    return `-----BEGIN CERTIFICATE-----\n${b64}\n-----END CERTIFICATE-----\n`;
  }

  /** The issuer name as text, in the order asked for. */
  issuerName(format?: NameFormat): string {
    return formatName(this.issuer as NameAttribute[], format);
  }

  /** The subject name as text, in the order asked for. */
  subjectName(format?: NameFormat): string {
    return formatName(this.subject as NameAttribute[], format);
  }

  /** The last CN of the subject, if any. */
  get commonName(): string | undefined {
    for (let i = this.subject.length - 1; i >= 0; i--) if (this.subject[i]?.oid === '2.5.4.3') return this.subject[i]?.value;
    return undefined;
  }

  /** SHA-256 of the DER, lower-case hex. */
  get fingerprint256(): string {
    return createHash('sha256').update(this.der).digest('hex');
  }

  /** True when `at` (epoch ms) lies within the validity period. */
  isValidAt(at: number): boolean {
    return at >= this.notBefore && at <= this.notAfter;
  }

  /** True when the certificate carries the extension. */
  hasExtension(oid: string): boolean {
    return this.extensions.has(oid);
  }

  /** True when `issuer`'s subject is this certificate's issuer and its key verifies this certificate's signature. */
  isIssuedBy(issuer: Certificate): boolean {
    if (!this.issuerDer.equals(issuer.subjectDer) && this.issuerName() !== issuer.subjectName()) return false;
    try {
      return this.x509.verify(issuer.publicKey);
    } catch {
      return false;
    }
  }

  /** True when the certificate is self-issued and verifies with its own key. */
  get isSelfSigned(): boolean {
    return this.isIssuedBy(this);
  }
}

/**
 * Parses one certificate from PEM, base64 DER or DER bytes.
 *
 * @throws PayConfigError when there is no certificate
 */
export function parseCertificate(input: string | Uint8Array): Certificate {
  const list = parseCertificates(input);
  if (list.length !== 1) {
    throw new PayConfigError(`@pay/core: expected exactly one certificate, found ${list.length}`);
  }
  return list[0] as Certificate;
}

/**
 * Parses every certificate in a PEM bundle (several `BEGIN CERTIFICATE` blocks),
 * or one certificate given as base64 DER or DER bytes.
 *
 * @throws PayConfigError when nothing in the input is a certificate
 */
export function parseCertificates(input: string | Uint8Array): Certificate[] {
  if (typeof input !== 'string') {
    if (!(input instanceof Uint8Array)) {
      throw new PayConfigError(
        `@pay/core: expected a certificate (PEM, base64 DER or DER bytes), got ${input === null ? 'null' : typeof input}`,
      );
    }
    const buf = Buffer.from(input.buffer, input.byteOffset, input.byteLength);
    if (buf[0] === 0x30) return splitDer(buf).map((der) => new Certificate(der));
    return parseCertificates(buf.toString('utf8'));
  }
  const text = input.includes('\\n') ? input.replace(/\\r\\n|\\n/g, '\n') : input;
  const re = /-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/g;
  const out: Certificate[] = [];
  for (const m of text.matchAll(re)) out.push(new Certificate(Buffer.from((m[1] as string).replace(/\s+/g, ''), 'base64')));
  if (out.length > 0) return out;
  const compact = text.replace(/\s+/g, '');
  if (/^[A-Za-z0-9+/=]+$/.test(compact) && compact.length > 100) return [new Certificate(Buffer.from(compact, 'base64'))];
  throw new PayConfigError('@pay/core: expected a certificate (PEM, base64 DER or DER bytes), found none');
}

/** Splits DER bytes holding one or more concatenated certificates. */
function splitDer(buf: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let pos = 0;
  while (pos < buf.length) {
    let end: number;
    try {
      end = readDer(buf, pos).end;
    } catch (e) {
      throw new PayConfigError(
        `@pay/core: expected DER certificates, the bytes at offset ${pos} of ${buf.length} are not a complete DER element (truncated?)`,
        { cause: e },
      );
    }
    out.push(buf.subarray(pos, end));
    pos = end;
  }
  return out;
}

/** Options of {@link verifyCertificateChain}. */
export interface ChainOptions {
  /** The time, epoch ms, at which every certificate must be valid. */
  at: number;
  /** Longest chain accepted, root included. Default 5. */
  maxDepth?: number;
}

/**
 * Verifies that `leaf` chains, through `intermediates`, to one of `roots`, with
 * every certificate valid at `options.at` and every intermediate a CA.
 * The roots are trust anchors: a chain ends at the first root whose key signs
 * the last certificate (a self-signed copy of a root inside the message is
 * never trusted by itself).
 *
 * @returns the path, leaf first, ending with the trusted root
 * Every intermediate must be a CA (basicConstraints); every issuer, root
 * included, must be allowed to sign certificates (keyUsage `keyCertSign`, when
 * the extension is present) and respect its `pathLenConstraint`.
 *
 * @example
 * ```ts
 * const path = verifyCertificateChain(leaf, [middle], [root], { at: clock() });
 * ```
 * @throws PayCertificateError with `reason` `EMPTY_ROOTS`, `EXPIRED`, `NOT_YET_VALID`, `NOT_CA`, `PATH_LENGTH` or `UNTRUSTED`
 */
export function verifyCertificateChain(
  leaf: Certificate,
  intermediates: readonly Certificate[],
  roots: readonly Certificate[],
  options: ChainOptions,
): Certificate[] {
  if (roots.length === 0) {
    throw new PayCertificateError('@pay/core: chain: no trusted root is configured', { reason: 'EMPTY_ROOTS' });
  }
  const maxDepth = options.maxDepth ?? 5;
  const at = options.at;
  const path: Certificate[] = [leaf];
  const checkValid = (c: Certificate, role: string): void => {
    if (at < c.notBefore) {
      throw new PayCertificateError(
        `@pay/core: chain: the ${role} certificate (serial ${c.serialHex}, ${c.subjectName()}) is not valid before ${new Date(c.notBefore).toISOString()}; checked at ${new Date(at).toISOString()}`,
        { reason: 'NOT_YET_VALID' },
      );
    }
    if (at > c.notAfter) {
      throw new PayCertificateError(
        `@pay/core: chain: the ${role} certificate (serial ${c.serialHex}, ${c.subjectName()}) expired at ${new Date(c.notAfter).toISOString()}; checked at ${new Date(at).toISOString()}`,
        { reason: 'EXPIRED' },
      );
    }
  };
  checkValid(leaf, 'leaf');
  let current = leaf;
  // An issuer must be a CA allowed to sign certificates, with room for the CAs below it.
  const checkIssuer = (issuer: Certificate, child: Certificate, casBelow: number, role: string): void => {
    const what = `@pay/core: chain: the ${role} ${issuer.subjectName()} (serial ${issuer.serialHex}) that issued ${child.subjectName()}`;
    if (issuer.keyUsage !== undefined && !issuer.keyUsage.has('keyCertSign')) {
      throw new PayCertificateError(`${what} may not sign certificates (its keyUsage lacks keyCertSign)`, { reason: 'NOT_CA' });
    }
    // Roots are trust anchors chosen by configuration (RFC 5280 §6.1 does not require them to carry basicConstraints).
    if (role !== 'root' && !issuer.isCA) {
      throw new PayCertificateError(`${what} is not a CA (basicConstraints cA is not set)`, { reason: 'NOT_CA' });
    }
    if (issuer.pathLenConstraint !== undefined && casBelow > issuer.pathLenConstraint) {
      throw new PayCertificateError(`${what} allows ${issuer.pathLenConstraint} CA certificate(s) below it, the chain has ${casBelow}`, {
        reason: 'PATH_LENGTH',
      });
    }
  };
  const used = new Set<Certificate>();
  while (path.length <= maxDepth) {
    const root = roots.find((r) => r.der.equals(current.der) || current.isIssuedBy(r));
    if (root) {
      checkValid(root, 'root');
      if (!root.der.equals(current.der)) {
        checkIssuer(root, current, path.length - 1, 'root');
        path.push(root);
      }
      return path;
    }
    const next = intermediates.find((c) => !used.has(c) && current.isIssuedBy(c));
    if (!next) break;
    checkIssuer(next, current, path.length - 1, 'intermediate');
    checkValid(next, 'intermediate');
    used.add(next);
    path.push(next);
    current = next;
  }
  throw new PayCertificateError(
    `@pay/core: chain: ${leaf.subjectName()} (serial ${leaf.serialHex}) does not chain to a configured root (issuer ${current.issuerName()})`,
    { reason: 'UNTRUSTED' },
  );
}
