/**
 * The ledger adapter: {@link createUnionPayProvider} implements core's
 * `PaymentProvider` on top of {@link UnionPayClient}. Channels: `app` (the `tn`
 * for the UnionPay mobile SDK), `web` and `wap` (an auto-submitting form).
 * Unified types are camelCase with amounts in fen.
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
  PayConfigError,
  type PaymentEvent,
  type PaymentEventKind,
  type PaymentProvider,
  type PaymentRef,
  type PaymentState,
  type PaymentStatus,
  PayProviderError,
  PayStateError,
  type RefundOutcome,
  type RefundRequest,
  sha256Hex,
} from '@pay/core';
import type { AcpNotification, ExtraFields, UnionPayClient } from './client.js';
import { formatTxnTime, ORDER_ID_PATTERN, PREFIX, parseTxnTime } from './fields.js';

/** Options of {@link createUnionPayProvider}. */
export interface UnionPayProviderOptions {
  /** The client of the merchant. */
  client: UnionPayClient;
  /** `backUrl` used when a payment or refund gives no `notifyUrl`. */
  backUrl?: string;
  /** `frontUrl` used when a web/WAP payment gives no `returnUrl`. */
  frontUrl?: string;
}

const CHANNELS = ['app', 'web', 'wap'] as const;
const REF_PREFIX = 'paysdk.';

/** What the adapter keeps in `reqReserved` of refunds, so their notifications name the payment. @internal */
interface ReservedRef {
  /** The payment's outTradeNo. */
  o: string;
  /** The ledger's refund id. */
  r?: string;
}

function encodeRef(ref: ReservedRef): string {
  return REF_PREFIX + Buffer.from(JSON.stringify(ref), 'utf8').toString('base64url');
}

function decodeRef(text: string | undefined): ReservedRef | undefined {
  if (text === undefined || !text.startsWith(REF_PREFIX)) return undefined;
  try {
    const value = JSON.parse(Buffer.from(text.slice(REF_PREFIX.length), 'base64url').toString('utf8')) as unknown;
    if (typeof value === 'object' && value !== null && typeof (value as ReservedRef).o === 'string') return value as ReservedRef;
  } catch {
    // not ours
  }
  return undefined;
}

/**
 * The `orderId` of a refund: the ledger's refund id when it already is 8–32
 * letters or digits, else `R` + 31 hex characters of its SHA-256. The same
 * refund id always gives the same `orderId`, so a retried refund is refused by
 * UnionPay as a duplicate (respCode 12) instead of refunding twice.
 */
export function refundOrderId(refundId: string): string {
  if (typeof refundId !== 'string' || refundId === '') throw new PayArgumentError(`${PREFIX}: refundId: expected a non-empty string`);
  return ORDER_ID_PATTERN.test(refundId) ? refundId : `R${sha256Hex(refundId).slice(0, 31)}`;
}

function extraOf(extra: Record<string, unknown> | undefined): ExtraFields | undefined {
  if (extra === undefined) return undefined;
  const out: Record<string, string | number> = {};
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) continue;
    if (typeof v !== 'string' && typeof v !== 'number') throw new PayArgumentError(`${PREFIX}: extra.${k}: expected a string or a number`);
    out[k] = v;
  }
  return out;
}

function kindOf(n: AcpNotification): PaymentEventKind {
  const ok = n.respCode === '00';
  switch (n.txnType) {
    case '01':
      return ok ? 'paid' : 'other';
    case '04':
    case '31':
      return ok ? 'refunded' : 'refund_failed';
    default:
      return 'other';
  }
}

/**
 * The UnionPay `PaymentProvider` for the ledger.
 *
 * @example
 * ```ts
 * const payments = createPayments({ providers: { unionpay: createUnionPayProvider({ client, backUrl: 'https://shop.example/notify/unionpay' }) }, store });
 * ```
 * @throws PayConfigError for a missing client or invalid default URLs
 */
