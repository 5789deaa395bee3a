/**
 * Verification of App Store signed data (StoreKit 2 transactions and renewal
 * info, App Store Server Notifications V2, app transactions): ES256 JWS whose
 * `x5c` chain leads to a configured root, with Apple's OIDs, valid at the
 * effective date, optional OCSP, then app and environment checks.
 *
 * @module
 */
import type { KeyObject } from 'node:crypto';
import { verify as nodeVerify } from 'node:crypto';
import {
  Certificate,
  type Clock,
  decodeBase64Strict,
  getDefaultTransport,
  PayConfigError,
  parseCertificates,
  systemClock,
  type Transport,
} from '@pay/core';
import { validityMessage, verifyAppleChain } from './chain.js';
import { appIdentifierError, certificateError, describeValue, environmentError, PKG, verificationFailure } from './errors.js';
import { decodeJsonSegment, splitJws } from './jws.js';
import { checkOcsp, defaultOcspUrl, type OcspOptions } from './ocsp.js';
import type {
  AppTransaction,
  Environment,
  JWSRenewalInfoDecodedPayload,
  JWSTransactionDecodedPayload,
  ResponseBodyV2DecodedPayload,
} from './types.js';

/** Anything a root certificate can be given as: DER bytes, PEM (one or more), base64 DER, or a parsed `Certificate`. */
export type RootInput = Uint8Array | string | Certificate;

/** Options of {@link SignedDataVerifier}. */
export interface SignedDataVerifierOptions {
  /**
   * The trusted roots. In production: Apple Root CA - G3 (`AppleRootCA-G3.cer` from
   * https://www.apple.com/certificateauthority/). The `x5c` root of the message is never trusted.
   */
  roots: readonly RootInput[];
  /** Your app's bundle id; every payload must carry it. */
  bundleId: string;
  /** The environment this verifier accepts. */
  environment: Environment;
  /** Your app's Apple id: required in `Production`, checked on notifications and app transactions. */
  appAppleId?: number;
  /**
   * Online checks: certificates are checked at the current time and their revocation
   * through OCSP. Off by default: certificates are then checked at the payload's
   * `signedDate` (Apple's offline behaviour) and nothing leaves the process.
   */
  onlineChecks?: boolean;
  /** Transport for OCSP requests (default: core's shared transport). */
  transport?: Transport;
  /** Timeout of one OCSP request, ms. Default 5 000. */
  ocspTimeoutMs?: number;
  /** Maps the OCSP URL found in a certificate to the URL requested (default: HTTP → HTTPS except loopback). */
  ocspUrl?: (url: string) => string;
  /** The clock (default: system clock). */
  clock?: Clock;
  /** How many verified chains to keep (leaf keys by `x5c` header). Default 32. */
  cacheSize?: number;
  /** With online checks, how long a verified chain (and its OCSP answer) is reused, ms. Default 15 min. */
  cacheTtlMs?: number;
  /**
   * Required to accept `Xcode` or `LocalTesting` data: those are not signed by the App
   * Store, so no signature or chain is checked. Refused with any other environment.
   */
  acceptUnverifiedTestEnvironment?: boolean;
}

interface CachedChain {
  /** The exact `x5c` header segment this entry was verified for. */
  header: string;
  key: KeyObject;
  notBefore: number;
  notAfter: number;
  expiresAt: number;
}

type FieldType = 'string' | 'number' | 'boolean' | 'object' | 'array';

const TRANSACTION_FIELDS: Record<string, FieldType> = {
  originalTransactionId: 'string',
  transactionId: 'string',
  webOrderLineItemId: 'string',
  bundleId: 'string',
  productId: 'string',
  subscriptionGroupIdentifier: 'string',
  purchaseDate: 'number',
  originalPurchaseDate: 'number',
  expiresDate: 'number',
  quantity: 'number',
  type: 'string',
  appAccountToken: 'string',
  inAppOwnershipType: 'string',
  signedDate: 'number',
  revocationReason: 'number',
  revocationDate: 'number',
  isUpgraded: 'boolean',
  offerType: 'number',
  offerIdentifier: 'string',
  environment: 'string',
  storefront: 'string',
  storefrontId: 'string',
  transactionReason: 'string',
  currency: 'string',
  price: 'number',
  offerDiscountType: 'string',
  appTransactionId: 'string',
  offerPeriod: 'string',
  revocationType: 'string',
  revocationPercentage: 'number',
};

