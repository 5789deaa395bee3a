// The adapter inside core's ledger, against the emulator over loopback: create → pay → notification
// (verified, amount and identity checked by the ledger) → confirm → refund; duplicates run onPaid
// once, a dropped notification is recovered by confirm, a tampered one leaves the record pending.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHttpTransport, createPayments, fromNodeRequest, MemoryPaymentStore, type Payments, writeNodeReply } from '@pay/core';
import { type AlipayEmulator, startAlipayEmulator } from '@pay/sandbox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AlipayClient, AlipayProvider } from '../src/index.js';

let emu: AlipayEmulator;
let merchant: Server;
let payments: Payments;
const paidHooks: string[] = [];

beforeAll(async () => {
  emu = await startAlipayEmulator({ timeScale: 0.00001 });
  merchant = createServer(async (req, res) => {
    const handled = await payments.handleNotification('alipay', await fromNodeRequest(req));
    writeNodeReply(res, handled.reply);
  });
  await new Promise<void>((r) => merchant.listen(0, '127.0.0.1', r));
  const notifyUrl = `http://127.0.0.1:${(merchant.address() as AddressInfo).port}/alipay/notify`;
  const client = new AlipayClient({ ...emu.clientConfig, transport: createHttpTransport({ retries: 1, backoffMs: 1 }) });
  payments = createPayments({
    providers: { alipay: new AlipayProvider(client, { notifyUrl }) },
    store: new MemoryPaymentStore(),
    hooks: {
      onPaid: async (record) => {
        paidHooks.push(record.id);
      },
    },
  });
});

afterAll(async () => {
  await emu.close();
  merchant.closeAllConnections();
  await new Promise((r) => merchant.close(r));
});

async function createQr(amount: number) {
  const created = await payments.create({ provider: 'alipay', channel: 'qr', amount, subject: '台账' });
  if (created.result_code !== 0) throw new Error(JSON.stringify(created));
  return created;
}

describe('AlipayProvider in the ledger', () => {
  it('create (qr) → pay → notification settles the record once, even when duplicated; then refund', async () => {
    const created = await createQr(1999);
    expect(String(created.data.client.qrCode)).toMatch(/^https:/);
    emu.notifier.faults.duplicate = 1;
    emu.pay(created.data.outTradeNo);
    await emu.notifier.idle();
    const got = await payments.get(created.id as string);
    expect(got.result_code).toBe(0);
    if (got.result_code !== 0) return;
    expect(got.data.record.state).toBe('paid');
    expect(paidHooks.filter((id) => id === created.id)).toHaveLength(1);
    expect(emu.notifier.log.filter((a) => a.acknowledged).length).toBeGreaterThanOrEqual(2);

    const refunded = await payments.refund(created.id as string, { amount: 999, reason: '部分退款' });
    expect(refunded.result_code).toBe(0);
    expect(emu.trades.get(created.data.outTradeNo)?.refundedFen).toBe(999);
    await emu.notifier.idle();
    const after = await payments.get(created.id as string);
    expect(after.result_code === 0 && after.data.record.state).toMatch(/refunded/);
  });

  it('a dropped notification is recovered by confirm (active query)', async () => {
    const created = await createQr(500);
    emu.notifier.faults.drop = 1;
    emu.pay(created.data.outTradeNo);
    await emu.notifier.idle();
    const confirmed = await payments.confirm(created.id as string);
    expect(confirmed.result_code).toBe(0);
    if (confirmed.result_code !== 0) return;
    expect(confirmed.data.record.state).toBe('paid');
    expect(confirmed.data.source).toBe('provider');
  });

  it('a tampered notification is answered with failure and leaves the record pending', async () => {
    const created = await createQr(700);
    emu.notifier.faults.tamper = 1;
    emu.notifier.faults.drop = 0;
    const t = emu.trades.get(created.data.outTradeNo);
    expect(t?.trade_status).toBe('WAIT_BUYER_PAY');
    emu.pay(created.data.outTradeNo);
    await emu.notifier.idle();
    const tampered = emu.notifier.log.filter((a) => a.fault === 'tampered');
    expect(tampered.length).toBeGreaterThan(0);
    expect(tampered.every((a) => !a.acknowledged)).toBe(true);
    const got = await payments.get(created.id as string);
    expect(got.result_code === 0 && got.data.record.state).toBe('pending');
  });

  it('regression: default order numbers made within one second are distinct (they once kept only the digits of a random alphanumeric and collided)', async () => {
    const fixed = Date.UTC(2024, 0, 1);
    const ledger = createPayments({
      providers: { alipay: new AlipayProvider(new AlipayClient({ ...emu.clientConfig, clock: () => fixed })) },
      store: new MemoryPaymentStore(),
      clock: () => fixed,
    });
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const r = await ledger.create({ provider: 'alipay', channel: 'app', amount: 1, subject: 'n' });
      expect(r.result_code, JSON.stringify(r)).toBe(0);
      if (r.result_code === 0) seen.add(r.data.outTradeNo);
    }
    expect(seen.size).toBe(200);
  });
});
