/**
 * The server side of Apple In-App Purchase in one client: the valid product
 * ids, purchase verification (StoreKit 2 signed transactions or StoreKit 1
 * receipts), restore (transaction history → current entitlements),
 * subscription statuses and notifications.
 *
 * @module
 */
import {
  type Clock,
  type IncomingNotification,
  type KeyInput,
  PayArgumentError,
  PayConfigError,
  type PayError,
  PayMismatchError,
  PayNotFoundError,
  PayStateError,
  SeenIds,
  systemClock,
  type Transport,
} from '@pay/core';
import { AppStoreServerApiClient, type TransactionHistoryRequest } from './api.js';
import { type Product, ProductCatalogue, type ProductType } from './catalogue.js';
import { describeValue, environmentError, PKG, VerificationReason } from './errors.js';
import { LegacyReceiptVerifier } from './legacy.js';
import { NotificationProcessor, type SeenStore, type VerifiedNotification } from './notifications.js';
import { readAppReceipt } from './receipt.js';
import type { Environment, JWSRenewalInfoDecodedPayload, JWSTransactionDecodedPayload } from './types.js';
import { type RootInput, SignedDataVerifier } from './verifier.js';

/** Configuration of {@link IapClient}. */
export interface IapClientConfig {
  /** Your app's bundle id. */
  bundleId: string;
  /** Your app's Apple id (required in Production). */
  appAppleId?: number;
  /** The environment of your app's purchases. */
  environment: Environment;
  /** Trusted roots: Apple Root CA - G3 in production (https://www.apple.com/certificateauthority/). */
  roots: readonly RootInput[];
  /** The product catalogue. */
  products: readonly Product[] | ProductCatalogue;
  /**
   * With `Production`: accept sandbox data too (App Review and TestFlight buy in the sandbox):
   * signed data whose environment is `Sandbox` is verified by a second, sandbox verifier, and
   * API calls answering `4040010` are tried on the sandbox.
   */
  sandboxFallback?: boolean;
  /** OCSP revocation checks and certificate checks at the current time (default off). */
  onlineChecks?: boolean;
  /** Needed to accept `Xcode` / `LocalTesting` data, which the App Store does not sign. */
  acceptUnverifiedTestEnvironment?: boolean;
  /** App Store Server API credentials (needed for StoreKit 1 receipts via the API, restore and statuses). */
  api?: {
    /** The In-App Purchase key (.p8). */
    privateKey: KeyInput;
    /** The key id. */
    keyId: string;
    /** The issuer id. */
    issuerId: string;
    /** Production base URL override (tests, emulator). */
    productionUrl?: string;
    /** Sandbox base URL override. */
    sandboxUrl?: string;
    /** LocalTesting base URL. */
    localTestingUrl?: string;
    /** Timeout per call, ms. */
    timeoutMs?: number;
    /** How often a 429 is waited out. */
    rateLimitRetries?: number;
    /** Longest 429 wait, ms. */
    maxRateLimitWaitMs?: number;
  };
  /** Legacy `verifyReceipt` (deprecated by Apple): used for StoreKit 1 receipts when no `api` is configured. */
  legacy?: {
    /** The app-specific shared secret. */
    sharedSecret?: string;
    /** Production URL override. */
    productionUrl?: string;
    /** Sandbox URL override. */
    sandboxUrl?: string;
  };
  /** Transport for the API, `verifyReceipt` and OCSP. */
  transport?: Transport;
  /** Clock (entitlement expiry, certificate checks when online, tokens). */
  clock?: Clock;
  /** Sleep used to wait out 429s (tests). */
  sleep?: (ms: number) => Promise<void>;
  /** Where verified transaction ids are remembered (`duplicate` flag). Default: 10 000 in memory. */
  seenTransactions?: SeenStore;
  /** Where processed notification UUIDs are remembered. Default: 10 000 in memory. */
  seenNotifications?: SeenStore;
  /** How many verified chains to cache. */
  cacheSize?: number;
  /** OCSP request timeout, ms. */
  ocspTimeoutMs?: number;
  /** OCSP URL mapping (default: HTTP → HTTPS except loopback). */
  ocspUrl?: (url: string) => string;
}

/** What the app sends after a purchase. */
export interface PurchaseProof {
  /** StoreKit 2: `Transaction.jwsRepresentation` (or `VerificationResult.jwsRepresentation`). */
  signedTransaction?: string;
  /** StoreKit 1: the base64 app receipt. */
  appReceipt?: string;
  /** The `appAccountToken` of the pending payment the purchase must belong to. */
  appAccountToken?: string;
  /** The product the payment was for. */
  productId?: string;
}