const RENEWAL_FIELDS: Record<string, FieldType> = {
  expirationIntent: 'number',
  originalTransactionId: 'string',
  autoRenewProductId: 'string',
  productId: 'string',
  autoRenewStatus: 'number',
  isInBillingRetryPeriod: 'boolean',
  priceIncreaseStatus: 'number',
  gracePeriodExpiresDate: 'number',
  offerType: 'number',
  offerIdentifier: 'string',
  signedDate: 'number',
  environment: 'string',
  recentSubscriptionStartDate: 'number',
  renewalDate: 'number',
  renewalPrice: 'number',
  currency: 'string',
  offerDiscountType: 'string',
  eligibleWinBackOfferIds: 'array',
  appTransactionId: 'string',
  offerPeriod: 'string',
  appAccountToken: 'string',
};

const NOTIFICATION_FIELDS: Record<string, FieldType> = {
  notificationType: 'string',
  subtype: 'string',
  notificationUUID: 'string',
  version: 'string',
  signedDate: 'number',
  data: 'object',
  summary: 'object',
  externalPurchaseToken: 'object',
  appData: 'object',
};

const NOTIFICATION_DATA_FIELDS: Record<string, FieldType> = {
  appAppleId: 'number',
  bundleId: 'string',
  bundleVersion: 'string',
  environment: 'string',
  signedTransactionInfo: 'string',
  signedRenewalInfo: 'string',
  signedAppTransactionInfo: 'string',
  status: 'number',
};

const APP_TRANSACTION_FIELDS: Record<string, FieldType> = {
  receiptType: 'string',
  appAppleId: 'number',
  bundleId: 'string',
  applicationVersion: 'string',
  versionExternalIdentifier: 'number',
  receiptCreationDate: 'number',
  originalPurchaseDate: 'number',
  originalApplicationVersion: 'string',
  deviceVerification: 'string',
  deviceVerificationNonce: 'string',
  preorderDate: 'number',
  appTransactionId: 'string',
  originalPlatform: 'string',
};

/**
 * A short bucket key for a header segment. Hashing the whole segment (2–3 KB of base64) on every
 * lookup costs about as much as the ES256 check it saves, so entries are bucketed by the length and
 * two short slices (a quarter and half way in: inside the leaf and the intermediate, which differ
 * between chains), and a hit is confirmed by comparing the whole segment.
 */
function fingerprint(header: string): string {
  const q = header.length >> 2;
  return `${header.length}:${header.slice(q, q + 24)}:${header.slice(2 * q, 2 * q + 24)}`;
}

function typeOf(value: unknown): FieldType | 'null' | 'other' {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  const t = typeof value;
  return t === 'string' || t === 'number' || t === 'boolean' || t === 'object' ? t : 'other';
}

function checkFields(payload: Record<string, unknown>, fields: Record<string, FieldType>, what: string): void {
  for (const name in fields) {
    const value = payload[name];
    if (value === undefined) continue;
    const expected = fields[name] as FieldType;
    const found = typeOf(value);
    if (found !== expected || (expected === 'number' && !Number.isFinite(value))) {
      throw verificationFailure(`${what}: field ${name}: expected a ${expected}, got ${describeValue(value)}`);
    }
  }
}

const TEST_ENVIRONMENTS: ReadonlySet<string> = new Set(['Xcode', 'LocalTesting']);
const ENVIRONMENTS: ReadonlySet<string> = new Set(['Production', 'Sandbox', 'Xcode', 'LocalTesting']);

function parseRoots(roots: readonly RootInput[]): Certificate[] {
  const out: Certificate[] = [];
  for (const [i, root] of roots.entries()) {
    if (root instanceof Certificate) {
      out.push(root);
      continue;
    }
    try {
      out.push(...parseCertificates(root));
    } catch (e) {
      throw new PayConfigError(`${PKG}: roots[${i}]: expected a root certificate (DER, PEM or base64 DER), could not parse it`, {
        cause: e,
        hint: 'download Apple Root CA - G3 (AppleRootCA-G3.cer) from https://www.apple.com/certificateauthority/',
      });
    }
  }
  return out;
}

/**
 * Verifies and decodes App Store signed data. Roots are parsed once here;
 * verified chains are cached by their `x5c` header (bounded), so a warm
 * verification costs one ES256 signature check.
 *
 * @example
 * ```ts
 * const verifier = new SignedDataVerifier({
 *   roots: [readFileSync('AppleRootCA-G3.cer')],
 *   bundleId: 'com.example.app',
 *   appAppleId: 1234567890,
 *   environment: 'Production',
 * });
 * const tx = await verifier.verifyTransaction(signedTransaction);
 * ```
 */
