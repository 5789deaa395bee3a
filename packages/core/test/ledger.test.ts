import { beforeEach, describe, expect, it } from 'vitest';
import {
  createPayments,
  MemoryPaymentStore,
  type PaymentRecord,
  type Payments,
  PayProviderError,
  ResultCode,
  storeConformanceCases,
} from '../src/index.js';
import { FakeProvider, signedNotice } from './ledger-fake-provider.js';

describe('MemoryPaymentStore passes the store conformance suite', () => {
  for (const c of storeConformanceCases(() => new MemoryPaymentStore())) it(c.name, c.run);
});

const T0 = Date.UTC(2026, 0, 1, 0, 0, 0);

function setup(hooks: Parameters<typeof createPayments>[0]['hooks'] = {}) {
  let now = T0;
  const provider = new FakeProvider();
  const store = new MemoryPaymentStore();
  const payments = createPayments({ providers: { fake: provider }, store, hooks, clock: () => now });
  return { provider, store, payments, advance: (ms: number) => (now += ms) };
}

async function createOne(payments: Payments, amount = 8888): Promise<PaymentRecord> {
  const res = await payments.create({ provider: 'fake', channel: 'app', amount, subject: '会员' });
  if (res.result_code !== 0) throw new Error(JSON.stringify(res));
  const got = await payments.get(res.id as string);
  if (got.result_code !== 0) throw new Error('missing');
  return got.data.record;
}

describe('create', () => {
  it('stores a pending record and answers the contract with the id and what the client needs', async () => {
    const { payments, provider, store } = setup();
    const res = await payments.create({ provider: 'fake', channel: 'app', amount: 8888, subject: '会员', metadata: { user: 'u1' } });
    expect(res).toMatchObject({ result_code: 0, result_msg: 'OK', data: { provider: 'fake', channel: 'app', amount: 8888 } });
    if (res.result_code !== 0) return;
    expect(res.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.data.client).toEqual({ orderString: `pay:${res.data.outTradeNo}:8888` });
    expect(res.data.outTradeNo).toMatch(/^20260101080000\d{10}$/); // China time + 10 digits
    const record = await store.get(res.id as string);
    expect(record).toMatchObject({
      state: 'pending',
      amount: 8888,
      currency: 'CNY',
      appId: 'app-1',
      merchantId: 'm-1',
      providerRef: `ref-${res.data.outTradeNo}`,
      metadata: { user: 'u1' },
    });
    expect(provider.created[0]).toMatchObject({ currency: 'CNY', expiresAt: T0 + 30 * 60_000 });
  });

  it.each([
    [{ provider: 'nope', channel: 'app', amount: 1, subject: 's' }, ResultCode.INVALID_ARGUMENT, /unknown provider "nope"/],
    [{ provider: 'fake', channel: 'qr', amount: 1, subject: 's' }, ResultCode.INVALID_ARGUMENT, /no channel "qr"/],
    [{ provider: 'fake', channel: 'app', amount: 88.88, subject: 's' }, ResultCode.INVALID_ARGUMENT, /integer number of minor units/],
    [{ provider: 'fake', channel: 'app', amount: -1, subject: 's' }, ResultCode.INVALID_ARGUMENT, /non-negative/],
    [{ provider: 'fake', channel: 'app', amount: 0, subject: 's' }, ResultCode.INVALID_ARGUMENT, /positive/],
    [{ provider: 'fake', channel: 'app', amount: 1, subject: ' ' }, ResultCode.INVALID_ARGUMENT, /subject is required/],
    [{ provider: 'fake', channel: 'app', amount: 1, subject: 's', outTradeNo: 'a b' }, ResultCode.INVALID_ARGUMENT, /outTradeNo must be/],
  ])('rejects bad input %# with a precise err_detail and stores nothing', async (input, code, detail) => {
    const { payments, provider } = setup();
    const res = await payments.create(input as never);
    expect(res.result_code).toBe(code);
    if (res.result_code === 0) return;
    expect(res.err_detail).toMatch(detail);
    expect(res.id).toBeUndefined();
    expect(provider.created).toHaveLength(0);
  });

  it('lets the provider make the order number when it has a rule of its own', async () => {
    const { payments, provider } = setup();
    Object.assign(provider, { newOutTradeNo: () => 'e7a9c1d2-0b1f-4c3e-9a77-1234567890ab' });
    const res = await payments.create({ provider: 'fake', channel: 'app', amount: 1, subject: 's' });
    expect(res).toMatchObject({ result_code: 0, data: { outTradeNo: 'e7a9c1d2-0b1f-4c3e-9a77-1234567890ab' } });
  });

  it('refuses a duplicate outTradeNo before asking the provider', async () => {
    const { payments, provider } = setup();
    await payments.create({ provider: 'fake', channel: 'app', amount: 1, subject: 's', outTradeNo: 'ORDER0001' });
    const res = await payments.create({ provider: 'fake', channel: 'app', amount: 1, subject: 's', outTradeNo: 'ORDER0001' });
    expect(res.result_code).toBe(ResultCode.STATE_CONFLICT);
    expect(provider.created).toHaveLength(1);
  });

  it('stores nothing when the provider fails, and keeps the provider codes in err_detail', async () => {
    const { payments, provider, store } = setup();
    provider.failCreate = new PayProviderError('fake: refused', { providerCode: '40004', providerSubCode: 'ACQ.ACCESS_FORBIDDEN' });
    const res = await payments.create({ provider: 'fake', channel: 'app', amount: 1, subject: 's', outTradeNo: 'ORDER0002' });
    expect(res).toMatchObject({ result_code: ResultCode.PROVIDER, result_msg: 'PROVIDER_ERROR' });
    if (res.result_code !== 0) expect(res.err_detail).toContain('sub_code=ACQ.ACCESS_FORBIDDEN');
    expect(await store.getByOutTradeNo('fake', 'ORDER0002')).toBeUndefined();
  });
});