export function createUnionPayProvider(options: UnionPayProviderOptions): PaymentProvider {
  const { client } = options;
  if (typeof client !== 'object' || client === null || typeof client.appConsume !== 'function') {
    throw new PayConfigError(`${PREFIX}: createUnionPayProvider: expected { client: UnionPayClient }`);
  }
  for (const key of ['backUrl', 'frontUrl'] as const) {
    const url = options[key];
    if (url !== undefined && !/^https?:\/\//.test(url)) throw new PayConfigError(`${PREFIX}: ${key}: expected an absolute http(s) URL`);
  }

  const backUrlOf = (given: string | undefined): string => {
    const url = given ?? options.backUrl;
    if (url === undefined)
      throw new PayArgumentError(`${PREFIX}: notifyUrl: UnionPay needs a backUrl; give notifyUrl or the backUrl option`);
    return url;
  };
  const txnTimeOf = (ref: PaymentRef): string => {
    const txnTime = ref.providerData?.txnTime;
    if (txnTime === undefined) {
      throw new PayArgumentError(
        `${PREFIX}: payment ${ref.outTradeNo}: providerData.txnTime is missing (UnionPay queries need the txnTime the payment was sent with)`,
      );
    }
    return txnTime;
  };

  return {
    name: 'unionpay',
    channels: CHANNELS,
    identity: { merchantId: client.merId },

    async createPayment(input: CreatePaymentInput): Promise<CreatedPayment> {
      if (!(CHANNELS as readonly string[]).includes(input.channel)) {
        throw new PayArgumentError(`${PREFIX}: channel: expected one of ${CHANNELS.join(', ')}, got ${JSON.stringify(input.channel)}`);
      }
      if ((input.currency ?? 'CNY') !== 'CNY') {
        throw new PayArgumentError(`${PREFIX}: currency: UnionPay gateway payments are in CNY, got ${JSON.stringify(input.currency)}`);
      }
      const common = {
        orderId: input.outTradeNo,
        txnAmt: input.amount,
        backUrl: backUrlOf(input.notifyUrl),
        ...(input.attach !== undefined ? { reqReserved: input.attach } : {}),
        ...(input.expiresAt !== undefined ? { payTimeout: formatTxnTime(input.expiresAt) } : {}),
      };
      const extra = extraOf(input.extra);
      if (input.channel === 'app') {
        const r = await client.appConsume({ ...common, ...(extra ? { extra } : {}) });
        return { data: { tn: r.tn }, providerRef: r.tn, providerData: { txnTime: r.txnTime } };
      }
      const frontUrl = input.returnUrl ?? options.frontUrl;
      if (frontUrl === undefined)
        throw new PayArgumentError(`${PREFIX}: returnUrl: web and wap payments need a frontUrl; give returnUrl or the frontUrl option`);
      const form = client.frontConsume({
        ...common,
        frontUrl,
        channelType: input.channel === 'wap' ? '08' : '07',
        ...(extra ? { extra } : {}),
      });
      return { data: { html: form.html, action: form.action, fields: form.fields }, providerData: { txnTime: form.txnTime } };
    },

    async parseNotification(incoming: IncomingNotification): Promise<PaymentEvent> {
      const n = client.verifyNotification(incoming);
      const kind = kindOf(n);
      const refundLike = n.txnType === '04' || n.txnType === '31';
      const ref = refundLike ? decodeRef(n.reqReserved) : undefined;
      const eventId = `${n.queryId ?? `${n.orderId}@${n.txnTime}`}:${n.txnType}:${n.respCode}`;
      const event: PaymentEvent = { provider: 'unionpay', kind, eventId, raw: n };
      if (n.merId !== undefined) event.merchantId = n.merId;
      if (n.currencyCode === '156') event.currency = 'CNY';
      else if (n.currencyCode !== undefined) event.currency = n.currencyCode;
      if (n.txnTime !== undefined) {
        try {
          event.occurredAt = parseTxnTime(n.txnTime);
        } catch {
          // a malformed txnTime in a verified message: leave occurredAt out
        }
      }
      if (refundLike) {
        if (ref) event.outTradeNo = ref.o;
        if (n.origQryId !== undefined) event.providerTradeNo = n.origQryId;
        if (n.txnAmt !== undefined) {
          event.refund = {
            amount: n.txnAmt,
            ...(ref?.r !== undefined ? { refundId: ref.r } : {}),
            ...(n.queryId !== undefined ? { providerRefundId: n.queryId } : {}),
          };
        }
      } else {
        if (n.orderId !== undefined) event.outTradeNo = n.orderId;
        if (n.queryId !== undefined) event.providerTradeNo = n.queryId;
        if (n.txnAmt !== undefined) event.amount = n.txnAmt;
      }
      return event;
    },

    notificationReply(outcome: NotificationOutcome): NotificationReply {
      return client.notificationReply(outcome);
    },

    async queryPayment(ref: PaymentRef): Promise<PaymentStatus> {
      const r = await client.query({ orderId: ref.outTradeNo, txnTime: txnTimeOf(ref) }, { schedule: 'front' });
      const states: Record<typeof r.state, PaymentState> = {
        success: 'paid',
        processing: 'pending',
        failed: 'failed',
        not_found: 'not_found',
      };
      const status: PaymentStatus = { state: states[r.state], outTradeNo: ref.outTradeNo, raw: r };
      if (r.queryId !== undefined) status.providerTradeNo = r.queryId;
      if (r.txnAmt !== undefined) {
        status.amount = r.txnAmt;
        status.currency = 'CNY';
      }
      if (r.fields.merId !== undefined) status.merchantId = r.fields.merId;
      if (r.nextQueryAt !== undefined) status.retryAt = r.nextQueryAt;
      return status;
    },

    async refund(request: RefundRequest): Promise<RefundOutcome> {
      const { payment } = request;
      let origQryId = payment.providerTradeNo;
      if (origQryId === undefined) {
        const q = await client.query({ orderId: payment.outTradeNo, txnTime: txnTimeOf(payment) });
        if (q.state !== 'success' || q.queryId === undefined) {
          throw new PayStateError(`${PREFIX}: refund: payment ${payment.outTradeNo} is not paid according to UnionPay (${q.state})`);
        }
        origQryId = q.queryId;
      }
      const orderId = refundOrderId(request.refundId);
      const reqReserved = encodeRef({ o: payment.outTradeNo, r: request.refundId });
      try {
        const r = await client.refund({ orderId, txnAmt: request.amount, origQryId, backUrl: backUrlOf(request.notifyUrl), reqReserved });
        const outcome: RefundOutcome = {
          state: 'processing',
          refundId: request.refundId,
          amount: request.amount,
          providerData: { orderId: r.orderId, txnTime: r.txnTime },
          raw: r,
        };
        if (r.queryId !== undefined) outcome.providerRefundId = r.queryId;
        return outcome;
      } catch (e) {
        if (e instanceof PayProviderError && e.providerCode === '12') {
          // the same refund id was already submitted: it is being (or was) processed, never a second refund
          return { state: 'processing', refundId: request.refundId, amount: request.amount, providerData: { orderId }, raw: e };
        }
        throw e;
      }
    },

    async closePayment(ref: PaymentRef): Promise<void> {
      const r = await client.query({ orderId: ref.outTradeNo, txnTime: txnTimeOf(ref) });
      if (r.state === 'success') {
        throw new PayStateError(`${PREFIX}: close: payment ${ref.outTradeNo} is already paid; refund it instead`);
      }
      // UnionPay has no close call: an unpaid order stops being payable at its payTimeout.
    },
  };
}
