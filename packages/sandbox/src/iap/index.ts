/**
 * The App Store emulator and its building blocks: a generated signing chain
 * with Apple's OIDs (EC P-256, DER written here), JWS signing, OCSP responses,
 * StoreKit 1 receipts, and the loopback server.
 *
 * @module
 */
export {
  APPLE_INTERMEDIATE_OID,
  APPLE_LEAF_OID,
  type AppleOcspCertId,
  type AppleOcspCertStatus,
  type AppleOcspResponseOptions,
  type AppleTestCertificate,
  type AppleTestCertificateOptions,
  type AppleTestChain,
  type AppleTestChainOptions,
  type AppleTestName,
  appleOcspCertId,
  buildAppleOcspErrorResponse,
  buildAppleOcspResponse,
  createAppleOcspResponderCertificate,
  createAppleTestCertificate,
  encodeAppleTestName,
  generateAppleTestChain,
  generateAppleTestKeyPair,
  signAppleJws,
} from './certs.js';
export * from './emulator.js';
export { buildIapAppReceipt, encodeIapReceiptPayload, type IapReceiptContents, type IapReceiptInAppRecord } from './receipt.js';
