/**
 * The payment ledger: create payments, handle notifications exactly once,
 * confirm what clients claim, reconcile stale records, refund safely — all
 * answering in the result contract.
 *
 * @module
 */
import { randomInt } from 'node:crypto';
import { type Clock, randomId, sha256Hex, systemClock } from '../crypto.js';
import {
  isPayError,
  PayArgumentError,
  PayConfigError,
  type PayError,
  PayMismatchError,
  PayNotFoundError,
  PayProviderError,
  PayStateError,
} from '../errors.js';
import { assertMinorUnits } from '../money.js';
import type { IncomingNotification, NotificationReply } from '../notify.js';
import type { CreatePaymentInput, PaymentEvent, PaymentProvider, PaymentRef, PaymentStatus } from '../provider.js';
import { type PayResult, payFailure, payOk } from '../result.js';
import {
  ALLOWED_TRANSITIONS,
  type EventOutcome,
  type LedgerEvent,
  type PaymentRecord,
  type PaymentRecordState,
  type PaymentStore,
  type RecordPatch,
  type RefundEntry,
} from './types.js';

/** Hooks the ledger calls. Each may be async; a throw is caught and reported. */
export interface LedgerHooks {
  /**
   * Runs when a record becomes paid: deliver the goods here. Runs at least once per
   * paid record, again on later deliveries until it succeeds, and never again after
   * it succeeded. Make it idempotent by the record id.
   */
  onPaid?(record: PaymentRecord, event: PaymentEvent): void | Promise<void>;
  /** Runs after a refund succeeded (from the API answer or a notification). */
  onRefunded?(record: PaymentRecord, refund: RefundEntry): void | Promise<void>;
  /** Runs when a record is closed. */
  onClosed?(record: PaymentRecord): void | Promise<void>;
  /** Runs when a verified event disagrees with its record (amount, currency, app, merchant). */
  onMismatch?(record: PaymentRecord, event: PaymentEvent, error: PayError): void | Promise<void>;
  /** Runs when a notification is rejected (bad signature, unknown order…). */
  onRejected?(provider: string, error: PayError): void | Promise<void>;
}

/** Options of {@link createPayments}. */
export interface PaymentsOptions {
  /** The provider adapters, keyed by the name used in `create({ provider })`. */
  providers: Record<string, PaymentProvider>;
  /** Where records live. */
  store: PaymentStore;
  /** Hooks. */
  hooks?: LedgerHooks;
  /** Injected clock (epoch ms). */
  clock?: Clock;
  /** How long an `onPaid` claim holds before another delivery may retry it, ms. Default 60 000. */
  hookLeaseMs?: number;
  /** Default time to pay, ms, when `create` gives no `expiresAt`. Default 30 minutes. */
  defaultTtlMs?: number;
  /** Generates outTradeNo when `create` gives none. Default: 14-digit China time + 10 random digits. */
  outTradeNo?: () => string;
}

/** What {@link Payments.create} takes. */
export interface CreateInput extends Omit<CreatePaymentInput, 'currency' | 'outTradeNo'> {
  /** The provider name as registered. */
  provider: string;
  /**
   * The merchant order number; generated when absent (by the provider's `newOutTradeNo`,
   * else China time + 10 random digits). The provider checks its own rules (UnionPay:
   * 8-32 letters and digits; WeChat Pay: 6-32; Alipay: up to 64).
   */
  outTradeNo?: string;
  /** Currency, `CNY` by default. */
  currency?: string;
  /** Merchant data kept with the record. */
  metadata?: Record<string, string>;
}

/** What {@link Payments.create} answers with on success. */
export interface CreatedData {
  /** The provider. */
  provider: string;
  /** The channel. */
  channel: string;
  /** The merchant order number. */
  outTradeNo: string;
  /** Amount, fen. */
  amount: number;
  /** What the client needs to pay. */
  client: Record<string, unknown>;
}

/** What {@link Payments.handleNotification} returns. */
export interface NotificationHandled {
  /** The reply to send to the provider, as is. */
  reply: NotificationReply;
  /** The outcome in the result contract (`id` is the record id when known). */
  result: PayResult<{ record: PaymentRecord; event: PaymentEvent; duplicate: boolean }>;
}

