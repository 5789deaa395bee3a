/**
 * The App Store Server API client: ES256 bearer tokens, production and sandbox
 * hosts, every endpoint a purchase backend needs, Apple's error codes kept,
 * `429` honoured, and "production first, then sandbox on `4040010`" for
 * callers that do not know a transaction's environment.
 *
 * @module
 */
import type { KeyObject } from 'node:crypto';
import {
  type Clock,
  getDefaultTransport,
  type HttpRequest,
  type HttpResponse,
  type KeyInput,
  loadPrivateKey,
  PayArgumentError,
  PayConfigError,
  PayError,
  PayNotFoundError,
  PayProviderError,
  PayRateLimitError,
  PayResponseError,
  PayUpstreamError,
  systemClock,
  type Transport,
} from '@pay/core';
import { describeValue, PKG } from './errors.js';
import { assertP256PrivateKey, signEs256 } from './jws.js';

/** Production base URL of the App Store Server API. */
export const APP_STORE_PRODUCTION_URL = 'https://api.storekit.apple.com';
/** Sandbox base URL of the App Store Server API. */
export const APP_STORE_SANDBOX_URL = 'https://api.storekit-sandbox.apple.com';

/** Apple's App Store Server API error codes (the `errorCode` of an error body), by name. */
export const AppStoreApiError = {
  GENERAL_BAD_REQUEST: 4000000,
  INVALID_APP_IDENTIFIER: 4000002,
  INVALID_REQUEST_REVISION: 4000005,
  INVALID_TRANSACTION_ID: 4000006,
  INVALID_ORIGINAL_TRANSACTION_ID: 4000008,
  INVALID_EXTEND_BY_DAYS: 4000009,
  INVALID_EXTEND_REASON_CODE: 4000010,
  INVALID_REQUEST_IDENTIFIER: 4000011,
  START_DATE_TOO_FAR_IN_PAST: 4000012,
  START_DATE_AFTER_END_DATE: 4000013,
  INVALID_PAGINATION_TOKEN: 4000014,
  INVALID_START_DATE: 4000015,
  INVALID_END_DATE: 4000016,
  PAGINATION_TOKEN_EXPIRED: 4000017,
  INVALID_NOTIFICATION_TYPE: 4000018,
  MULTIPLE_FILTERS_SUPPLIED: 4000019,
  INVALID_TEST_NOTIFICATION_TOKEN: 4000020,
  INVALID_SORT: 4000021,
  INVALID_PRODUCT_TYPE: 4000022,
  INVALID_PRODUCT_ID: 4000023,
  INVALID_SUBSCRIPTION_GROUP_IDENTIFIER: 4000024,
  INVALID_IN_APP_OWNERSHIP_TYPE: 4000026,
  INVALID_EMPTY_STOREFRONT_COUNTRY_CODE_LIST: 4000027,
  INVALID_STOREFRONT_COUNTRY_CODE: 4000028,
  INVALID_REVOKED: 4000030,
  INVALID_STATUS: 4000031,
  INVALID_ACCOUNT_TENURE: 4000032,
  INVALID_APP_ACCOUNT_TOKEN: 4000033,
  INVALID_CONSUMPTION_STATUS: 4000034,
  INVALID_CUSTOMER_CONSENTED: 4000035,
  INVALID_DELIVERY_STATUS: 4000036,
  INVALID_LIFETIME_DOLLARS_PURCHASED: 4000037,
  INVALID_LIFETIME_DOLLARS_REFUNDED: 4000038,
  INVALID_PLATFORM: 4000039,
  INVALID_PLAY_TIME: 4000040,
  INVALID_SAMPLE_CONTENT_PROVIDED: 4000041,
  INVALID_USER_STATUS: 4000042,
  INVALID_TRANSACTION_TYPE_NOT_SUPPORTED: 4000047,
  APP_TRANSACTION_ID_NOT_SUPPORTED: 4000048,
  INVALID_APP_ACCOUNT_TOKEN_UUID: 4000183,
  FAMILY_TRANSACTION_NOT_SUPPORTED: 4000185,
  TRANSACTION_ID_IS_NOT_ORIGINAL_TRANSACTION_ID: 4000187,
  SUBSCRIPTION_EXTENSION_INELIGIBLE: 4030004,
  SUBSCRIPTION_MAX_EXTENSION: 4030005,
  FAMILY_SHARED_SUBSCRIPTION_EXTENSION_INELIGIBLE: 4030007,
  ACCOUNT_NOT_FOUND: 4040001,
  ACCOUNT_NOT_FOUND_RETRYABLE: 4040002,
  APP_NOT_FOUND: 4040003,
  APP_NOT_FOUND_RETRYABLE: 4040004,
  ORIGINAL_TRANSACTION_ID_NOT_FOUND: 4040005,
  ORIGINAL_TRANSACTION_ID_NOT_FOUND_RETRYABLE: 4040006,
  SERVER_NOTIFICATION_URL_NOT_FOUND: 4040007,
  TEST_NOTIFICATION_NOT_FOUND: 4040008,
  STATUS_REQUEST_NOT_FOUND: 4040009,
  TRANSACTION_ID_NOT_FOUND: 4040010,
  APP_TRANSACTION_DOES_NOT_EXIST: 4040019,
  RATE_LIMIT_EXCEEDED: 4290000,
  GENERAL_INTERNAL: 5000000,
  GENERAL_INTERNAL_RETRYABLE: 5000001,
} as const;

