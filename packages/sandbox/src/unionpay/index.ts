/**
 * The UnionPay ACP gateway emulator and its generated certificate hierarchy.
 *
 * @module
 */
export * from './emulator.js';
export * from './pki.js';