/** A verified purchase. */
export interface VerifiedPurchase {
  /** Apple's transaction id (the idempotency key: the same purchase always has the same id). */
  transactionId: string;
  /** The original transaction id (stable across renewals and restores). */
  originalTransactionId: string | undefined;
  /** The product. */
  productId: string;
  /** The product from the catalogue. */
  product: Readonly<Product>;
  /** The app account token the app set, lower-cased. */
  appAccountToken: string | undefined;
  /** `Production`, `Sandbox`… */
  environment: string;
  /** When it was bought, epoch ms. */
  purchaseDate: number | undefined;
  /** Subscription expiry, epoch ms. */
  expiresDate: number | undefined;
  /** Quantity (consumables). */
  quantity: number;
  /** False for an expired subscription. */
  active: boolean;
  /** True when this transaction id was verified before (deliver the goods once). */
  duplicate: boolean;
  /** StoreKit 2 signed transaction, or StoreKit 1 receipt. */
  source: 'storekit2' | 'storekit1';
  /** The verified signed transaction. */
  transaction: JWSTransactionDecodedPayload;
}

/** A product the customer currently owns. */
export interface Entitlement {
  /** The product. */
  productId: string;
  /** Its kind. */
  type: ProductType;
  /** The latest transaction granting it. */
  transactionId: string;
  /** Original transaction id. */
  originalTransactionId: string | undefined;
  /** When it was bought, epoch ms. */
  purchaseDate: number | undefined;
  /** Subscription expiry, epoch ms. */
  expiresDate: number | undefined;
}

/** What {@link IapClient.restorePurchases} returns. */
export interface RestoreResult {
  /** Every verified transaction of the history, in Apple's order. */
  transactions: JWSTransactionDecodedPayload[];
  /** What the customer owns now: non-consumables and non-renewing subscriptions not revoked, auto-renewable subscriptions not expired. */
  entitlements: Entitlement[];
  /** Product ids in the history that the catalogue does not know (never entitled). */
  unknownProductIds: string[];
}

/** One subscription's verified status. */
export interface VerifiedSubscriptionStatus {
  /** The subscription group. */
  subscriptionGroupIdentifier: string | undefined;
  /** 1 active, 2 expired, 3 billing retry, 4 grace period, 5 revoked. */
  status: number | undefined;
  /** Original transaction id. */
  originalTransactionId: string | undefined;
  /** The verified latest transaction. */
  transaction: JWSTransactionDecodedPayload | undefined;
  /** The verified renewal info. */
  renewalInfo: JWSRenewalInfoDecodedPayload | undefined;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** True when `value` is a UUID (the format of `appAccountToken`). */
export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && UUID.test(value);
}

/**
 * Apple In-App Purchase on the server.
 *
 * @example
 * ```ts
 * const iap = new IapClient({
 *   bundleId: 'com.example.app', appAppleId: 1234567890, environment: 'Production', sandboxFallback: true,
 *   roots: [readFileSync('AppleRootCA-G3.cer')],
 *   products: [{ productId: 'com.example.coins100', type: 'consumable', amount: 600 }],
 *   api: { privateKey: p8, keyId: 'ABC123', issuerId: '…' },
 * });
 * const purchase = await iap.verifyPurchase({ signedTransaction, appAccountToken });
 * if (!purchase.duplicate) deliver(purchase.productId, purchase.quantity);
 * ```
 */
export class IapClient {
  /** The product catalogue. */
  readonly catalogue: ProductCatalogue;
  /** The verifier of the configured environment. */
  readonly verifier: SignedDataVerifier;
  /** The sandbox verifier, with `sandboxFallback` in production. */
  readonly sandboxVerifier: SignedDataVerifier | undefined;
  /** The App Store Server API client, when `api` is configured. */
  readonly api: AppStoreServerApiClient | undefined;
  /** The legacy `verifyReceipt` client, when `legacy` is configured. */
  readonly legacy: LegacyReceiptVerifier | undefined;
  /** The bundle id. */
  readonly bundleId: string;
  /** The environment. */
  readonly environment: Environment;
  private readonly notifications: NotificationProcessor;
  private readonly sandboxNotifications: NotificationProcessor | undefined;
  private readonly seenTransactions: SeenStore;
  private readonly clock: Clock;