const RETRYABLE_CODES: ReadonlySet<number> = new Set([4040002, 4040004, 4040006, 5000001]);

/** Options of {@link AppStoreServerApiClient}. */
export interface AppStoreServerApiOptions {
  /** The In-App Purchase key (`SubscriptionKey_XXXX.p8`) from App Store Connect: PEM, base64 or `KeyObject`. */
  privateKey: KeyInput;
  /** The key's id (`kid`). */
  keyId: string;
  /** Your issuer id (`iss`) from the Keys page of App Store Connect. */
  issuerId: string;
  /** Your app's bundle id (`bid`). */
  bundleId: string;
  /** `Production` or `Sandbox` (`LocalTesting` needs `localTestingUrl`). Xcode has no server API. */
  environment: 'Production' | 'Sandbox' | 'LocalTesting';
  /**
   * With `Production`: calls keyed by a transaction id that answer `4040010`
   * (transaction id not found) are tried again on the sandbox (App Review and TestFlight purchases).
   */
  sandboxFallback?: boolean;
  /** Overrides the production base URL (tests, emulator). */
  productionUrl?: string;
  /** Overrides the sandbox base URL (tests, emulator). */
  sandboxUrl?: string;
  /** Base URL for `LocalTesting`. */
  localTestingUrl?: string;
  /** The transport (default: core's shared transport). */
  transport?: Transport;
  /** The clock (token `iat` / `exp`, rate-limit waits). */
  clock?: Clock;
  /** Lifetime of a bearer token, seconds (Apple allows up to 3600). Default 300. */
  tokenTtlSeconds?: number;
  /** Timeout of a call, ms (default: the transport's). */
  timeoutMs?: number;
  /** How often a `429` is waited out and retried. Default 2. */
  rateLimitRetries?: number;
  /** Longest wait for a `429` before giving up with a `PayRateLimitError`, ms. Default 10 000. */
  maxRateLimitWaitMs?: number;
  /** Sleep function (injectable for tests). */
  sleep?: (ms: number) => Promise<void>;
}

/** Filters of the transaction history endpoint. */
export interface TransactionHistoryRequest {
  /** Earliest purchase date, epoch ms. */
  startDate?: number;
  /** Latest purchase date, epoch ms. */
  endDate?: number;
  /** Only these products. */
  productIds?: string[];
  /** Only these types: `AUTO_RENEWABLE`, `NON_RENEWABLE`, `CONSUMABLE`, `NON_CONSUMABLE`. */
  productTypes?: Array<'AUTO_RENEWABLE' | 'NON_RENEWABLE' | 'CONSUMABLE' | 'NON_CONSUMABLE' | (string & {})>;
  /** `ASCENDING` or `DESCENDING` by modification date. */
  sort?: 'ASCENDING' | 'DESCENDING';
  /** Only these subscription groups. */
  subscriptionGroupIdentifiers?: string[];
  /** `FAMILY_SHARED` or `PURCHASED`. */
  inAppOwnershipType?: 'FAMILY_SHARED' | 'PURCHASED';
  /** Only revoked (true) or only not revoked (false). */
  revoked?: boolean;
}

/** A page of transaction history (`HistoryResponse`). */
export interface HistoryResponse {
  /** Token for the next page. */
  revision?: string;
  /** Whether more pages follow. */
  hasMore?: boolean;
  /** The app's bundle id. */
  bundleId?: string;
  /** The app's Apple id. */
  appAppleId?: number;
  /** The environment. */
  environment?: string;
  /** Signed transactions (JWS). */
  signedTransactions?: string[];
}

/** `TransactionInfoResponse`. */
export interface TransactionInfoResponse {
  /** The signed transaction. */
  signedTransactionInfo?: string;
}

