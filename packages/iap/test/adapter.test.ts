// The ledger adapter (core's PaymentProvider) against the App Store emulator over 127.0.0.1.
import { randomUUID } from 'node:crypto';
import {
  type CreatePaymentInput,
  fromParts,
  PayArgumentError,
  PayMismatchError,
  type PaymentRef,
  PayProviderError,
  PaySignatureError,
  randomId,
} from '@pay/core';
import { type IapEmulator, startIapEmulator } from '@pay/sandbox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IapClient, IapProvider, milliunitsToMinor, VerificationReason } from '../src/index.js';
import { rejection } from './helpers.js';

let emu: IapEmulator;
let provider: IapProvider;

beforeAll(async () => {
  emu = await startIapEmulator();
  emu.notifier.stop(); // these tests read the signed payloads the emulator sends; nothing is delivered
  provider = new IapProvider(new IapClient(emu.clientConfig));
});
afterAll(() => emu.close());

const input = (fields: Partial<CreatePaymentInput> = {}): CreatePaymentInput => ({
  channel: 'app',
  outTradeNo: randomId(),
  amount: 600,
  currency: 'CNY',
  subject: '100 coins',
  productId: 'com.example.coins100',
  ...fields,
});

function ref(outTradeNo: string, fields: Partial<PaymentRef> = {}): PaymentRef {
  return {
    outTradeNo,
    amount: 600,
    currency: 'CNY',
    channel: 'app',
    createdAt: Date.now(),
    providerData: { productId: 'com.example.coins100', appAccountToken: outTradeNo },
    ...fields,
  };
}

/** The body Apple posts for the notification the emulator sent last. */
function lastNotification() {
  const n = emu.notifications.at(-1);
  return fromParts({
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    rawBody: JSON.stringify({ signedPayload: n?.signedPayload }),
  });
}

describe('IapProvider.createPayment', () => {
  it('returns the product id and the appAccountToken (the order number, a UUID) the app buys with', async () => {
    const outTradeNo = randomUUID().toUpperCase();
    const created = await provider.createPayment(input({ outTradeNo }));
    expect(created).toEqual({
      data: { productId: 'com.example.coins100', appAccountToken: outTradeNo.toLowerCase(), type: 'consumable' },
      providerRef: outTradeNo.toLowerCase(),
      providerData: { productId: 'com.example.coins100', appAccountToken: outTradeNo.toLowerCase() },
    });
    expect(provider.name).toBe('iap');
    expect(provider.identity).toEqual({ appId: emu.clientConfig.bundleId });
  });

  it.each([
    ['an unknown product', { productId: 'com.example.nope' }, /catalogue/],
    ['no product', { productId: undefined }, /productId/],
    ['an amount that differs from the catalogue', { amount: 700 }, /costs 600 CNY in the catalogue, got 700 CNY/],
    ['another currency', { currency: 'USD' }, /got 600 USD/],
    ['an order number that is not a UUID', { outTradeNo: '20260101000001' }, /must be a UUID/],
    ['a fractional amount', { amount: 6.5 }, /integer/],
  ])('%s → PayArgumentError', async (_name, fields, message) => {
    const e = await rejection(provider.createPayment(input(fields as Partial<CreatePaymentInput>)));
    expect(e).toBeInstanceOf(PayArgumentError);
    expect(e.message).toMatch(message);
  });
});

