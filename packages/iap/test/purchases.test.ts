// Purchase flows end to end against the App Store emulator (@pay/sandbox) over 127.0.0.1:
// valid product ids → buy (StoreKit 2 signed transaction / StoreKit 1 receipt) → verify → restore.
import { randomUUID } from 'node:crypto';
import {
  PayArgumentError,
  PayConfigError,
  PayMismatchError,
  PayNotFoundError,
  PayProviderError,
  PayRateLimitError,
  PayStateError,
  PayUpstreamError,
  SeenIds,
} from '@pay/core';
import { type IapEmulator, startIapEmulator } from '@pay/sandbox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IapClient, type IapClientConfig, ProductCatalogue, VerificationReason } from '../src/index.js';
import { rejection } from './helpers.js';

let emu: IapEmulator;

beforeAll(async () => {
  emu = await startIapEmulator({ pageSize: 2 });
});
afterAll(() => emu.close());

function client(extra: Partial<IapClientConfig> = {}): IapClient {
  return new IapClient({ ...emu.clientConfig, ...extra });
}

describe('step 1: valid product ids', () => {
  it('lists the catalogue, in order; unknown ids are refused wherever a purchase is accepted', async () => {
    const iap = client();
    expect(iap.validProductIds()).toEqual(['com.example.coins100', 'com.example.premium', 'com.example.pro.monthly', 'com.example.season']);
    await expect(iap.verifyPurchase({ signedTransaction: 'x.y.z', productId: 'com.example.nope' })).rejects.toThrow(PayArgumentError);
    // A genuine Apple transaction for a product the catalogue does not sell is refused too.
    const small = client({ products: [{ productId: 'com.example.premium', type: 'non_consumable', amount: 3000 }] });
    const { signedTransaction } = await emu.pay(randomUUID(), { productId: 'com.example.coins100' });
    const e = await rejection(small.verifyPurchase({ signedTransaction }));
    expect(e).toBeInstanceOf(PayArgumentError);
    expect(e.message).toMatch(/expected a product of the catalogue, got "com.example.coins100"/);
  });

  it('the catalogue refuses bad configuration', () => {
    expect(() => new ProductCatalogue([{ productId: '', type: 'consumable' }])).toThrow(PayConfigError);
    expect(() => new ProductCatalogue([{ productId: 'a', type: 'gift' as never }])).toThrow(/type/);
    expect(() => new ProductCatalogue([{ productId: 'a', type: 'consumable', amount: 1.5 }])).toThrow(/fen/);
    expect(
      () =>
        new ProductCatalogue([
          { productId: 'a', type: 'consumable' },
          { productId: 'a', type: 'consumable' },
        ]),
    ).toThrow(/twice/);
  });
});