describe('handleNotification', () => {
  it('moves pending -> paid once, runs onPaid once, and answers success; a duplicate does not run it again', async () => {
    const paid: string[] = [];
    const { payments } = setup({ onPaid: (r) => void paid.push(r.id) });
    const record = await createOne(payments);
    const notice = signedNotice({ id: 'N1', kind: 'paid', outTradeNo: record.outTradeNo, amount: 8888, tradeNo: 'P1' });
    const first = await payments.handleNotification('fake', notice);
    expect(first.reply).toEqual({ status: 200, headers: {}, body: 'success' });
    expect(first.result).toMatchObject({
      result_code: 0,
      id: record.id,
      data: { duplicate: false, record: { state: 'paid', providerTradeNo: 'P1', hook: { state: 'done', attempts: 1 } } },
    });
    const again = await payments.handleNotification('fake', notice);
    expect(again.reply.body).toBe('success');
    expect(again.result).toMatchObject({ result_code: 0, data: { duplicate: true } });
    expect(paid).toEqual([record.id]);
    const history = await payments.get(record.id);
    if (history.result_code === 0) expect(history.data.events.map((e) => e.outcome)).toEqual(['applied', 'duplicate']);
  });

  it('100 parallel copies of the same notification: one transition, one successful hook run', async () => {
    let runs = 0;
    const { payments, store } = setup({
      onPaid: async () => {
        runs++;
        await new Promise((r) => setTimeout(r, 5));
      },
    });
    const record = await createOne(payments);
    const notice = signedNotice({ id: 'N-par', kind: 'paid', outTradeNo: record.outTradeNo, amount: 8888 });
    const results = await Promise.all(Array.from({ length: 100 }, () => payments.handleNotification('fake', notice)));
    expect(runs).toBe(1);
    expect(results.every((r) => r.reply.status === 200)).toBe(true);
    const events = await store.listEvents(record.id);
    expect(events.filter((e) => e.outcome === 'applied')).toHaveLength(1);
    expect((await store.get(record.id))?.version).toBe(3); // paid, hook claimed, hook done
  });

  it('a tampered notification is answered with a failure and leaves the record pending', async () => {
    const rejected: string[] = [];
    const { payments, store } = setup({ onRejected: (_p, e) => void rejected.push(e.code) });
    const record = await createOne(payments);
    const notice = signedNotice({ id: 'N2', kind: 'paid', outTradeNo: record.outTradeNo, amount: 8888 });
    notice.rawBody = Buffer.from(notice.rawBody.toString().replace('8888', '8889'));
    const res = await payments.handleNotification('fake', notice);
    expect(res.reply.status).toBe(500);
    expect(res.result).toMatchObject({ result_code: ResultCode.SIGNATURE });
    expect((await store.get(record.id))?.state).toBe('pending');
    expect(rejected).toEqual(['ERR_PAY_SIGNATURE']);
  });

  it('an amount mismatch is refused, recorded as evidence, and the money is not accepted', async () => {
    const mismatches: string[] = [];
    const paid: string[] = [];
    const { payments, store } = setup({
      onMismatch: (_r, _e, err) => void mismatches.push(err.message),
      onPaid: (r) => void paid.push(r.id),
    });
    const record = await createOne(payments);
    const res = await payments.handleNotification(
      'fake',
      signedNotice({ id: 'N3', kind: 'paid', outTradeNo: record.outTradeNo, amount: 1 }),
    );
    expect(res.reply.status).toBe(500);
    expect(res.result).toMatchObject({ result_code: ResultCode.MISMATCH, id: record.id });
    if (res.result.result_code !== 0) expect(res.result.err_detail).toContain('expected 8888 fen, notification says 1 fen');
    const stored = await store.get(record.id);
    expect(stored?.state).toBe('pending');
    expect(stored?.anomaly).toMatch(/amount/);
    expect((await store.listEvents(record.id)).map((e) => e.outcome)).toEqual(['mismatch']);
    expect(mismatches).toHaveLength(1);
    expect(paid).toEqual([]);
  });

  it('a merchant mismatch is refused the same way', async () => {
    const { payments, store } = setup();
    const record = await createOne(payments);
    const res = await payments.handleNotification(
      'fake',
      signedNotice({ id: 'N4', kind: 'paid', outTradeNo: record.outTradeNo, amount: 8888, merchantId: 'm-evil' }),
    );
    expect(res.result).toMatchObject({ result_code: ResultCode.MISMATCH });
    expect((await store.get(record.id))?.state).toBe('pending');
  });

  it('a verified notification for an unknown order is NOT_FOUND and asks the provider to deliver again', async () => {
    const { payments } = setup();
    const res = await payments.handleNotification('fake', signedNotice({ id: 'N5', kind: 'paid', outTradeNo: 'NOSUCHORDER', amount: 1 }));
    expect(res.reply.status).toBe(500);
    expect(res.result).toMatchObject({ result_code: ResultCode.NOT_FOUND });
  });

  it('a failing onPaid makes the reply ask for a retry; the next delivery runs it again and then never more', async () => {
    let calls = 0;
    const { payments, store } = setup({
      onPaid: () => {
        calls++;
        if (calls === 1) throw new Error('warehouse offline');
      },
    });
    const record = await createOne(payments);
    const notice = signedNotice({ id: 'N6', kind: 'paid', outTradeNo: record.outTradeNo, amount: 8888 });
    const first = await payments.handleNotification('fake', notice);
    expect(first.reply.status).toBe(500);
    expect(first.result).toMatchObject({ result_code: ResultCode.STATE_CONFLICT });
    expect((await store.get(record.id))?.hook).toMatchObject({
      state: 'pending',
      attempts: 1,
      lastError: expect.stringContaining('warehouse offline'),
    });
    const second = await payments.handleNotification('fake', notice);
    expect(second.reply.status).toBe(200);
    await payments.handleNotification('fake', notice);
    expect(calls).toBe(2);
    expect((await store.get(record.id))?.hook).toMatchObject({ state: 'done', attempts: 2 });
  });

  it('refund notifications move paid -> partially_refunded -> refunded once per refund id', async () => {
    const { payments, store } = setup();
    const record = await createOne(payments);
    await payments.handleNotification('fake', signedNotice({ id: 'P', kind: 'paid', outTradeNo: record.outTradeNo, amount: 8888 }));
    const r1 = signedNotice({ id: 'R1', kind: 'refunded', outTradeNo: record.outTradeNo, refund: { refundId: 'RF1', amount: 1000 } });
    await payments.handleNotification('fake', r1);
    await payments.handleNotification('fake', r1);
    expect(await store.get(record.id)).toMatchObject({ state: 'partially_refunded', refundedAmount: 1000 });
    await payments.handleNotification(
      'fake',
      signedNotice({ id: 'R2', kind: 'refunded', outTradeNo: record.outTradeNo, refund: { refundId: 'RF2', amount: 7888 } }),
    );
    expect(await store.get(record.id)).toMatchObject({ state: 'refunded', refundedAmount: 8888 });
  });

  it('a close notification closes a pending record; a payment arriving after close is kept and flagged', async () => {
    const { payments, store } = setup();
    const record = await createOne(payments);
    await payments.handleNotification('fake', signedNotice({ id: 'C', kind: 'closed', outTradeNo: record.outTradeNo }));
    expect((await store.get(record.id))?.state).toBe('closed');
    await payments.handleNotification('fake', signedNotice({ id: 'P', kind: 'paid', outTradeNo: record.outTradeNo, amount: 8888 }));
    expect(await store.get(record.id)).toMatchObject({ state: 'paid', anomaly: expect.stringContaining('after the order was closed') });
  });

  it('an unknown provider name answers 404 without throwing', async () => {
    const { payments } = setup();
    const res = await payments.handleNotification('nope', signedNotice({ id: 'x', kind: 'paid', outTradeNo: 'x' }));
    expect(res.reply.status).toBe(404);
    expect(res.result.result_code).toBe(ResultCode.INVALID_ARGUMENT);
  });
});

