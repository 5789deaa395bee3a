/**
 * Verification of UnionPay-signed messages (responses, notifications, front returns).
 *
 * - 5.1.0, signMethod `01`: the message carries its signing certificate in
 *   `signPubKeyCert` (itself part of the signed string, CRLF included). It is
 *   trusted only after it chains to the configured root through the configured
 *   middle certificate, is valid at the injected time and names
 *   `中国银联股份有限公司` as the third `@`-part of its CN (the test CN
 *   `00040000:SIGN` only when `strictCn` is false). Certificates that passed are
 *   cached by their exact text, so the chain is checked once per certificate.
 * - 5.0.0: the certificate is looked up among the configured verify certificates by `certId`.
 * - `11` / `12`: the digest is recomputed with the secure key and compared in constant time.
 *
 * The version and method come from the configuration; a message saying otherwise is rejected.
 *
 * @module
 */
import {
  type Certificate,
  isPayError,
  PayCertificateError,
  PaySignatureError,
  parseCertificates,
  rsaVerify,
  sha1Hex,
  sha256Hex,
  sm3Hex,
  timingSafeEqualData,
  verifyCertificateChain,
} from '@pay/core';
import { type AcpSignMethod, type AcpVersion, UNIONPAY_CN, UNIONPAY_TEST_CN } from './config.js';
import { PREFIX } from './fields.js';
import { type AcpFields, acpSigningString } from './sign.js';

/** What a verifier needs: the trust anchors and rules, parsed once. */
export interface VerifierOptions {
  /** The configured version. */
  version: AcpVersion;
  /** The configured signature method. */
  signMethod: AcpSignMethod;
  /** UnionPay's root certificate (5.1.0 / `01`). */
  root?: Certificate | undefined;
  /** UnionPay's middle certificate (5.1.0 / `01`). */
  middle?: Certificate | undefined;
  /** 5.0.0: verify certificates by decimal serial (`certId`). */
  verifyCerts?: ReadonlyMap<string, Certificate> | undefined;
  /** `11` / `12`: the digest of the secure key. */
  secureKeyDigest?: string | undefined;
  /** Only `中国银联股份有限公司` when true; also `00040000:SIGN` when false. */
  strictCn: boolean;
  /** How many verified certificates to keep. */
  cacheSize: number;
}

/** Counters of the certificate cache. */
export interface CertificateCacheStats {
  /** Certificates currently cached. */
  size: number;
  /** Verifications that found their certificate in the cache. */
  hits: number;
  /** Verifications that had to check a chain (successfully or not). */
  chainChecks: number;
}

interface CachedCert {
  cert: Certificate;
  /** The window in which the whole path (leaf, middle, root) is valid. */
  notBefore: number;
  notAfter: number;
}

/**
 * The third `@`-separated part of a CN, the part that names the owner in
 * UnionPay certificates: `041@8310000000083040@中国银联股份有限公司@00016495` → `中国银联股份有限公司`.
 */
export function unionPayCnOwner(commonName: string | undefined): string | undefined {
  if (commonName === undefined) return undefined;
  return commonName.split('@')[2];
}

function rewrap(e: unknown, fallbackReason: string): PayCertificateError {
  const err = e as { message?: string; reason?: string };
  const message = String(err.message ?? e).replace(/^@pay\/core: /, '');
  return new PayCertificateError(`${PREFIX}: signPubKeyCert: ${message}`, { cause: e, reason: err.reason ?? fallbackReason });
}

/**
 * Verifies UnionPay-signed fields. One per client: its certificate cache is
 * never shared with another merchant's configuration.
 */
export class AcpVerifier {
  private readonly cache = new Map<string, CachedCert>();
  private hits = 0;
  private chainChecks = 0;

  /** @param options - trust anchors and rules */
  constructor(private readonly options: VerifierOptions) {}

  /** Counters of the `signPubKeyCert` cache. */
  cacheStats(): CertificateCacheStats {
    return { size: this.cache.size, hits: this.hits, chainChecks: this.chainChecks };
  }

