/**
 * The conformance suite every {@link PaymentStore} must pass. It is framework-
 * neutral: each case is a name and an async function that throws (node:assert)
 * on failure, so any test runner can run it against any store.
 *
 * @module
 */
import { createRequire } from 'node:module';
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
  // node:assert is loaded here, not at import, so importing @pay/core stays cheap.
  const assert: typeof import('node:assert/strict') = createRequire(import.meta.url)('node:assert/strict');
  return [
    {
      name: 'create then get returns an equal record, by id and by provider + outTradeNo',
      run: async () => {
        const store = await makeStore();
        const r = sampleRecord({ metadata: { user: 'u1' }, providerData: { txnTime: '20260101000000' } });
        await store.create(r);
        assert.deepStrictEqual(await store.get(r.id), r);
        assert.deepStrictEqual(await store.getByOutTradeNo(r.provider, r.outTradeNo), r);
        assert.strictEqual(await store.get('missing'), undefined);
        assert.strictEqual(await store.getByOutTradeNo('wechat', r.outTradeNo), undefined);
      },
    },
    {
      name: 'create rejects a second record with the same provider and outTradeNo (PayStateError), but not for another provider',
      run: async () => {
        const store = await makeStore();
        const r = sampleRecord();
        await store.create(r);
        await assert.rejects(store.create({ ...sampleRecord(), outTradeNo: r.outTradeNo }), PayStateError);
        await assert.rejects(store.create({ ...r }), PayStateError);
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
        assert.strictEqual(got.state, 'pending');
        got.refunds.push({ refundId: 'x', amount: 1, state: 'processing', requestedAt: 0, updatedAt: 0 });
        assert.deepStrictEqual((await store.get(r.id))?.refunds, []);
      },
    },
    {
      name: 'update is compare-and-set on version: the right version wins once, a stale version changes nothing',
      run: async () => {
        const store = await makeStore();
        const r = sampleRecord();
        await store.create(r);
        const next = await store.update(r.id, 0, { state: 'paid', providerTradeNo: '2026' });
        assert.ok(next);
        assert.strictEqual(next.version, 1);
        assert.strictEqual(next.state, 'paid');
        assert.strictEqual(await store.update(r.id, 0, { state: 'closed' }), undefined);
        assert.strictEqual((await store.get(r.id))?.state, 'paid');
        assert.strictEqual(await store.update('missing', 0, { state: 'paid' }), undefined);
      },
    },
    {
      name: 'concurrent updates with the same expected version: exactly one succeeds',
      run: async () => {
        const store = await makeStore();
        const r = sampleRecord();
        await store.create(r);
        const results = await Promise.all(Array.from({ length: 50 }, (_, i) => store.update(r.id, 0, { providerTradeNo: `T${i}` })));
        assert.strictEqual(results.filter(Boolean).length, 1);
        assert.strictEqual((await store.get(r.id))?.version, 1);
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
        assert.deepStrictEqual(got?.refunds, refunds);
        assert.deepStrictEqual(got?.hook, { state: 'done', attempts: 1 });
        assert.strictEqual(got?.outTradeNo, r.outTradeNo);
        assert.ok(await store.getByOutTradeNo(r.provider, r.outTradeNo));
      },
    },
    {
      name: 'appendEvent keeps every event in order and says whether (provider, eventId) was new',
      run: async () => {
        const store = await makeStore();
        const r = sampleRecord();
        await store.create(r);
        assert.strictEqual(await store.appendEvent(event(r.id, 'N1')), true);
        assert.strictEqual(await store.appendEvent(event(r.id, 'N1', { outcome: 'duplicate' })), false);
        assert.strictEqual(await store.appendEvent(event(r.id, 'N1', { provider: 'wechat' })), true);
        assert.strictEqual(await store.appendEvent(event(r.id, 'N2', { kind: 'refunded' })), true);
        const events = await store.listEvents(r.id);
        assert.deepStrictEqual(
          events.map((e) => [e.provider, e.eventId, e.outcome]),
          [
            ['alipay', 'N1', 'applied'],
            ['alipay', 'N1', 'duplicate'],
            ['wechat', 'N1', 'applied'],
            ['alipay', 'N2', 'applied'],
          ],
        );
        assert.deepStrictEqual(await store.listEvents('other'), []);
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
        assert.deepStrictEqual(
          (await store.listPending(2000)).map((r) => r.id),
          [b.id, a.id],
        );
        assert.deepStrictEqual(
          (await store.listPending(5000, 1)).map((r) => r.id),
          [b.id],
        );
        await store.update(b.id, 0, { state: 'closed' });
        assert.deepStrictEqual(
          (await store.listPending(2000)).map((r) => r.id),
          [a.id],
        );
      },
    },
  ];
}
