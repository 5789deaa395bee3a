// The ledger adapter (core's PaymentProvider) against the emulator over loopback.
import { createHttpTransport, fromParts, PayArgumentError, type PaymentProvider, type PaymentRef, PayStateError } from '@pay/core';
import { startUnionPayEmulator, type UnionPayEmulator } from '@pay/sandbox';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createUnionPayProvider, refundOrderId, UnionPayClient } from '../src/index.js';

vi.setConfig({ testTimeout: 20_000, hookTimeout: 30_000 });

let emu: UnionPayEmulator;
let client: UnionPayClient;
let provider: PaymentProvider;
const BACK = 'http://127.0.0.1:9/unionpay/notify';
let seq = 0;
const orderId = () => `L${Date.now()}${String(seq++).padStart(4, '0')}`;

beforeAll(async () => {
  emu = await startUnionPayEmulator();
  client = new UnionPayClient({ ...emu.clientConfig, transport: createHttpTransport({ retries: 0 }) });
  provider = createUnionPayProvider({ client, backUrl: BACK, frontUrl: 'https://shop.example/return' });
  emu.notifier.stop(); // notifications are taken from the emulator directly below
});
afterAll(() => emu.close());

const notification = (id: string) =>
  fromParts({ method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, rawBody: emu.notificationBody(id) });