/** What {@link Payments.confirm} answers with. */
export interface ConfirmData {
  /** The record after confirmation. */
  record: PaymentRecord;
  /** Where the answer came from: the ledger, or an active query to the provider. */
  source: 'store' | 'provider';
}

/** Options of {@link Payments.refund}. */
export interface RefundInput {
  /** Amount to refund, fen. */
  amount: number;
  /** Why (shown to the payer where the provider supports it). */
  reason?: string;
  /**
   * The refund request id. Give one to make two different refunds of the same amount
   * and reason; by default it is derived from (record, amount, reason), so a retried
   * call after a crash or timeout reuses it and the provider refunds once.
   */
  refundId?: string;
  /** Where the provider sends refund notifications. */
  notifyUrl?: string;
}

/** What {@link Payments.reconcile} answers with. */
export interface ReconcileData {
  /** Records looked at. */
  checked: number;
  /** Records found paid by the query. */
  paid: string[];
  /** Records closed because they expired unpaid. */
  closed: string[];
  /** Records still pending. */
  pending: string[];
  /** Records whose query or close failed, with the reason. */
  failed: Array<{ id: string; err_detail: string }>;
}

/** The ledger's API. */
export interface Payments {
  /** Starts a payment: validates, asks the provider, stores a `pending` record. */
  create(input: CreateInput): Promise<PayResult<CreatedData>>;
  /** Verifies a provider notification, moves the record once, runs hooks, returns the reply. */
  handleNotification(provider: string, incoming: IncomingNotification): Promise<NotificationHandled>;
  /** Answers a client that says it paid: from the store when settled, else by asking the provider. */
  confirm(id: string): Promise<PayResult<ConfirmData>>;
  /** Accepts client-submitted proof signed by the provider (Apple signed transactions). */
  submitProof(id: string, proof: string): Promise<PayResult<ConfirmData>>;
  /** Queries pending records older than `olderThan` ms; closes the expired ones. */
  reconcile(options: { olderThan: number; limit?: number }): Promise<PayResult<ReconcileData>>;
  /** Refunds (part of) a paid record, at most once per refund id. */
  refund(id: string, input: RefundInput): Promise<PayResult<{ record: PaymentRecord; refund: RefundEntry }>>;
  /** Closes an unpaid record at the provider and in the store. */
  close(id: string): Promise<PayResult<{ record: PaymentRecord }>>;
  /** Reads a record. */
  get(id: string): Promise<PayResult<{ record: PaymentRecord; events: LedgerEvent[] }>>;
}

const OUT_TRADE_NO_RE = /^[A-Za-z0-9_-]{6,64}$/;

function chinaTimeCompact(ms: number): string {
  return new Date(ms + 8 * 3600_000).toISOString().replace(/[-:T]/g, '').slice(0, 14);
}

function toRef(r: PaymentRecord): PaymentRef {
  const ref: PaymentRef = { outTradeNo: r.outTradeNo, amount: r.amount, currency: r.currency, channel: r.channel, createdAt: r.createdAt };
  if (r.providerTradeNo !== undefined) ref.providerTradeNo = r.providerTradeNo;
  if (r.providerData !== undefined) ref.providerData = r.providerData;
  return ref;
}

function errorText(e: unknown): string {
  return payFailure(e).err_detail;
}

/**
 * Creates the ledger (支付表) over a store and the provider adapters.
 *
 * @example
 * ```ts
 * const payments = createPayments({
 *   providers: { alipay: new AlipayProvider(alipay), wechat: new WechatProvider(wechat) },
 *   store: new MemoryPaymentStore(),
 *   hooks: { onPaid: async (record) => shipOrder(record.metadata?.orderId) },
 * });
 * const created = await payments.create({ provider: 'alipay', channel: 'app', amount: 8888, subject: '会员' });
 * ```
 * @throws PayConfigError when no provider or no store is given
 */