/** One subscription of a group in `StatusResponse`. */
export interface LastTransactionsItem {
  /** 1 active, 2 expired, 3 billing retry, 4 grace period, 5 revoked. */
  status?: number;
  /** Original transaction id. */
  originalTransactionId?: string;
  /** Latest signed transaction. */
  signedTransactionInfo?: string;
  /** Signed renewal info. */
  signedRenewalInfo?: string;
}

/** `StatusResponse` of Get All Subscription Statuses. */
export interface StatusResponse {
  /** The environment. */
  environment?: string;
  /** The app's bundle id. */
  bundleId?: string;
  /** The app's Apple id. */
  appAppleId?: number;
  /** One entry per subscription group. */
  data?: Array<{ subscriptionGroupIdentifier?: string; lastTransactions?: LastTransactionsItem[] }>;
}

/** `OrderLookupResponse`: status 0 valid, 1 invalid. */
export interface OrderLookupResponse {
  /** 0 valid order id, 1 invalid. */
  status?: number;
  /** The order's signed transactions. */
  signedTransactions?: string[];
}

/** `RefundHistoryResponse`. */
export interface RefundHistoryResponse {
  /** Signed refunded transactions. */
  signedTransactions?: string[];
  /** Token for the next page. */
  revision?: string;
  /** Whether more pages follow. */
  hasMore?: boolean;
}

/** `ConsumptionRequest` (Send Consumption Information, v2). */
export interface ConsumptionRequest {
  /** Whether the customer consented to share data. */
  customerConsented: boolean;
  /** Delivery status, e.g. `DELIVERED`, `UNDELIVERED_QUALITY_ISSUE`. */
  deliveryStatus: string;
  /** Whether you provided a free sample. */
  sampleContentProvided: boolean;
  /** Share consumed, in milliunits of a percent (0–100000). */
  consumptionPercentage?: number;
  /** Your refund preference, e.g. `DECLINE`, `GRANT_FULL`, `GRANT_PRORATED`. */
  refundPreference?: string;
}

/** `ExtendRenewalDateRequest`. */
export interface ExtendRenewalDateRequest {
  /** Days to extend (max 90). */
  extendByDays: number;
  /** 0 undeclared, 1 customer satisfaction, 2 other, 3 service issue or outage. */
  extendReasonCode: number;
  /** Your unique id of this request (idempotency). */
  requestIdentifier: string;
}

/** `ExtendRenewalDateResponse`. */
export interface ExtendRenewalDateResponse {
  /** Original transaction id. */
  originalTransactionId?: string;
  /** Web order line item id. */
  webOrderLineItemId?: string;
  /** Whether it succeeded. */
  success?: boolean;
  /** New expiry, epoch ms. */
  effectiveDate?: number;
}

/** `MassExtendRenewalDateRequest`. */
export interface MassExtendRenewalDateRequest extends ExtendRenewalDateRequest {
  /** The subscription product. */
  productId: string;
  /** Limit to these storefronts. */
  storefrontCountryCodes?: string[];
}

/** `MassExtendRenewalDateStatusResponse`. */
export interface MassExtendRenewalDateStatusResponse {
  /** The request id. */
  requestIdentifier?: string;
  /** Whether Apple finished. */
  complete?: boolean;
  /** When, epoch ms. */
  completeDate?: number;
  /** Extended subscriptions. */
  succeededCount?: number;
  /** Not extended. */
  failedCount?: number;
}

/** `NotificationHistoryRequest`. */
export interface NotificationHistoryRequest {
  /** Start, epoch ms (required). */
  startDate: number;
  /** End, epoch ms (required). */
  endDate: number;
  /** Only this type. */
  notificationType?: string;
  /** Only this subtype. */
  notificationSubtype?: string;
  /** Only notifications about this transaction. */
  transactionId?: string;
  /** Only failed deliveries. */
  onlyFailures?: boolean;
}

/** One delivery attempt in notification history. */
export interface SendAttemptItem {
  /** When, epoch ms. */
  attemptDate?: number;
  /** `SUCCESS`, `NO_RESPONSE`, `TIMED_OUT`, `CIRCULAR_REDIRECT`… */
  sendAttemptResult?: string;
}

/** `NotificationHistoryResponse`. */
export interface NotificationHistoryResponse {
  /** Token for the next page. */
  paginationToken?: string;
  /** Whether more pages follow. */
  hasMore?: boolean;
  /** The notifications and their delivery attempts. */
  notificationHistory?: Array<{ sendAttempts?: SendAttemptItem[]; signedPayload?: string }>;
}

/** `SendTestNotificationResponse`. */
export interface SendTestNotificationResponse {
  /** Token to check the test notification's status. */
  testNotificationToken?: string;
}

