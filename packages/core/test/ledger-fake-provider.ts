// A small provider for ledger tests: notifications are JSON bodies signed with
// HMAC-SHA256 in an `x-sig` header, queries and refunds answer from a table the
// test controls. It verifies like a real provider: bad signature -> PaySignatureError.
import {
  type CreatedPayment,
  type CreatePaymentInput,
  hmacSha256Hex,
  type IncomingNotification,
  type NotificationOutcome,
  type NotificationReply,
  type PaymentEvent,
  type PaymentProvider,
  type PaymentRef,
  type PaymentStatus,
  PayProviderError,
  PayResponseError,
  PaySignatureError,
  type RefundOutcome,
  type RefundRequest,
  timingSafeEqualData,
} from '../src/index.js';

export const FAKE_KEY = 'fake-provider-secret';

export interface FakeNotice {
  id: string;
  kind: PaymentEvent['kind'];
  outTradeNo: string;
  amount?: number;
  merchantId?: string;
  tradeNo?: string;
  refund?: { refundId?: string; amount: number };
}

export function signedNotice(n: FakeNotice, key = FAKE_KEY): IncomingNotification {
  const body = Buffer.from(JSON.stringify(n));
  return { method: 'POST', headers: { 'x-sig': hmacSha256Hex(key, body) }, rawBody: body, query: '' };
}

export class FakeProvider implements PaymentProvider {
  readonly name = 'fake';
  readonly channels = ['app', 'web'] as const;
  readonly identity = { appId: 'app-1', merchantId: 'm-1' };
  created: CreatePaymentInput[] = [];
  status = new Map<string, PaymentStatus>();
  refunds: RefundRequest[] = [];
  closed: string[] = [];
  failCreate: Error | undefined;
  refundState: RefundOutcome['state'] = 'succeeded';
  failRefund: Error | undefined;
  queries = 0;

  async createPayment(input: CreatePaymentInput): Promise<CreatedPayment> {
    if (this.failCreate) throw this.failCreate;
    this.created.push(input);
    return {
      data: { orderString: `pay:${input.outTradeNo}:${input.amount}` },
      providerRef: `ref-${input.outTradeNo}`,
      providerData: { createdFor: input.channel },
    };
  }

  async parseNotification(incoming: IncomingNotification): Promise<PaymentEvent> {
    const sig = incoming.headers['x-sig'] ?? '';
    if (!timingSafeEqualData(sig, hmacSha256Hex(FAKE_KEY, incoming.rawBody)))
      throw new PaySignatureError('fake: signature does not verify');
    let n: FakeNotice;
    try {
      n = JSON.parse(incoming.rawBody.toString('utf8')) as FakeNotice;
    } catch (e) {
      throw new PayResponseError('fake: malformed body', { cause: e });
    }
    const event: PaymentEvent = {
      provider: 'fake',
      kind: n.kind,
      eventId: n.id,
      outTradeNo: n.outTradeNo,
      merchantId: n.merchantId ?? 'm-1',
      appId: 'app-1',
      currency: 'CNY',
      raw: n,
    };
    if (n.amount !== undefined) event.amount = n.amount;
    if (n.tradeNo !== undefined) event.providerTradeNo = n.tradeNo;
    if (n.refund) event.refund = n.refund;
    return event;
  }

  notificationReply(outcome: NotificationOutcome): NotificationReply {
    return outcome.ok ? { status: 200, headers: {}, body: 'success' } : { status: 500, headers: {}, body: `fail: ${outcome.error.code}` };
  }

  async queryPayment(ref: PaymentRef): Promise<PaymentStatus> {
    this.queries++;
    return this.status.get(ref.outTradeNo) ?? { state: 'pending', outTradeNo: ref.outTradeNo, raw: {} };
  }

  async refund(request: RefundRequest): Promise<RefundOutcome> {
    if (this.failRefund) throw this.failRefund;
    this.refunds.push(request);
    return {
      state: this.refundState,
      refundId: request.refundId,
      providerRefundId: `PR-${request.refundId}`,
      amount: request.amount,
      raw: {},
    };
  }

  async closePayment(ref: PaymentRef): Promise<void> {
    if (this.status.get(ref.outTradeNo)?.state === 'paid')
      throw new PayProviderError('fake: TRADE_HAS_SUCCESS', { providerCode: 'TRADE_HAS_SUCCESS' });
    this.closed.push(ref.outTradeNo);
  }
}
