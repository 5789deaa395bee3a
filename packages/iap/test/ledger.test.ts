// IapProvider inside core's ledger, against the App Store emulator over 127.0.0.1: the ledger
// makes a UUID order number (it travels as appAccountToken), the app's signed transaction settles
// the record once even when the notification arrives too, and a REFUND notification refunds it.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createPayments, fromNodeRequest, MemoryPaymentStore, type Payments, ResultCode, writeNodeReply } from '@pay/core';
import { type IapEmulator, startIapEmulator } from '@pay/sandbox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IapClient, IapProvider } from '../src/index.js';

let emu: IapEmulator;
let server: Server;
let payments: Payments;
let notifyUrl: string;
const paid: string[] = [];

beforeAll(async () => {
  emu = await startIapEmulator();
  payments = createPayments({
    providers: { iap: new IapProvider(new IapClient(emu.clientConfig)) },
    store: new MemoryPaymentStore(),
    hooks: { onPaid: (record) => void paid.push(record.id) },
  });
  server = createServer(async (req, res) =>
    writeNodeReply(res, (await payments.handleNotification('iap', await fromNodeRequest(req))).reply),
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  notifyUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/notify/iap`;
});
afterAll(async () => {
  await emu.close();
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

describe('IapProvider in the ledger', () => {
  it('create without an order number gets a UUID appAccountToken; proof + notification settle it once; REFUND refunds it', async () => {
    const created = await payments.create({
      provider: 'iap',
      channel: 'app',
      amount: 3000,
      subject: 'premium',
      productId: 'com.example.premium',
    });
    expect(created.result_code).toBe(0);
    if (created.result_code !== 0) return;
    expect(created.data.outTradeNo).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(created.data.client).toMatchObject({ productId: 'com.example.premium', appAccountToken: created.data.outTradeNo });

    const purchase = await emu.pay(created.data.client.appAccountToken as string, { productId: 'com.example.premium', notifyUrl });
    const proved = await payments.submitProof(created.id as string, purchase.signedTransaction);
    expect(proved).toMatchObject({
      result_code: 0,
      data: { record: { state: 'paid', providerTradeNo: purchase.transaction.transactionId } },
    });
    await emu.idle();
    expect(paid.filter((id) => id === created.id)).toHaveLength(1);

    await emu.refund(purchase.transaction.transactionId, { notifyUrl });
    await emu.idle();
    const after = await payments.get(created.id as string);
    expect(after).toMatchObject({ result_code: 0, data: { record: { state: 'refunded', refundedAmount: 3000 } } });
  });

  it('a signed transaction for another order is refused and settles nothing', async () => {
    const a = await payments.create({ provider: 'iap', channel: 'app', amount: 600, subject: 'coins', productId: 'com.example.coins100' });
    const b = await payments.create({ provider: 'iap', channel: 'app', amount: 600, subject: 'coins', productId: 'com.example.coins100' });
    if (a.result_code !== 0 || b.result_code !== 0) throw new Error('create failed');
    const purchase = await emu.pay(b.data.outTradeNo, { productId: 'com.example.coins100' });
    const res = await payments.submitProof(a.id as string, purchase.signedTransaction);
    expect(res.result_code).toBe(ResultCode.MISMATCH);
    expect(await payments.get(a.id as string)).toMatchObject({ result_code: 0, data: { record: { state: 'pending' } } });
  });
});