  /**
   * @param config - app identity, roots, catalogue and optional API / legacy credentials
   * @throws PayConfigError on any configuration problem (see {@link SignedDataVerifier}, {@link AppStoreServerApiClient})
   */
  constructor(config: IapClientConfig) {
    if (!config || typeof config !== 'object')
      throw new PayConfigError(`${PKG}: expected a configuration object, got ${describeValue(config)}`);
    this.bundleId = config.bundleId;
    this.environment = config.environment;
    this.clock = config.clock ?? systemClock;
    this.catalogue = config.products instanceof ProductCatalogue ? config.products : new ProductCatalogue(config.products);
    const common = {
      roots: config.roots,
      bundleId: config.bundleId,
      clock: this.clock,
      ...(config.onlineChecks !== undefined ? { onlineChecks: config.onlineChecks } : {}),
      ...(config.transport ? { transport: config.transport } : {}),
      ...(config.cacheSize !== undefined ? { cacheSize: config.cacheSize } : {}),
      ...(config.ocspTimeoutMs !== undefined ? { ocspTimeoutMs: config.ocspTimeoutMs } : {}),
      ...(config.ocspUrl ? { ocspUrl: config.ocspUrl } : {}),
    };
    this.verifier = new SignedDataVerifier({
      ...common,
      environment: config.environment,
      ...(config.appAppleId !== undefined ? { appAppleId: config.appAppleId } : {}),
      ...(config.acceptUnverifiedTestEnvironment !== undefined
        ? { acceptUnverifiedTestEnvironment: config.acceptUnverifiedTestEnvironment }
        : {}),
    });
    if (config.sandboxFallback && config.environment !== 'Production') {
      throw new PayConfigError(`${PKG}: sandboxFallback only applies to the Production environment, not ${config.environment}`);
    }
    this.sandboxVerifier = config.sandboxFallback
      ? new SignedDataVerifier({
          ...common,
          environment: 'Sandbox',
          ...(config.appAppleId !== undefined ? { appAppleId: config.appAppleId } : {}),
        })
      : undefined;
    if (config.api) {
      if (config.environment === 'Xcode')
        throw new PayConfigError(`${PKG}: the App Store Server API has no Xcode environment; leave api out`);
      this.api = new AppStoreServerApiClient({
        ...config.api,
        bundleId: config.bundleId,
        environment: config.environment,
        ...(config.sandboxFallback ? { sandboxFallback: true } : {}),
        ...(config.transport ? { transport: config.transport } : {}),
        clock: this.clock,
        ...(config.sleep ? { sleep: config.sleep } : {}),
      });
    }
    if (config.legacy) {
      this.legacy = new LegacyReceiptVerifier({
        ...config.legacy,
        bundleId: config.bundleId,
        environment: config.environment === 'Production' ? 'Production' : 'Sandbox',
        ...(config.transport ? { transport: config.transport } : {}),
      });
    }
    this.seenTransactions = config.seenTransactions ?? new SeenIds(10_000);
    this.notifications = new NotificationProcessor(this.verifier, config.seenNotifications);
    this.sandboxNotifications = this.sandboxVerifier
      ? new NotificationProcessor(this.sandboxVerifier, config.seenNotifications)
      : undefined;
  }

  /** The product ids the app may request from StoreKit (step 1 of a purchase). */
  validProductIds(): readonly string[] {
    return this.catalogue.validProductIds();
  }

  /**
   * Verifies a signed transaction, with the sandbox verifier when `sandboxFallback` is on and the data says `Sandbox`.
   *
   * @throws verification errors with a `VerificationReason`
   */
  async verifyTransaction(signedTransaction: string): Promise<JWSTransactionDecodedPayload> {
    try {
      return await this.verifier.verifyTransaction(signedTransaction);
    } catch (e) {
      if (this.sandboxVerifier && (e as PayError).reason === VerificationReason.INVALID_ENVIRONMENT) {
        return this.sandboxVerifier.verifyTransaction(signedTransaction);
      }
      throw e;
    }
  }