describe('confirm and reconcile', () => {
  let ctx: ReturnType<typeof setup>;
  let paidHooks: string[];
  beforeEach(() => {
    paidHooks = [];
    ctx = setup({ onPaid: (r) => void paidHooks.push(r.id) });
  });

  it('a dropped notification is recovered by confirm: the pending record is queried and becomes paid', async () => {
    const record = await createOne(ctx.payments);
    const pending = await ctx.payments.confirm(record.id);
    expect(pending).toMatchObject({ result_code: 0, data: { source: 'provider', record: { state: 'pending' } } });
    ctx.provider.status.set(record.outTradeNo, {
      state: 'paid',
      outTradeNo: record.outTradeNo,
      amount: 8888,
      providerTradeNo: 'Q1',
      raw: {},
    });
    const res = await ctx.payments.confirm(record.id);
    expect(res).toMatchObject({
      result_code: 0,
      id: record.id,
      data: { source: 'provider', record: { state: 'paid', providerTradeNo: 'Q1' } },
    });
    expect(paidHooks).toEqual([record.id]);
    const settled = await ctx.payments.confirm(record.id);
    expect(settled).toMatchObject({ data: { source: 'store' } });
    expect(ctx.provider.queries).toBe(2);
  });

  it('confirm refuses a query answer whose amount differs from the record', async () => {
    const record = await createOne(ctx.payments);
    ctx.provider.status.set(record.outTradeNo, { state: 'paid', outTradeNo: record.outTradeNo, amount: 1, raw: {} });
    const res = await ctx.payments.confirm(record.id);
    expect(res.result_code).toBe(ResultCode.MISMATCH);
    expect(paidHooks).toEqual([]);
  });

  it('confirm of an unknown id is NOT_FOUND', async () => {
    expect((await ctx.payments.confirm('nope')).result_code).toBe(ResultCode.NOT_FOUND);
  });

  it('reconcile queries stale pending records: paid ones settle, expired ones close, fresh ones stay', async () => {
    const a = await createOne(ctx.payments);
    const b = await createOne(ctx.payments);
    ctx.advance(10 * 60_000);
    const c = await createOne(ctx.payments);
    ctx.provider.status.set(a.outTradeNo, { state: 'paid', outTradeNo: a.outTradeNo, amount: 8888, raw: {} });
    const early = await ctx.payments.reconcile({ olderThan: 5 * 60_000 });
    expect(early).toMatchObject({ result_code: 0, data: { checked: 2, paid: [a.id], pending: [b.id], closed: [] } });
    ctx.advance(31 * 60_000); // b expired (30 min), c too
    const late = await ctx.payments.reconcile({ olderThan: 5 * 60_000 });
    expect(late).toMatchObject({ result_code: 0, data: { checked: 2, closed: [b.id, c.id] } });
    expect(ctx.provider.closed).toEqual([b.outTradeNo, c.outTradeNo]);
    expect(paidHooks).toEqual([a.id]);
  });
});