export class SignedDataVerifier {
  /** The environment accepted. */
  readonly environment: Environment;
  /** The bundle id required. */
  readonly bundleId: string;
  /** The app's Apple id required in production. */
  readonly appAppleId: number | undefined;
  private readonly roots: Certificate[];
  private readonly online: boolean;
  private readonly unverified: boolean;
  private readonly clock: Clock;
  /** Buckets of verified chains by fingerprint; `order` keeps insertion order for eviction. */
  private readonly cache = new Map<string, CachedChain[]>();
  private order: CachedChain[] = [];
  private readonly cacheSize: number;
  private readonly cacheTtlMs: number;
  private readonly ocsp: OcspOptions | undefined;

  /**
   * @param options - roots, app identity, environment and online-check settings
   * @throws PayConfigError when a root cannot be parsed, none is given, the environment is unknown,
   * `appAppleId` is missing in production, or a test environment is not explicitly accepted
   */
  constructor(options: SignedDataVerifierOptions) {
    if (!options || typeof options.bundleId !== 'string' || options.bundleId === '') {
      throw new PayConfigError(`${PKG}: verifier: expected bundleId (your app's bundle id), got ${describeValue(options?.bundleId)}`);
    }
    if (!ENVIRONMENTS.has(options.environment)) {
      throw new PayConfigError(
        `${PKG}: verifier: expected environment Production, Sandbox, Xcode or LocalTesting, got ${describeValue(options.environment)}`,
      );
    }
    if (options.environment === 'Production' && (typeof options.appAppleId !== 'number' || !Number.isSafeInteger(options.appAppleId))) {
      throw new PayConfigError(`${PKG}: verifier: appAppleId (your app's Apple id, a number) is required in Production`, {
        hint: 'find it in App Store Connect under App Information → Apple ID',
      });
    }
    const isTest = TEST_ENVIRONMENTS.has(options.environment);
    if (isTest && options.acceptUnverifiedTestEnvironment !== true) {
      throw new PayConfigError(
        `${PKG}: verifier: ${options.environment} data is not signed by the App Store; accepting it needs acceptUnverifiedTestEnvironment: true (never in production)`,
      );
    }
    if (!isTest && options.acceptUnverifiedTestEnvironment === true) {
      throw new PayConfigError(
        `${PKG}: verifier: acceptUnverifiedTestEnvironment is only allowed with the Xcode or LocalTesting environment, not ${options.environment}`,
      );
    }
    this.environment = options.environment;
    this.bundleId = options.bundleId;
    this.appAppleId = options.appAppleId;
    this.unverified = isTest;
    this.roots = parseRoots(options.roots ?? []);
    if (!isTest && this.roots.length === 0) {
      throw new PayConfigError(`${PKG}: verifier: expected at least one root certificate, got none`, {
        hint: 'download Apple Root CA - G3 (AppleRootCA-G3.cer) from https://www.apple.com/certificateauthority/',
      });
    }
    this.online = options.onlineChecks === true;
    this.clock = options.clock ?? systemClock;
    this.cacheSize = Math.max(1, options.cacheSize ?? 32);
    this.cacheTtlMs = options.cacheTtlMs ?? 15 * 60_000;
    this.ocsp = this.online
      ? {
          transport: options.transport ?? getDefaultTransport(),
          timeoutMs: options.ocspTimeoutMs ?? 5_000,
          clock: this.clock,
          maxSkewMs: 60_000,
          mapUrl: options.ocspUrl ?? defaultOcspUrl,
        }
      : undefined;
  }

  /**
   * Verifies a signed transaction (`signedTransactionInfo`, StoreKit 2 `Transaction.jwsRepresentation`).
   *
   * @throws PayCertificateError, PaySignatureError or PayMismatchError with a `reason` from `VerificationReason`;
   * a retryable PayNetworkError / PayTimeoutError when an online check could not run
   */
  async verifyTransaction(signedTransaction: string): Promise<JWSTransactionDecodedPayload> {
    const payload = await this.verifyJws(signedTransaction, 'signed transaction', 'signedDate');
    checkFields(payload, TRANSACTION_FIELDS, 'signed transaction');
    if (payload.bundleId !== this.bundleId) {
      throw appIdentifierError(
        `signed transaction: expected bundleId ${JSON.stringify(this.bundleId)}, got ${describeValue(payload.bundleId)}`,
      );
    }
    this.checkEnvironment(payload.environment, 'signed transaction');
    return payload as JWSTransactionDecodedPayload;
  }

