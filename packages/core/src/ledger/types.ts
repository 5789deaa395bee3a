/**
 * Types of the payment ledger (支付表): records, events, the store interface.
 *
 * @module
 */
import type { PaymentEventKind } from '../provider.js';

/** The life of a payment record. */
export type PaymentRecordState = 'pending' | 'paid' | 'partially_refunded' | 'refunded' | 'closed';

/** The allowed moves between states. Anything else is a {@link PayStateError}. */
export const ALLOWED_TRANSITIONS: Readonly<Record<PaymentRecordState, readonly PaymentRecordState[]>> = {
  pending: ['paid', 'closed'],
  // A payment can arrive after the merchant closed the order (the payer was already paying): the money is real.
  closed: ['paid'],
  paid: ['partially_refunded', 'refunded'],
  partially_refunded: ['partially_refunded', 'refunded'],
  refunded: [],
};

/** One refund of a record. */
export interface RefundEntry {
  /** The refund request id (stable across retries; the provider deduplicates by it). */
  refundId: string;
  /** Amount, fen. */
  amount: number;
  /** Why. */
  reason?: string;
  /** `processing` until the provider confirms. */
  state: 'processing' | 'succeeded' | 'failed';
  /** The provider's refund id. */
  providerRefundId?: string;
  /** Provider data kept for queries. */
  providerData?: Record<string, string>;
  /** When it was requested, epoch ms. */
  requestedAt: number;
  /** When it last changed, epoch ms. */
  updatedAt: number;
}

/** The state of the `onPaid` hook for a record. */
export interface HookState {
  /** `pending` (not run or failed), `running` (claimed until `leaseUntil`), `done`. */
  state: 'pending' | 'running' | 'done';
  /** How many times it was started. */
  attempts: number;
  /** The last failure's message. */
  lastError?: string;
  /** Until when a `running` claim holds, epoch ms (a crashed runner's claim expires). */
  leaseUntil?: number;
}

/** A payment record: one row of the 支付表. */
export interface PaymentRecord {
  /** The record id, returned to clients as `id`. */
  id: string;
  /** Provider name. */
  provider: string;
  /** Channel. */
  channel: string;
  /** The merchant order number sent to the provider. */
  outTradeNo: string;
  /** Amount, fen. */
  amount: number;
  /** Currency. */
  currency: string;
  /** What was bought. */
  subject: string;
  /** Current state. */
  state: PaymentRecordState;
  /** Incremented on every write; the compare-and-set token. */
  version: number;
  /** Created, epoch ms. */
  createdAt: number;
  /** Last change, epoch ms. */
  updatedAt: number;
  /** When the order stops being payable, epoch ms. */
  expiresAt?: number;
  /** The app id the payment was created for. */
  appId?: string;
  /** The merchant id the payment was created for. */
  merchantId?: string;
  /** The provider's reference from creation (`prepay_id`, `tn`, `appAccountToken`). */
  providerRef?: string;
  /** Provider data needed for query / refund / close. */
  providerData?: Record<string, string>;
  /** The provider's transaction id, once paid. */
  providerTradeNo?: string;
  /** When it was paid, epoch ms. */
  paidAt?: number;
  /** Sum of succeeded refunds, fen. */
  refundedAmount: number;
  /** Refunds, in request order. */
  refunds: RefundEntry[];
  /** The `onPaid` hook's progress. */
  hook: HookState;
  /** Set when a verified notification disagreed with the record (evidence kept in the events). */
  anomaly?: string;
  /** Free-form data of the merchant (user id, cart id…). */
  metadata?: Record<string, string>;
}

/** What happened to one incoming event. */
export type EventOutcome = 'applied' | 'duplicate' | 'ignored' | 'mismatch' | 'rejected' | 'hook_failed';

/** An event in a record's history (notifications, queries, refunds), kept as evidence. */
export interface LedgerEvent {
  /** Provider name. */
  provider: string;
  /** The provider's notification id (or a synthetic one for queries and refunds). */
  eventId: string;
  /** The record it concerns. */
  paymentId: string;
  /** Where it came from. */
  source: 'notification' | 'query' | 'client' | 'refund' | 'close';
  /** Unified kind. */
  kind: PaymentEventKind;
  /** What the ledger did with it. */
  outcome: EventOutcome;
  /** When, epoch ms. */
  at: number;
  /** A human-readable detail (mismatch, error). */
  detail?: string;
  /** The verified provider payload. */
  raw?: unknown;
}

/** Patch applied by {@link PaymentStore.update}. `version` and `updatedAt` are set by the ledger. */
export type RecordPatch = Partial<Omit<PaymentRecord, 'id' | 'provider' | 'outTradeNo' | 'createdAt'>>;

/**
 * Where records live. Every implementation must pass the conformance suite
 * ({@link storeConformanceCases}): unique (provider, outTradeNo), compare-and-set
 * updates on `version`, events recognised as seen by (provider, eventId).
 */
export interface PaymentStore {
  /**
   * Inserts a new record.
   *
   * @throws PayStateError when a record with the same id, or the same provider and outTradeNo, exists
   */
  create(record: PaymentRecord): Promise<void>;
  /** The record with this id. */
  get(id: string): Promise<PaymentRecord | undefined>;
  /** The record with this provider and merchant order number. */
  getByOutTradeNo(provider: string, outTradeNo: string): Promise<PaymentRecord | undefined>;
  /**
   * Compare-and-set: applies `patch` only if the stored version equals `expectedVersion`,
   * and stores `version = expectedVersion + 1`. Returns the new record, or undefined when
   * the version moved (someone else wrote first) or the record does not exist.
   */
  update(id: string, expectedVersion: number, patch: RecordPatch): Promise<PaymentRecord | undefined>;
  /**
   * Appends an event to a record's history (duplicates too: they are evidence of
   * retries). Returns true when no earlier event had the same provider and eventId.
   */
  appendEvent(event: LedgerEvent): Promise<boolean>;
  /** The history of one record, oldest first. */
  listEvents(paymentId: string): Promise<LedgerEvent[]>;
  /** Records still `pending` that were created before `createdBefore` (epoch ms), oldest first. */
  listPending(createdBefore: number, limit?: number): Promise<PaymentRecord[]>;
}