/** `CheckTestNotificationResponse`. */
export interface CheckTestNotificationResponse {
  /** The test notification's signed payload. */
  signedPayload?: string;
  /** Its delivery attempts. */
  sendAttempts?: SendAttemptItem[];
}

/** `AppTransactionInfoResponse`. */
export interface AppTransactionInfoResponse {
  /** The signed app transaction. */
  signedAppTransactionInfo?: string;
}

type FieldKind = 'string' | 'number' | 'boolean' | 'array' | 'string[]';
type Shape = Readonly<Record<string, FieldKind>>;

const SHAPES = {
  transactionInfo: { signedTransactionInfo: 'string' },
  history: {
    revision: 'string',
    hasMore: 'boolean',
    bundleId: 'string',
    appAppleId: 'number',
    environment: 'string',
    signedTransactions: 'string[]',
  },
  statuses: { environment: 'string', bundleId: 'string', appAppleId: 'number', data: 'array' },
  orderLookup: { status: 'number', signedTransactions: 'string[]' },
  refundHistory: { signedTransactions: 'string[]', revision: 'string', hasMore: 'boolean' },
  extend: { originalTransactionId: 'string', webOrderLineItemId: 'string', success: 'boolean', effectiveDate: 'number' },
  mass: { requestIdentifier: 'string' },
  massStatus: { requestIdentifier: 'string', complete: 'boolean', completeDate: 'number', succeededCount: 'number', failedCount: 'number' },
  notificationHistory: { paginationToken: 'string', hasMore: 'boolean', notificationHistory: 'array' },
  sendTest: { testNotificationToken: 'string' },
  checkTest: { signedPayload: 'string', sendAttempts: 'array' },
  appTransactionInfo: { signedAppTransactionInfo: 'string' },
} satisfies Record<string, Shape>;

function fitsKind(value: unknown, kind: FieldKind): boolean {
  switch (kind) {
    case 'string':
      return typeof value === 'string';
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'boolean':
      return typeof value === 'boolean';
    case 'array':
      return Array.isArray(value);
    case 'string[]':
      return Array.isArray(value) && value.every((v) => typeof v === 'string');
  }
}

interface CallOptions {
  /** Field types the answer must have (fields may be absent; values of enumerations are not restricted). */
  shape?: Shape;
  query?: Array<[string, string]>;
  body?: unknown;
  /** A transaction-keyed call: may fall back to the sandbox on 4040010. */
  keyed?: boolean;
  idempotent: boolean;
  expectBody: boolean;
}

const defaultSleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function segment(value: unknown, what: string): string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new PayArgumentError(`${PKG}: ${what}: expected a non-empty string, got ${describeValue(value)}`);
  }
  return encodeURIComponent(value);
}

/**
 * Parses a `Retry-After` header: Apple sends the UNIX time in milliseconds at
 * which to retry; plain HTTP allows seconds or an HTTP date.
 *
 * @returns milliseconds to wait from `now`, or undefined when absent or unreadable
 */
export function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) {
    const n = Number(v);
    if (!Number.isSafeInteger(n)) return undefined;
    return n > 1e11 ? Math.max(0, n - now) : n * 1000;
  }
  const date = Date.parse(v);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/**
 * A client of the App Store Server API. The key is parsed once; bearer tokens are
 * reused until shortly before they expire.
 *
 * @example
 * ```ts
 * const api = new AppStoreServerApiClient({
 *   privateKey: readFileSync('SubscriptionKey_ABC123.p8', 'utf8'),
 *   keyId: 'ABC123', issuerId: '57246542-96fe-1a63-e053-0824d011072a',
 *   bundleId: 'com.example.app', environment: 'Production', sandboxFallback: true,
 * });
 * const { signedTransactionInfo } = await api.getTransactionInfo('2000000000000001');
 * ```
 */
export class AppStoreServerApiClient {
  /** The environment called first. */
  readonly environment: 'Production' | 'Sandbox' | 'LocalTesting';
  private readonly key: KeyObject;
  private readonly keyId: string;
  private readonly issuerId: string;
  private readonly bundleId: string;
  private readonly baseUrl: string;
  private readonly fallbackUrl: string | undefined;
  private readonly transport: Transport;
  private readonly clock: Clock;
  private readonly ttl: number;
  private readonly timeoutMs: number | undefined;
  private readonly rateLimitRetries: number;
  private readonly maxWaitMs: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private token: { value: string; refreshAt: number } | undefined;