describe('IapProvider.parseNotification', () => {
  it('a purchase → paid, keyed by notificationUUID, outTradeNo = appAccountToken, amount from the catalogue', async () => {
    const token = randomUUID();
    const bought = await emu.pay(token, { productId: 'com.example.coins100', notifyUrl: 'http://127.0.0.1:9/unused' });
    const event = await provider.parseNotification(lastNotification());
    expect(event).toMatchObject({
      provider: 'iap',
      kind: 'paid',
      eventId: bought.notificationUUID,
      outTradeNo: token,
      providerTradeNo: bought.transaction.transactionId,
      amount: 600,
      currency: 'CNY',
      appId: emu.clientConfig.bundleId,
    });
    expect(typeof event.occurredAt).toBe('number');
  });

  it('refund (prorated), revoke, renewal, expiry and TEST map to refunded / revoked / renewed / expired / other', async () => {
    const url = 'http://127.0.0.1:9/unused';
    const a = await emu.pay(randomUUID(), { productId: 'com.example.coins100', notifyUrl: url });
    await emu.refund(a.transaction.transactionId, { percentage: 50_000, notifyUrl: url });
    const refunded = await provider.parseNotification(lastNotification());
    expect(refunded).toMatchObject({
      kind: 'refunded',
      providerTradeNo: a.transaction.transactionId,
      amount: 600,
      refund: { amount: 300 },
    });
    const b = await emu.pay(randomUUID(), { productId: 'com.example.premium', notifyUrl: url });
    await emu.revoke(b.transaction.transactionId, { notifyUrl: url });
    expect((await provider.parseNotification(lastNotification())).kind).toBe('revoked');
    const sub = await emu.pay(randomUUID(), { productId: 'com.example.pro.monthly', notifyUrl: url });
    expect((await provider.parseNotification(lastNotification())).kind).toBe('paid');
    await emu.renew(sub.transaction.originalTransactionId, { notifyUrl: url });
    expect((await provider.parseNotification(lastNotification())).kind).toBe('renewed');
    await emu.expire(sub.transaction.originalTransactionId, { notifyUrl: url });
    expect((await provider.parseNotification(lastNotification())).kind).toBe('expired');
    await emu.notify('TEST', undefined, undefined, { notifyUrl: url });
    const test = await provider.parseNotification(lastNotification());
    expect(test).toMatchObject({ kind: 'other' });
    expect(test.outTradeNo).toBeUndefined();
  });

  it('a tampered notification → verification error; a purchase of a product outside the catalogue → PayArgumentError', async () => {
    await emu.pay(randomUUID(), { productId: 'com.example.coins100', notifyUrl: 'http://127.0.0.1:9/unused' });
    const good = lastNotification();
    const body = good.rawBody.toString();
    const at = body.indexOf('.') + 11;
    const flipped = `${body.slice(0, at)}${body[at] === 'A' ? 'B' : 'A'}${body.slice(at + 1)}`;
    const tampered = { ...good, rawBody: Buffer.from(flipped) };
    const e = await rejection(provider.parseNotification(tampered));
    expect(e.reason).toBe(VerificationReason.VERIFICATION_FAILURE);
    const small = new IapProvider(
      new IapClient({ ...emu.clientConfig, products: [{ productId: 'com.example.premium', type: 'non_consumable' }] }),
    );
    expect(await rejection(small.parseNotification(good))).toBeInstanceOf(PayArgumentError);
  });

  it('the reply: 200 to acknowledge; 400 for a permanent failure, 503 for a retryable one (Apple retries both)', () => {
    expect(provider.notificationReply({ ok: true })).toEqual({ status: 200, headers: {}, body: '' });
    expect(provider.notificationReply({ ok: false, error: new PaySignatureError('x') }).status).toBe(400);
    expect(provider.notificationReply({ ok: false, error: new PayProviderError('x', { retryable: true }) }).status).toBe(503);
  });
});

