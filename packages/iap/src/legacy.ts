/**
 * The legacy `verifyReceipt` endpoint (deprecated by Apple since WWDC 2023 in
 * favour of the App Store Server API and signed transactions): production
 * first, sandbox on `21007` (and production on `21008`), every status mapped
 * to a `PayError`, `latest_receipt_info` and `in_app` merged.
 *
 * @module
 */
import {
  getDefaultTransport,
  PayArgumentError,
  PayConfigError,
  type PayError,
  PayMismatchError,
  PayNotFoundError,
  PayProviderError,
  PayResponseError,
  PaySignatureError,
  PayUpstreamError,
  type Transport,
} from '@pay/core';
import { describeValue, PKG, VerificationReason } from './errors.js';

/** Production `verifyReceipt` URL. */
export const VERIFY_RECEIPT_PRODUCTION_URL = 'https://buy.itunes.apple.com/verifyReceipt';
/** Sandbox `verifyReceipt` URL. */
export const VERIFY_RECEIPT_SANDBOX_URL = 'https://sandbox.itunes.apple.com/verifyReceipt';

/** One transaction of `in_app` / `latest_receipt_info` (field names and string values as Apple sends them). */
export interface LegacyInAppTransaction {
  /** Quantity purchased. */
  quantity?: string;
  /** The product id. */
  product_id?: string;
  /** The transaction id. */
  transaction_id?: string;
  /** The original transaction id. */
  original_transaction_id?: string;
  /** Purchase date, epoch ms as text. */
  purchase_date_ms?: string;
  /** Original purchase date, epoch ms. */
  original_purchase_date_ms?: string;
  /** Subscription expiry, epoch ms. */
  expires_date_ms?: string;
  /** Refund / revocation date, epoch ms. */
  cancellation_date_ms?: string;
  /** 0 other, 1 app issue. */
  cancellation_reason?: string;
  /** Web order line item id. */
  web_order_line_item_id?: string;
  /** `true` during a free trial. */
  is_trial_period?: string;
  /** `true` during an introductory price period. */
  is_in_intro_offer_period?: string;
  /** The subscription group. */
  subscription_group_identifier?: string;
  /** `PURCHASED` or `FAMILY_SHARED`. */
  in_app_ownership_type?: string;
  /** The app account token (UUID) set at purchase. */
  app_account_token?: string;
  /** Promotional offer id. */
  promotional_offer_id?: string;
  /** Offer code name. */
  offer_code_ref_name?: string;
  /** Other fields Apple sends. */
  [field: string]: unknown;
}

/** One element of `pending_renewal_info`. */
export interface LegacyPendingRenewalInfo {
  /** Product that renews next. */
  auto_renew_product_id?: string;
  /** `1` auto-renew on, `0` off. */
  auto_renew_status?: string;
  /** Why it expired: `1` cancelled, `2` billing error, `3` price increase not accepted, `4` product unavailable, `5` unknown. */
  expiration_intent?: string;
  /** End of the grace period, epoch ms. */
  grace_period_expires_date_ms?: string;
  /** `1` while Apple retries billing. */
  is_in_billing_retry_period?: string;
  /** Offer code name. */
  offer_code_ref_name?: string;
  /** The original transaction id. */
  original_transaction_id?: string;
  /** `0` / `1` price increase consent. */
  price_consent_status?: string;
  /** Current product. */
  product_id?: string;
  /** Promotional offer id of the next renewal. */
  promotional_offer_id?: string;
  /** Price increase status. */
  price_increase_status?: string;
  /** Other fields Apple sends. */
  [field: string]: unknown;
}

/** The JSON `verifyReceipt` answers (field names as Apple spells them). */
export interface LegacyVerifyReceiptResponse {
  /** 0 when valid; otherwise a 21xxx code. */
  status: number;
  /** `Production` or `Sandbox`. */
  environment?: string;
  /** The decoded receipt. */
  receipt?: {
    bundle_id?: string;
    application_version?: string;
    original_application_version?: string;
    receipt_type?: string;
    receipt_creation_date_ms?: string;
    in_app?: LegacyInAppTransaction[];
    [field: string]: unknown;
  };
  /** Latest transactions of auto-renewable subscriptions (with a shared secret). */
  latest_receipt_info?: LegacyInAppTransaction[];
  /** The latest base64 receipt. */
  latest_receipt?: string;
  /** Renewal state of each subscription. */
  pending_renewal_info?: LegacyPendingRenewalInfo[];
  /** Set on 21100–21199: whether to retry. */
  'is-retryable'?: boolean;
  /** Other fields Apple sends. */
  [field: string]: unknown;
}