  /**
   * @param options - key, ids, environment and transport
   * @throws PayConfigError when the key is not an EC P-256 private key, an id is missing, or the environment is not supported
   */
  constructor(options: AppStoreServerApiOptions) {
    for (const field of ['keyId', 'issuerId', 'bundleId'] as const) {
      if (typeof options?.[field] !== 'string' || options[field].trim() === '') {
        throw new PayConfigError(`${PKG}: App Store Server API: expected ${field}, got ${describeValue(options?.[field])}`);
      }
    }
    this.key = loadPrivateKey(options.privateKey, { label: 'privateKey (App Store Connect .p8)' });
    assertP256PrivateKey(this.key, 'privateKey');
    this.keyId = options.keyId;
    this.issuerId = options.issuerId;
    this.bundleId = options.bundleId;
    this.environment = options.environment;
    const production = options.productionUrl ?? APP_STORE_PRODUCTION_URL;
    const sandbox = options.sandboxUrl ?? APP_STORE_SANDBOX_URL;
    if (options.environment === 'Production') {
      this.baseUrl = production;
      this.fallbackUrl = options.sandboxFallback ? sandbox : undefined;
    } else if (options.environment === 'Sandbox') {
      this.baseUrl = sandbox;
      this.fallbackUrl = undefined;
    } else if (options.environment === 'LocalTesting') {
      if (!options.localTestingUrl) throw new PayConfigError(`${PKG}: App Store Server API: LocalTesting needs localTestingUrl`);
      this.baseUrl = options.localTestingUrl;
      this.fallbackUrl = undefined;
    } else {
      throw new PayConfigError(
        `${PKG}: App Store Server API: expected environment Production, Sandbox or LocalTesting, got ${describeValue(options.environment)} (Xcode has no server API)`,
      );
    }
    this.baseUrl = this.baseUrl.replace(/\/+$/, '');
    this.fallbackUrl = this.fallbackUrl?.replace(/\/+$/, '');
    this.transport = options.transport ?? getDefaultTransport();
    this.clock = options.clock ?? systemClock;
    const ttl = options.tokenTtlSeconds ?? 300;
    if (!Number.isInteger(ttl) || ttl < 60 || ttl > 3600) {
      throw new PayConfigError(`${PKG}: App Store Server API: tokenTtlSeconds must be 60–3600, got ${describeValue(ttl)}`);
    }
    this.ttl = ttl;
    this.timeoutMs = options.timeoutMs;
    this.rateLimitRetries = options.rateLimitRetries ?? 2;
    this.maxWaitMs = options.maxRateLimitWaitMs ?? 10_000;
    this.sleep = options.sleep ?? defaultSleep;
  }

  /**
   * The current bearer token (ES256 JWT: `kid`, `iss`, `iat`, `exp`, `aud: appstoreconnect-v1`, `bid`).
   * A token is reused until one minute before it expires.
   */
  bearerToken(): string {
    const now = this.clock();
    if (this.token && now < this.token.refreshAt) return this.token.value;
    const iat = Math.floor(now / 1000);
    const value = signEs256(
      { alg: 'ES256', kid: this.keyId, typ: 'JWT' },
      { iss: this.issuerId, iat, exp: iat + this.ttl, aud: 'appstoreconnect-v1', bid: this.bundleId },
      this.key,
    );
    this.token = { value, refreshAt: (iat + this.ttl - 60) * 1000 };
    return value;
  }

  /**
   * Get Transaction Info: `GET /inApps/v1/transactions/{transactionId}`.
   *
   * @throws PayNotFoundError (`4040010`), PayProviderError, PayRateLimitError, PayUpstreamError, transport errors
   */
  async getTransactionInfo(transactionId: string): Promise<TransactionInfoResponse> {
    return this.call('GET', `/inApps/v1/transactions/${segment(transactionId, 'transactionId')}`, {
      shape: SHAPES.transactionInfo,
      keyed: true,
      idempotent: true,
      expectBody: true,
    });
  }

  /**
   * Get Transaction History: `GET /inApps/{v1|v2}/history/{transactionId}` with the filters as query
   * parameters and `revision` for the next page. Use v2 (the default).
   *
   * @throws see {@link AppStoreServerApiClient.getTransactionInfo}
   */
  async getTransactionHistory(
    transactionId: string,
    request: TransactionHistoryRequest = {},
    revision?: string,
    version: 'v1' | 'v2' = 'v2',
  ): Promise<HistoryResponse> {
    const q: Array<[string, string]> = [];
    if (revision !== undefined && revision !== null) q.push(['revision', revision]);
    if (request.startDate !== undefined) q.push(['startDate', String(request.startDate)]);
    if (request.endDate !== undefined) q.push(['endDate', String(request.endDate)]);
    for (const p of request.productIds ?? []) q.push(['productId', p]);
    for (const t of request.productTypes ?? []) q.push(['productType', t]);
    if (request.sort) q.push(['sort', request.sort]);
    for (const g of request.subscriptionGroupIdentifiers ?? []) q.push(['subscriptionGroupIdentifier', g]);
    if (request.inAppOwnershipType) q.push(['inAppOwnershipType', request.inAppOwnershipType]);
    if (request.revoked !== undefined) q.push(['revoked', String(request.revoked)]);
    if (version !== 'v1' && version !== 'v2')
      throw new PayArgumentError(`${PKG}: transaction history version: expected v1 or v2, got ${describeValue(version)}`);
    return this.call('GET', `/inApps/${version}/history/${segment(transactionId, 'transactionId')}`, {
      shape: SHAPES.history,
      query: q,
      keyed: true,
      idempotent: true,
      expectBody: true,
    });
  }