describe('verifyPurchase: StoreKit 2 signed transaction', () => {
  it('verifies the transaction the app got, bound to the pending payment by appAccountToken; idempotent by transactionId', async () => {
    const iap = client();
    const token = randomUUID();
    const { signedTransaction, transaction } = await emu.pay(token, { productId: 'com.example.coins100', quantity: 3 });
    const first = await iap.verifyPurchase({ signedTransaction, appAccountToken: token, productId: 'com.example.coins100' });
    expect(first).toMatchObject({
      transactionId: transaction.transactionId,
      productId: 'com.example.coins100',
      appAccountToken: token,
      environment: 'Sandbox',
      quantity: 3,
      active: true,
      duplicate: false,
      source: 'storekit2',
    });
    expect(first.product).toMatchObject({ type: 'consumable', amount: 600, currency: 'CNY' });
    const again = await iap.verifyPurchase({ signedTransaction, appAccountToken: token.toUpperCase() });
    expect(again.duplicate).toBe(true);
    expect(again.transactionId).toBe(first.transactionId);
  });

  it('another payment’s token, another product, a missing token → PayMismatchError', async () => {
    const iap = client();
    const token = randomUUID();
    const { signedTransaction } = await emu.pay(token, { productId: 'com.example.premium' });
    expect(await rejection(iap.verifyPurchase({ signedTransaction, appAccountToken: randomUUID() }))).toBeInstanceOf(PayMismatchError);
    expect(await rejection(iap.verifyPurchase({ signedTransaction, productId: 'com.example.coins100' }))).toBeInstanceOf(PayMismatchError);
    const untokened = await emu.pay(undefined, { productId: 'com.example.premium' });
    const e = await rejection(iap.verifyPurchase({ signedTransaction: untokened.signedTransaction, appAccountToken: token }));
    expect(e.message).toMatch(/carries none/);
    expect(await rejection(iap.verifyPurchase({ signedTransaction, appAccountToken: 'not-a-uuid' }))).toBeInstanceOf(PayArgumentError);
    expect(await rejection(iap.verifyPurchase({}))).toBeInstanceOf(PayArgumentError);
  });

  it('a refunded or family-revoked transaction is not delivered → PayStateError REVOKED', async () => {
    const iap = client();
    const a = await emu.pay(randomUUID(), { productId: 'com.example.premium' });
    await emu.refund(a.transaction.transactionId);
    const refunded = emu.signTransaction(a.transaction);
    const e = await rejection(iap.verifyPurchase({ signedTransaction: refunded }));
    expect(e).toBeInstanceOf(PayStateError);
    expect(e.reason).toBe('REVOKED');
    expect(e.message).toMatch(/was refunded at/);
    const b = await emu.pay(randomUUID(), { productId: 'com.example.premium' });
    await emu.revoke(b.transaction.transactionId);
    expect((await rejection(iap.verifyPurchase({ signedTransaction: emu.signTransaction(b.transaction) }))).message).toMatch(
      /was revoked at/,
    );
  });

  it('an expired subscription verifies with active: false', async () => {
    const iap = client();
    const sub = await emu.pay(randomUUID(), { productId: 'com.example.pro.monthly' });
    expect((await iap.verifyPurchase({ signedTransaction: sub.signedTransaction })).active).toBe(true);
    await emu.expire(sub.transaction.originalTransactionId);
    const expired = await iap.verifyPurchase({ signedTransaction: emu.signTransaction(sub.transaction) });
    expect(expired.active).toBe(false);
  });

  it('wrong bundle or environment in genuinely signed data → INVALID_APP_IDENTIFIER / INVALID_ENVIRONMENT', async () => {
    const iap = client();
    const { transaction } = await emu.pay(randomUUID(), { productId: 'com.example.coins100' });
    expect(
      (await rejection(iap.verifyPurchase({ signedTransaction: emu.signTransaction(transaction, { bundleId: 'com.other' }) }))).reason,
    ).toBe(VerificationReason.INVALID_APP_IDENTIFIER);
    expect(
      (await rejection(iap.verifyPurchase({ signedTransaction: emu.signTransaction(transaction, { environment: 'Production' }) }))).reason,
    ).toBe(VerificationReason.INVALID_ENVIRONMENT);
  });

  it('emulator faults: an expired signing certificate, an untrusted chain, a rotated chain', async () => {
    const iap = client();
    const { transaction } = await emu.pay(randomUUID(), { productId: 'com.example.coins100' });
    emu.faults.expiredCertificate = true;
    expect((await rejection(iap.verifyTransaction(emu.signTransaction(transaction)))).reason).toBe(VerificationReason.INVALID_CERTIFICATE);
    emu.faults = { untrustedChain: true };
    expect((await rejection(iap.verifyTransaction(emu.signTransaction(transaction)))).reason).toBe(VerificationReason.VERIFICATION_FAILURE);
    emu.faults = {};
    await iap.verifyTransaction(emu.signTransaction(transaction));
    emu.rotateChain();
    await expect(iap.verifyTransaction(emu.signTransaction(transaction))).resolves.toMatchObject({
      transactionId: transaction.transactionId,
    });
    expect(iap.verifier.cachedChains).toBe(2);
  });

  it('Production with sandboxFallback accepts App Review sandbox purchases; without it they are INVALID_ENVIRONMENT', async () => {
    const prod = await startIapEmulator({ environment: 'Production' });
    try {
      const sandboxBuy = await prod.pay(randomUUID(), { productId: 'com.example.coins100', environment: 'Sandbox' });
      const withFallback = new IapClient(prod.clientConfig);
      expect((await withFallback.verifyPurchase({ signedTransaction: sandboxBuy.signedTransaction })).environment).toBe('Sandbox');
      const strict = new IapClient({ ...prod.clientConfig, sandboxFallback: false });
      expect((await rejection(strict.verifyPurchase({ signedTransaction: sandboxBuy.signedTransaction }))).reason).toBe(
        VerificationReason.INVALID_ENVIRONMENT,
      );
      const prodBuy = await prod.pay(randomUUID(), { productId: 'com.example.coins100' });
      expect((await strict.verifyPurchase({ signedTransaction: prodBuy.signedTransaction })).environment).toBe('Production');
      // API lookups: production answers 4040010 for the sandbox transaction, the client then asks the sandbox.
      const info = await withFallback.api?.getTransactionInfo(sandboxBuy.transaction.transactionId);
      expect(info?.signedTransactionInfo).toBeDefined();
      expect(prod.requests.slice(-2).map((r) => r.authorized)).toEqual([true, true]);
      await expect(strict.api?.getTransactionInfo(sandboxBuy.transaction.transactionId)).rejects.toMatchObject({ providerCode: '4040010' });
    } finally {
      await prod.close();
    }
  });
});