  /**
   * Verifies what the app sent after a purchase: a StoreKit 2 signed transaction, or a StoreKit 1 app
   * receipt (its transaction id is looked up with the App Store Server API, or the receipt is sent to
   * the legacy `verifyReceipt` when only a shared secret is configured). Checks the bundle id, the
   * environment, that the product is in the catalogue (and is the one expected), the app account
   * token against the pending payment, and that the transaction was not refunded or revoked.
   * Verifying the same transaction again returns it with `duplicate: true`.
   *
   * @throws PayArgumentError when no proof is given or the product is unknown; PayMismatchError when the
   * product or app account token differ from the expected; PayStateError (reason `REVOKED`) for a
   * refunded or revoked transaction; verification and API errors
   */
  async verifyPurchase(proof: PurchaseProof): Promise<VerifiedPurchase> {
    if (!proof || typeof proof !== 'object')
      throw new PayArgumentError(`${PKG}: verifyPurchase: expected { signedTransaction } or { appReceipt }, got ${describeValue(proof)}`);
    if (proof.appAccountToken !== undefined && !isUuid(proof.appAccountToken)) {
      throw new PayArgumentError(`${PKG}: verifyPurchase: appAccountToken must be a UUID, got ${describeValue(proof.appAccountToken)}`);
    }
    if (proof.productId !== undefined) this.catalogue.require(proof.productId, 'verifyPurchase: productId');
    let transaction: JWSTransactionDecodedPayload;
    let source: VerifiedPurchase['source'];
    if (typeof proof.signedTransaction === 'string' && proof.signedTransaction !== '') {
      transaction = await this.verifyTransaction(proof.signedTransaction);
      source = 'storekit2';
    } else if (typeof proof.appReceipt === 'string' && proof.appReceipt !== '') {
      transaction = await this.transactionFromReceipt(proof.appReceipt, proof.productId);
      source = 'storekit1';
    } else {
      throw new PayArgumentError(
        `${PKG}: verifyPurchase: expected a signedTransaction (StoreKit 2) or an appReceipt (StoreKit 1), got neither`,
      );
    }
    return this.checkPurchase(transaction, proof, source);
  }

  private async checkPurchase(
    transaction: JWSTransactionDecodedPayload,
    proof: PurchaseProof,
    source: VerifiedPurchase['source'],
  ): Promise<VerifiedPurchase> {
    const transactionId = transaction.transactionId;
    if (typeof transactionId !== 'string' || transactionId === '') {
      throw new PayMismatchError(`${PKG}: verifyPurchase: the signed transaction carries no transactionId`, { provider: 'iap' });
    }
    const product = this.catalogue.require(transaction.productId, 'verifyPurchase: the transaction productId');
    if (proof.productId !== undefined && proof.productId !== transaction.productId) {
      throw new PayMismatchError(
        `${PKG}: verifyPurchase: expected product ${proof.productId}, the transaction is for ${transaction.productId}`,
        {
          provider: 'iap',
        },
      );
    }
    const token = typeof transaction.appAccountToken === 'string' ? transaction.appAccountToken.toLowerCase() : undefined;
    if (proof.appAccountToken !== undefined && proof.appAccountToken.toLowerCase() !== token) {
      throw new PayMismatchError(
        `${PKG}: verifyPurchase: expected appAccountToken ${proof.appAccountToken.toLowerCase()} (the pending payment), the transaction carries ${token ?? 'none'}`,
        { provider: 'iap', hint: 'pass the token as Product.PurchaseOption.appAccountToken when the app buys' },
      );
    }
    if (transaction.revocationDate !== undefined) {
      throw new PayStateError(
        `${PKG}: verifyPurchase: transaction ${transactionId} was ${transaction.revocationType === 'FAMILY_REVOKE' ? 'revoked' : 'refunded'} at ${new Date(transaction.revocationDate).toISOString()}; do not deliver it`,
        { provider: 'iap', reason: 'REVOKED' },
      );
    }
    const now = this.clock();
    const active = transaction.expiresDate === undefined || transaction.expiresDate > now;
    const duplicate = !(await this.seenTransactions.add(transactionId));
    return {
      transactionId,
      originalTransactionId: transaction.originalTransactionId,
      productId: product.productId,
      product,
      appAccountToken: token,
      environment: String(transaction.environment),
      purchaseDate: transaction.purchaseDate,
      expiresDate: transaction.expiresDate,
      quantity: typeof transaction.quantity === 'number' ? transaction.quantity : 1,
      active,
      duplicate,
      source,
      transaction,
    };
  }