  /**
   * Get All Subscription Statuses: `GET /inApps/v1/subscriptions/{transactionId}?status=…`.
   *
   * @param status - only these statuses (1 active, 2 expired, 3 billing retry, 4 grace period, 5 revoked)
   * @throws see {@link AppStoreServerApiClient.getTransactionInfo}
   */
  async getAllSubscriptionStatuses(transactionId: string, status?: readonly number[]): Promise<StatusResponse> {
    return this.call('GET', `/inApps/v1/subscriptions/${segment(transactionId, 'transactionId')}`, {
      shape: SHAPES.statuses,
      query: (status ?? []).map((s) => ['status', String(s)]),
      keyed: true,
      idempotent: true,
      expectBody: true,
    });
  }

  /**
   * Look Up Order ID: `GET /inApps/v1/lookup/{orderId}` (the order id from the customer's e-mail receipt).
   *
   * @throws see {@link AppStoreServerApiClient.getTransactionInfo}
   */
  async lookUpOrderId(orderId: string): Promise<OrderLookupResponse> {
    return this.call('GET', `/inApps/v1/lookup/${segment(orderId, 'orderId')}`, {
      shape: SHAPES.orderLookup,
      keyed: true,
      idempotent: true,
      expectBody: true,
    });
  }

  /**
   * Get Refund History: `GET /inApps/v2/refund/lookup/{transactionId}?revision=…`.
   *
   * @throws see {@link AppStoreServerApiClient.getTransactionInfo}
   */
  async getRefundHistory(transactionId: string, revision?: string): Promise<RefundHistoryResponse> {
    return this.call('GET', `/inApps/v2/refund/lookup/${segment(transactionId, 'transactionId')}`, {
      shape: SHAPES.refundHistory,
      query: revision === undefined || revision === null ? [] : [['revision', revision]],
      keyed: true,
      idempotent: true,
      expectBody: true,
    });
  }

  /**
   * Send Consumption Information (v2): `PUT /inApps/v2/transactions/consumption/{transactionId}`,
   * after a `CONSUMPTION_REQUEST` notification.
   *
   * @throws see {@link AppStoreServerApiClient.getTransactionInfo}
   */
  async sendConsumptionInformation(transactionId: string, request: ConsumptionRequest): Promise<void> {
    await this.call('PUT', `/inApps/v2/transactions/consumption/${segment(transactionId, 'transactionId')}`, {
      body: request,
      keyed: true,
      idempotent: true,
      expectBody: false,
    });
  }

  /**
   * Send Consumption Information (v1, deprecated by Apple): `PUT /inApps/v1/transactions/consumption/{transactionId}`.
   *
   * @throws see {@link AppStoreServerApiClient.getTransactionInfo}
   */
  async sendConsumptionData(transactionId: string, request: Record<string, unknown>): Promise<void> {
    await this.call('PUT', `/inApps/v1/transactions/consumption/${segment(transactionId, 'transactionId')}`, {
      body: request,
      keyed: true,
      idempotent: true,
      expectBody: false,
    });
  }

  /**
   * Extend a Subscription Renewal Date: `PUT /inApps/v1/subscriptions/extend/{originalTransactionId}`.
   * Idempotent by `requestIdentifier`.
   *
   * @throws see {@link AppStoreServerApiClient.getTransactionInfo}
   */
  async extendSubscriptionRenewalDate(
    originalTransactionId: string,
    request: ExtendRenewalDateRequest,
  ): Promise<ExtendRenewalDateResponse> {
    return this.call('PUT', `/inApps/v1/subscriptions/extend/${segment(originalTransactionId, 'originalTransactionId')}`, {
      shape: SHAPES.extend,
      body: request,
      keyed: true,
      idempotent: true,
      expectBody: true,
    });
  }

