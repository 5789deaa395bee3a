/**
 * `@pay/iap`: Apple In-App Purchase on the server — the product catalogue,
 * verification of StoreKit 2 signed data and App Store Server Notifications V2
 * (ES256 JWS chained to Apple's root, optional OCSP), purchase verification and
 * restore, the App Store Server API, legacy `verifyReceipt`, receipt utilities,
 * offer signatures, and the ledger adapter.
 *
 * @packageDocumentation
 */
export * from './adapter.js';
export * from './api.js';
export * from './catalogue.js';
export * from './chain.js';
export { VerificationReason, type VerificationReasonCode } from './errors.js';
export * from './jws.js';
export * from './legacy.js';
export * from './notifications.js';
export * from './ocsp.js';
export * from './offers.js';
export * from './purchases.js';
export * from './receipt.js';
export * from './types.js';
export * from './verifier.js';

/** The provider name this package registers under. */
export const PROVIDER_NAME = 'iap';
