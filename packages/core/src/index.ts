/**
 * `@pay/core`: the shared core of pay-sdk — the result contract and errors,
 * keys and certificates, cryptographic primitives, canonical strings, money,
 * the HTTP transport, notification I/O and the provider contract.
 *
 * @packageDocumentation
 */
export * from './canonical.js';
export * from './crypto.js';
export { type DerNode, derBytes, derChildren, derContent, derInteger, derOid, derString, derTime, readDer } from './der.js';
export * from './errors.js';
export * from './keys.js';
export * from './ledger/index.js';
export * from './money.js';
export * from './notify.js';
export * from './provider.js';
export * from './result.js';
export * from './timestamp.js';
export * from './transport.js';
export {
  Certificate,
  type CertificateExtension,
  type ChainOptions,
  type KeyUsage,
  type NameAttribute,
  type NameFormat,
  parseCertificate,
  parseCertificates,
  SignatureAlgorithmOid,
  verifyCertificateChain,
} from './x509.js';
