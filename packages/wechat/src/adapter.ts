/**
 * The ledger adapter: WeChat Pay API v3 behind core's `PaymentProvider`, with
 * unified camelCase types and amounts in fen.
 *
 * @module
 */
import {
  type CreatedPayment,
  type CreatePaymentInput,
  type IncomingNotification,
  type NotificationOutcome,
  type NotificationReply,
  PayArgumentError,
  PayMismatchError,
  type PaymentEvent,
  type PaymentProvider,
  type PaymentRef,
  type PaymentState,
  type PaymentStatus,
  PayNotFoundError,
  type RefundOutcome,
  type RefundRequest,
} from '@pay/core';
import { excerpt, isNonEmptyString, PKG } from './internal.js';
import { type WechatPayClient, wechatNotificationReply } from './v3/client.js';
import type { PrepayRequest, TradeState, TradeType } from './v3/types.js';

/** The channels of the adapter. `miniprogram` uses the JSAPI product with the mini-program's AppID. */
export type WechatChannel = 'app' | 'jsapi' | 'miniprogram' | 'native' | 'h5';

/** Options of {@link WechatPayProvider}. */
export interface WechatProviderOptions {
  /** Default payment callback URL (a `notifyUrl` in the create input wins). */
  notifyUrl?: string;
  /** Refund callback URL (default: the refund request's `notifyUrl`, else none). */
  refundNotifyUrl?: string;
  /**
   * The AppID per channel when they differ (mobile app, official account, mini-program); default: the
   * client's `appid`. In partner mode these are the sub-merchant AppIDs (`sub_appid`).
   */
  appids?: Partial<Record<WechatChannel, string>>;
  /** H5 scene type sent in `scene_info.h5_info.type`. Default `Wap`. */
  h5Type?: 'Wap' | 'iOS' | 'Android';
}

const CHANNELS: readonly WechatChannel[] = ['app', 'jsapi', 'miniprogram', 'native', 'h5'];
const TRADE_TYPE: Record<WechatChannel, TradeType> = { app: 'app', jsapi: 'jsapi', miniprogram: 'jsapi', native: 'native', h5: 'h5' };

function assertFen(value: unknown, what: string): asserts value is number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    throw new PayArgumentError(`${PKG}: ${what}: expected a positive integer number of fen, got ${excerpt(String(value))}`, {
      hint: 'amounts are integers in fen: 88.88 yuan is 8888',
    });
  }
}