  /**
   * Extend Subscription Renewal Dates for All Active Subscribers: `POST /inApps/v1/subscriptions/extend/mass`.
   * Idempotent by `requestIdentifier`.
   *
   * @throws see {@link AppStoreServerApiClient.getTransactionInfo}
   */
  async extendRenewalDateForAllActiveSubscribers(request: MassExtendRenewalDateRequest): Promise<{ requestIdentifier?: string }> {
    return this.call('POST', '/inApps/v1/subscriptions/extend/mass', {
      shape: SHAPES.mass,
      body: request,
      idempotent: true,
      expectBody: true,
    });
  }

  /**
   * Get Status of Subscription Renewal Date Extensions: `GET /inApps/v1/subscriptions/extend/mass/{productId}/{requestIdentifier}`.
   *
   * @throws see {@link AppStoreServerApiClient.getTransactionInfo}
   */
  async getStatusOfSubscriptionRenewalDateExtensions(
    productId: string,
    requestIdentifier: string,
  ): Promise<MassExtendRenewalDateStatusResponse> {
    return this.call(
      'GET',
      `/inApps/v1/subscriptions/extend/mass/${segment(productId, 'productId')}/${segment(requestIdentifier, 'requestIdentifier')}`,
      { shape: SHAPES.massStatus, idempotent: true, expectBody: true },
    );
  }

  /**
   * Get Notification History: `POST /inApps/v1/notifications/history?paginationToken=…`.
   *
   * @throws see {@link AppStoreServerApiClient.getTransactionInfo}
   */
  async getNotificationHistory(request: NotificationHistoryRequest, paginationToken?: string): Promise<NotificationHistoryResponse> {
    return this.call('POST', '/inApps/v1/notifications/history', {
      shape: SHAPES.notificationHistory,
      query: paginationToken === undefined || paginationToken === null ? [] : [['paginationToken', paginationToken]],
      body: request,
      idempotent: true,
      expectBody: true,
    });
  }

  /**
   * Request a Test Notification: `POST /inApps/v1/notifications/test`.
   *
   * @throws see {@link AppStoreServerApiClient.getTransactionInfo}
   */
  async requestTestNotification(): Promise<SendTestNotificationResponse> {
    return this.call('POST', '/inApps/v1/notifications/test', { shape: SHAPES.sendTest, idempotent: false, expectBody: true });
  }

  /**
   * Get Test Notification Status: `GET /inApps/v1/notifications/test/{testNotificationToken}`.
   *
   * @throws see {@link AppStoreServerApiClient.getTransactionInfo}
   */
  async getTestNotificationStatus(testNotificationToken: string): Promise<CheckTestNotificationResponse> {
    return this.call('GET', `/inApps/v1/notifications/test/${segment(testNotificationToken, 'testNotificationToken')}`, {
      shape: SHAPES.checkTest,
      idempotent: true,
      expectBody: true,
    });
  }

  /**
   * Get App Transaction Info: `GET /inApps/v1/transactions/appTransactions/{transactionId}`.
   *
   * @throws see {@link AppStoreServerApiClient.getTransactionInfo}
   */
  async getAppTransactionInfo(transactionId: string): Promise<AppTransactionInfoResponse> {
    return this.call('GET', `/inApps/v1/transactions/appTransactions/${segment(transactionId, 'transactionId')}`, {
      shape: SHAPES.appTransactionInfo,
      keyed: true,
      idempotent: true,
      expectBody: true,
    });
  }

  /**
   * Set App Account Token: `PUT /inApps/v1/transactions/{originalTransactionId}/appAccountToken`.
   *
   * @throws see {@link AppStoreServerApiClient.getTransactionInfo}
   */
  async setAppAccountToken(originalTransactionId: string, appAccountToken: string): Promise<void> {
    await this.call('PUT', `/inApps/v1/transactions/${segment(originalTransactionId, 'originalTransactionId')}/appAccountToken`, {
      body: { appAccountToken },
      keyed: true,
      idempotent: true,
      expectBody: false,
    });
  }

  private async call<T>(method: HttpRequest['method'], path: string, options: CallOptions): Promise<T> {
    try {
      return await this.callAt<T>(this.baseUrl, method, path, options);
    } catch (e) {
      if (
        options.keyed &&
        this.fallbackUrl !== undefined &&
        e instanceof PayError &&
        e.providerCode === String(AppStoreApiError.TRANSACTION_ID_NOT_FOUND)
      ) {
        return this.callAt<T>(this.fallbackUrl, method, path, options);
      }
      throw e;
    }
  }

