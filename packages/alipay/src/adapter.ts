/**
 * The ledger adapter: {@link AlipayProvider} implements core's `PaymentProvider`
 * over {@link AlipayClient} with camelCase, fen-denominated unified types.
 *
 * @module
 */
import {
  type CreatedPayment,
  type CreatePaymentInput,
  fromDecimalString,
  type IncomingNotification,
  type NotificationOutcome,
  type NotificationReply,
  PayArgumentError,
  type PaymentEvent,
  type PaymentEventKind,
  type PaymentProvider,
  type PaymentRef,
  type PaymentState,
  type PaymentStatus,
  PayNotFoundError,
  type RefundOutcome,
  type RefundRequest,
} from '@pay/core';
import { AlipayClient } from './client.js';
import type { AlipayConfig } from './config.js';
import { PREFIX, PROVIDER_NAME } from './errors.js';
import { parseChinaTime } from './sign.js';
import type { AlipayOrderInput } from './types.js';

/** The channels of the adapter: APP, PC page, mobile WAP, QR (precreate) and barcode pay. */
export const ALIPAY_CHANNELS = ['app', 'page', 'wap', 'qr', 'barcode'] as const;

/** One of {@link ALIPAY_CHANNELS}. */
export type AlipayChannel = (typeof ALIPAY_CHANNELS)[number];

/** Options of {@link AlipayProvider}. */
export interface AlipayProviderOptions {
  /** Default `notify_url` when a payment gives none. */
  notifyUrl?: string;
  /** Default `return_url` of page / WAP payments. */
  returnUrl?: string;
}

function fen(text: string | undefined): number | undefined {
  return text === undefined || text === '' ? undefined : fromDecimalString(text);
}

function time(text: string | undefined): number | undefined {
  if (text === undefined || text === '') return undefined;
  try {
    return parseChinaTime(text);
  } catch {
    return undefined;
  }
}

/** The unified kind of a verified trade notification (refund notifications carry `refund_fee`). */
export function eventKindOf(n: {
  trade_status: string;
  refund_fee?: string | undefined;
  gmt_refund?: string | undefined;
}): PaymentEventKind {
  if ((n.refund_fee !== undefined && n.refund_fee !== '' && fen(n.refund_fee) !== 0) || (n.gmt_refund ?? '') !== '') return 'refunded';
  switch (n.trade_status) {
    case 'TRADE_SUCCESS':
      return 'paid';
    case 'TRADE_FINISHED':
      return 'finished';
    case 'TRADE_CLOSED':
      return 'closed';
    case 'WAIT_BUYER_PAY':
      return 'pending';
    default:
      return 'other';
  }
}

/** The unified state of a trade status from `alipay.trade.query`. */
export function paymentStateOf(tradeStatus: string): PaymentState {
  switch (tradeStatus) {
    case 'TRADE_SUCCESS':
    case 'TRADE_FINISHED':
      return 'paid';
    case 'TRADE_CLOSED':
      return 'closed';
    case 'WAIT_BUYER_PAY':
      return 'pending';
    default:
      return 'pending';
  }
}

/**
 * The Alipay `PaymentProvider` for core's ledger.
 *
 * @example
 * ```ts
 * const payments = createPayments({ providers: { alipay: new AlipayProvider(new AlipayClient(config), { notifyUrl }) }, store });
 * ```
 */
export class AlipayProvider implements PaymentProvider {
  /** `alipay`. */
  readonly name = PROVIDER_NAME;
  /** The channels offered. */
  readonly channels: readonly string[] = ALIPAY_CHANNELS;
  /** The app id and the seller PID every event is checked against. */
  readonly identity: {
    /** The configured app id. */
    appId?: string;
    /** The configured seller PID, when set. */
    merchantId?: string;
  };
  /** The client used. */
  readonly client: AlipayClient;
  private readonly options: AlipayProviderOptions;

  /**
   * @param client - a client, or a configuration to build one
   * @param options - default notify and return URLs
   * @throws PayConfigError when a configuration is given and it is invalid
   */
  constructor(client: AlipayClient | AlipayConfig, options: AlipayProviderOptions = {}) {
    this.client = client instanceof AlipayClient ? client : new AlipayClient(client);
    this.options = options;
    const cfg = this.client.config;
    this.identity = cfg.sellerId === undefined ? { appId: cfg.appId } : { appId: cfg.appId, merchantId: cfg.sellerId };
  }

