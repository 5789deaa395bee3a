/**
 * A loopback emulator of the App Store's server side: the App Store Server API
 * (production and sandbox hosts, ES256 bearer tokens checked like Apple does,
 * Apple's error bodies), StoreKit 2 signed transactions and App Store Server
 * Notifications V2 signed with a generated chain carrying Apple's OIDs, StoreKit 1
 * receipts with the legacy `verifyReceipt` endpoint, and an OCSP responder.
 *
 * @module
 */
import { createPublicKey, generateKeyPairSync, type KeyObject, verify as nodeVerify, randomUUID } from 'node:crypto';
import { type DerNode, derChildren, derContent, derInteger, derOid, readDer } from '@pay/core';
import { Notifier } from '../common/notifier.js';
import type { EmulatorRequest, EmulatorResponse } from '../common/server.js';
import { startLoopbackServer } from '../common/server.js';
import {
  type AppleOcspCertStatus,
  type AppleTestCertificate,
  type AppleTestChain,
  buildAppleOcspErrorResponse,
  buildAppleOcspResponse,
  generateAppleTestChain,
  signAppleJws,
} from './certs.js';
import { buildIapAppReceipt } from './receipt.js';

/** The four kinds of product, named as `@pay/iap`'s catalogue names them. */
export type IapEmulatedProductType = 'consumable' | 'non_consumable' | 'auto_renewable' | 'non_renewing';

/** A product the emulated App Store sells. */
export interface IapEmulatedProduct {
  /** Product id. */
  productId: string;
  /** Kind. */
  type: IapEmulatedProductType;
  /** Price in milliunits of `currency` (Apple's unit): 6000 = ¥6.00. */
  price: number;
  /** Currency, `CNY` by default. */
  currency?: string;
  /** Subscription group (auto-renewable only). */
  subscriptionGroupIdentifier?: string;
  /** Subscription period in ms (auto-renewable), 30 days by default. */
  periodMs?: number;
}

/** A transaction the emulator holds (Apple's field names, as in a signed transaction). */
export interface IapEmulatedTransaction {
  /** Transaction id. */
  transactionId: string;
  /** Original transaction id (the first purchase of a subscription). */
  originalTransactionId: string;
  /** Web order line item id (subscriptions). */
  webOrderLineItemId?: string;
  /** Product id. */
  productId: string;
  /** Subscription group. */
  subscriptionGroupIdentifier?: string;
  /** Purchase date, epoch ms. */
  purchaseDate: number;
  /** Original purchase date, epoch ms. */
  originalPurchaseDate: number;
  /** Subscription expiry, epoch ms. */
  expiresDate?: number;
  /** Quantity. */
  quantity: number;
  /** Apple's product type name (`Consumable`, `Auto-Renewable Subscription`…). */
  type: string;
  /** The app account token the purchase carries. */
  appAccountToken?: string;
  /** `PURCHASED` or `FAMILY_SHARED`. */
  inAppOwnershipType: string;
  /** Refund / revocation date, epoch ms. */
  revocationDate?: number;
  /** Refund reason (0 other, 1 app issue). */
  revocationReason?: number;
  /** `REFUND_FULL`, `REFUND_PRORATED`, `FAMILY_REVOKE`. */
  revocationType?: string;
  /** Refunded share in milliunits of a percent. */
  revocationPercentage?: number;
  /** Environment. */
  environment: 'Production' | 'Sandbox';
  /** Storefront country code. */
  storefront: string;
  /** Apple storefront id. */
  storefrontId: string;
  /** Purchase or renewal. */
  transactionReason: 'PURCHASE' | 'RENEWAL';
  /** Currency of `price`. */
  currency: string;
  /** Price in milliunits. */
  price: number;
  /** Which customer (Apple account) owns it; history and statuses are per customer. */
  customer: string;
  /** Order id of the e-mail receipt (Look Up Order ID). */
  orderId: string;
}

/** Faults a test can inject. */
export interface IapEmulatorFaults {
  /** Delay every API answer by this many ms. */
  delayMs?: number;
  /** Answer the next N API calls with HTTP 500 `{"errorCode":5000000}`. */
  status5xx?: number;
  /** Answer the next N API calls with HTTP 429 `{"errorCode":4290000}` and a `Retry-After`. */
  rateLimit?: number;
  /** The `Retry-After` value: ms to wait (sent as Apple does: the UNIX time in ms). Default 50. */
  retryAfterMs?: number;
  /** Sign data with an expired leaf certificate (under the same root). */
  expiredCertificate?: boolean;
  /** Sign data with a chain under a root the client does not trust. */
  untrustedChain?: boolean;
  /** What the OCSP responder says: `good` (default), `revoked`, `unknown`, `tryLater`, or `down` (HTTP 503). */
  ocsp?: AppleOcspCertStatus | 'tryLater' | 'down';
}

/** Options of {@link startIapEmulator}. */
export interface IapEmulatorOptions {
  /** The app's bundle id. Default `com.example.paysdk`. */
  bundleId?: string;
  /** The app's Apple id. Default 1234567890. */
  appAppleId?: number;
  /** The environment purchases happen in, and the client's environment. Default `Sandbox`. */
  environment?: 'Sandbox' | 'Production';
  /** The products on sale. */
  products?: readonly IapEmulatedProduct[];
  /** The App Store Server Notifications URL (App Store Connect setting). */
  notifyUrl?: string;
  /** Scales Apple's retry schedule (1, 12, 24, 48, 72 h). Default 1e-6 (1 h → 3.6 ms). */
  timeScale?: number;
  /** Put OCSP responder URLs in the chain and turn the client's online checks on. */
  onlineChecks?: boolean;
  /** The legacy shared secret `verifyReceipt` requires. Default a random one. */
  sharedSecret?: string;
  /** The clock, epoch ms. */
  clock?: () => number;
  /** Page size of history endpoints (Apple: 20). */
  pageSize?: number;
}

