/**
 * The in-memory {@link PaymentStore}: for tests, the demo and single-process
 * backends that can lose their records on restart. Records are copied on the
 * way in and out, so callers can never change stored state by accident.
 *
 * @module
 */
import { PayStateError } from '../errors.js';
import type { LedgerEvent, PaymentRecord, PaymentStore, RecordPatch } from './types.js';

/**
 * Deep copy of plain data (objects, arrays, primitives, Dates, byte arrays): what
 * records and event payloads are made of. Several times faster than structuredClone
 * for these small shapes, which matters on the notification path.
 */
function copy<T>(value: T): T {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(copy) as T;
  if (value instanceof Date) return new Date(value.getTime()) as T;
  if (ArrayBuffer.isView(value)) return structuredClone(value);
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) out[key] = copy((value as Record<string, unknown>)[key]);
  return out as T;
}

/** A {@link PaymentStore} in a `Map`. */
export class MemoryPaymentStore implements PaymentStore {
  private readonly records = new Map<string, PaymentRecord>();
  private readonly byOrder = new Map<string, string>();
  private readonly events = new Map<string, LedgerEvent[]>();
  private readonly seen = new Set<string>();

  /** @inheritDoc */
  async create(record: PaymentRecord): Promise<void> {
    const key = `${record.provider}\u0000${record.outTradeNo}`;
    if (this.records.has(record.id)) throw new PayStateError(`@pay/core: store: a record with id ${record.id} exists`);
    if (this.byOrder.has(key)) {
      throw new PayStateError(
        `@pay/core: store: ${record.provider} order ${record.outTradeNo} exists already (outTradeNo must be unique per provider)`,
      );
    }
    this.records.set(record.id, copy(record));
    this.byOrder.set(key, record.id);
  }

  /** @inheritDoc */
  async get(id: string): Promise<PaymentRecord | undefined> {
    const r = this.records.get(id);
    return r === undefined ? undefined : copy(r);
  }

  /** @inheritDoc */
  async getByOutTradeNo(provider: string, outTradeNo: string): Promise<PaymentRecord | undefined> {
    const id = this.byOrder.get(`${provider}\u0000${outTradeNo}`);
    return id === undefined ? undefined : this.get(id);
  }

  /** @inheritDoc */
  async update(id: string, expectedVersion: number, patch: RecordPatch): Promise<PaymentRecord | undefined> {
    const current = this.records.get(id);
    if (current === undefined || current.version !== expectedVersion) return undefined;
    const next: PaymentRecord = { ...current, ...copy(patch), id, version: expectedVersion + 1 };
    this.records.set(id, next);
    return copy(next);
  }

  /** @inheritDoc */
  async appendEvent(event: LedgerEvent): Promise<boolean> {
    const key = `${event.provider}\u0000${event.eventId}`;
    const isNew = !this.seen.has(key);
    this.seen.add(key);
    const list = this.events.get(event.paymentId) ?? [];
    list.push(copy(event));
    this.events.set(event.paymentId, list);
    return isNew;
  }

  /** @inheritDoc */
  async listEvents(paymentId: string): Promise<LedgerEvent[]> {
    return copy(this.events.get(paymentId) ?? []);
  }

  /** @inheritDoc */
  async listPending(createdBefore: number, limit = 100): Promise<PaymentRecord[]> {
    const out: PaymentRecord[] = [];
    for (const r of this.records.values()) if (r.state === 'pending' && r.createdAt < createdBefore) out.push(r);
    out.sort((a, b) => a.createdAt - b.createdAt);
    return copy(out.slice(0, limit));
  }
}