describe('verifyPurchase: StoreKit 1 app receipt', () => {
  it('takes the transaction id from the receipt and verifies the signed transaction the App Store Server API returns', async () => {
    const iap = client();
    const customer = `c-${randomUUID()}`;
    await emu.pay(undefined, { productId: 'com.example.premium', customer });
    const bought = await emu.pay(undefined, { productId: 'com.example.coins100', customer });
    const receipt = bought.appReceipt;
    const p = await iap.verifyPurchase({ appReceipt: receipt, productId: 'com.example.coins100' });
    expect(p).toMatchObject({ source: 'storekit1', transactionId: bought.transaction.transactionId, productId: 'com.example.coins100' });
    const premium = await iap.verifyPurchase({ appReceipt: receipt, productId: 'com.example.premium' });
    expect(premium.productId).toBe('com.example.premium');
    expect(await rejection(iap.verifyPurchase({ appReceipt: receipt, productId: 'com.example.season' }))).toBeInstanceOf(PayNotFoundError);
    expect(await rejection(iap.verifyPurchase({ appReceipt: Buffer.from('garbage').toString('base64') }))).toBeInstanceOf(PayArgumentError);
  });

  it('without the API, uses the legacy verifyReceipt with the shared secret (deprecated path)', async () => {
    const { api: _api, ...noApi } = emu.clientConfig;
    const iap = new IapClient(noApi);
    const customer = `c-${randomUUID()}`;
    const token = randomUUID();
    const bought = await emu.pay(token, { productId: 'com.example.coins100', customer });
    const p = await iap.verifyPurchase({ appReceipt: bought.appReceipt, appAccountToken: token });
    expect(p).toMatchObject({
      source: 'storekit1',
      transactionId: bought.transaction.transactionId,
      appAccountToken: token,
      environment: 'Sandbox',
    });
    const wrongSecret = new IapClient({ ...noApi, legacy: { ...noApi.legacy, sharedSecret: 'wrong' } });
    const e = await rejection(wrongSecret.verifyPurchase({ appReceipt: bought.appReceipt }));
    expect(e).toBeInstanceOf(PayProviderError);
    expect(e.providerCode).toBe('21004');
    const { legacy: _legacy, ...nothing } = noApi;
    expect(await rejection(new IapClient(nothing).verifyPurchase({ appReceipt: bought.appReceipt }))).toBeInstanceOf(PayConfigError);
  });
});