/** The product list of `clientConfig`, in `@pay/iap` catalogue form. */
export interface IapEmulatorCatalogueEntry {
  /** Product id. */
  productId: string;
  /** Kind. */
  type: IapEmulatedProductType;
  /** Amount for the ledger, minor units. */
  amount: number;
  /** Currency. */
  currency: string;
}

/** Everything `new IapClient(...)` of `@pay/iap` needs to talk to the emulator. */
export interface IapEmulatorClientConfig {
  /** Bundle id. */
  bundleId: string;
  /** App Apple id. */
  appAppleId: number;
  /** Environment of the purchases. */
  environment: 'Sandbox' | 'Production';
  /** With Production: accept sandbox data too. */
  sandboxFallback: boolean;
  /** The emulator's root certificate (DER): the only trusted root. */
  roots: Buffer[];
  /** The products. */
  products: IapEmulatorCatalogueEntry[];
  /** OCSP online checks. */
  onlineChecks: boolean;
  /** App Store Server API credentials and URLs. */
  api: { privateKey: string; keyId: string; issuerId: string; productionUrl: string; sandboxUrl: string };
  /** Legacy verifyReceipt settings. */
  legacy: { sharedSecret: string; productionUrl: string; sandboxUrl: string };
  /** The emulator's clock. */
  clock: () => number;
}

/** What {@link IapEmulator.pay} returns: what the app would get from StoreKit. */
export interface IapEmulatedPurchase {
  /** The transaction. */
  transaction: IapEmulatedTransaction;
  /** StoreKit 2: `Transaction.jwsRepresentation`. */
  signedTransaction: string;
  /** StoreKit 1: the app receipt (base64) after the purchase. */
  appReceipt: string;
  /** The UUID of the notification sent (if a notify URL is set). */
  notificationUUID: string | undefined;
}

/** One notification the emulator sent. */
export interface IapSentNotification {
  /** Its UUID. */
  notificationUUID: string;
  /** Type. */
  notificationType: string;
  /** Subtype. */
  subtype: string | undefined;
  /** The signed payload. */
  signedPayload: string;
  /** Target URL. */
  url: string | undefined;
  /** When it was sent. */
  sentAt: number;
}

/** A running App Store emulator. */
export interface IapEmulator {
  /** Base URL of the emulator. */
  readonly url: string;
  /** Config for `new IapClient(emu.clientConfig)`. */
  readonly clientConfig: IapEmulatorClientConfig;
  /** The notification deliverer (its log, faults). */
  readonly notifier: Notifier;
  /** Faults applied to the next calls. */
  faults: IapEmulatorFaults;
  /** The current signing chain. */
  readonly chain: AppleTestChain;
  /** Every API request received: method, path, query, and whether its bearer token was accepted. */
  readonly requests: Array<{ method: string; path: string; query: string; authorized: boolean }>;
  /** Notifications sent. */
  readonly notifications: IapSentNotification[];
  /** Transactions by id. */
  readonly transactions: ReadonlyMap<string, IapEmulatedTransaction>;
  /**
   * Buys `productId` (default: the first product) with `appAccountToken` (the order number) and delivers the notification
   * (`SUBSCRIBED`/`INITIAL_BUY` or `ONE_TIME_CHARGE`) to the notify URL with Apple's retries.
   */
  pay(
    appAccountToken: string | undefined,
    options?: { productId?: string; quantity?: number; notifyUrl?: string; customer?: string; environment?: 'Production' | 'Sandbox' },
  ): IapEmulatedPurchase;
  /** Renews an auto-renewable subscription (`DID_RENEW`). */
  renew(originalTransactionId: string, options?: { notifyUrl?: string }): IapEmulatedPurchase;
  /** Refunds a transaction (`REFUND`), fully or by a share in milliunits of a percent (50000 = 50%). */
  refund(transactionId: string, options?: { percentage?: number; notifyUrl?: string }): IapSentNotification | undefined;
  /** Revokes a family-shared transaction (`REVOKE`). */
  revoke(transactionId: string, options?: { notifyUrl?: string }): IapSentNotification | undefined;
  /** Expires a subscription now (`EXPIRED` / `VOLUNTARY`). */
  expire(originalTransactionId: string, options?: { notifyUrl?: string }): IapSentNotification | undefined;
  /** Sends any notification about a transaction (or none, like `TEST`). */
  notify(
    type: string,
    subtype: string | undefined,
    transactionId?: string,
    options?: { notifyUrl?: string; environment?: 'Production' | 'Sandbox' },
  ): IapSentNotification;
  /** Signs a transaction payload with the current chain (fields may be overridden to build bad data). */
  signTransaction(transaction: IapEmulatedTransaction | Record<string, unknown>, overrides?: Record<string, unknown>): string;
  /** Signs any payload with the current chain. */
  sign(payload: Record<string, unknown>, header?: Record<string, unknown>): string;
  /** The StoreKit 1 receipt of a customer now. */
  receiptOf(customer?: string, environment?: 'Production' | 'Sandbox'): string;
  /** Replaces the signing intermediate and leaf (same root), as Apple rotates certificates. */
  rotateChain(): AppleTestChain;
  /** Resolves when every notification delivery has finished. */
  idle(): Promise<void>;
  /** Stops the server and the notifier. */
  close(): Promise<void>;
}