describe('refund and close', () => {
  async function paidRecord() {
    const ctx = setup();
    const record = await createOne(ctx.payments);
    await ctx.payments.handleNotification(
      'fake',
      signedNotice({ id: 'P', kind: 'paid', outTradeNo: record.outTradeNo, amount: 8888, tradeNo: 'T1' }),
    );
    return { ...ctx, record };
  }

  it('refunds with a stable refund id: retrying the same call never refunds twice', async () => {
    const { payments, provider, record } = await paidRecord();
    const first = await payments.refund(record.id, { amount: 1000, reason: '退货' });
    expect(first).toMatchObject({
      result_code: 0,
      data: { refund: { state: 'succeeded', amount: 1000 }, record: { state: 'partially_refunded', refundedAmount: 1000 } },
    });
    const again = await payments.refund(record.id, { amount: 1000, reason: '退货' });
    expect(again).toMatchObject({ result_code: 0, data: { record: { refundedAmount: 1000 } } });
    expect(provider.refunds).toHaveLength(1);
    if (first.result_code === 0) expect(first.data.refund.refundId).toMatch(/^R[0-9a-f]{31}$/);
    expect(provider.refunds[0]).toMatchObject({ amount: 1000, reason: '退货', payment: { providerTradeNo: 'T1', amount: 8888 } });
  });

  it('a refund that timed out is retried with the same id, and the provider is asked again', async () => {
    const { payments, provider, record } = await paidRecord();
    provider.failRefund = new PayProviderError('fake: timeout-ish', { retryable: true });
    expect((await payments.refund(record.id, { amount: 500 })).result_code).toBe(ResultCode.PROVIDER);
    provider.failRefund = undefined;
    const res = await payments.refund(record.id, { amount: 500 });
    expect(res).toMatchObject({ result_code: 0, data: { record: { refundedAmount: 500, refunds: [{ state: 'succeeded' }] } } });
  });

  it('processing refunds count against what is left; over-refunds are refused', async () => {
    const { payments, provider, record } = await paidRecord();
    provider.refundState = 'processing';
    expect((await payments.refund(record.id, { amount: 8000 })).result_code).toBe(0);
    const over = await payments.refund(record.id, { amount: 1000 });
    expect(over.result_code).toBe(ResultCode.INVALID_ARGUMENT);
    if (over.result_code !== 0) expect(over.err_detail).toContain('exceeds what is left (888 fen of 8888)');
  });

  it('refunding a pending record is a state conflict; a full refund ends in refunded', async () => {
    const ctx = setup();
    const pending = await createOne(ctx.payments);
    expect((await ctx.payments.refund(pending.id, { amount: 1 })).result_code).toBe(ResultCode.STATE_CONFLICT);
    const { payments, record } = await paidRecord();
    expect(await payments.refund(record.id, { amount: 8888 })).toMatchObject({ data: { record: { state: 'refunded' } } });
  });

  it('close closes a pending record at the provider and in the store; a paid one cannot be closed', async () => {
    const ctx = setup();
    const record = await createOne(ctx.payments);
    expect(await ctx.payments.close(record.id)).toMatchObject({ result_code: 0, data: { record: { state: 'closed' } } });
    expect(ctx.provider.closed).toEqual([record.outTradeNo]);
    const paid = await paidRecord();
    expect((await paid.payments.close(paid.record.id)).result_code).toBe(ResultCode.STATE_CONFLICT);
  });
});