  private async callAt<T>(base: string, method: HttpRequest['method'], path: string, options: CallOptions): Promise<T> {
    const query = options.query && options.query.length > 0 ? `?${new URLSearchParams(options.query).toString()}` : '';
    const url = `${base}${path}${query}`;
    const body = options.body === undefined ? undefined : JSON.stringify(options.body);
    for (let attempt = 0; ; attempt++) {
      const headers: Record<string, string> = {
        authorization: `Bearer ${this.bearerToken()}`,
        accept: 'application/json',
        'user-agent': 'pay-sdk-iap/0.1',
      };
      if (body !== undefined) headers['content-type'] = 'application/json';
      let res: HttpResponse;
      try {
        res = await this.transport.request({
          method,
          url,
          headers,
          ...(body !== undefined ? { body } : {}),
          ...(this.timeoutMs !== undefined ? { timeoutMs: this.timeoutMs } : {}),
          idempotent: options.idempotent,
        });
      } catch (e) {
        if (e instanceof PayUpstreamError && e.response) throw this.apiError(e.response, method, path, e);
        throw e;
      }
      if (res.status === 429) {
        const wait = parseRetryAfter(res.headers['retry-after'], this.clock());
        const err = this.apiError(res, method, path);
        if (attempt < this.rateLimitRetries && wait !== undefined && wait <= this.maxWaitMs) {
          await this.sleep(wait);
          continue;
        }
        throw err;
      }
      if (res.status >= 200 && res.status < 300) {
        if (!options.expectBody) return undefined as T;
        return this.parseBody<T>(res, method, path, options.shape);
      }
      throw this.apiError(res, method, path);
    }
  }

  private parseBody<T>(res: HttpResponse, method: string, path: string, shape: Shape | undefined): T {
    let value: unknown;
    try {
      value = JSON.parse(res.body.toString('utf8'));
    } catch (e) {
      throw new PayResponseError(`${PKG}: ${method} ${path}: expected a JSON body, got ${res.body.length} bytes that are not JSON`, {
        cause: e,
        httpStatus: res.status,
        provider: 'iap',
      });
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new PayResponseError(`${PKG}: ${method} ${path}: expected a JSON object, got ${describeValue(value)}`, {
        httpStatus: res.status,
        provider: 'iap',
      });
    }
    for (const [field, kind] of Object.entries(shape ?? {})) {
      const v = (value as Record<string, unknown>)[field];
      if (v !== undefined && v !== null && !fitsKind(v, kind)) {
        throw new PayResponseError(`${PKG}: ${method} ${path}: field ${field}: expected ${kind}, got ${describeValue(v)}`, {
          httpStatus: res.status,
          provider: 'iap',
        });
      }
    }
    return value as T;
  }

  private apiError(
    res: { status: number; headers: Record<string, string>; body: Uint8Array },
    method: string,
    path: string,
    cause?: unknown,
  ): PayError {
    let code: number | undefined;
    let message: string | undefined;
    try {
      const parsed = JSON.parse(Buffer.from(res.body).toString('utf8')) as { errorCode?: unknown; errorMessage?: unknown };
      if (typeof parsed.errorCode === 'number') code = parsed.errorCode;
      if (typeof parsed.errorMessage === 'string') message = parsed.errorMessage;
    } catch {
      // not JSON: keep the status only
    }
    const detail = {
      provider: 'iap',
      httpStatus: res.status,
      ...(code !== undefined ? { providerCode: String(code) } : {}),
      ...(message !== undefined ? { providerMessage: message } : {}),
      ...(cause !== undefined ? { cause } : {}),
    };
    const what = `${PKG}: ${method} ${path}: App Store Server API answered HTTP ${res.status}${code !== undefined ? ` errorCode ${code}` : ''}`;
    if (res.status === 429) {
      const wait = parseRetryAfter(res.headers['retry-after'], this.clock());
      return new PayRateLimitError(`${what} (rate limit exceeded)`, { ...detail, ...(wait !== undefined ? { retryAfterMs: wait } : {}) });
    }
    if (res.status >= 500) {
      return new PayUpstreamError(what, { ...detail, response: { status: res.status, headers: res.headers, body: res.body } });
    }
    if (res.status === 401) {
      return new PayProviderError(`${what} (the bearer token was refused)`, {
        ...detail,
        hint: 'check keyId, issuerId, the .p8 key and bundleId; production answers 401 until the app has a production release',
      });
    }
    if (res.status === 404) {
      return new PayNotFoundError(what, {
        ...detail,
        ...(code !== undefined && RETRYABLE_CODES.has(code) ? { retryable: true } : {}),
        ...(code === AppStoreApiError.TRANSACTION_ID_NOT_FOUND && this.environment === 'Production' && this.fallbackUrl === undefined
          ? { hint: 'a sandbox (App Review / TestFlight) transaction? enable sandboxFallback' }
          : {}),
      });
    }
    return new PayProviderError(what, { ...detail, ...(code !== undefined && RETRYABLE_CODES.has(code) ? { retryable: true } : {}) });
  }
}
