/**
 * `@pay/unionpay`: UnionPay (银联) online payments through the ACP gateway,
 * versions 5.1.0 and 5.0.0 — certificate signing with the merchant `.pfx`,
 * verification of `signPubKeyCert` chained to UnionPay's root, app (`tn`) and
 * web/WAP payments, back-channel transactions, queries, file downloads,
 * sensitive-information encryption and a ledger adapter.
 *
 * @packageDocumentation
 */

/** The provider name this package registers under. */
export const PROVIDER_NAME = 'unionpay';

export { createUnionPayProvider, refundOrderId, type UnionPayProviderOptions } from './adapter.js';
export {
  type AcpNotification,
  type AppTransResult,
  type BackTransParams,
  type BackTransResult,
  type ConsumeParams,
  type DownloadedFile,
  type ExtraFields,
  escapeHtml,
  type FileDownloadParams,
  type FrontConsumeParams,
  type FrontForm,
  type QueryOptions,
  type QueryParams,
  type QueryResult,
  UnionPayClient,
} from './client.js';
export {
  type AcpSignMethod,
  type AcpVersion,
  type CertificateInput,
  endpointsFor,
  type SignCertificateConfig,
  UNIONPAY_CN,
  UNIONPAY_TEST_CN,
  type UnionPayConfig,
  type UnionPayEndpoints,
  type UnionPayEnvironment,
} from './config.js';
export { ACP_RESPONSE_CODES, providerError } from './errors.js';
export {
  assertCallbackUrl,
  assertCurrencyCode,
  assertOrderId,
  assertQueryId,
  assertReqReserved,
  assertSettleDate,
  assertTxnTime,
  formatTxnTime,
  fromTxnAmt,
  ORDER_ID_PATTERN,
  parseTxnTime,
  REQ_RESERVED_MAX_BYTES,
  toTxnAmt,
} from './fields.js';
export { formatGatewayResponse, parseGatewayResponse, parseNotificationBody } from './parse.js';
export {
  BACK_QUERY_INTERVALS_MS,
  FRONT_QUERY_INTERVALS_MS,
  interpretQuery,
  nextQueryTime,
  PENDING_CODES,
  type QueryInterpretation,
  type QuerySchedule,
  type QueryState,
} from './query.js';
export { buildCustomerInfo, type CustomerInfo, decryptSensitive, encryptSensitive } from './sensitive.js';
export { type AcpFields, type AcpSigner, acpSigningString, createSigner, prepareFields } from './sign.js';
export { AcpVerifier, type CertificateCacheStats, unionPayCnOwner, type VerifierOptions } from './verify.js';