  /**
   * Verifies the signature of `fields` at time `at`.
   *
   * @param fields - the fields exactly as received (parsed, never re-encoded)
   * @param at - the time at which certificates must be valid, epoch ms
   * @param what - what is verified, for messages (`gateway response`, `notification`…)
   * @throws PaySignatureError (`MISSING_SIGNATURE`, `WRONG_SIGN_METHOD`, `WRONG_VERSION`, `BAD_SIGNATURE`)
   * @throws PayCertificateError (`MISSING_CERT`, `CERT_PARSE`, `UNTRUSTED`, `EXPIRED`, `NOT_YET_VALID`, `NOT_CA`, `WRONG_CN`, `UNKNOWN_CERT_ID`)
   */
  verify(fields: Readonly<AcpFields>, at: number, what: string): void {
    const { version, signMethod } = this.options;
    const signature = fields.signature;
    if (signature === undefined || signature === '') {
      throw new PaySignatureError(
        `${PREFIX}: ${what}: expected a signature field, found ${signature === undefined ? 'none' : 'an empty one'}`,
        {
          reason: 'MISSING_SIGNATURE',
        },
      );
    }
    if (fields.signMethod !== signMethod) {
      throw new PaySignatureError(
        `${PREFIX}: ${what}: expected signMethod ${signMethod} (from the configuration; never taken from a message), found ${JSON.stringify(fields.signMethod ?? null)}`,
        { reason: 'WRONG_SIGN_METHOD' },
      );
    }
    if (fields.version !== version) {
      throw new PaySignatureError(
        `${PREFIX}: ${what}: expected version ${version} (from the configuration), found ${JSON.stringify(fields.version ?? null)}`,
        {
          reason: 'WRONG_VERSION',
        },
      );
    }
    const text = acpSigningString(fields);
    let ok: boolean;
    if (signMethod === '01') {
      if (version === '5.1.0') {
        const cert = this.trustedCertificate(fields.signPubKeyCert, at);
        ok = rsaVerify('sha256', cert.publicKey, sha256Hex(text), signature);
      } else {
        const cert = this.verifyCertificate(fields.certId, at);
        ok = rsaVerify('sha1', cert.publicKey, sha1Hex(text), signature);
      }
    } else {
      const digest = signMethod === '11' ? sha256Hex : sm3Hex;
      ok = timingSafeEqualData(digest(`${text}&${this.options.secureKeyDigest}`), signature);
    }
    if (!ok) {
      throw new PaySignatureError(
        `${PREFIX}: ${what}: the signature does not verify (a field was changed, or the text was re-encoded: verify the body exactly as received, never URL-decoded or re-serialised)`,
        { reason: 'BAD_SIGNATURE' },
      );
    }
  }

  private verifyCertificate(certId: string | undefined, at: number): Certificate {
    if (certId === undefined || certId === '') {
      throw new PayCertificateError(`${PREFIX}: 5.0.0 message: expected a certId naming UnionPay's verify certificate, found none`, {
        reason: 'UNKNOWN_CERT_ID',
      });
    }
    const cert = this.options.verifyCerts?.get(certId);
    if (!cert) {
      const known = [...(this.options.verifyCerts?.keys() ?? [])].join(', ');
      throw new PayCertificateError(`${PREFIX}: 5.0.0 message: certId ${certId} is not among the configured verifyCerts (${known})`, {
        reason: 'UNKNOWN_CERT_ID',
        hint: 'UnionPay rotated its verify certificate: add the new acp_*_verify_sign.cer to verifyCerts',
      });
    }
    checkWindow(cert.notBefore, cert.notAfter, at, `verify certificate ${certId}`);
    return cert;
  }