/** What {@link LegacyReceiptVerifier.verifyReceipt} returns. */
export interface LegacyReceiptResult {
  /** The environment that validated the receipt. */
  environment: 'Production' | 'Sandbox';
  /** Transactions of `latest_receipt_info` and `receipt.in_app`, de-duplicated by `transaction_id`, by purchase date. */
  transactions: LegacyInAppTransaction[];
  /** `pending_renewal_info`, typed. */
  pendingRenewalInfo: LegacyPendingRenewalInfo[];
  /** Apple's full answer. */
  response: LegacyVerifyReceiptResponse;
}

/** Options of {@link LegacyReceiptVerifier}. */
export interface LegacyReceiptOptions {
  /** The app-specific shared secret (needed for auto-renewable subscriptions). */
  sharedSecret?: string;
  /** When set, the receipt's `bundle_id` must be this. */
  bundleId?: string;
  /** Which endpoint to call first (default `Production`, as Apple recommends). */
  environment?: 'Production' | 'Sandbox';
  /** Overrides the production URL (tests). */
  productionUrl?: string;
  /** Overrides the sandbox URL (tests). */
  sandboxUrl?: string;
  /** The transport. */
  transport?: Transport;
  /** Timeout per call, ms. */
  timeoutMs?: number;
}

const STATUS_TEXT: Record<number, string> = {
  21000: 'the request to the App Store was not an HTTP POST, or was malformed',
  21001: 'this status code is no longer sent by the App Store',
  21002: 'the receipt-data was malformed, or the service had a temporary issue',
  21003: 'the receipt could not be authenticated',
  21004: 'the shared secret does not match the one on file for the account',
  21005: 'the receipt server was temporarily unable to provide the receipt',
  21006: 'the receipt is valid but the subscription has expired',
  21007: 'the receipt is from the sandbox but was sent to the production service',
  21008: 'the receipt is from production but was sent to the sandbox service',
  21009: 'internal data access error',
  21010: 'the user account cannot be found or has been deleted',
};

/** The `PayError` for a non-zero `verifyReceipt` status. */
export function legacyStatusError(status: number, response?: LegacyVerifyReceiptResponse): PayError {
  const text = STATUS_TEXT[status] ?? (status >= 21100 && status <= 21199 ? 'internal data access error' : 'unknown status');
  const message = `${PKG}: verifyReceipt answered status ${status}: ${text}`;
  const detail = { provider: 'iap', providerCode: String(status), providerMessage: text };
  if (status === 21003) return new PaySignatureError(message, { ...detail, reason: VerificationReason.VERIFICATION_FAILURE });
  if (status === 21004)
    return new PayProviderError(message, { ...detail, hint: 'check the app-specific shared secret in App Store Connect' });
  if (status === 21010) return new PayNotFoundError(message, detail);
  if (status === 21002) return new PayProviderError(message, { ...detail, retryable: true });
  if (status === 21005 || status === 21009 || (status >= 21100 && status <= 21199)) {
    return new PayUpstreamError(message, { ...detail, retryable: response?.['is-retryable'] !== false });
  }
  return new PayProviderError(message, detail);
}

function mergeTransactions(response: LegacyVerifyReceiptResponse): LegacyInAppTransaction[] {
  const byId = new Map<string, LegacyInAppTransaction>();
  const anonymous: LegacyInAppTransaction[] = [];
  // latest_receipt_info first: it is the fresher copy of the same transactions.
  for (const list of [response.latest_receipt_info, response.receipt?.in_app]) {
    if (!Array.isArray(list)) continue;
    for (const t of list) {
      if (typeof t !== 'object' || t === null) continue;
      const id = t.transaction_id;
      if (typeof id !== 'string') anonymous.push(t);
      else if (!byId.has(id)) byId.set(id, t);
    }
  }
  const all = [...byId.values(), ...anonymous];
  return all.sort((a, b) => Number(a.purchase_date_ms ?? 0) - Number(b.purchase_date_ms ?? 0));
}

/**
 * Calls the legacy `verifyReceipt` endpoint. Deprecated by Apple: prefer
 * `IapClient.verifyPurchase` with a signed transaction, or the App Store Server API.
 *
 * @example
 * ```ts
 * const legacy = new LegacyReceiptVerifier({ sharedSecret: process.env.APPLE_SHARED_SECRET, bundleId: 'com.example.app' });
 * const { environment, transactions } = await legacy.verifyReceipt(receiptBase64);
 * ```
 */