  /**
   * Verifies a signed renewal info (`signedRenewalInfo`).
   *
   * @throws see {@link SignedDataVerifier.verifyTransaction}
   */
  async verifyRenewalInfo(signedRenewalInfo: string): Promise<JWSRenewalInfoDecodedPayload> {
    const payload = await this.verifyJws(signedRenewalInfo, 'signed renewal info', 'signedDate');
    checkFields(payload, RENEWAL_FIELDS, 'signed renewal info');
    this.checkEnvironment(payload.environment, 'signed renewal info');
    return payload as JWSRenewalInfoDecodedPayload;
  }

  /**
   * Verifies a notification's `signedPayload` (the outer JWS only; see `NotificationProcessor`
   * for the nested signed data). The app is taken from `data`, `summary`,
   * `externalPurchaseToken` or `appData`, whichever the notification carries.
   *
   * @throws see {@link SignedDataVerifier.verifyTransaction}
   */
  async verifyNotification(signedPayload: string): Promise<ResponseBodyV2DecodedPayload> {
    const payload = await this.verifyJws(signedPayload, 'notification', 'signedDate');
    checkFields(payload, NOTIFICATION_FIELDS, 'notification');
    let bundleId: unknown;
    let appAppleId: unknown;
    let environment: unknown;
    const section = (payload.data ?? payload.summary ?? payload.appData) as Record<string, unknown> | undefined;
    if (section) {
      checkFields(section, NOTIFICATION_DATA_FIELDS, 'notification data');
      bundleId = section.bundleId;
      appAppleId = section.appAppleId;
      environment = section.environment;
    } else if (payload.externalPurchaseToken) {
      const token = payload.externalPurchaseToken as Record<string, unknown>;
      bundleId = token.bundleId;
      appAppleId = token.appAppleId;
      environment =
        typeof token.externalPurchaseId === 'string' && token.externalPurchaseId.startsWith('SANDBOX') ? 'Sandbox' : 'Production';
    }
    this.checkApp(bundleId, appAppleId, 'notification');
    this.checkEnvironment(environment, 'notification');
    return payload as ResponseBodyV2DecodedPayload;
  }

  /**
   * Verifies a signed app transaction (StoreKit 2 `AppTransaction`); its certificates are
   * checked at `receiptCreationDate` when online checks are off.
   *
   * @throws see {@link SignedDataVerifier.verifyTransaction}
   */
  async verifyAppTransaction(signedAppTransaction: string): Promise<AppTransaction> {
    const payload = await this.verifyJws(signedAppTransaction, 'signed app transaction', 'receiptCreationDate');
    checkFields(payload, APP_TRANSACTION_FIELDS, 'signed app transaction');
    this.checkApp(payload.bundleId, payload.appAppleId, 'signed app transaction');
    this.checkEnvironment(payload.receiptType, 'signed app transaction');
    return payload as AppTransaction;
  }

  private checkApp(bundleId: unknown, appAppleId: unknown, what: string): void {
    if (bundleId !== this.bundleId) {
      throw appIdentifierError(`${what}: expected bundleId ${JSON.stringify(this.bundleId)}, got ${describeValue(bundleId)}`);
    }
    if (this.environment === 'Production' && appAppleId !== this.appAppleId) {
      throw appIdentifierError(`${what}: expected appAppleId ${this.appAppleId}, got ${describeValue(appAppleId)}`);
    }
  }

  private checkEnvironment(environment: unknown, what: string): void {
    if (environment !== this.environment) {
      throw environmentError(
        `${what}: expected environment ${this.environment}, got ${describeValue(environment)}`,
        environment === 'Sandbox' && this.environment === 'Production'
          ? 'App Review and TestFlight purchase in the sandbox: verify such data with a Sandbox verifier (IapClient: sandboxFallback)'
          : undefined,
      );
    }
  }

  /** Verifies the JWS and returns its payload (not yet checked for app or environment). */
  private verifyJws(jws: string, what: string, dateField: string): Record<string, unknown> | Promise<Record<string, unknown>> {
    const parts = splitJws(jws, what);
    const payload = decodeJsonSegment(parts.payloadB64, what);
    if (this.unverified) return payload;
    const now = this.clock();
    let effective = now;
    if (!this.online) {
      const date = payload[dateField];
      if (date !== undefined) {
        if (typeof date !== 'number' || !Number.isFinite(date)) {
          throw verificationFailure(`${what}: field ${dateField}: expected epoch milliseconds, got ${describeValue(date)}`);
        }
        effective = date;
      }
    }
    const bucket = this.cache.get(fingerprint(parts.headerB64));
    let entry = bucket?.find((e) => e.header === parts.headerB64);
    if (entry !== undefined && entry.expiresAt <= now) {
      this.forget(entry);
      entry = undefined;
    }
    if (entry === undefined) {
      const built = this.buildEntry(parts.headerB64, effective, now, what);
      if (built instanceof Promise) {
        return built.then((e) => {
          this.checkSignature(e, parts.signingInput, parts.signature, what);
          return payload;
        });
      }
      entry = built;
    } else if (effective < entry.notBefore || effective > entry.notAfter) {
      throw certificateError(`${what}: chain: ${validityMessage(entry.notBefore, entry.notAfter, effective)}`);
    }
    this.checkSignature(entry, parts.signingInput, parts.signature, what);
    return payload;
  }