export function createPayments(options: PaymentsOptions): Payments {
  const { providers, store } = options;
  if (!store) throw new PayConfigError('@pay/core: ledger: a store is required (new MemoryPaymentStore() for tests)');
  if (!providers || Object.keys(providers).length === 0) throw new PayConfigError('@pay/core: ledger: at least one provider is required');
  const hooks = options.hooks ?? {};
  const clock = options.clock ?? systemClock;
  const leaseMs = options.hookLeaseMs ?? 60_000;
  const ttlMs = options.defaultTtlMs ?? 30 * 60_000;
  const makeOutTradeNo = options.outTradeNo ?? (() => chinaTimeCompact(clock()) + String(randomInt(10_000_000_000)).padStart(10, '0'));
  /** In-process runs of onPaid per record, so parallel duplicates share one run. */
  const running = new Map<string, Promise<PaymentRecord>>();

  function providerOf(name: string): PaymentProvider {
    const p = providers[name];
    if (!p) throw new PayArgumentError(`@pay/core: ledger: unknown provider "${name}"; configured: ${Object.keys(providers).join(', ')}`);
    return p;
  }

  async function mustGet(id: string): Promise<PaymentRecord> {
    const r = await store.get(id);
    if (!r) throw new PayNotFoundError(`@pay/core: ledger: no payment record with id ${id}`);
    return r;
  }

  async function callHook<A extends unknown[]>(fn: ((...args: A) => void | Promise<void>) | undefined, ...args: A): Promise<void> {
    if (!fn) return;
    try {
      await fn(...args);
    } catch {
      // observer hooks (not onPaid) must not change the outcome
    }
  }

  /**
   * Applies a patch with compare-and-set, re-reading and re-deciding on conflicts.
   * `known` is a copy just read from the store: the first decision uses it instead of
   * reading again (a stale copy only costs one failed compare-and-set).
   */
  function casLoop(
    id: string,
    decide: (r: PaymentRecord) => RecordPatch | undefined,
    known?: PaymentRecord,
  ): Promise<{ record: PaymentRecord; changed: boolean }> {
    // Nothing to change (a duplicate delivery): answer without touching the store.
    if (known !== undefined && decide(known) === undefined) return Promise.resolve({ record: known, changed: false });
    return casLoopWrite(id, decide, known);
  }

  async function casLoopWrite(
    id: string,
    decide: (r: PaymentRecord) => RecordPatch | undefined,
    known?: PaymentRecord,
  ): Promise<{ record: PaymentRecord; changed: boolean }> {
    let fresh = known;
    for (let i = 0; i < 50; i++) {
      const current = fresh ?? (await mustGet(id));
      fresh = undefined;
      const patch = decide(current);
      if (patch === undefined) return { record: current, changed: false };
      if (patch.state !== undefined && patch.state !== current.state && !ALLOWED_TRANSITIONS[current.state].includes(patch.state)) {
        throw new PayStateError(`@pay/core: ledger: record ${id} cannot move from ${current.state} to ${patch.state}`);
      }
      const next = await store.update(id, current.version, { ...patch, updatedAt: clock() });
      if (next) return { record: next, changed: true };
    }
    throw new PayStateError(`@pay/core: ledger: record ${id} kept changing under concurrent writes; try again`);
  }

  function checkMatch(record: PaymentRecord, event: PaymentEvent, provider: PaymentProvider): PayMismatchError | undefined {
    const problems: string[] = [];
    if (event.amount !== undefined && (event.kind === 'paid' || event.kind === 'finished') && event.amount !== record.amount) {
      problems.push(`amount: expected ${record.amount} fen, notification says ${event.amount} fen`);
    }
    if (event.currency !== undefined && event.currency.toUpperCase() !== record.currency.toUpperCase()) {
      problems.push(`currency: expected ${record.currency}, notification says ${event.currency}`);
    }
    const appId = record.appId ?? provider.identity.appId;
    if (event.appId !== undefined && appId !== undefined && event.appId !== appId)
      problems.push(`app id: expected ${appId}, notification says ${event.appId}`);
    const merchantId = record.merchantId ?? provider.identity.merchantId;
    if (event.merchantId !== undefined && merchantId !== undefined && event.merchantId !== merchantId) {
      problems.push(`merchant id: expected ${merchantId}, notification says ${event.merchantId}`);
    }
    if (problems.length === 0) return undefined;
    return new PayMismatchError(
      `@pay/core: ledger: ${record.provider} ${event.kind} event for order ${record.outTradeNo} does not match the record: ${problems.join('; ')}`,
      {
        provider: record.provider,
        hint: 'the money was not accepted as payment of this order; investigate before settling it by hand',
      },
    );
  }

  /** Runs onPaid once per claim; parallel callers in this process share the run. */
  async function runPaidHook(record: PaymentRecord, event: PaymentEvent): Promise<PaymentRecord> {
    if (record.hook.state === 'done' || !hooks.onPaid) {
      if (!hooks.onPaid && record.hook.state !== 'done') {
        return (await casLoop(record.id, (r) => (r.hook.state === 'done' ? undefined : { hook: { ...r.hook, state: 'done' } }))).record;
      }
      return record;
    }
    const inflight = running.get(record.id);
    if (inflight) return inflight;
    const run = (async (): Promise<PaymentRecord> => {
      const now = clock();
      const claim = await casLoop(record.id, (r) => {
        if (r.hook.state === 'done') return undefined;
        if (r.hook.state === 'running' && (r.hook.leaseUntil ?? 0) > now) return undefined;
        return {
          hook: {
            state: 'running',
            attempts: r.hook.attempts + 1,
            leaseUntil: now + leaseMs,
            ...(r.hook.lastError ? { lastError: r.hook.lastError } : {}),
          },
        };
      });
      if (!claim.changed) {
        if (claim.record.hook.state === 'done') return claim.record;
        throw new PayStateError(
          `@pay/core: ledger: onPaid for record ${record.id} is running elsewhere; the provider should deliver again`,
          { retryable: true },
        );
      }
      try {
        await hooks.onPaid?.(claim.record, event);
      } catch (e) {
        const message = errorText(e);
        await casLoop(record.id, (r) => ({ hook: { state: 'pending', attempts: r.hook.attempts, lastError: message } }));
        throw new PayStateError(`@pay/core: ledger: onPaid failed for record ${record.id}; the provider will deliver again: ${message}`, {
          cause: e,
          retryable: true,
        });
      }
      return (await casLoop(record.id, (r) => ({ hook: { state: 'done', attempts: r.hook.attempts } }))).record;
    })();
    running.set(record.id, run);
    try {
      return await run;
    } finally {
      running.delete(record.id);
    }
  }

  /** Moves a record according to a verified event. Returns the record and the outcome. */
  async function applyEvent(
    provider: PaymentProvider,
    record: PaymentRecord,
    event: PaymentEvent,
    source: LedgerEvent['source'],
  ): Promise<{ record: PaymentRecord; outcome: EventOutcome; duplicate: boolean }> {
    const mismatch = checkMatch(record, event, provider);
    const base = {
      provider: record.provider,
      eventId: event.eventId,
      paymentId: record.id,
      source,
      kind: event.kind,
      at: clock(),
      raw: event.raw,
    };
    if (mismatch) {
      await store.appendEvent({ ...base, outcome: 'mismatch', detail: mismatch.message });
      const flagged = await casLoop(record.id, (r) => (r.anomaly === mismatch.message ? undefined : { anomaly: mismatch.message }));
      await callHook(hooks.onMismatch, flagged.record, event, mismatch);
      throw mismatch;
    }
    let changed = false;
    let current = record;
    switch (event.kind) {
      case 'paid':
      case 'finished': {
        const res = await casLoop(
          record.id,
          (r) => {
            if (r.state !== 'pending' && r.state !== 'closed') return undefined;
            const patch: RecordPatch = { state: 'paid', paidAt: event.occurredAt ?? clock(), hook: { state: 'pending', attempts: 0 } };
            if (event.providerTradeNo !== undefined) patch.providerTradeNo = event.providerTradeNo;
            if (r.state === 'closed') patch.anomaly = 'paid after the order was closed: the money arrived; refund or deliver';
            return patch;
          },
          record,
        );
        changed = res.changed;
        current = res.record;
        break;
      }
      case 'closed': {
        const res = await casLoop(record.id, (r) => (r.state === 'pending' ? { state: 'closed' } : undefined), record);
        changed = res.changed;
        current = res.record;
        if (changed) await callHook(hooks.onClosed, current);
        break;
      }
      case 'refunded':
      case 'revoked': {
        const amount = event.refund?.amount ?? (event.kind === 'revoked' ? record.amount : undefined);
        if (amount === undefined) break;
        const refundId = event.refund?.refundId ?? event.refund?.providerRefundId ?? `N${event.eventId}`;
        let settled: RefundEntry | undefined;
        const res = await casLoop(
          record.id,
          (r) => {
            if (r.state !== 'paid' && r.state !== 'partially_refunded') return undefined;
            const existing = r.refunds.find((f) => f.refundId === refundId);
            if (existing?.state === 'succeeded') return undefined;
            const now = clock();
            const entry: RefundEntry = {
              ...(existing ?? { refundId, amount, requestedAt: now }),
              state: 'succeeded',
              updatedAt: now,
              ...(event.refund?.providerRefundId ? { providerRefundId: event.refund.providerRefundId } : {}),
            };
            settled = entry;
            const refunds = existing ? r.refunds.map((f) => (f.refundId === refundId ? entry : f)) : [...r.refunds, entry];
            const refundedAmount = r.refundedAmount + entry.amount;
            return { refunds, refundedAmount, state: refundedAmount >= r.amount ? 'refunded' : 'partially_refunded' };
          },
          record,
        );
        changed = res.changed;
        current = res.record;
        if (changed && settled) await callHook(hooks.onRefunded, current, settled);
        break;
      }
      case 'refund_failed': {
        const refundId = event.refund?.refundId;
        if (refundId === undefined) break;
        const res = await casLoop(record.id, (r) => {
          const existing = r.refunds.find((f) => f.refundId === refundId);
          if (existing?.state !== 'processing') return undefined;
          return { refunds: r.refunds.map((f) => (f.refundId === refundId ? { ...f, state: 'failed' as const, updatedAt: clock() } : f)) };
        });
        changed = res.changed;
        current = res.record;
        break;
      }
      default:
        break;
    }
    let outcome: EventOutcome = changed ? 'applied' : 'duplicate';
    if (!changed && (event.kind === 'renewed' || event.kind === 'expired' || event.kind === 'other' || event.kind === 'pending'))
      outcome = 'ignored';
    const isPaidState = current.state === 'paid' || current.state === 'partially_refunded' || current.state === 'refunded';
    if ((event.kind === 'paid' || event.kind === 'finished') && isPaidState && current.hook.state !== 'done') {
      try {
        current = await runPaidHook(current, event);
      } catch (e) {
        await store.appendEvent({ ...base, outcome: 'hook_failed', detail: errorText(e) });
        throw e;
      }
    }
    // A duplicate is kept as evidence of the retry; its payload is already stored with the first delivery.
    const isNew = await store.appendEvent(
      outcome === 'duplicate'
        ? { provider: base.provider, eventId: base.eventId, paymentId: base.paymentId, source, kind: base.kind, at: base.at, outcome }
        : { ...base, outcome },
    );
    return { record: current, outcome, duplicate: !isNew || outcome === 'duplicate' };
  }

  async function confirmRecord(record: PaymentRecord): Promise<ConfirmData> {
    if (record.state === 'closed') return { record, source: 'store' };
    if (record.state !== 'pending') {
      if (record.hook.state === 'done') return { record, source: 'store' };
      // Paid, but onPaid never succeeded (e.g. the process died mid-hook): run it now.
      const event: PaymentEvent = {
        provider: record.provider,
        kind: 'paid',
        eventId: `confirm:${record.id}`,
        outTradeNo: record.outTradeNo,
        raw: undefined,
      };
      return { record: await runPaidHook(record, event), source: 'store' };
    }
    const provider = providerOf(record.provider);
    const status: PaymentStatus = await provider.queryPayment(toRef(record));
    const event = statusToEvent(record, status);
    if (!event) return { record: (await store.get(record.id)) ?? record, source: 'provider' };
    const applied = await applyEvent(provider, record, event, 'query');
    return { record: applied.record, source: 'provider' };
  }

  function statusToEvent(record: PaymentRecord, status: PaymentStatus): PaymentEvent | undefined {
    const kind =
      status.state === 'paid' || status.state === 'refunded' || status.state === 'partially_refunded'
        ? 'paid'
        : status.state === 'closed'
          ? 'closed'
          : undefined;
    if (!kind) return undefined;
    const event: PaymentEvent = {
      provider: record.provider,
      kind,
      eventId: `query:${status.providerTradeNo ?? record.outTradeNo}:${kind}`,
      outTradeNo: status.outTradeNo,
      raw: status.raw,
    };
    if (status.providerTradeNo !== undefined) event.providerTradeNo = status.providerTradeNo;
    if (status.amount !== undefined) event.amount = status.amount;
    if (status.currency !== undefined) event.currency = status.currency;
    if (status.paidAt !== undefined) event.occurredAt = status.paidAt;
    if (status.appId !== undefined) event.appId = status.appId;
    if (status.merchantId !== undefined) event.merchantId = status.merchantId;
    return event;
  }

  const api: Payments = {
    async create(input) {
      try {
        if (!input || typeof input !== 'object') throw new PayArgumentError('@pay/core: ledger: create() needs an input object');
        const provider = providerOf(input.provider);
        if (!provider.channels.includes(input.channel)) {
          throw new PayArgumentError(
            `@pay/core: ledger: ${input.provider} has no channel "${input.channel}"; available: ${provider.channels.join(', ')}`,
          );
        }
        assertMinorUnits(input.amount, 'amount');
        if (typeof input.subject !== 'string' || input.subject.trim() === '')
          throw new PayArgumentError('@pay/core: ledger: subject is required');
        const outTradeNo = input.outTradeNo ?? provider.newOutTradeNo?.() ?? makeOutTradeNo();
        if (!OUT_TRADE_NO_RE.test(outTradeNo)) {
          throw new PayArgumentError(
            `@pay/core: ledger: outTradeNo must be 6-64 characters of letters, digits, "_" or "-", got ${JSON.stringify(outTradeNo)}`,
          );
        }
        if (await store.getByOutTradeNo(input.provider, outTradeNo)) {
          throw new PayStateError(`@pay/core: ledger: ${input.provider} order ${outTradeNo} exists already`);
        }
        const now = clock();
        const currency = (input.currency ?? 'CNY').toUpperCase();
        const expiresAt = input.expiresAt ?? now + ttlMs;
        const { provider: _p, metadata, currency: _c, outTradeNo: _o, ...rest } = input;
        const created = await provider.createPayment({ ...rest, outTradeNo, currency, expiresAt });
        const record: PaymentRecord = {
          id: randomId(),
          provider: input.provider,
          channel: input.channel,
          outTradeNo,
          amount: input.amount,
          currency,
          subject: input.subject,
          state: 'pending',
          version: 0,
          createdAt: now,
          updatedAt: now,
          expiresAt,
          refundedAmount: 0,
          refunds: [],
          hook: { state: 'pending', attempts: 0 },
        };
        if (provider.identity.appId !== undefined) record.appId = provider.identity.appId;
        if (provider.identity.merchantId !== undefined) record.merchantId = provider.identity.merchantId;
        if (created.providerRef !== undefined) record.providerRef = created.providerRef;
        if (created.providerData !== undefined) record.providerData = created.providerData;
        if (metadata !== undefined) record.metadata = metadata;
        await store.create(record);
        return payOk(
          { provider: input.provider, channel: input.channel, outTradeNo, amount: input.amount, client: created.data },
          record.id,
        );
      } catch (e) {
        return payFailure(e);
      }
    },

    async handleNotification(providerName, incoming) {
      let provider: PaymentProvider;
      try {
        provider = providerOf(providerName);
      } catch (e) {
        return { reply: { status: 404, headers: { 'content-type': 'text/plain' }, body: 'unknown provider' }, result: payFailure(e) };
      }
      const fail = (error: PayError, id?: string): NotificationHandled => ({
        reply: provider.notificationReply({ ok: false, error }),
        result: payFailure(error, id),
      });
      let event: PaymentEvent;
      try {
        event = await provider.parseNotification(incoming);
      } catch (e) {
        const error = isPayError(e)
          ? e
          : new PayProviderError(`@pay/core: ledger: ${providerName} notification could not be parsed: ${errorText(e)}`, { cause: e });
        await callHook(hooks.onRejected, providerName, error);
        return fail(error);
      }
      const record = event.outTradeNo === undefined ? undefined : await store.getByOutTradeNo(providerName, event.outTradeNo);
      if (!record) {
        const error = new PayNotFoundError(
          `@pay/core: ledger: verified ${providerName} ${event.kind} notification for an order this ledger does not know (outTradeNo ${event.outTradeNo ?? 'missing'})`,
          {
            hint: 'the provider will deliver again; check that the order was created through this ledger and store',
          },
        );
        await callHook(hooks.onRejected, providerName, error);
        return fail(error);
      }
      try {
        const applied = await applyEvent(provider, record, event, 'notification');
        return {
          reply: provider.notificationReply({ ok: true }),
          result: payOk({ record: applied.record, event, duplicate: applied.duplicate }, record.id),
        };
      } catch (e) {
        const error = isPayError(e) ? e : new PayStateError(errorText(e), { cause: e });
        return fail(error, record.id);
      }
    },

    async confirm(id) {
      try {
        return payOk(await confirmRecord(await mustGet(id)), id);
      } catch (e) {
        return payFailure(e, id);
      }
    },

    async submitProof(id, proof) {
      try {
        const record = await mustGet(id);
        const provider = providerOf(record.provider);
        if (!provider.verifyClientProof) {
          throw new PayArgumentError(
            `@pay/core: ledger: ${record.provider} accepts no client proof; the client's word is never trusted, use confirm(id)`,
          );
        }
        const event = await provider.verifyClientProof(proof, toRef(record));
        if (event.outTradeNo !== undefined && event.outTradeNo !== record.outTradeNo) {
          throw new PayMismatchError(`@pay/core: ledger: the proof is for order ${event.outTradeNo}, not ${record.outTradeNo}`);
        }
        const applied = await applyEvent(provider, record, event, 'client');
        return payOk({ record: applied.record, source: 'provider' as const }, id);
      } catch (e) {
        return payFailure(e, id);
      }
    },

    async reconcile({ olderThan, limit }) {
      try {
        const now = clock();
        const stale = await store.listPending(now - olderThan, limit);
        const data: ReconcileData = { checked: stale.length, paid: [], closed: [], pending: [], failed: [] };
        for (const record of stale) {
          try {
            const confirmed = await confirmRecord(record);
            const state: PaymentRecordState = confirmed.record.state;
            if (state === 'paid' || state === 'partially_refunded' || state === 'refunded') {
              data.paid.push(record.id);
              continue;
            }
            if (state === 'closed') {
              data.closed.push(record.id);
              continue;
            }
            if (record.expiresAt !== undefined && record.expiresAt <= now) {
              await providerOf(record.provider).closePayment(toRef(confirmed.record));
              const res = await casLoop(record.id, (r) => (r.state === 'pending' ? { state: 'closed' } : undefined));
              await store.appendEvent({
                provider: record.provider,
                eventId: `close:${record.id}`,
                paymentId: record.id,
                source: 'close',
                kind: 'closed',
                outcome: res.changed ? 'applied' : 'duplicate',
                at: clock(),
              });
              if (res.changed) await callHook(hooks.onClosed, res.record);
              (res.record.state === 'closed' ? data.closed : data.paid).push(record.id);
            } else {
              data.pending.push(record.id);
            }
          } catch (e) {
            data.failed.push({ id: record.id, err_detail: errorText(e) });
          }
        }
        return payOk(data);
      } catch (e) {
        return payFailure(e);
      }
    },

    async refund(id, input) {
      try {
        const record = await mustGet(id);
        const provider = providerOf(record.provider);
        assertMinorUnits(input?.amount, 'refund amount');
        if (record.state !== 'paid' && record.state !== 'partially_refunded') {
          throw new PayStateError(`@pay/core: ledger: record ${id} is ${record.state}; only paid records can be refunded`);
        }
        const refundId = input.refundId ?? `R${sha256Hex(`${id}|${input.amount}|${input.reason ?? ''}`).slice(0, 31)}`;
        if (!/^[A-Za-z0-9_-]{1,64}$/.test(refundId))
          throw new PayArgumentError(`@pay/core: ledger: refundId must be 1-64 letters, digits, "_" or "-"`);
        const existing = record.refunds.find((f) => f.refundId === refundId);
        if (existing?.state === 'succeeded') return payOk({ record, refund: existing }, id);
        if (existing && existing.amount !== input.amount) {
          throw new PayStateError(`@pay/core: ledger: refund ${refundId} was requested for ${existing.amount} fen, not ${input.amount}`);
        }
        const outstanding = record.refunds
          .filter((f) => f.state === 'processing' && f.refundId !== refundId)
          .reduce((s, f) => s + f.amount, 0);
        if (!existing && record.refundedAmount + outstanding + input.amount > record.amount) {
          throw new PayArgumentError(
            `@pay/core: ledger: refund of ${input.amount} fen exceeds what is left (${record.amount - record.refundedAmount - outstanding} fen of ${record.amount})`,
          );
        }
        const now = clock();
        const entry: RefundEntry = existing ?? {
          refundId,
          amount: input.amount,
          state: 'processing',
          requestedAt: now,
          updatedAt: now,
          ...(input.reason ? { reason: input.reason } : {}),
        };
        if (!existing) {
          await casLoop(id, (r) => (r.refunds.some((f) => f.refundId === refundId) ? undefined : { refunds: [...r.refunds, entry] }));
        }
        const outcome = await provider.refund({
          payment: toRef(record),
          refundId,
          amount: input.amount,
          ...(input.reason ? { reason: input.reason } : {}),
          ...(input.notifyUrl ? { notifyUrl: input.notifyUrl } : {}),
        });
        let settled: RefundEntry | undefined;
        const res = await casLoop(id, (r) => {
          const cur = r.refunds.find((f) => f.refundId === refundId);
          if (!cur || cur.state === 'succeeded') return undefined;
          const next: RefundEntry = { ...cur, state: outcome.state, updatedAt: clock() };
          if (outcome.providerRefundId !== undefined) next.providerRefundId = outcome.providerRefundId;
          if (outcome.providerData !== undefined) next.providerData = outcome.providerData;
          settled = next;
          const refunds = r.refunds.map((f) => (f.refundId === refundId ? next : f));
          if (outcome.state !== 'succeeded') return { refunds };
          const refundedAmount = r.refundedAmount + next.amount;
          return { refunds, refundedAmount, state: refundedAmount >= r.amount ? 'refunded' : 'partially_refunded' };
        });
        const final = settled ?? res.record.refunds.find((f) => f.refundId === refundId) ?? entry;
        await store.appendEvent({
          provider: record.provider,
          eventId: `refund:${refundId}:${final.state}`,
          paymentId: id,
          source: 'refund',
          kind: final.state === 'failed' ? 'refund_failed' : 'refunded',
          outcome: res.changed ? 'applied' : 'duplicate',
          at: clock(),
          raw: outcome.raw,
        });
        if (res.changed && final.state === 'succeeded') await callHook(hooks.onRefunded, res.record, final);
        return payOk({ record: res.record, refund: final }, id);
      } catch (e) {
        return payFailure(e, id);
      }
    },

    async close(id) {
      try {
        const record = await mustGet(id);
        if (record.state === 'closed') return payOk({ record }, id);
        if (record.state !== 'pending')
          throw new PayStateError(`@pay/core: ledger: record ${id} is ${record.state}; only pending records can be closed`);
        await providerOf(record.provider).closePayment(toRef(record));
        const res = await casLoop(id, (r) => (r.state === 'pending' ? { state: 'closed' } : undefined));
        if (res.record.state !== 'closed')
          throw new PayStateError(`@pay/core: ledger: record ${id} became ${res.record.state} while closing`);
        await store.appendEvent({
          provider: record.provider,
          eventId: `close:${id}`,
          paymentId: id,
          source: 'close',
          kind: 'closed',
          outcome: res.changed ? 'applied' : 'duplicate',
          at: clock(),
        });
        if (res.changed) await callHook(hooks.onClosed, res.record);
        return payOk({ record: res.record }, id);
      } catch (e) {
        return payFailure(e, id);
      }
    },

    async get(id) {
      try {
        const record = await mustGet(id);
        return payOk({ record, events: await store.listEvents(id) }, id);
      } catch (e) {
        return payFailure(e, id);
      }
    },
  };
  return api;
}