  /** StoreKit 1: a transaction of the receipt, fetched signed from the App Store Server API (or via legacy verifyReceipt). */
  private async transactionFromReceipt(appReceipt: string, productId: string | undefined): Promise<JWSTransactionDecodedPayload> {
    if (this.api) {
      const receipt = readAppReceipt(appReceipt);
      const records = receipt.in_app.filter(
        (r) => (productId === undefined || r.product_id === productId) && (r.transaction_id ?? r.original_transaction_id),
      );
      const record = records[records.length - 1];
      if (!record) {
        throw new PayNotFoundError(
          `${PKG}: verifyPurchase: the app receipt holds no in-app purchase${productId ? ` of ${productId}` : ''}`,
          { provider: 'iap' },
        );
      }
      const id = (record.transaction_id ?? record.original_transaction_id) as string;
      const info = await this.api.getTransactionInfo(id);
      if (typeof info.signedTransactionInfo !== 'string') {
        throw new PayNotFoundError(`${PKG}: verifyPurchase: the App Store Server API returned no signedTransactionInfo for ${id}`, {
          provider: 'iap',
        });
      }
      return this.verifyTransaction(info.signedTransactionInfo);
    }
    if (this.legacy) {
      const result = await this.legacy.verifyReceipt(appReceipt);
      if (result.environment !== this.environment && !(result.environment === 'Sandbox' && this.sandboxVerifier)) {
        throw environmentError(
          `verifyPurchase: expected a ${this.environment} receipt, verifyReceipt validated it in the ${result.environment}`,
          'App Review and TestFlight purchase in the sandbox: enable sandboxFallback',
        );
      }
      const matching = result.transactions.filter((t) => productId === undefined || t.product_id === productId);
      const t = matching[matching.length - 1];
      if (!t)
        throw new PayNotFoundError(`${PKG}: verifyPurchase: the receipt holds no in-app purchase${productId ? ` of ${productId}` : ''}`, {
          provider: 'iap',
        });
      const num = (v: unknown) => (typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : undefined);
      const tx: Record<string, unknown> = {
        transactionId: t.transaction_id,
        originalTransactionId: t.original_transaction_id,
        productId: t.product_id,
        bundleId: result.response.receipt?.bundle_id,
        purchaseDate: num(t.purchase_date_ms),
        expiresDate: num(t.expires_date_ms),
        revocationDate: num(t.cancellation_date_ms),
        quantity: num(t.quantity) ?? 1,
        environment: result.environment,
        ...(typeof t.app_account_token === 'string' && t.app_account_token !== '' ? { appAccountToken: t.app_account_token } : {}),
      };
      for (const k of Object.keys(tx)) if (tx[k] === undefined) delete tx[k];
      return tx as JWSTransactionDecodedPayload;
    }
    throw new PayConfigError(
      `${PKG}: verifyPurchase: StoreKit 1 receipts need the App Store Server API (api) or a legacy shared secret (legacy)`,
    );
  }

  /**
   * Restore: reads the whole transaction history (v2, following `revision` while `hasMore`) for any
   * transaction id of the customer, verifies every signed transaction and derives what the customer
   * owns now.
   *
   * @param anyTransactionId - any transaction id of the customer (e.g. from a receipt or a restored transaction)
   * @param filters - history filters (product ids, types, dates, revoked…)
   * @param options - `maxPages` guards against endless paging (default 100)
   * @throws PayConfigError without `api`; API and verification errors
   */
  async restorePurchases(
    anyTransactionId: string,
    filters: TransactionHistoryRequest = {},
    options: { maxPages?: number } = {},
  ): Promise<RestoreResult> {
    const api = this.requireApi('restorePurchases');
    const transactions: JWSTransactionDecodedPayload[] = [];
    let revision: string | undefined;
    const maxPages = options.maxPages ?? 100;
    for (let page = 0; ; page++) {
      if (page >= maxPages)
        throw new PayStateError(`${PKG}: restorePurchases: stopped after ${maxPages} pages of history`, { provider: 'iap' });
      const res = await api.getTransactionHistory(anyTransactionId, filters, revision, 'v2');
      const signed = Array.isArray(res.signedTransactions) ? res.signedTransactions : [];
      transactions.push(...(await Promise.all(signed.map((s) => this.verifyTransaction(s)))));
      if (res.hasMore !== true) break;
      if (typeof res.revision !== 'string' || res.revision === '' || res.revision === revision) {
        throw new PayStateError(
          `${PKG}: restorePurchases: hasMore is true but the revision token ${res.revision === revision ? 'did not change' : 'is missing'}`,
          {
            provider: 'iap',
          },
        );
      }
      revision = res.revision;
    }
    return { transactions, ...this.entitlementsOf(transactions) };
  }