const APPLE_TYPES: Record<IapEmulatedProductType, string> = {
  consumable: 'Consumable',
  non_consumable: 'Non-Consumable',
  auto_renewable: 'Auto-Renewable Subscription',
  non_renewing: 'Non-Renewing Subscription',
};
const HISTORY_TYPES: Record<IapEmulatedProductType, string> = {
  consumable: 'CONSUMABLE',
  non_consumable: 'NON_CONSUMABLE',
  auto_renewable: 'AUTO_RENEWABLE',
  non_renewing: 'NON_RENEWABLE',
};

const DEFAULT_PRODUCTS: readonly IapEmulatedProduct[] = [
  { productId: 'com.example.coins100', type: 'consumable', price: 6000 },
  { productId: 'com.example.premium', type: 'non_consumable', price: 30000 },
  { productId: 'com.example.pro.monthly', type: 'auto_renewable', price: 18000, subscriptionGroupIdentifier: '20000001' },
  { productId: 'com.example.season', type: 'non_renewing', price: 12000 },
];

const HOUR = 3_600_000;

function json(status: number, body: unknown, headers: Record<string, string> = {}): EmulatorResponse {
  return { status, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) };
}

function appleError(status: number, errorCode: number, errorMessage: string): EmulatorResponse {
  return json(status, { errorCode, errorMessage });
}