describe('restore: transaction history → current entitlements', () => {
  it('pages through the history with revision and keeps what the customer owns now', async () => {
    const iap = client();
    const customer = `c-${randomUUID()}`;
    const coins = await emu.pay(undefined, { productId: 'com.example.coins100', customer });
    const premium = await emu.pay(undefined, { productId: 'com.example.premium', customer });
    const refunded = await emu.pay(undefined, { productId: 'com.example.season', customer });
    await emu.refund(refunded.transaction.transactionId);
    const sub = await emu.pay(undefined, { productId: 'com.example.pro.monthly', customer });
    const renewed = await emu.renew(sub.transaction.originalTransactionId);
    const before = emu.requests.length;
    const result = await iap.restorePurchases(coins.transaction.transactionId);
    const calls = emu.requests.slice(before);
    expect(calls.length).toBe(3); // 5 transactions, 2 per page
    expect(new URLSearchParams(calls[1]?.query).get('revision')).toBeTruthy();
    expect(result.transactions).toHaveLength(5);
    expect(result.entitlements.map((e) => e.productId).sort()).toEqual(['com.example.premium', 'com.example.pro.monthly']);
    const subEntitlement = result.entitlements.find((e) => e.type === 'auto_renewable');
    expect(subEntitlement?.transactionId).toBe(renewed.transaction.transactionId);
    expect(result.entitlements.find((e) => e.type === 'non_consumable')?.transactionId).toBe(premium.transaction.transactionId);
    expect(result.unknownProductIds).toEqual([]);
    // filters go to Apple as query parameters
    const filtered = await iap.restorePurchases(coins.transaction.transactionId, { productIds: ['com.example.premium'] });
    expect(filtered.transactions.map((t) => t.productId)).toEqual(['com.example.premium']);
    expect(emu.requests.at(-1)?.query).toBe('productId=com.example.premium');
  });

  it('products outside the catalogue are reported, never entitled', async () => {
    const customer = `c-${randomUUID()}`;
    const a = await emu.pay(undefined, { productId: 'com.example.premium', customer });
    const small = client({ products: [{ productId: 'com.example.coins100', type: 'consumable' }] });
    const result = await small.restorePurchases(a.transaction.transactionId);
    expect(result.entitlements).toEqual([]);
    expect(result.unknownProductIds).toEqual(['com.example.premium']);
  });

  it('subscription statuses with every nested signed transaction and renewal info verified', async () => {
    const iap = client();
    const customer = `c-${randomUUID()}`;
    const sub = await emu.pay(undefined, { productId: 'com.example.pro.monthly', customer });
    const statuses = await iap.getSubscriptionStatuses(sub.transaction.transactionId);
    expect(statuses).toHaveLength(1);
    expect(statuses[0]).toMatchObject({
      status: 1,
      subscriptionGroupIdentifier: '20000001',
      originalTransactionId: sub.transaction.originalTransactionId,
    });
    expect(statuses[0]?.transaction?.productId).toBe('com.example.pro.monthly');
    expect(statuses[0]?.renewalInfo?.autoRenewStatus).toBe(1);
    expect(await iap.getSubscriptionStatuses(sub.transaction.transactionId, [2])).toEqual([]);
  });

  it('API faults: 5xx kept as PayUpstreamError, 429 waited out, unknown transaction → PayNotFoundError 4040010', async () => {
    const sleeps: number[] = [];
    const iap = client({ sleep: async (ms) => void sleeps.push(ms) });
    const customer = `c-${randomUUID()}`;
    const a = await emu.pay(undefined, { productId: 'com.example.premium', customer });
    emu.faults = { status5xx: 3 }; // the default transport retries idempotent GETs twice
    const e = await rejection(iap.restorePurchases(a.transaction.transactionId));
    expect(e).toBeInstanceOf(PayUpstreamError);
    expect(e.providerCode).toBe('5000000');
    emu.faults = { rateLimit: 1, retryAfterMs: 5 };
    await expect(iap.restorePurchases(a.transaction.transactionId)).resolves.toMatchObject({
      entitlements: [{ productId: 'com.example.premium' }],
    });
    expect(sleeps.length).toBe(1);
    emu.faults = { rateLimit: 5, retryAfterMs: 5 };
    expect(await rejection(iap.restorePurchases(a.transaction.transactionId))).toBeInstanceOf(PayRateLimitError);
    emu.faults = {};
    const nf = await rejection(iap.restorePurchases('9999999999'));
    expect(nf).toBeInstanceOf(PayNotFoundError);
    expect(nf.providerCode).toBe('4040010');
    expect(await rejection(client({ api: undefined as never }).restorePurchases('1'))).toBeInstanceOf(PayConfigError);
  });

  it('a shared store of seen transactions makes verification idempotent across clients', async () => {
    const seen = new SeenIds(100);
    const a = client({ seenTransactions: seen });
    const b = client({ seenTransactions: seen });
    const { signedTransaction } = await emu.pay(randomUUID(), { productId: 'com.example.coins100' });
    expect((await a.verifyPurchase({ signedTransaction })).duplicate).toBe(false);
    expect((await b.verifyPurchase({ signedTransaction })).duplicate).toBe(true);
  });
});
