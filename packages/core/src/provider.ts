/**
 * The contract between the ledger and a provider package. Each provider package
 * (`@pay/alipay`, `@pay/wechat`, `@pay/unionpay`, `@pay/iap`) ships an adapter
 * implementing {@link PaymentProvider}; the ledger only speaks this interface.
 * Unified types use camelCase and integer minor units (fen).
 *
 * @module
 */
import type { PayError } from './errors.js';
import type { IncomingNotification, NotificationReply } from './notify.js';

/** Names of the providers pay-sdk ships; other strings are allowed for custom providers. */
export type ProviderName = 'alipay' | 'wechat' | 'unionpay' | 'iap' | (string & {});

/** What the ledger asks a provider to start. */
export interface CreatePaymentInput {
  /** Provider channel, e.g. Alipay `app`/`page`/`wap`/`qr`, WeChat `app`/`jsapi`/`native`/`h5`, UnionPay `app`/`web`. */
  channel: string;
  /** The merchant's order number (`out_trade_no`, UnionPay `orderId`); unique per merchant. */
  outTradeNo: string;
  /** Amount in minor units (fen). */
  amount: number;
  /** ISO 4217 currency, `CNY` unless said otherwise. */
  currency: string;
  /** Short description shown to the payer (`subject`, `description`). */
  subject: string;
  /** Where the provider sends the server notification. */
  notifyUrl?: string;
  /** Where the payer's browser returns (web flows; display only). */
  returnUrl?: string;
  /** The payer's IP (WeChat `payer_client_ip`). */
  clientIp?: string;
  /** The payer, where the channel needs one (WeChat JSAPI `openid`, barcode `authCode`). */
  payer?: { openid?: string; subOpenid?: string; buyerId?: string; authCode?: string };
  /** IAP: the product id from the catalogue. */
  productId?: string;
  /** When the order stops being payable, epoch ms. */
  expiresAt?: number;
  /** Opaque data echoed back in the notification (`passback_params`, `attach`, `reqReserved`). */
  attach?: string;
  /** Provider-specific fields, merged into the provider request as given. */
  extra?: Record<string, unknown>;
}

/** What a provider returns for a started payment. */
export interface CreatedPayment {
  /** What the client needs: order string, URL, form, QR code, client parameters, `tn`, token. */
  data: Record<string, unknown>;
  /** The provider's reference, if one exists already (`prepay_id`, `tn`, `trade_no`, `appAccountToken`). */
  providerRef?: string;
  /** Values the provider needs again for query / refund / close (e.g. UnionPay `txnTime`). Stored with the record. */
  providerData?: Record<string, string>;
}

/** A payment as the ledger knows it, passed back to the provider for query, refund and close. */
export interface PaymentRef {
  /** The merchant's order number. */
  outTradeNo: string;
  /** The provider's transaction id, once known. */
  providerTradeNo?: string;
  /** The amount in fen. */
  amount: number;
  /** The currency. */
  currency: string;
  /** The channel it was created on. */
  channel: string;
  /** When the record was created, epoch ms. */
  createdAt: number;
  /** What {@link CreatedPayment.providerData} held. */
  providerData?: Record<string, string>;
}

/** Kinds of unified events. */
export type PaymentEventKind =
  | 'paid'
  | 'closed'
  | 'refunded'
  | 'refund_failed'
  | 'pending'
  | 'finished'
  | 'revoked'
  | 'renewed'
  | 'expired'
  | 'other';

/** A verified notification (or verified client proof), in unified form. */
export interface PaymentEvent {
  /** The provider that sent it. */
  provider: ProviderName;
  /** What happened. */
  kind: PaymentEventKind;
  /**
   * A stable id of this notification, for recognising duplicates (Alipay `notify_id`,
   * WeChat notification `id`, UnionPay `queryId`+`txnType`, Apple `notificationUUID`).
   */
  eventId: string;
  /** The merchant's order number the event concerns (IAP: the `appAccountToken`). */
  outTradeNo?: string;
  /** The provider's transaction id. */
  providerTradeNo?: string;
  /** The total amount of the payment, fen. */
  amount?: number;
  /** Currency of `amount`. */
  currency?: string;
  /** The app id the provider reports (Alipay `app_id`, WeChat `appid`, Apple bundle id). */
  appId?: string;
  /** The merchant id the provider reports (Alipay `seller_id`, WeChat `mchid`, UnionPay `merId`). */
  merchantId?: string;
  /** When it happened, epoch ms, when the provider says. */
  occurredAt?: number;
  /** For refund events: the refund. */
  refund?: { refundId?: string; providerRefundId?: string; amount: number };
  /** The verified provider payload, as typed by the provider package. */
  raw: unknown;
}