function decodeSegment(segment: string | undefined): Record<string, unknown> | undefined {
  if (!segment || !/^[A-Za-z0-9_-]+$/.test(segment)) return undefined;
  try {
    const value = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8')) as unknown;
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Starts the App Store emulator on 127.0.0.1.
 *
 * @example
 * ```ts
 * const emu = await startIapEmulator({ notifyUrl: 'http://127.0.0.1:3000/notify/iap' });
 * const iap = new IapClient(emu.clientConfig); // from @pay/iap
 * const { signedTransaction } = await emu.pay(appAccountToken, { productId: 'com.example.coins100' });
 * await iap.verifyPurchase({ signedTransaction, appAccountToken });
 * await emu.close();
 * ```
 */
export async function startIapEmulator(options: IapEmulatorOptions = {}): Promise<IapEmulator> {
  const clock = options.clock ?? (() => Date.now());
  const bundleId = options.bundleId ?? 'com.example.paysdk';
  const appAppleId = options.appAppleId ?? 1234567890;
  const environment = options.environment ?? 'Sandbox';
  const pageSize = options.pageSize ?? 20;
  const timeScale = options.timeScale ?? 1e-6;
  const sharedSecret = options.sharedSecret ?? randomUUID().replace(/-/g, '');
  const products = new Map((options.products ?? DEFAULT_PRODUCTS).map((p) => [p.productId, p]));
  const apiKey = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const keyId = `EMU${randomUUID().slice(0, 7).toUpperCase()}`;
  const issuerId = randomUUID();
  const faults: IapEmulatorFaults = {};
  const requests: IapEmulator['requests'] = [];
  const notifications: IapSentNotification[] = [];
  const transactions = new Map<string, IapEmulatedTransaction>();
  const receipts = new Map<string, { customer: string; environment: 'Production' | 'Sandbox' }>();
  const massRequests = new Map<string, { productId: string; count: number; at: number }>();
  const testNotifications = new Map<string, IapSentNotification>();
  let nextId = 2000000000000000 + Math.floor(Math.random() * 1000) * 1000;
  let baseUrl = '';

  const retryDelaysMs = [1, 12, 24, 48, 72].map((h) => Math.max(1, Math.round(h * HOUR * timeScale)));
  const notifier = new Notifier({ retryDelaysMs, isAcknowledged: (status) => status === 200 });

  let chain: AppleTestChain;
  let expiredChain: AppleTestChain;
  const untrustedChain = generateAppleTestChain({ now: clock() });
  const makeChain = (root?: AppleTestCertificate): AppleTestChain =>
    generateAppleTestChain({
      now: clock(),
      notAfter: clock() + 2 * 365 * 86_400_000,
      ...(root ? { root } : {}),
      ...(options.onlineChecks ? { leafOcspUrl: `${baseUrl}/ocsp/leaf`, intermediateOcspUrl: `${baseUrl}/ocsp/intermediate` } : {}),
    });

  function signingChain(): AppleTestChain {
    if (faults.untrustedChain) return untrustedChain;
    if (faults.expiredCertificate) return expiredChain;
    return chain;
  }

  function sign(payload: Record<string, unknown>, header: Record<string, unknown> = {}): string {
    return signAppleJws(payload, signingChain(), header);
  }

  function transactionPayload(t: IapEmulatedTransaction): Record<string, unknown> {
    const { customer: _c, orderId: _o, ...fields } = t;
    return { ...fields, bundleId, signedDate: clock() };
  }

  function signTransaction(t: IapEmulatedTransaction | Record<string, unknown>, overrides: Record<string, unknown> = {}): string {
    const base =
      'customer' in t && 'orderId' in t
        ? transactionPayload(t as IapEmulatedTransaction)
        : { bundleId, environment, signedDate: clock(), ...t };
    return sign({ ...base, ...overrides });
  }

  function renewalInfo(t: IapEmulatedTransaction): string {
    const expired = t.expiresDate !== undefined && t.expiresDate <= clock();
    return sign({
      originalTransactionId: t.originalTransactionId,
      autoRenewProductId: t.productId,
      productId: t.productId,
      autoRenewStatus: expired ? 0 : 1,
      ...(expired ? { expirationIntent: 1 } : { renewalDate: t.expiresDate }),
      isInBillingRetryPeriod: false,
      signedDate: clock(),
      environment: t.environment,
      recentSubscriptionStartDate: t.originalPurchaseDate,
      renewalPrice: t.price,
      currency: t.currency,
      ...(t.appAccountToken ? { appAccountToken: t.appAccountToken } : {}),
    });
  }

  function send(
    type: string,
    subtype: string | undefined,
    t: IapEmulatedTransaction | undefined,
    url: string | undefined,
    env?: 'Production' | 'Sandbox',
  ): IapSentNotification {
    const uuid = randomUUID();
    const data: Record<string, unknown> = { appAppleId, bundleId, bundleVersion: '1.0', environment: t?.environment ?? env ?? environment };
    if (t) {
      data.signedTransactionInfo = signTransaction(t);
      if (t.type === APPLE_TYPES.auto_renewable) {
        data.signedRenewalInfo = renewalInfo(t);
        data.status = t.revocationDate !== undefined ? 5 : t.expiresDate !== undefined && t.expiresDate <= clock() ? 2 : 1;
      }
    }
    const signedPayload = sign({
      notificationType: type,
      ...(subtype ? { subtype } : {}),
      notificationUUID: uuid,
      data,
      version: '2.0',
      signedDate: clock(),
    });
    const sent: IapSentNotification = { notificationUUID: uuid, notificationType: type, subtype, signedPayload, url, sentAt: clock() };
    notifications.push(sent);
    if (url) notifier.send({ url, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ signedPayload }) });
    return sent;
  }

  function newTransaction(
    product: IapEmulatedProduct,
    fields: Partial<IapEmulatedTransaction> & { customer: string; environment: 'Production' | 'Sandbox' },
  ): IapEmulatedTransaction {
    const now = clock();
    const id = String(nextId++);
    const t: IapEmulatedTransaction = {
      transactionId: id,
      originalTransactionId: id,
      productId: product.productId,
      purchaseDate: now,
      originalPurchaseDate: now,
      quantity: 1,
      type: APPLE_TYPES[product.type],
      inAppOwnershipType: 'PURCHASED',
      storefront: 'CHN',
      storefrontId: '143465',
      transactionReason: 'PURCHASE',
      currency: product.currency ?? 'CNY',
      price: product.price,
      orderId: `MT${id.slice(-9)}`,
      ...fields,
    };
    if (product.type === 'auto_renewable') {
      t.subscriptionGroupIdentifier = product.subscriptionGroupIdentifier ?? '20000001';
      t.webOrderLineItemId = String(nextId++);
      t.expiresDate = t.purchaseDate + (product.periodMs ?? 30 * 86_400_000);
    }
    transactions.set(t.transactionId, t);
    return t;
  }

  function receiptOf(customer = 'default', env: 'Production' | 'Sandbox' = environment): string {
    const inApp = [...transactions.values()]
      .filter((t) => t.customer === customer && t.environment === env && t.revocationDate === undefined)
      .map((t) => ({
        productId: t.productId,
        transactionId: t.transactionId,
        originalTransactionId: t.originalTransactionId,
        quantity: t.quantity,
        purchaseDate: t.purchaseDate,
        ...(t.expiresDate !== undefined ? { expiresDate: t.expiresDate } : {}),
      }));
    const receipt = buildIapAppReceipt({
      bundleId,
      applicationVersion: '1.0',
      receiptType: env === 'Production' ? 'Production' : 'ProductionSandbox',
      creationDate: clock(),
      inApp,
    });
    receipts.set(receipt, { customer, environment: env });
    return receipt;
  }

  // ---- App Store Server API ----------------------------------------------------------------

  const publicKey: KeyObject = createPublicKey(apiKey.privateKey);

  function authorize(req: EmulatorRequest): boolean {
    const auth = req.headers.authorization ?? '';
    if (!auth.startsWith('Bearer ')) return false;
    const parts = auth.slice(7).split('.');
    if (parts.length !== 3) return false;
    const header = decodeSegment(parts[0]);
    const claims = decodeSegment(parts[1]);
    if (!header || !claims || header.alg !== 'ES256' || header.kid !== keyId) return false;
    const now = Math.floor(clock() / 1000);
    if (claims.iss !== issuerId || claims.aud !== 'appstoreconnect-v1' || claims.bid !== bundleId) return false;
    if (
      typeof claims.exp !== 'number' ||
      typeof claims.iat !== 'number' ||
      claims.exp <= now ||
      claims.iat > now + 60 ||
      claims.exp - claims.iat > 3600
    )
      return false;
    try {
      return nodeVerify(
        'sha256',
        Buffer.from(`${parts[0]}.${parts[1]}`, 'latin1'),
        { key: publicKey, dsaEncoding: 'ieee-p1363' },
        Buffer.from(parts[2] as string, 'base64url'),
      );
    } catch {
      return false;
    }
  }

  function customerOf(id: string, env: 'Production' | 'Sandbox'): string | undefined {
    const t = transactions.get(id) ?? [...transactions.values()].find((x) => x.originalTransactionId === id);
    return t && t.environment === env ? t.customer : undefined;
  }

  const notFound = () => appleError(404, 4040010, 'Transaction id not found.');

  function page<T>(items: T[], revision: string | undefined): { slice: T[]; next: string; hasMore: boolean } | undefined {
    let start = 0;
    if (revision !== undefined) {
      const m = /^rev-(\d+)$/.exec(Buffer.from(revision, 'base64url').toString('utf8'));
      if (!m) return undefined;
      start = Number(m[1]);
    }
    const slice = items.slice(start, start + pageSize);
    const end = start + slice.length;
    return { slice, next: Buffer.from(`rev-${end}`).toString('base64url'), hasMore: end < items.length };
  }

  function apiRoute(env: 'Production' | 'Sandbox', req: EmulatorRequest, path: string): EmulatorResponse {
    const q = new URLSearchParams(req.query);
    const route = (method: string, re: RegExp): string[] | undefined => {
      if (req.method !== method) return undefined;
      const found = re.exec(path);
      return found ? found.slice(1).map((x) => decodeURIComponent(x)) : undefined;
    };
    const r1 = route('GET', /^\/inApps\/v1\/transactions\/([^/]+)$/);
    if (r1) {
      const t = transactions.get(r1[0] as string);
      if (!/^\d+$/.test(r1[0] as string)) return appleError(400, 4000006, 'Invalid transaction id.');
      if (!t || t.environment !== env) return notFound();
      return json(200, { signedTransactionInfo: signTransaction(t) });
    }
    const r2 = route('GET', /^\/inApps\/v([12])\/history\/([^/]+)$/);
    if (r2) {
      const customer = customerOf(r2[1] as string, env);
      if (customer === undefined) return notFound();
      const productIds = q.getAll('productId');
      const productTypes = q.getAll('productType');
      const revoked = q.get('revoked');
      const start = q.get('startDate');
      const end = q.get('endDate');
      let list = [...transactions.values()].filter((t) => t.customer === customer && t.environment === env);
      if (productIds.length) list = list.filter((t) => productIds.includes(t.productId));
      if (productTypes.length)
        list = list.filter((t) =>
          productTypes.includes(HISTORY_TYPES[(products.get(t.productId)?.type ?? 'consumable') as IapEmulatedProductType]),
        );
      if (revoked !== null) list = list.filter((t) => (t.revocationDate !== undefined) === (revoked === 'true'));
      if (start) list = list.filter((t) => t.purchaseDate >= Number(start));
      if (end) list = list.filter((t) => t.purchaseDate < Number(end));
      list.sort((a, b) => (q.get('sort') === 'DESCENDING' ? b.purchaseDate - a.purchaseDate : a.purchaseDate - b.purchaseDate));
      const p = page(list, q.get('revision') ?? undefined);
      if (!p) return appleError(400, 4000005, 'Invalid request revision.');
      return json(200, {
        revision: p.next,
        hasMore: p.hasMore,
        bundleId,
        appAppleId,
        environment: env,
        signedTransactions: p.slice.map((t) => signTransaction(t)),
      });
    }
    const r3 = route('GET', /^\/inApps\/v1\/subscriptions\/([^/]+)$/);
    if (r3) {
      const customer = customerOf(r3[0] as string, env);
      if (customer === undefined) return notFound();
      const wanted = q.getAll('status').map(Number);
      const latest = new Map<string, IapEmulatedTransaction>();
      for (const t of transactions.values()) {
        if (t.customer !== customer || t.environment !== env || t.type !== APPLE_TYPES.auto_renewable) continue;
        const prev = latest.get(t.originalTransactionId);
        if (!prev || t.purchaseDate >= prev.purchaseDate) latest.set(t.originalTransactionId, t);
      }
      const groups = new Map<string, Array<Record<string, unknown>>>();
      for (const t of latest.values()) {
        const status = t.revocationDate !== undefined ? 5 : (t.expiresDate ?? 0) <= clock() ? 2 : 1;
        if (wanted.length && !wanted.includes(status)) continue;
        const g = t.subscriptionGroupIdentifier ?? '';
        const list = groups.get(g) ?? [];
        list.push({
          status,
          originalTransactionId: t.originalTransactionId,
          signedTransactionInfo: signTransaction(t),
          signedRenewalInfo: renewalInfo(t),
        });
        groups.set(g, list);
      }
      return json(200, {
        environment: env,
        bundleId,
        appAppleId,
        data: [...groups].map(([subscriptionGroupIdentifier, lastTransactions]) => ({ subscriptionGroupIdentifier, lastTransactions })),
      });
    }
    const r4 = route('GET', /^\/inApps\/v1\/lookup\/([^/]+)$/);
    if (r4) {
      const orderId = r4[0] as string;
      const list = [...transactions.values()].filter((t) => t.orderId === orderId && t.environment === env);
      return json(
        200,
        list.length ? { status: 0, signedTransactions: list.map((t) => signTransaction(t)) } : { status: 1, signedTransactions: [] },
      );
    }
    const r5 = route('GET', /^\/inApps\/v2\/refund\/lookup\/([^/]+)$/);
    if (r5) {
      const customer = customerOf(r5[0] as string, env);
      if (customer === undefined) return notFound();
      const list = [...transactions.values()].filter(
        (t) => t.customer === customer && t.environment === env && t.revocationDate !== undefined,
      );
      const p = page(list, q.get('revision') ?? undefined);
      if (!p) return appleError(400, 4000005, 'Invalid request revision.');
      return json(200, { signedTransactions: p.slice.map((t) => signTransaction(t)), revision: p.next, hasMore: p.hasMore });
    }
    const r6 = route('PUT', /^\/inApps\/v[12]\/transactions\/consumption\/([^/]+)$/);
    if (r6) {
      const t = transactions.get(r6[0] as string);
      if (!t || t.environment !== env) return notFound();
      const body = parseBody(req);
      if (!body) return appleError(400, 4000000, 'Invalid request.');
      if (body.customerConsented !== true) return appleError(400, 4000035, 'Invalid request. The customer consented field is invalid.');
      if (typeof body.sampleContentProvided !== 'boolean')
        return appleError(400, 4000041, 'Invalid request. The sample content provided field is invalid.');
      return { status: 202 };
    }
    const r7 = route('PUT', /^\/inApps\/v1\/subscriptions\/extend\/([^/]+)$/);
    if (r7) {
      const id = r7[0] as string;
      const subs = [...transactions.values()].filter((t) => t.originalTransactionId === id && t.environment === env);
      if (subs.length === 0) return appleError(404, 4040005, 'Original transaction id not found.');
      const body = parseBody(req);
      const days = body?.extendByDays;
      if (typeof days !== 'number' || days < 1 || days > 90) return appleError(400, 4000009, 'Invalid extend by days value.');
      const latest = subs.sort((a, b) => b.purchaseDate - a.purchaseDate)[0] as IapEmulatedTransaction;
      latest.expiresDate = (latest.expiresDate ?? clock()) + days * 86_400_000;
      return json(200, {
        originalTransactionId: id,
        webOrderLineItemId: latest.webOrderLineItemId,
        success: true,
        effectiveDate: latest.expiresDate,
      });
    }
    if (req.method === 'POST' && path === '/inApps/v1/subscriptions/extend/mass') {
      const body = parseBody(req);
      if (!body || typeof body.requestIdentifier !== 'string' || typeof body.productId !== 'string')
        return appleError(400, 4000011, 'Invalid request identifier.');
      const count = [...transactions.values()].filter((t) => t.productId === body.productId && t.environment === env).length;
      massRequests.set(`${body.productId}/${body.requestIdentifier}`, { productId: body.productId, count, at: clock() });
      return json(200, { requestIdentifier: body.requestIdentifier });
    }
    const r8 = route('GET', /^\/inApps\/v1\/subscriptions\/extend\/mass\/([^/]+)\/([^/]+)$/);
    if (r8) {
      const r = massRequests.get(`${r8[0] as string}/${r8[1] as string}`);
      if (!r) return appleError(404, 4040009, 'Invalid request identifier.');
      return json(200, {
        requestIdentifier: r8[1] as string,
        complete: true,
        completeDate: r.at,
        succeededCount: r.count,
        failedCount: 0,
      });
    }
    if (req.method === 'POST' && path === '/inApps/v1/notifications/history') {
      const body = parseBody(req);
      if (!body || typeof body.startDate !== 'number' || typeof body.endDate !== 'number')
        return appleError(400, 4000015, 'Invalid start date.');
      const list = notifications.filter(
        (n) =>
          n.sentAt >= (body.startDate as number) &&
          n.sentAt < (body.endDate as number) &&
          (body.notificationType === undefined || n.notificationType === body.notificationType),
      );
      const token = q.get('paginationToken') ?? undefined;
      const p = page(list, token);
      if (!p) return appleError(400, 4000014, 'Invalid pagination token.');
      return json(200, {
        ...(p.hasMore ? { paginationToken: p.next } : {}),
        hasMore: p.hasMore,
        notificationHistory: p.slice.map((n) => ({ signedPayload: n.signedPayload, sendAttempts: attemptsOf(n) })),
      });
    }
    if (req.method === 'POST' && path === '/inApps/v1/notifications/test') {
      const url = options.notifyUrl;
      if (!url) return appleError(404, 4040007, 'Server notification URL not found.');
      const token = randomUUID();
      testNotifications.set(token, send('TEST', undefined, undefined, url, env));
      return json(200, { testNotificationToken: token });
    }
    const r9 = route('GET', /^\/inApps\/v1\/notifications\/test\/([^/]+)$/);
    if (r9) {
      const n = testNotifications.get(r9[0] as string);
      if (!n) return appleError(404, 4040008, 'Test notification not found.');
      return json(200, { signedPayload: n.signedPayload, sendAttempts: attemptsOf(n) });
    }
    return { status: 404, headers: { 'content-type': 'text/plain' }, body: 'Not Found' };
  }

  function attemptsOf(n: IapSentNotification): Array<{ attemptDate: number; sendAttemptResult: string }> {
    if (!n.url) return [];
    return notifier.log
      .filter((a) => a.url === n.url && a.at >= n.sentAt)
      .slice(0, 6)
      .map((a) => ({
        attemptDate: a.at,
        sendAttemptResult: a.acknowledged ? 'SUCCESS' : a.status === 0 ? 'NO_RESPONSE' : 'UNSUCCESSFUL_HTTP_RESPONSE_CODE',
      }));
  }

  function parseBody(req: EmulatorRequest): Record<string, unknown> | undefined {
    try {
      const v = JSON.parse(req.body.toString('utf8')) as unknown;
      return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
    } catch {
      return undefined;
    }
  }

  // ---- legacy verifyReceipt ------------------------------------------------------------------

  function legacyTransaction(t: IapEmulatedTransaction): Record<string, string> {
    const out: Record<string, string> = {
      quantity: String(t.quantity),
      product_id: t.productId,
      transaction_id: t.transactionId,
      original_transaction_id: t.originalTransactionId,
      purchase_date_ms: String(t.purchaseDate),
      original_purchase_date_ms: String(t.originalPurchaseDate),
      is_trial_period: 'false',
      in_app_ownership_type: t.inAppOwnershipType,
    };
    if (t.expiresDate !== undefined) out.expires_date_ms = String(t.expiresDate);
    if (t.webOrderLineItemId) out.web_order_line_item_id = t.webOrderLineItemId;
    if (t.subscriptionGroupIdentifier) out.subscription_group_identifier = t.subscriptionGroupIdentifier;
    if (t.revocationDate !== undefined) out.cancellation_date_ms = String(t.revocationDate);
    if (t.appAccountToken) out.app_account_token = t.appAccountToken;
    return out;
  }

  function verifyReceiptRoute(env: 'Production' | 'Sandbox', req: EmulatorRequest): EmulatorResponse {
    if (req.method !== 'POST') return json(200, { status: 21000 });
    const body = parseBody(req);
    const data = body?.['receipt-data'];
    if (typeof data !== 'string' || data === '') return json(200, { status: 21002 });
    const known = receipts.get(data);
    if (!known) return json(200, { status: 21003 });
    if (known.environment === 'Sandbox' && env === 'Production') return json(200, { status: 21007 });
    if (known.environment === 'Production' && env === 'Sandbox') return json(200, { status: 21008 });
    if (body?.password !== sharedSecret) return json(200, { status: 21004 });
    const mine = [...transactions.values()].filter((t) => t.customer === known.customer && t.environment === env);
    const subs = mine.filter((t) => t.type === APPLE_TYPES.auto_renewable);
    const latestPerSub = new Map<string, IapEmulatedTransaction>();
    for (const t of subs) {
      const prev = latestPerSub.get(t.originalTransactionId);
      if (!prev || t.purchaseDate >= prev.purchaseDate) latestPerSub.set(t.originalTransactionId, t);
    }
    return json(200, {
      status: 0,
      environment: env,
      receipt: {
        receipt_type: env === 'Production' ? 'Production' : 'ProductionSandbox',
        bundle_id: bundleId,
        application_version: '1.0',
        receipt_creation_date_ms: String(clock()),
        in_app: mine.filter((t) => t.revocationDate === undefined).map(legacyTransaction),
      },
      latest_receipt_info: subs.map(legacyTransaction).reverse(),
      latest_receipt: data,
      pending_renewal_info: [...latestPerSub.values()].map((t) => ({
        auto_renew_product_id: t.productId,
        product_id: t.productId,
        original_transaction_id: t.originalTransactionId,
        auto_renew_status: (t.expiresDate ?? 0) > clock() ? '1' : '0',
      })),
    });
  }

  // ---- OCSP ------------------------------------------------------------------------------------

  function ocspRoute(which: 'leaf' | 'intermediate', req: EmulatorRequest): EmulatorResponse {
    const status = faults.ocsp ?? 'good';
    if (status === 'down') return { status: 503, body: 'Service Unavailable' };
    if (status === 'tryLater')
      return { status: 200, headers: { 'content-type': 'application/ocsp-response' }, body: buildAppleOcspErrorResponse(3) };
    try {
      // OCSPRequest → tbsRequest → requestList → Request → CertID
      const certIdNode = derChildren(
        derChildren(derChildren(derChildren(readDer(req.body))[0] as DerNode)[0] as DerNode)[0] as DerNode,
      )[0] as DerNode;
      const [alg, nameHash, keyHash, serial] = derChildren(certIdNode);
      const hashOid = derOid(derChildren(alg as DerNode)[0] as DerNode);
      const current = signingChain();
      const issuer = which === 'leaf' ? current.intermediate : current.root;
      return {
        status: 200,
        headers: { 'content-type': 'application/ocsp-response' },
        body: buildAppleOcspResponse({
          certId: {
            hash: hashOid === '1.3.14.3.2.26' ? 'sha1' : 'sha256',
            issuerNameHash: Buffer.from(derContent(nameHash as DerNode)),
            issuerKeyHash: Buffer.from(derContent(keyHash as DerNode)),
            serial: derInteger(serial as DerNode),
          },
          status: status as AppleOcspCertStatus,
          issuer,
          now: clock(),
        }),
      };
    } catch {
      return { status: 200, headers: { 'content-type': 'application/ocsp-response' }, body: buildAppleOcspErrorResponse(1) };
    }
  }

  // ---- server ----------------------------------------------------------------------------------

  const server = await startLoopbackServer(async (req) => {
    if (req.path.startsWith('/ocsp/')) return ocspRoute(req.path === '/ocsp/leaf' ? 'leaf' : 'intermediate', req);
    if (req.path === '/verifyReceipt/production' || req.path === '/verifyReceipt/sandbox') {
      return verifyReceiptRoute(req.path.endsWith('production') ? 'Production' : 'Sandbox', req);
    }
    const m = /^\/(production|sandbox)(\/.*)$/.exec(req.path);
    if (!m) return { status: 404, body: 'Not Found' };
    const env = m[1] === 'production' ? 'Production' : 'Sandbox';
    if (faults.delayMs) await new Promise((r) => setTimeout(r, faults.delayMs));
    const authorized = authorize(req);
    requests.push({ method: req.method, path: m[2] as string, query: req.query, authorized });
    if (!authorized) return { status: 401, headers: { 'content-type': 'text/plain' }, body: 'Unauthenticated\n\nRequest ID: EMULATOR.0.0' };
    if (faults.status5xx && faults.status5xx > 0) {
      faults.status5xx--;
      return appleError(500, 5000000, 'An unknown error occurred.');
    }
    if (faults.rateLimit && faults.rateLimit > 0) {
      faults.rateLimit--;
      return {
        ...appleError(429, 4290000, 'Rate limit exceeded.'),
        headers: { 'content-type': 'application/json', 'retry-after': String(clock() + (faults.retryAfterMs ?? 50)) },
      };
    }
    return apiRoute(env, req, m[2] as string);
  });
  baseUrl = server.url;
  chain = makeChain();
  expiredChain = generateAppleTestChain({
    now: clock(),
    root: chain.root,
    leafValidity: { notBefore: clock() - 30 * 86_400_000, notAfter: clock() - 86_400_000 },
  });

  const requireTransaction = (id: string): IapEmulatedTransaction => {
    const t = transactions.get(id);
    if (!t) throw new Error(`@pay/sandbox: iap: no transaction ${id}`);
    return t;
  };
  const latestOf = (originalTransactionId: string): IapEmulatedTransaction => {
    const list = [...transactions.values()]
      .filter((t) => t.originalTransactionId === originalTransactionId)
      .sort((a, b) => b.purchaseDate - a.purchaseDate);
    if (!list[0]) throw new Error(`@pay/sandbox: iap: no subscription ${originalTransactionId}`);
    return list[0];
  };

  const emulator: IapEmulator = {
    url: server.url,
    clientConfig: {
      bundleId,
      appAppleId,
      environment,
      sandboxFallback: environment === 'Production',
      roots: [chain.root.der],
      products: [...products.values()].map((p) => ({
        productId: p.productId,
        type: p.type,
        amount: Math.round(p.price / 10),
        currency: p.currency ?? 'CNY',
      })),
      onlineChecks: options.onlineChecks === true,
      api: {
        privateKey: apiKey.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
        keyId,
        issuerId,
        productionUrl: `${server.url}/production`,
        sandboxUrl: `${server.url}/sandbox`,
      },
      legacy: { sharedSecret, productionUrl: `${server.url}/verifyReceipt/production`, sandboxUrl: `${server.url}/verifyReceipt/sandbox` },
      clock,
    },
    notifier,
    get faults() {
      return faults;
    },
    set faults(value: IapEmulatorFaults) {
      for (const k of Object.keys(faults) as Array<keyof IapEmulatorFaults>) delete faults[k];
      Object.assign(faults, value);
    },
    get chain() {
      return chain;
    },
    requests,
    notifications,
    transactions,
    pay(appAccountToken, opts = {}) {
      const productId = opts.productId ?? (products.keys().next().value as string);
      const product = products.get(productId);
      if (!product) throw new Error(`@pay/sandbox: iap: the emulator sells no product ${productId}`);
      const customer = opts.customer ?? 'default';
      const env = opts.environment ?? environment;
      const t = newTransaction(product, {
        customer,
        environment: env,
        quantity: opts.quantity ?? 1,
        ...(appAccountToken ? { appAccountToken: appAccountToken.toLowerCase() } : {}),
      });
      const url = opts.notifyUrl ?? options.notifyUrl;
      const sent = url
        ? send(
            product.type === 'auto_renewable' ? 'SUBSCRIBED' : 'ONE_TIME_CHARGE',
            product.type === 'auto_renewable' ? 'INITIAL_BUY' : undefined,
            t,
            url,
          )
        : undefined;
      return {
        transaction: t,
        signedTransaction: signTransaction(t),
        appReceipt: receiptOf(customer, env),
        notificationUUID: sent?.notificationUUID,
      };
    },
    renew(originalTransactionId, opts = {}) {
      const last = latestOf(originalTransactionId);
      const product = products.get(last.productId) as IapEmulatedProduct;
      const t = newTransaction(product, {
        customer: last.customer,
        environment: last.environment,
        originalTransactionId,
        originalPurchaseDate: last.originalPurchaseDate,
        purchaseDate: Math.max(clock(), last.expiresDate ?? clock()),
        transactionReason: 'RENEWAL',
        ...(last.appAccountToken ? { appAccountToken: last.appAccountToken } : {}),
      });
      t.expiresDate = t.purchaseDate + (product.periodMs ?? 30 * 86_400_000);
      const url = opts.notifyUrl ?? options.notifyUrl;
      const sent = url ? send('DID_RENEW', undefined, t, url) : undefined;
      return {
        transaction: t,
        signedTransaction: signTransaction(t),
        appReceipt: receiptOf(t.customer, t.environment),
        notificationUUID: sent?.notificationUUID,
      };
    },
    refund(transactionId, opts = {}) {
      const t = requireTransaction(transactionId);
      t.revocationDate = clock();
      t.revocationReason = 0;
      t.revocationType = opts.percentage !== undefined && opts.percentage < 100_000 ? 'REFUND_PRORATED' : 'REFUND_FULL';
      if (opts.percentage !== undefined) t.revocationPercentage = opts.percentage;
      const url = opts.notifyUrl ?? options.notifyUrl;
      return url ? send('REFUND', undefined, t, url) : undefined;
    },
    revoke(transactionId, opts = {}) {
      const t = requireTransaction(transactionId);
      t.revocationDate = clock();
      t.revocationType = 'FAMILY_REVOKE';
      const url = opts.notifyUrl ?? options.notifyUrl;
      return url ? send('REVOKE', undefined, t, url) : undefined;
    },
    expire(originalTransactionId, opts = {}) {
      const t = latestOf(originalTransactionId);
      t.expiresDate = clock() - 1;
      const url = opts.notifyUrl ?? options.notifyUrl;
      return url ? send('EXPIRED', 'VOLUNTARY', t, url) : undefined;
    },
    notify(type, subtype, transactionId, opts = {}) {
      return send(
        type,
        subtype,
        transactionId ? requireTransaction(transactionId) : undefined,
        opts.notifyUrl ?? options.notifyUrl,
        opts.environment,
      );
    },
    signTransaction,
    sign,
    receiptOf,
    rotateChain() {
      chain = makeChain(chain.root);
      expiredChain = generateAppleTestChain({
        now: clock(),
        root: chain.root,
        leafValidity: { notBefore: clock() - 30 * 86_400_000, notAfter: clock() - 86_400_000 },
      });
      return chain;
    },
    idle: () => notifier.idle(),
    async close() {
      notifier.stop();
      await server.close();
    },
  };
  return emulator;
}