  /**
   * Starts a payment: `app` → `{ orderString }`, `page` / `wap` → `{ url, form }`,
   * `qr` → `{ qrCode }` (precreate), `barcode` → the trade (needs `payer.authCode`).
   *
   * @throws PayArgumentError for an unknown channel, a non-CNY currency or a missing auth code; gateway errors as the client throws them
   */
  async createPayment(input: CreatePaymentInput): Promise<CreatedPayment> {
    if ((input.currency ?? 'CNY') !== 'CNY') throw new PayArgumentError(`${PREFIX} currency: expected CNY, got ${input.currency}`);
    const order: AlipayOrderInput = { out_trade_no: input.outTradeNo, amount: input.amount, subject: input.subject };
    const notifyUrl = input.notifyUrl ?? this.options.notifyUrl;
    if (notifyUrl !== undefined) order.notify_url = notifyUrl;
    if (input.attach !== undefined) order.passback_params = input.attach;
    if (input.expiresAt !== undefined) order.time_expire = input.expiresAt;
    if (input.extra !== undefined) order.biz = input.extra;
    const returnUrl = input.returnUrl ?? this.options.returnUrl;
    switch (input.channel as AlipayChannel) {
      case 'app':
        return { data: { orderString: this.client.appPay(order) } };
      case 'page':
      case 'wap': {
        const web = { ...order, ...(returnUrl !== undefined ? { return_url: returnUrl } : {}) };
        const r = input.channel === 'page' ? this.client.pagePay(web) : this.client.wapPay(web);
        return { data: { url: r.url, form: r.form } };
      }
      case 'qr': {
        const r = await this.client.precreate(order);
        return { data: { qrCode: r.qr_code } };
      }
      case 'barcode': {
        const authCode = input.payer?.authCode;
        if (authCode === undefined || authCode === '')
          throw new PayArgumentError(`${PREFIX} barcode: expected payer.authCode (the buyer's payment code)`);
        const r = await this.client.pay({ ...order, auth_code: authCode });
        const data: Record<string, unknown> = { tradeNo: r.trade_no, code: r.code };
        return r.trade_no ? { data, providerRef: r.trade_no } : { data };
      }
      default:
        throw new PayArgumentError(
          `${PREFIX} channel: expected one of ${ALIPAY_CHANNELS.join(', ')}, got ${JSON.stringify(input.channel)}`,
        );
    }
  }

  /**
   * Verifies a trade notification and turns it into a unified event (amounts in fen).
   *
   * @throws PaySignatureError, PayMismatchError, PayArgumentError, PayResponseError
   */
  async parseNotification(incoming: IncomingNotification): Promise<PaymentEvent> {
    const n = this.client.verifyNotify(incoming);
    const kind = eventKindOf(n);
    const event: PaymentEvent = {
      provider: PROVIDER_NAME,
      kind,
      eventId: n.notify_id,
      outTradeNo: n.out_trade_no,
      currency: 'CNY',
      raw: n,
    };
    if (n.trade_no) event.providerTradeNo = n.trade_no;
    const amount = fen(n.total_amount);
    if (amount !== undefined) event.amount = amount;
    event.appId = n.app_id;
    if (n.seller_id !== undefined) event.merchantId = n.seller_id;
    const at = time(kind === 'refunded' ? n.gmt_refund : n.gmt_payment) ?? time(n.notify_time);
    if (at !== undefined) event.occurredAt = at;
    if (kind === 'refunded') {
      event.refund = { amount: fen(n.refund_fee) ?? 0, ...(n.out_biz_no ? { refundId: n.out_biz_no } : {}) };
    }
    return event;
  }

  /** `success`, or a failure body so Alipay retries. */
  notificationReply(outcome: NotificationOutcome): NotificationReply {
    return this.client.notifyReply(outcome.ok);
  }

  /**
   * Active query (`alipay.trade.query`); a trade Alipay does not know is `not_found`.
   *
   * @throws gateway errors other than not-found
   */
  async queryPayment(ref: PaymentRef): Promise<PaymentStatus> {
    try {
      const r = await this.client.query(
        ref.providerTradeNo ? { out_trade_no: ref.outTradeNo, trade_no: ref.providerTradeNo } : { out_trade_no: ref.outTradeNo },
      );
      const status: PaymentStatus = {
        state: paymentStateOf(r.trade_status),
        outTradeNo: r.out_trade_no ?? ref.outTradeNo,
        currency: 'CNY',
        raw: r,
        appId: this.client.appId,
      };
      if (r.trade_no) status.providerTradeNo = r.trade_no;
      const amount = fen(r.total_amount);
      if (amount !== undefined) status.amount = amount;
      const paidAt = time(r.send_pay_date);
      if (paidAt !== undefined && status.state === 'paid') status.paidAt = paidAt;
      return status;
    } catch (e) {
      if (e instanceof PayNotFoundError) return { state: 'not_found', outTradeNo: ref.outTradeNo, raw: { sub_code: e.providerSubCode } };
      throw e;
    }
  }

  /**
   * Refunds with `out_request_no` = the ledger's refund id, so a retry never refunds twice.
   * `fund_change: N` is confirmed with a refund query.
   *
   * @throws gateway errors
   */
  async refund(request: RefundRequest): Promise<RefundOutcome> {
    const ref = {
      out_trade_no: request.payment.outTradeNo,
      ...(request.payment.providerTradeNo ? { trade_no: request.payment.providerTradeNo } : {}),
    };
    const r = await this.client.refund({
      ...ref,
      amount: request.amount,
      out_request_no: request.refundId,
      ...(request.reason !== undefined ? { refund_reason: request.reason } : {}),
    });
    if (r.fund_change === 'Y') return { state: 'succeeded', refundId: request.refundId, amount: request.amount, raw: r };
    const q = await this.client.refundQuery({ ...ref, out_request_no: request.refundId });
    const done = q.refund_status === 'REFUND_SUCCESS' || (q.refund_status === undefined && q.refund_amount !== undefined);
    return { state: done ? 'succeeded' : 'processing', refundId: request.refundId, amount: request.amount, raw: { refund: r, query: q } };
  }

  /**
   * Closes an unpaid trade. A trade Alipay never created (the buyer never opened it) counts as closed;
   * set `expiresAt` on payments so such an order cannot be paid later.
   *
   * @throws gateway errors other than not-found
   */
  async closePayment(ref: PaymentRef): Promise<void> {
    try {
      await this.client.close(
        ref.providerTradeNo ? { out_trade_no: ref.outTradeNo, trade_no: ref.providerTradeNo } : { out_trade_no: ref.outTradeNo },
      );
    } catch (e) {
      if (e instanceof PayNotFoundError) return;
      throw e;
    }
  }
}
