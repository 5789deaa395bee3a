// The ledger under injected faults, against the WeChat Pay emulator over 127.0.0.1: signed and
// encrypted callbacks delivered to a node:http backend with WeChat Pay's retry schedule (scaled).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createPayments, fromNodeRequest, MemoryPaymentStore, type PaymentRecord, type Payments, writeNodeReply } from '@pay/core';
import { startWechatPayEmulator, type WechatPayEmulator } from '@pay/sandbox';
import { WechatPayClient, WechatPayProvider } from '@pay/wechat';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';

vi.setConfig({ testTimeout: 30_000, hookTimeout: 60_000 });

let emu: WechatPayEmulator;
let server: Server;
let payments: Payments;
let store: MemoryPaymentStore;
let notifyUrl: string;
const hookRuns = new Map<string, number>();
let failNextHooks = 0;

beforeAll(async () => {
  emu = await startWechatPayEmulator({ v2: false, timeScale: 0.00001 }); // WeChat's ~24 h of retries in under a second
  store = new MemoryPaymentStore();
  payments = createPayments({
    providers: { wechat: new WechatPayProvider(new WechatPayClient(emu.clientConfig)) },
    store,
    hooks: {
      onPaid: (record) => {
        hookRuns.set(record.id, (hookRuns.get(record.id) ?? 0) + 1);
        if (failNextHooks > 0) {
          failNextHooks--;
          throw new Error('warehouse offline');
        }
      },
    },
  });
  server = createServer(async (req, res) =>
    writeNodeReply(res, (await payments.handleNotification('wechat', await fromNodeRequest(req))).reply),
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  notifyUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/notify/wechat`;
});
afterAll(async () => {
  await emu.close();
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});
beforeEach(() => {
  emu.notifier.faults = {};
  failNextHooks = 0;
});

async function create(amount = 1999): Promise<{ id: string; outTradeNo: string }> {
  const r = await payments.create({ provider: 'wechat', channel: 'native', amount, subject: '故障注入', notifyUrl });
  if (r.result_code !== 0) throw new Error(r.err_detail);
  return { id: r.id as string, outTradeNo: r.data.outTradeNo };
}

async function record(id: string): Promise<PaymentRecord> {
  const r = await payments.get(id);
  if (r.result_code !== 0) throw new Error(r.err_detail);
  return r.data.record;
}

describe('ledger + WeChat Pay emulator with injected faults', () => {
  it('a dropped callback is recovered by confirm (active query)', async () => {
    const { id, outTradeNo } = await create();
    emu.notifier.faults.drop = 1;
    emu.pay(outTradeNo);
    await emu.notifier.idle();
    expect((await record(id)).state).toBe('pending');
    expect(await payments.confirm(id)).toMatchObject({ result_code: 0, data: { source: 'provider', record: { state: 'paid' } } });
    expect(hookRuns.get(id)).toBe(1);
  });

  it('a dropped callback is recovered by reconcile, which leaves unpaid records pending', async () => {
    const paidOne = await create();
    const unpaid = await create(500);
    emu.notifier.faults.drop = 1;
    emu.pay(paidOne.outTradeNo);
    await emu.notifier.idle();
    const res = await payments.reconcile({ olderThan: 0 });
    expect(res.result_code).toBe(0);
    if (res.result_code !== 0) return;
    expect(res.data.paid).toContain(paidOne.id);
    expect(res.data.pending).toContain(unpaid.id);
    expect((await record(paidOne.id)).state).toBe('paid');
    expect(hookRuns.get(paidOne.id)).toBe(1);
  });

  it('a duplicated callback runs onPaid once and both deliveries are acknowledged', async () => {
    const { id, outTradeNo } = await create();
    emu.notifier.faults.duplicate = 1;
    const before = emu.notifier.log.length;
    emu.pay(outTradeNo);
    await emu.notifier.idle();
    const attempts = emu.notifier.log.slice(before);
    expect(attempts).toHaveLength(2);
    expect(attempts.every((a) => a.acknowledged)).toBe(true);
    expect(hookRuns.get(id)).toBe(1);
    const events = await store.listEvents(id);
    expect(events.map((e) => e.outcome).sort()).toEqual(['applied', 'duplicate']);
  });

  it('a tampered callback leaves the record pending and is answered with a failure on every retry', async () => {
    const { id, outTradeNo } = await create();
    emu.notifier.faults.tamper = 1;
    const before = emu.notifier.log.length;
    emu.pay(outTradeNo);
    await emu.notifier.idle();
    const attempts = emu.notifier.log.slice(before);
    expect(attempts.length).toBeGreaterThan(1);
    expect(attempts.every((a) => !a.acknowledged && a.status >= 400 && a.body.includes('"code":"FAIL"'))).toBe(true);
    expect((await record(id)).state).toBe('pending');
    expect(hookRuns.get(id)).toBeUndefined();
  });

  it('an amount mismatch is refused and recorded as evidence; the authoritative query settles the real amount', async () => {
    const { id, outTradeNo } = await create(1999);
    emu.pay(outTradeNo, { amount: 1 });
    await emu.notifier.idle();
    const r = await record(id);
    expect(r.state).toBe('pending');
    expect(r.anomaly).toMatch(/amount: expected 1999 fen, notification says 1 fen/);
    const events = await store.listEvents(id);
    expect(events.some((e) => e.outcome === 'mismatch')).toBe(true);
    expect(hookRuns.get(id)).toBeUndefined();
    // The authoritative query reports the order's real amount: the record settles by it, and the
    // mismatched callback stays on record as evidence.
    const confirmed = await payments.confirm(id);
    expect(confirmed).toMatchObject({
      result_code: 0,
      data: { source: 'provider', record: { state: 'paid', amount: 1999, anomaly: expect.stringMatching(/amount/) } },
    });
  });

  it('a failing onPaid makes the reply ask for a retry, and the next delivery runs it again', async () => {
    const { id, outTradeNo } = await create();
    failNextHooks = 1;
    const before = emu.notifier.log.length;
    emu.pay(outTradeNo);
    await emu.notifier.idle();
    const attempts = emu.notifier.log.slice(before);
    expect(attempts[0]).toMatchObject({ acknowledged: false });
    expect(attempts.at(-1)).toMatchObject({ acknowledged: true });
    expect(hookRuns.get(id)).toBe(2);
    expect((await record(id)).hook).toMatchObject({ state: 'done', attempts: 2 });
  });
});