  /**
   * Derives current entitlements from verified transactions (no network).
   */
  entitlementsOf(transactions: readonly JWSTransactionDecodedPayload[]): Omit<RestoreResult, 'transactions'> {
    const now = this.clock();
    const unknown = new Set<string>();
    const best = new Map<string, JWSTransactionDecodedPayload>();
    for (const t of transactions) {
      const productId = t.productId;
      if (typeof productId !== 'string') continue;
      const product = this.catalogue.find(productId);
      if (!product) {
        unknown.add(productId);
        continue;
      }
      if (product.type === 'consumable' || t.revocationDate !== undefined) continue;
      if (product.type === 'auto_renewable' && (t.expiresDate === undefined || t.expiresDate <= now)) continue;
      const key =
        product.type === 'auto_renewable' ? `sub:${t.originalTransactionId ?? t.transactionId}` : `${product.type}:${t.transactionId}`;
      const previous = best.get(key);
      if (!previous || (t.purchaseDate ?? 0) > (previous.purchaseDate ?? 0)) best.set(key, t);
    }
    const entitlements: Entitlement[] = [...best.values()].map((t) => ({
      productId: t.productId as string,
      type: (this.catalogue.find(t.productId as string) as Product).type,
      transactionId: t.transactionId as string,
      originalTransactionId: t.originalTransactionId,
      purchaseDate: t.purchaseDate,
      expiresDate: t.expiresDate,
    }));
    return { entitlements, unknownProductIds: [...unknown] };
  }

  /**
   * Get All Subscription Statuses for any transaction id of the customer, with every nested
   * signed transaction and renewal info verified.
   *
   * @param status - only these statuses (1 active, 2 expired, 3 billing retry, 4 grace period, 5 revoked)
   * @throws PayConfigError without `api`; API and verification errors
   */
  async getSubscriptionStatuses(anyTransactionId: string, status?: readonly number[]): Promise<VerifiedSubscriptionStatus[]> {
    const api = this.requireApi('getSubscriptionStatuses');
    const res = await api.getAllSubscriptionStatuses(anyTransactionId, status);
    const out: VerifiedSubscriptionStatus[] = [];
    for (const group of res.data ?? []) {
      for (const item of group.lastTransactions ?? []) {
        out.push({
          subscriptionGroupIdentifier: group.subscriptionGroupIdentifier,
          status: item.status,
          originalTransactionId: item.originalTransactionId,
          transaction: item.signedTransactionInfo ? await this.verifyTransaction(item.signedTransactionInfo) : undefined,
          renewalInfo: item.signedRenewalInfo ? await this.verifyRenewalInfo(item.signedRenewalInfo) : undefined,
        });
      }
    }
    return out;
  }

  /**
   * Verifies a signed renewal info (sandbox fallback as for transactions).
   *
   * @throws verification errors with a `VerificationReason`
   */
  async verifyRenewalInfo(signedRenewalInfo: string): Promise<JWSRenewalInfoDecodedPayload> {
    try {
      return await this.verifier.verifyRenewalInfo(signedRenewalInfo);
    } catch (e) {
      if (this.sandboxVerifier && (e as PayError).reason === VerificationReason.INVALID_ENVIRONMENT)
        return this.sandboxVerifier.verifyRenewalInfo(signedRenewalInfo);
      throw e;
    }
  }

  /**
   * Verifies an App Store Server Notification V2 (body as received, or an `IncomingNotification`),
   * with its nested signed data; sandbox notifications pass with `sandboxFallback`.
   *
   * @throws PayArgumentError on a malformed body; verification errors with a `VerificationReason`
   */
  async parseNotification(input: string | Uint8Array | IncomingNotification): Promise<VerifiedNotification> {
    try {
      return await this.notifications.process(input);
    } catch (e) {
      if (this.sandboxNotifications && (e as PayError).reason === VerificationReason.INVALID_ENVIRONMENT)
        return this.sandboxNotifications.process(input);
      throw e;
    }
  }

  /**
   * Verifies a notification's `signedPayload` taken from elsewhere (Get Notification History,
   * Get Test Notification Status), with its nested signed data.
   *
   * @throws verification errors with a `VerificationReason`
   */
  async verifySignedNotification(signedPayload: string): Promise<VerifiedNotification> {
    try {
      return await this.notifications.verifySignedPayload(signedPayload);
    } catch (e) {
      if (this.sandboxNotifications && (e as PayError).reason === VerificationReason.INVALID_ENVIRONMENT) {
        return this.sandboxNotifications.verifySignedPayload(signedPayload);
      }
      throw e;
    }
  }

  private requireApi(what: string): AppStoreServerApiClient {
    if (!this.api)
      throw new PayConfigError(`${PKG}: ${what} needs the App Store Server API: configure api { privateKey, keyId, issuerId }`);
    return this.api;
  }
}