/** Formats epoch ms as RFC 3339 in China Standard Time, as WeChat Pay writes times. */
export function toWechatTime(ms: number): string {
  const d = new Date(ms + 8 * 3600_000);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())}T${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}+08:00`;
}

/** Maps a `trade_state` to the unified payment state. */
export function tradeStateToPaymentState(state: TradeState): PaymentState {
  switch (state) {
    case 'SUCCESS':
      return 'paid';
    case 'REFUND':
      return 'refunded';
    case 'NOTPAY':
    case 'USERPAYING':
      return 'pending';
    case 'CLOSED':
    case 'REVOKED':
      return 'closed';
    case 'PAYERROR':
      return 'failed';
    default:
      return 'pending';
  }
}

/**
 * WeChat Pay (API v3) for the ledger: channels `app`, `jsapi`, `miniprogram`, `native` and `h5`.
 *
 * @example
 * ```ts
 * const wechat = new WechatPayProvider(new WechatPayClient(config), { notifyUrl: 'https://example.com/pay/wechat/notify' });
 * const payments = createPayments({ providers: { wechat }, store });
 * ```
 */
export class WechatPayProvider implements PaymentProvider {
  /** `wechat`. */
  readonly name = 'wechat';
  /** The channels offered. */
  readonly channels: readonly string[] = CHANNELS;
  /** The AppID (when every channel uses the same one) and the merchant id, checked against every event. */
  readonly identity: { appId?: string; merchantId?: string };
  private readonly appids: ReadonlySet<string>;

  /**
   * @param client - the API v3 client
   * @param options - notify URLs, per-channel AppIDs
   */
  constructor(
    readonly client: WechatPayClient,
    private readonly options: WechatProviderOptions = {},
  ) {
    const ids = new Set<string>();
    for (const c of CHANNELS) {
      const id = this.appidFor(c);
      if (id !== undefined) ids.add(id);
    }
    if (client.isPartner && client.appid !== undefined) ids.add(client.appid);
    this.appids = ids;
    const only = ids.size === 1 ? [...ids][0] : undefined;
    this.identity = { merchantId: client.mchid, ...(only !== undefined ? { appId: only } : {}) };
  }

  private appidFor(channel: WechatChannel): string | undefined {
    return this.options.appids?.[channel] ?? (this.client.isPartner ? this.client.partner?.subAppid : this.client.appid);
  }

  /**
   * Creates the prepay order and returns what the client needs: APP parameters, JSAPI /
   * mini-program parameters, `code_url` (native) or `h5_url` (h5).
   *
   * @throws PayArgumentError for an unknown channel, a non-CNY currency, a missing openid / client IP / notify URL
   */
  async createPayment(input: CreatePaymentInput): Promise<CreatedPayment> {
    const channel = input.channel as WechatChannel;
    if (!CHANNELS.includes(channel)) {
      throw new PayArgumentError(`${PKG}: createPayment: expected channel ${CHANNELS.join(', ')}, got ${excerpt(String(input.channel))}`);
    }
    assertFen(input.amount, 'createPayment: amount');
    const currency = input.currency ?? 'CNY';
    if (currency !== 'CNY')
      throw new PayArgumentError(`${PKG}: createPayment: WeChat Pay domestic payments are in CNY, got ${excerpt(currency)}`);
    const notifyUrl = input.notifyUrl ?? this.options.notifyUrl;
    if (!isNonEmptyString(notifyUrl))
      throw new PayArgumentError(`${PKG}: createPayment: expected notifyUrl (in the input or the adapter options)`);
    const partner = this.client.isPartner;
    const appid = this.appidFor(channel);
    const request: PrepayRequest = {
      description: input.subject,
      out_trade_no: input.outTradeNo,
      notify_url: notifyUrl,
      amount: { total: input.amount, currency },
      ...(input.attach !== undefined ? { attach: input.attach } : {}),
      ...(input.expiresAt !== undefined ? { time_expire: toWechatTime(input.expiresAt) } : {}),
    };
    if (partner) {
      if (appid !== undefined) request.sub_appid = appid;
    } else if (appid !== undefined) request.appid = appid;
    if (channel === 'jsapi' || channel === 'miniprogram') {
      const openid = input.payer?.subOpenid ?? input.payer?.openid;
      if (!isNonEmptyString(openid)) throw new PayArgumentError(`${PKG}: createPayment ${channel}: expected payer.openid`);
      request.payer = partner ? (request.sub_appid !== undefined ? { sub_openid: openid } : { sp_openid: openid }) : { openid };
    }
    if (channel === 'h5') {
      if (!isNonEmptyString(input.clientIp)) throw new PayArgumentError(`${PKG}: createPayment h5: expected clientIp (the payer's IP)`);
      request.scene_info = { payer_client_ip: input.clientIp, h5_info: { type: this.options.h5Type ?? 'Wap' } };
    } else if (isNonEmptyString(input.clientIp)) {
      request.scene_info = { payer_client_ip: input.clientIp };
    }
    const merged = { ...request, ...(input.extra ?? {}) } as PrepayRequest;
    const answer = await this.client.prepay(TRADE_TYPE[channel], merged);
    const providerData: Record<string, string> = {};
    if (appid !== undefined) providerData.appid = appid;
    if (partner && isNonEmptyString(merged.sub_mchid ?? this.client.partner?.subMchid)) {
      providerData.sub_mchid = (merged.sub_mchid ?? this.client.partner?.subMchid) as string;
    }
    let data: Record<string, unknown>;
    if (channel === 'app') {
      data = { ...this.client.appPayParams(answer.prepay_id as string, appid !== undefined ? { appid } : {}) };
    } else if (channel === 'jsapi' || channel === 'miniprogram') {
      data = { ...this.client.jsapiPayParams(answer.prepay_id as string, appid !== undefined ? { appId: appid } : {}) };
    } else if (channel === 'native') {
      data = { code_url: answer.code_url };
    } else {
      data = { h5_url: answer.h5_url };
    }
    return { data, ...(answer.prepay_id !== undefined ? { providerRef: answer.prepay_id } : {}), providerData };
  }

  /**
   * Verifies and decrypts a callback and returns the unified event (`paid`, `refunded`,
   * `refund_failed`, or `other`); `eventId` is the notification id, so retries are recognised.
   *
   * @throws PaySignatureError, PayReplayError, PayCertificateError, PayDecryptError, PayMismatchError
   */
  async parseNotification(incoming: IncomingNotification): Promise<PaymentEvent> {
    const n = await this.client.parseNotification(incoming);
    if (n.kind === 'transaction') {
      const t = n.resource;
      const appId = t.sub_appid ?? t.appid ?? t.sp_appid;
      this.checkAppid(appId, n.id);
      const event: PaymentEvent = {
        provider: 'wechat',
        kind: t.trade_state === 'SUCCESS' ? 'paid' : 'other',
        eventId: n.id,
        outTradeNo: t.out_trade_no,
        raw: n,
      };
      if (t.transaction_id !== undefined) event.providerTradeNo = t.transaction_id;
      if (typeof t.amount?.total === 'number') event.amount = t.amount.total;
      if (t.amount?.currency !== undefined) event.currency = t.amount.currency;
      if (appId !== undefined) event.appId = appId;
      const merchant = t.mchid ?? t.sp_mchid;
      if (merchant !== undefined) event.merchantId = merchant;
      if (t.success_time !== undefined && !Number.isNaN(Date.parse(t.success_time))) event.occurredAt = Date.parse(t.success_time);
      return event;
    }
    if (n.kind === 'refund') {
      const r = n.resource;
      const event: PaymentEvent = {
        provider: 'wechat',
        kind: n.event_type === 'REFUND.SUCCESS' ? 'refunded' : 'refund_failed',
        eventId: n.id,
        outTradeNo: r.out_trade_no,
        providerTradeNo: r.transaction_id,
        amount: r.amount.total,
        currency: 'CNY',
        refund: { refundId: r.out_refund_no, providerRefundId: r.refund_id, amount: r.amount.refund },
        raw: n,
      };
      const merchant = r.mchid ?? r.sp_mchid;
      if (merchant !== undefined) event.merchantId = merchant;
      if (r.success_time !== undefined && !Number.isNaN(Date.parse(r.success_time))) event.occurredAt = Date.parse(r.success_time);
      return event;
    }
    return { provider: 'wechat', kind: 'other', eventId: n.id, raw: n };
  }

  private checkAppid(appId: string | undefined, id: string): void {
    if (this.appids.size > 0 && (appId === undefined || !this.appids.has(appId))) {
      throw new PayMismatchError(
        `${PKG}: callback ${id}: appid ${excerpt(String(appId))} is not one of this adapter's (${[...this.appids].join(', ')})`,
        {
          provider: 'wechat',
        },
      );
    }
  }

  /** 204 for success; `{"code":"FAIL","message":…}` with 401/500 so WeChat Pay retries. */
  notificationReply(outcome: NotificationOutcome): NotificationReply {
    return outcome.ok ? wechatNotificationReply(true) : wechatNotificationReply(false, outcome.error);
  }

  /** Queries the order by `out_trade_no` (an unknown order is `not_found`, not an error). */
  async queryPayment(ref: PaymentRef): Promise<PaymentStatus> {
    const sub = ref.providerData?.sub_mchid;
    try {
      const t = await this.client.queryByOutTradeNo(ref.outTradeNo, sub !== undefined ? { sub_mchid: sub } : {});
      const status: PaymentStatus = { state: tradeStateToPaymentState(t.trade_state), outTradeNo: t.out_trade_no, raw: t };
      if (t.transaction_id !== undefined) status.providerTradeNo = t.transaction_id;
      if (typeof t.amount?.total === 'number') status.amount = t.amount.total;
      if (t.amount?.currency !== undefined) status.currency = t.amount.currency;
      if (t.success_time !== undefined && !Number.isNaN(Date.parse(t.success_time))) status.paidAt = Date.parse(t.success_time);
      const appId = t.sub_appid ?? t.appid ?? t.sp_appid;
      if (appId !== undefined) status.appId = appId;
      const merchant = t.mchid ?? t.sp_mchid;
      if (merchant !== undefined) status.merchantId = merchant;
      return status;
    } catch (e) {
      if (e instanceof PayNotFoundError) return { state: 'not_found', outTradeNo: ref.outTradeNo, raw: { code: e.providerCode } };
      throw e;
    }
  }

  /** Refunds with `out_refund_no` = the ledger's refund id, so a retry never refunds twice. */
  async refund(request: RefundRequest): Promise<RefundOutcome> {
    assertFen(request.amount, 'refund: amount');
    const sub = request.payment.providerData?.sub_mchid;
    const notifyUrl = request.notifyUrl ?? this.options.refundNotifyUrl;
    const r = await this.client.refund({
      out_trade_no: request.payment.outTradeNo,
      out_refund_no: request.refundId,
      amount: { refund: request.amount, total: request.payment.amount, currency: request.payment.currency || 'CNY' },
      ...(request.reason !== undefined ? { reason: request.reason } : {}),
      ...(notifyUrl !== undefined ? { notify_url: notifyUrl } : {}),
      ...(sub !== undefined ? { sub_mchid: sub } : {}),
    });
    const state = r.status === 'SUCCESS' ? 'succeeded' : r.status === 'PROCESSING' ? 'processing' : 'failed';
    return { state, refundId: r.out_refund_no, providerRefundId: r.refund_id, amount: r.amount.refund, raw: r };
  }

  /** Closes the order. */
  async closePayment(ref: PaymentRef): Promise<void> {
    const sub = ref.providerData?.sub_mchid;
    await this.client.closeOrder(ref.outTradeNo, sub !== undefined ? { sub_mchid: sub } : {});
  }
}
