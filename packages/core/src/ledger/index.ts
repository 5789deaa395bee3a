/**
 * The payment ledger (支付表): records, the store interface and its in-memory
 * implementation, the conformance suite, and {@link createPayments}.
 *
 * @module
 */
export * from './conformance.js';
export * from './ledger.js';
export * from './memory-store.js';
export * from './types.js';
