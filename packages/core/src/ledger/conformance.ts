/**
 * The conformance suite every {@link PaymentStore} must pass. It is framework-
 * neutral: each case is a name and an async function that throws (node:assert)
 * on failure, so any test runner can run it against any store.
 *
 * @module
 */
import { deepStrictEqual, ok, rejects, strictEqual } from 'node:assert/strict';
import { PayStateError } from '../errors.js';
import type { LedgerEvent, PaymentRecord, PaymentStore } from './types.js';

/** One conformance case. */
export interface StoreConformanceCase {
  /** What it checks. */
  name: string;
  /** Runs the check; throws an `AssertionError` on failure. */
  run: () => Promise<void>;
}

let counter = 0;

/** A valid pending record for tests, with overrides. */
export function sampleRecord(overrides: Partial<PaymentRecord> = {}): PaymentRecord {
  counter++;
  const now = 1_767_225_600_000; // 2026-01-01T00:00:00Z
  return {
    id: `rec-${counter}-${Math.floor(now / 1000)}`,
    provider: 'alipay',
    channel: 'app',
    outTradeNo: `T${String(counter).padStart(10, '0')}`,
    amount: 8888,
    currency: 'CNY',
    subject: 'conformance',
    state: 'pending',
    version: 0,
    createdAt: now,
    updatedAt: now,
    refundedAmount: 0,
    refunds: [],
    hook: { state: 'pending', attempts: 0 },
    ...overrides,
  };
}

function event(paymentId: string, eventId: string, overrides: Partial<LedgerEvent> = {}): LedgerEvent {
  return {
    provider: 'alipay',
    eventId,
    paymentId,
    source: 'notification',
    kind: 'paid',
    outcome: 'applied',
    at: 1_767_225_600_000,
    ...overrides,
  };
}

/**
 * The conformance cases for a store.
 *
 * @example
 * ```ts
 * for (const c of storeConformanceCases(() => new MyPostgresStore(pool))) it(c.name, c.run);
 * ```
 * @param makeStore - returns a fresh, empty store for each case
 */
export function storeConformanceCases(makeStore: () => PaymentStore | Promise<PaymentStore>): StoreConformanceCase[] {
  return [
    {
      name: 'create then get returns an equal record, by id and by provider + outTradeNo',
      run: async () => {
        const store = await makeStore();
        const r = sampleRecord({ metadata: { user: 'u1' }, providerData: { txnTime: '20260101000000' } });
        await store.create(r);
        deepStrictEqual(await store.get(r.id), r);
        deepStrictEqual(await store.getByOutTradeNo(r.provider, r.outTradeNo), r);
        strictEqual(await store.get('missing'), undefined);
        strictEqual(await store.getByOutTradeNo('wechat', r.outTradeNo), undefined);
      },
    },
    {
      name: 'create rejects a second record with the same provider and outTradeNo (PayStateError), but not for another provider',
      run: async () => {
        const store = await makeStore();
        const r = sampleRecord();
        await store.create(r);
        await rejects(store.create({ ...sampleRecord(), outTradeNo: r.outTradeNo }), PayStateError);
        await rejects(store.create({ ...r }), PayStateError);
        await store.create({ ...sampleRecord(), provider: 'wechat', outTradeNo: r.outTradeNo });
      },
    },
    {
      name: 'returned records are copies: changing them does not change the store',
      run: async () => {
        const store = await makeStore();
        const r = sampleRecord();
        await store.create(r);
        r.state = 'paid';
        const got = (await store.get(r.id)) as PaymentRecord;
        strictEqual(got.state, 'pending');
        got.refunds.push({ refundId: 'x', amount: 1, state: 'processing', requestedAt: 0, updatedAt: 0 });
        deepStrictEqual((await store.get(r.id))?.refunds, []);
      },
    },
    {
      name: 'update is compare-and-set on version: the right version wins once, a stale version changes nothing',
      run: async () => {
        const store = await makeStore();
        const r = sampleRecord();
        await store.create(r);
        const next = await store.update(r.id, 0, { state: 'paid', providerTradeNo: '2026' });
        ok(next);
        strictEqual(next.version, 1);
        strictEqual(next.state, 'paid');
        strictEqual(await store.update(r.id, 0, { state: 'closed' }), undefined);
        strictEqual((await store.get(r.id))?.state, 'paid');
        strictEqual(await store.update('missing', 0, { state: 'paid' }), undefined);
      },
    },
    {
      name: 'concurrent updates with the same expected version: exactly one succeeds',
      run: async () => {
        const store = await makeStore();
        const r = sampleRecord();
        await store.create(r);
        const results = await Promise.all(Array.from({ length: 50 }, (_, i) => store.update(r.id, 0, { providerTradeNo: `T${i}` })));
        strictEqual(results.filter(Boolean).length, 1);
        strictEqual((await store.get(r.id))?.version, 1);
      },
    },
    {
      name: 'update keeps id, provider and outTradeNo and stores nested fields (refunds, hook)',
      run: async () => {
        const store = await makeStore();
        const r = sampleRecord();
        await store.create(r);
        const refunds = [{ refundId: 'R1', amount: 100, state: 'processing' as const, requestedAt: 1, updatedAt: 1 }];
        await store.update(r.id, 0, { refunds, hook: { state: 'done', attempts: 1 } });
        const got = await store.get(r.id);
        deepStrictEqual(got?.refunds, refunds);
        deepStrictEqual(got?.hook, { state: 'done', attempts: 1 });
        strictEqual(got?.outTradeNo, r.outTradeNo);
        ok(await store.getByOutTradeNo(r.provider, r.outTradeNo));
      },
    },
    {
      name: 'appendEvent keeps every event in order and says whether (provider, eventId) was new',
      run: async () => {
        const store = await makeStore();
        const r = sampleRecord();
        await store.create(r);
        strictEqual(await store.appendEvent(event(r.id, 'N1')), true);
        strictEqual(await store.appendEvent(event(r.id, 'N1', { outcome: 'duplicate' })), false);
        strictEqual(await store.appendEvent(event(r.id, 'N1', { provider: 'wechat' })), true);
        strictEqual(await store.appendEvent(event(r.id, 'N2', { kind: 'refunded' })), true);
        const events = await store.listEvents(r.id);
        deepStrictEqual(
          events.map((e) => [e.provider, e.eventId, e.outcome]),
          [
            ['alipay', 'N1', 'applied'],
            ['alipay', 'N1', 'duplicate'],
            ['wechat', 'N1', 'applied'],
            ['alipay', 'N2', 'applied'],
          ],
        );
        deepStrictEqual(await store.listEvents('other'), []);
      },
    },
    {
      name: 'listPending returns pending records created before the cut-off, oldest first, up to the limit',
      run: async () => {
        const store = await makeStore();
        const a = sampleRecord({ createdAt: 1000 });
        const b = sampleRecord({ createdAt: 500 });
        const c = sampleRecord({ createdAt: 3000 });
        const d = sampleRecord({ createdAt: 200, state: 'paid' });
        for (const r of [a, b, c, d]) await store.create(r);
        deepStrictEqual(
          (await store.listPending(2000)).map((r) => r.id),
          [b.id, a.id],
        );
        deepStrictEqual(
          (await store.listPending(5000, 1)).map((r) => r.id),
          [b.id],
        );
        await store.update(b.id, 0, { state: 'closed' });
        deepStrictEqual(
          (await store.listPending(2000)).map((r) => r.id),
          [a.id],
        );
      },
    },
  ];
}