  private checkSignature(entry: CachedChain, signingInput: string, signature: Buffer, what: string): void {
    if (signature.length !== 64) {
      throw verificationFailure(`${what}: expected a 64-byte ES256 signature (r || s), got ${signature.length} bytes`);
    }
    let ok = false;
    try {
      ok = nodeVerify('sha256', Buffer.from(signingInput, 'latin1'), { key: entry.key, dsaEncoding: 'ieee-p1363' }, signature);
    } catch {
      ok = false;
    }
    if (!ok) {
      throw verificationFailure(
        `${what}: the ES256 signature does not verify with the leaf certificate's key (changed header or payload, or a wrong key)`,
      );
    }
  }

  /** Parses the header, verifies the chain (and OCSP when online), caches the result. */
  private buildEntry(headerB64: string, effective: number, now: number, what: string): CachedChain | Promise<CachedChain> {
    const header = decodeJsonSegment(headerB64, `${what}: JWS header`);
    const x5c = header.x5c;
    if (!Array.isArray(x5c) || x5c.length !== 3) {
      throw certificateError(
        `${what}: expected an x5c header of exactly 3 certificates (leaf, intermediate, root), got ${x5c === undefined ? 'no x5c header' : describeValue(x5c)}`,
        { reason: 'INVALID_CHAIN_LENGTH' },
      );
    }
    const certs: Certificate[] = [];
    for (let i = 0; i < 2; i++) {
      const der = typeof x5c[i] === 'string' ? decodeBase64Strict(x5c[i] as string) : undefined;
      if (der === undefined || der.length === 0) {
        throw certificateError(`${what}: x5c[${i}]: expected a base64 DER certificate, got ${describeValue(x5c[i])}`);
      }
      try {
        certs.push(new Certificate(der));
      } catch (e) {
        throw certificateError(`${what}: x5c[${i}]: not a certificate (${der.length} bytes that do not parse)`, { cause: e });
      }
    }
    if (header.alg !== 'ES256') {
      throw verificationFailure(`${what}: expected JWS alg ES256, got ${describeValue(header.alg)}`);
    }
    if (header.crit !== undefined) {
      throw verificationFailure(`${what}: the JWS header lists critical extensions (crit), which are not supported`);
    }
    const [leaf, intermediate] = certs as [Certificate, Certificate];
    const chain = verifyAppleChain(leaf, intermediate, this.roots, effective);
    const entry: CachedChain = {
      header: headerB64,
      key: chain.publicKey,
      notBefore: chain.notBefore,
      notAfter: chain.notAfter,
      expiresAt: this.online ? now + this.cacheTtlMs : Number.POSITIVE_INFINITY,
    };
    if (this.ocsp) {
      const ocsp = this.ocsp;
      return Promise.all([checkOcsp(leaf, intermediate, 'leaf', ocsp), checkOcsp(intermediate, chain.root, 'intermediate', ocsp)]).then(
        () => {
          this.remember(headerB64, entry);
          return entry;
        },
      );
    }
    this.remember(headerB64, entry);
    return entry;
  }

  private remember(headerB64: string, entry: CachedChain): void {
    const fp = fingerprint(headerB64);
    const bucket = (this.cache.get(fp) ?? []).filter((e) => e.header !== headerB64);
    bucket.push(entry);
    this.cache.set(fp, bucket);
    this.order = this.order.filter((e) => e.header !== headerB64);
    this.order.push(entry);
    while (this.order.length > this.cacheSize) this.forget(this.order[0] as CachedChain);
  }

  private forget(entry: CachedChain): void {
    const fp = fingerprint(entry.header);
    const bucket = this.cache.get(fp)?.filter((e) => e !== entry) ?? [];
    if (bucket.length > 0) this.cache.set(fp, bucket);
    else this.cache.delete(fp);
    this.order = this.order.filter((e) => e !== entry);
  }

  /** Number of chains in the cache (for tests and monitoring). */
  get cachedChains(): number {
    return this.order.length;
  }

  /** Forgets every cached chain (e.g. after rotating roots). */
  clearCache(): void {
    this.cache.clear();
    this.order = [];
  }
}
