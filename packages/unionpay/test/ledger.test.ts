// The adapter inside core's ledger (createPayments + memory store), end to end over loopback:
// create → the emulator "pays" → signed notification to a node:http backend → the ledger moves
// the record once → confirm → refund → refund notification.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHttpTransport, createPayments, fromNodeRequest, MemoryPaymentStore, type Payments, writeNodeReply } from '@pay/core';
import { startUnionPayEmulator, type UnionPayEmulator } from '@pay/sandbox';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createUnionPayProvider, UnionPayClient } from '../src/index.js';

vi.setConfig({ testTimeout: 20_000, hookTimeout: 30_000 });

let emu: UnionPayEmulator;
let payments: Payments;
let server: Server;
let notifyUrl: string;
const paidHook = vi.fn();

beforeAll(async () => {
  emu = await startUnionPayEmulator({ timeScale: 0.0002 });
  const client = new UnionPayClient({ ...emu.clientConfig, transport: createHttpTransport({ retries: 0 }) });
  payments = createPayments({
    providers: { unionpay: createUnionPayProvider({ client }) },
    store: new MemoryPaymentStore(),
    hooks: { onPaid: paidHook },
  });
  server = createServer(async (req, res) => {
    const { reply } = await payments.handleNotification('unionpay', await fromNodeRequest(req));
    writeNodeReply(res, reply);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  notifyUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/notify/unionpay`;
});
afterAll(async () => {
  await emu.close();
  await new Promise((r) => server.close(r));
});

async function created(): Promise<{ id: string; outTradeNo: string; tn: string }> {
  const r = await payments.create({ provider: 'unionpay', channel: 'app', amount: 8888, subject: '会员', notifyUrl });
  if (r.result_code !== 0) throw new Error(r.err_detail);
  return { id: r.id as string, outTradeNo: r.data.outTradeNo, tn: r.data.client.tn as string };
}

describe('ledger + UnionPay adapter', () => {
  it('pay → notification (duplicated) → paid once, onPaid once → confirm from the store → refund → refund notification', async () => {
    const { id, outTradeNo, tn } = await created();
    expect(tn).toMatch(/^\d{21}$/);
    paidHook.mockClear();
    emu.notifier.faults.duplicate = 1;
    emu.pay(outTradeNo);
    await emu.notifier.idle();
    expect(emu.notifier.log.slice(-2).every((a) => a.status === 200)).toBe(true);
    expect(paidHook).toHaveBeenCalledTimes(1);
    const confirmed = await payments.confirm(id);
    expect(confirmed).toMatchObject({ result_code: 0, data: { source: 'store', record: { state: 'paid', amount: 8888 } } });

    const refunded = await payments.refund(id, { amount: 3000, notifyUrl });
    expect(refunded.result_code).toBe(0);
    // The refund notification is queued after the refund answer: wait for the state, not only for the deliverer.
    let got = await payments.get(id);
    for (let i = 0; i < 200 && got.result_code === 0 && got.data.record.state === 'paid'; i++) {
      await emu.notifier.idle();
      await new Promise((r) => setTimeout(r, 10));
      got = await payments.get(id);
    }
    if (got.result_code !== 0) throw new Error(got.err_detail);
    expect(got.data.record.state).toBe('partially_refunded');
    expect(got.data.record.refundedAmount).toBe(3000);
  });

  it('a dropped notification is recovered by confirm (active query)', async () => {
    const { id, outTradeNo } = await created();
    const pending = await payments.confirm(id);
    expect(pending.result_code === 0 && pending.data.record.state).toBe('pending');
    emu.notifier.faults.drop = 1;
    emu.pay(outTradeNo);
    const confirmed = await payments.confirm(id);
    expect(confirmed).toMatchObject({ result_code: 0, data: { source: 'provider', record: { state: 'paid' } } });
  });

  it('a tampered notification leaves the record pending and is answered with a failure (UnionPay retries)', async () => {
    const { id, outTradeNo } = await created();
    const start = emu.notifier.log.length;
    emu.notifier.faults.tamper = 1;
    emu.pay(outTradeNo);
    await emu.notifier.idle();
    const attempts = emu.notifier.log.slice(start);
    expect(attempts.length).toBe(5);
    expect(attempts.every((a) => a.status === 400)).toBe(true);
    const got = await payments.get(id);
    expect(got.result_code === 0 && got.data.record.state).toBe('pending');
  });
});