describe('createUnionPayProvider', () => {
  it('names itself, its channels and its merchant', () => {
    expect(provider.name).toBe('unionpay');
    expect(provider.channels).toEqual(['app', 'web', 'wap']);
    expect(provider.identity).toEqual({ merchantId: client.merId });
  });

  it('app: tn for the mobile SDK; the paid notification becomes a unified event in fen; query says paid', async () => {
    const id = orderId();
    const created = await provider.createPayment({
      channel: 'app',
      outTradeNo: id,
      amount: 8888,
      currency: 'CNY',
      subject: '测试',
      attach: 'cart-42',
    });
    expect(created.data).toEqual({ tn: expect.stringMatching(/^\d{21}$/) });
    expect(created.providerRef).toBe(created.data.tn);
    const ref: PaymentRef = {
      outTradeNo: id,
      amount: 8888,
      currency: 'CNY',
      channel: 'app',
      createdAt: Date.now(),
      providerData: created.providerData as Record<string, string>,
    };
    expect((await provider.queryPayment(ref)).state).toBe('not_found');
    const paid = emu.pay(id);
    const event = await provider.parseNotification(notification(id));
    expect(event).toMatchObject({
      provider: 'unionpay',
      kind: 'paid',
      outTradeNo: id,
      providerTradeNo: paid.queryId,
      amount: 8888,
      currency: 'CNY',
      merchantId: client.merId,
      eventId: `${paid.queryId}:01:00`,
    });
    expect(typeof event.occurredAt).toBe('number');
    const status = await provider.queryPayment(ref);
    expect(status).toMatchObject({ state: 'paid', amount: 8888, currency: 'CNY', providerTradeNo: paid.queryId, merchantId: client.merId });
    expect(provider.notificationReply({ ok: true })).toMatchObject({ status: 200 });
  });

  it('web and wap: an auto-submitting form (channelType 07 / 08) with payTimeout from expiresAt', async () => {
    const web = await provider.createPayment({
      channel: 'web',
      outTradeNo: orderId(),
      amount: 100,
      currency: 'CNY',
      subject: 'x',
      expiresAt: Date.UTC(2030, 0, 1, 0, 15, 0),
    });
    expect(web.data.html).toMatch(/<form id="unionpay_form"/);
    expect(web.data.fields).toMatchObject({
      channelType: '07',
      payTimeout: '20300101081500',
      frontUrl: 'https://shop.example/return',
      backUrl: BACK,
    });
    const wap = await provider.createPayment({
      channel: 'wap',
      outTradeNo: orderId(),
      amount: 100,
      currency: 'CNY',
      subject: 'x',
      returnUrl: 'https://m.shop.example/r',
      notifyUrl: 'https://shop.example/n2',
    });
    expect(wap.data.fields).toMatchObject({ channelType: '08', frontUrl: 'https://m.shop.example/r', backUrl: 'https://shop.example/n2' });
    expect(wap.providerData?.txnTime).toMatch(/^\d{14}$/);
  });

  it('refund: a stable orderId from the refund id, the payment named in reqReserved, the refund notification mapped back', async () => {
    const id = orderId();
    const created = await provider.createPayment({ channel: 'app', outTradeNo: id, amount: 1000, currency: 'CNY', subject: 'x' });
    const paid = emu.pay(id);
    const payment: PaymentRef = {
      outTradeNo: id,
      providerTradeNo: paid.queryId as string,
      amount: 1000,
      currency: 'CNY',
      channel: 'app',
      createdAt: Date.now(),
      providerData: created.providerData as Record<string, string>,
    };
    const refundId = `refund-${id}-1`;
    const outcome = await provider.refund({ payment, refundId, amount: 400 });
    expect(outcome).toMatchObject({ state: 'processing', refundId, amount: 400, providerData: { orderId: refundOrderId(refundId) } });
    expect(outcome.providerRefundId).toMatch(/^\d+$/);
    const event = await provider.parseNotification(notification(refundOrderId(refundId)));
    expect(event).toMatchObject({
      kind: 'refunded',
      outTradeNo: id,
      providerTradeNo: paid.queryId,
      refund: { refundId, amount: 400, providerRefundId: outcome.providerRefundId },
    });
    expect(event.amount).toBeUndefined();
    // the same refund id again: UnionPay refuses the duplicate orderId, nothing is refunded twice
    const again = await provider.refund({ payment, refundId, amount: 400 });
    expect(again.state).toBe('processing');
    expect(emu.transactions.get(id)?.consumed).toBe(400);
    // without providerTradeNo the adapter finds the queryId by querying first
    const { providerTradeNo: _p, ...withoutQueryId } = payment;
    expect((await provider.refund({ payment: withoutQueryId, refundId: 'R2', amount: 100 })).state).toBe('processing');
  });

  it('refundOrderId keeps valid ids and hashes the others into 32 alphanumerics', () => {
    expect(refundOrderId('R2026010100001')).toBe('R2026010100001');
    const h = refundOrderId('refund/with-dashes_and-more');
    expect(h).toMatch(/^R[0-9a-f]{31}$/);
    expect(refundOrderId('refund/with-dashes_and-more')).toBe(h);
    expect(() => refundOrderId('')).toThrow(PayArgumentError);
  });

  it('close: nothing to close for an unpaid order (payTimeout ends it); a paid one must be refunded', async () => {
    const id = orderId();
    const created = await provider.createPayment({ channel: 'app', outTradeNo: id, amount: 1, currency: 'CNY', subject: 'x' });
    const ref: PaymentRef = {
      outTradeNo: id,
      amount: 1,
      currency: 'CNY',
      channel: 'app',
      createdAt: Date.now(),
      providerData: created.providerData as Record<string, string>,
    };
    await expect(provider.closePayment(ref)).resolves.toBeUndefined();
    emu.pay(id);
    await expect(provider.closePayment(ref)).rejects.toThrow(PayStateError);
  });

  it('refuses what UnionPay cannot do, with clear errors', async () => {
    const base = { outTradeNo: orderId(), amount: 1, currency: 'CNY', subject: 'x' };
    await expect(provider.createPayment({ ...base, channel: 'qr' })).rejects.toThrow(/channel: expected one of app, web, wap/);
    await expect(provider.createPayment({ ...base, channel: 'app', currency: 'USD' })).rejects.toThrow(/currency/);
    await expect(provider.createPayment({ ...base, channel: 'app', amount: 1.5 })).rejects.toThrow(/txnAmt/);
    await expect(provider.createPayment({ ...base, channel: 'app', extra: { x: { nested: true } } })).rejects.toThrow(/extra\.x/);
    const bare = createUnionPayProvider({ client });
    await expect(bare.createPayment({ ...base, channel: 'app' })).rejects.toThrow(/notifyUrl/);
    await expect(bare.createPayment({ ...base, channel: 'web', notifyUrl: BACK })).rejects.toThrow(/returnUrl/);
    await expect(
      provider.queryPayment({ outTradeNo: base.outTradeNo, amount: 1, currency: 'CNY', channel: 'app', createdAt: 0 }),
    ).rejects.toThrow(/providerData\.txnTime/);
    await expect(provider.parseNotification(fromParts({ method: 'POST', rawBody: 'a=1' }))).rejects.toThrow(/signature/);
    expect(() => createUnionPayProvider({} as never)).toThrow(/client/);
  });
});