export class LegacyReceiptVerifier {
  private readonly sharedSecret: string | undefined;
  private readonly bundleId: string | undefined;
  private readonly first: 'Production' | 'Sandbox';
  private readonly urls: Record<'Production' | 'Sandbox', string>;
  private readonly transport: Transport;
  private readonly timeoutMs: number | undefined;

  /**
   * @param options - shared secret, bundle id, URLs, transport
   * @throws PayConfigError when the shared secret is given but empty
   */
  constructor(options: LegacyReceiptOptions = {}) {
    if (options.sharedSecret !== undefined && (typeof options.sharedSecret !== 'string' || options.sharedSecret.trim() === '')) {
      throw new PayConfigError(`${PKG}: verifyReceipt: sharedSecret must be a non-empty string when given`);
    }
    this.sharedSecret = options.sharedSecret;
    this.bundleId = options.bundleId;
    this.first = options.environment ?? 'Production';
    this.urls = {
      Production: options.productionUrl ?? VERIFY_RECEIPT_PRODUCTION_URL,
      Sandbox: options.sandboxUrl ?? VERIFY_RECEIPT_SANDBOX_URL,
    };
    this.transport = options.transport ?? getDefaultTransport();
    this.timeoutMs = options.timeoutMs;
  }

  /**
   * Validates a base64 app receipt with Apple: production first, then the sandbox on `21007`
   * (or the other way on `21008` when starting with the sandbox).
   *
   * @throws PayArgumentError for an empty receipt; a `PayError` per status (see {@link legacyStatusError});
   * PayMismatchError (reason `INVALID_APP_IDENTIFIER`) when the receipt belongs to another app; transport errors
   */
  async verifyReceipt(receiptData: string, options: { excludeOldTransactions?: boolean } = {}): Promise<LegacyReceiptResult> {
    if (typeof receiptData !== 'string' || receiptData.trim() === '') {
      throw new PayArgumentError(`${PKG}: verifyReceipt: expected the base64 receipt, got ${describeValue(receiptData)}`);
    }
    const body = JSON.stringify({
      'receipt-data': receiptData.replace(/\s+/g, ''),
      ...(this.sharedSecret !== undefined ? { password: this.sharedSecret } : {}),
      ...(options.excludeOldTransactions !== undefined ? { 'exclude-old-transactions': options.excludeOldTransactions } : {}),
    });
    let environment = this.first;
    let response = await this.post(environment, body);
    if (environment === 'Production' && response.status === 21007) {
      environment = 'Sandbox';
      response = await this.post(environment, body);
    } else if (environment === 'Sandbox' && response.status === 21008) {
      environment = 'Production';
      response = await this.post(environment, body);
    }
    if (response.status !== 0 && response.status !== 21006) throw legacyStatusError(response.status, response);
    const bundle = response.receipt?.bundle_id;
    if (this.bundleId !== undefined && bundle !== this.bundleId) {
      throw new PayMismatchError(
        `${PKG}: verifyReceipt: expected a receipt of ${JSON.stringify(this.bundleId)}, got bundle_id ${describeValue(bundle)}`,
        {
          provider: 'iap',
          reason: VerificationReason.INVALID_APP_IDENTIFIER,
        },
      );
    }
    return {
      environment,
      transactions: mergeTransactions(response),
      pendingRenewalInfo: Array.isArray(response.pending_renewal_info) ? response.pending_renewal_info : [],
      response,
    };
  }

  private async post(environment: 'Production' | 'Sandbox', body: string): Promise<LegacyVerifyReceiptResponse> {
    const res = await this.transport.request({
      method: 'POST',
      url: this.urls[environment],
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body,
      idempotent: true,
      ...(this.timeoutMs !== undefined ? { timeoutMs: this.timeoutMs } : {}),
    });
    let parsed: unknown;
    try {
      parsed = JSON.parse(res.body.toString('utf8'));
    } catch (e) {
      throw new PayResponseError(
        `${PKG}: verifyReceipt (${environment}): expected JSON, got HTTP ${res.status} with ${res.body.length} bytes that are not JSON`,
        {
          cause: e,
          httpStatus: res.status,
          provider: 'iap',
        },
      );
    }
    if (typeof parsed !== 'object' || parsed === null || typeof (parsed as { status?: unknown }).status !== 'number') {
      throw new PayResponseError(
        `${PKG}: verifyReceipt (${environment}): expected an object with a numeric status, got ${describeValue(parsed)}`,
        {
          httpStatus: res.status,
          provider: 'iap',
        },
      );
    }
    return parsed as LegacyVerifyReceiptResponse;
  }
}