/** The state of a payment according to an active query. */
export type PaymentState = 'pending' | 'paid' | 'closed' | 'refunded' | 'partially_refunded' | 'failed' | 'not_found';

/** The answer of an active query. */
export interface PaymentStatus {
  /** The state. */
  state: PaymentState;
  /** The merchant's order number. */
  outTradeNo: string;
  /** The provider's transaction id. */
  providerTradeNo?: string;
  /** The amount paid, fen. */
  amount?: number;
  /** Currency of `amount`. */
  currency?: string;
  /** When it was paid, epoch ms. */
  paidAt?: number;
  /** The app id the provider reports. */
  appId?: string;
  /** The merchant id the provider reports. */
  merchantId?: string;
  /** For providers that answer "still processing" (UnionPay): when to ask again, epoch ms. */
  retryAt?: number;
  /** The verified provider payload. */
  raw: unknown;
}

/** A refund the ledger asks for. */
export interface RefundRequest {
  /** The payment to refund. */
  payment: PaymentRef;
  /** The refund request id: stable across retries so a retry never refunds twice. */
  refundId: string;
  /** Amount to refund, fen. */
  amount: number;
  /** Why (shown to the payer where supported). */
  reason?: string;
  /** Where refund notifications go (WeChat, UnionPay). */
  notifyUrl?: string;
}

/** The outcome of a refund request. */
export interface RefundOutcome {
  /** `succeeded` when money moved, `processing` when the provider will confirm later. */
  state: 'succeeded' | 'processing' | 'failed';
  /** The refund request id. */
  refundId: string;
  /** The provider's refund id. */
  providerRefundId?: string;
  /** Amount refunded, fen. */
  amount: number;
  /** Provider-specific data to keep (e.g. UnionPay refund `txnTime`). */
  providerData?: Record<string, string>;
  /** The verified provider payload. */
  raw: unknown;
}

/** The outcome of handling a notification, for building the provider's reply. */
export type NotificationOutcome = { ok: true } | { ok: false; error: PayError };

/**
 * What each provider package implements so the ledger can use it.
 * Every method throws {@link PayError}s only.
 */
export interface PaymentProvider {
  /** Provider name, the key the ledger files records under. */
  readonly name: ProviderName;
  /** Channels this provider offers. */
  readonly channels: readonly string[];
  /** The app and merchant ids this adapter is configured with, checked against every event. */
  readonly identity: { appId?: string; merchantId?: string };
  /** Starts a payment and returns what the client needs. */
  createPayment(input: CreatePaymentInput): Promise<CreatedPayment>;
  /** Verifies a server notification and turns it into a unified event. */
  parseNotification(incoming: IncomingNotification): Promise<PaymentEvent>;
  /** The reply the provider expects, for success or failure. */
  notificationReply(outcome: NotificationOutcome): NotificationReply;
  /** Asks the provider for the state of a payment. */
  queryPayment(ref: PaymentRef): Promise<PaymentStatus>;
  /** Refunds (part of) a payment. */
  refund(request: RefundRequest): Promise<RefundOutcome>;
  /** Closes an unpaid payment so it can no longer be paid. */
  closePayment(ref: PaymentRef): Promise<void>;
  /**
   * Makes a new merchant order number in the form this provider requires (IAP: a UUID,
   * because it travels as `appAccountToken`). The ledger uses its own generator
   * (China time + random digits) for providers without one.
   */
  newOutTradeNo?(): string;
  /**
   * Verifies proof of payment the client submitted, where the proof is signed by the
   * provider itself (Apple's signed transaction). Providers without such proof omit it.
   */
  verifyClientProof?(proof: string, ref: PaymentRef): Promise<PaymentEvent>;
}