describe('IapProvider: client proof, query, refund, close', () => {
  it('verifyClientProof: the signed transaction the app sends must carry the payment’s token and product', async () => {
    const created = await provider.createPayment(input());
    const token = created.data.appAccountToken as string;
    const bought = await emu.pay(token, { productId: 'com.example.coins100' });
    const event = await provider.verifyClientProof?.(bought.signedTransaction, ref(token));
    expect(event).toMatchObject({
      kind: 'paid',
      eventId: `transaction:${bought.transaction.transactionId}`,
      outTradeNo: token,
      amount: 600,
      currency: 'CNY',
    });
    expect(await rejection(provider.verifyClientProof?.(bought.signedTransaction, ref(randomUUID())) as Promise<unknown>)).toBeInstanceOf(
      PayMismatchError,
    );
    const other = ref(token, { providerData: { productId: 'com.example.premium', appAccountToken: token } });
    expect(await rejection(provider.verifyClientProof?.(bought.signedTransaction, other) as Promise<unknown>)).toBeInstanceOf(
      PayMismatchError,
    );
    // StoreKit 1: the receipt works as proof too
    const sk1 = await provider.verifyClientProof?.(bought.appReceipt, ref(token));
    expect(sk1?.providerTradeNo).toBe(bought.transaction.transactionId);
    expect(await rejection(provider.verifyClientProof?.('', ref(token)) as Promise<unknown>)).toBeInstanceOf(PayArgumentError);
  });

  it('queryPayment: pending until a transaction id is known, then paid / refunded / partially refunded / not found', async () => {
    const token = randomUUID();
    expect(await provider.queryPayment(ref(token))).toEqual({ state: 'pending', outTradeNo: token, raw: null });
    const bought = await emu.pay(token, { productId: 'com.example.coins100' });
    const r = ref(token, { providerTradeNo: bought.transaction.transactionId });
    expect(await provider.queryPayment(r)).toMatchObject({
      state: 'paid',
      providerTradeNo: bought.transaction.transactionId,
      amount: 600,
      currency: 'CNY',
      appId: emu.clientConfig.bundleId,
    });
    await emu.refund(bought.transaction.transactionId, { percentage: 25_000 });
    expect((await provider.queryPayment(r)).state).toBe('partially_refunded');
    const full = await emu.pay(randomUUID(), { productId: 'com.example.premium' });
    await emu.refund(full.transaction.transactionId);
    expect((await provider.queryPayment(ref(token, { providerTradeNo: full.transaction.transactionId }))).state).toBe('refunded');
    expect((await provider.queryPayment(ref(token, { providerTradeNo: '9999999999' }))).state).toBe('not_found');
  });

  it('refund is refused (Apple refunds, not developers); close succeeds without a call', async () => {
    const e = await rejection(provider.refund({ payment: ref(randomUUID()), refundId: 'r1', amount: 600 }));
    expect(e).toBeInstanceOf(PayProviderError);
    expect(e.reason).toBe('NOT_SUPPORTED');
    const before = emu.requests.length;
    await expect(provider.closePayment(ref(randomUUID()))).resolves.toBeUndefined();
    expect(emu.requests.length).toBe(before);
  });
});

describe('amounts', () => {
  it('converts Apple’s milliunits to minor units by currency', () => {
    expect(milliunitsToMinor(6000, 'CNY')).toBe(600);
    expect(milliunitsToMinor(10990, 'USD')).toBe(1099);
    expect(milliunitsToMinor(120000, 'JPY')).toBe(120);
    expect(milliunitsToMinor(1234, 'KWD')).toBe(1234);
    expect(milliunitsToMinor(undefined, 'CNY')).toBeUndefined();
    expect(milliunitsToMinor(6000, undefined)).toBeUndefined();
  });

  it('without a catalogue amount the event carries Apple’s price in minor units', async () => {
    const noAmounts = new IapProvider(
      new IapClient({ ...emu.clientConfig, products: emu.clientConfig.products.map(({ amount: _a, ...p }) => p) }),
    );
    const token = randomUUID();
    const bought = await emu.pay(token, { productId: 'com.example.premium' });
    const event = await noAmounts.verifyClientProof?.(
      bought.signedTransaction,
      ref(token, { providerData: { productId: 'com.example.premium', appAccountToken: token } }),
    );
    expect(event).toMatchObject({ amount: 3000, currency: 'CNY' });
  });
});