  private trustedCertificate(pem: string | undefined, at: number): Certificate {
    if (pem === undefined || pem === '') {
      throw new PayCertificateError(`${PREFIX}: expected signPubKeyCert (5.1.0 messages carry their signing certificate), found none`, {
        reason: 'MISSING_CERT',
      });
    }
    const cached = this.cache.get(pem);
    if (cached) {
      this.hits++;
      checkWindow(cached.notBefore, cached.notAfter, at, `signPubKeyCert (serial ${cached.cert.serialDecimal})`);
      return cached.cert;
    }
    this.chainChecks++;
    const { root, middle } = this.options;
    if (!root || !middle) {
      throw new PayCertificateError(`${PREFIX}: signPubKeyCert cannot be trusted without rootCert and middleCert in the configuration`, {
        reason: 'EMPTY_ROOTS',
      });
    }
    if (!pem.includes('-----BEGIN CERTIFICATE-----')) {
      throw new PayCertificateError(`${PREFIX}: signPubKeyCert: expected a PEM certificate, found ${pem.length} characters without one`, {
        reason: 'CERT_PARSE',
      });
    }
    let leaf: Certificate;
    try {
      const list = parseCertificates(pem);
      if (list.length !== 1) throw new Error(`expected one certificate, found ${list.length}`);
      leaf = list[0] as Certificate;
    } catch (e) {
      throw new PayCertificateError(`${PREFIX}: signPubKeyCert: could not parse the certificate: ${(e as Error).message}`, {
        cause: e,
        reason: 'CERT_PARSE',
      });
    }
    let path: Certificate[];
    try {
      path = verifyCertificateChain(leaf, [middle], [root], { at, maxDepth: 3 });
    } catch (e) {
      throw isPayError(e) ? rewrap(e, 'UNTRUSTED') : e;
    }
    if (path.length !== 3 || path[1] !== middle) {
      throw new PayCertificateError(
        `${PREFIX}: signPubKeyCert (${leaf.subjectName()}) must be issued by the configured middle certificate, not directly by the root`,
        { reason: 'UNTRUSTED' },
      );
    }
    if (leaf.isCA) {
      throw new PayCertificateError(`${PREFIX}: signPubKeyCert (${leaf.subjectName()}) is a CA certificate, not a signing certificate`, {
        reason: 'UNTRUSTED',
      });
    }
    const owner = unionPayCnOwner(leaf.commonName);
    const accepted = owner === UNIONPAY_CN || (!this.options.strictCn && owner === UNIONPAY_TEST_CN);
    if (!accepted) {
      throw new PayCertificateError(
        `${PREFIX}: signPubKeyCert: expected the CN to name ${UNIONPAY_CN}${this.options.strictCn ? '' : ` or ${UNIONPAY_TEST_CN}`} (third @-part), found CN ${JSON.stringify(leaf.commonName ?? null)}`,
        {
          reason: 'WRONG_CN',
          ...(this.options.strictCn && owner === UNIONPAY_TEST_CN
            ? { hint: `the test CN ${UNIONPAY_TEST_CN} is accepted only with strictCn: false in the test environment` }
            : {}),
        },
      );
    }
    const entry: CachedCert = {
      cert: leaf,
      notBefore: Math.max(...path.map((c) => c.notBefore)),
      notAfter: Math.min(...path.map((c) => c.notAfter)),
    };
    if (this.cache.size >= this.options.cacheSize) {
      const oldest = this.cache.keys().next().value as string;
      this.cache.delete(oldest);
    }
    this.cache.set(pem, entry);
    return leaf;
  }
}

function checkWindow(notBefore: number, notAfter: number, at: number, what: string): void {
  if (at < notBefore) {
    throw new PayCertificateError(
      `${PREFIX}: ${what} is not valid before ${new Date(notBefore).toISOString()}; checked at ${new Date(at).toISOString()}`,
      {
        reason: 'NOT_YET_VALID',
      },
    );
  }
  if (at > notAfter) {
    throw new PayCertificateError(
      `${PREFIX}: ${what} expired at ${new Date(notAfter).toISOString()}; checked at ${new Date(at).toISOString()}`,
      {
        reason: 'EXPIRED',
      },
    );
  }
}
