/**
 * `@pay/alipay`: Alipay (支付宝) for pay-sdk — OpenAPI orders and calls with
 * RSA2 in public-key or certificate mode and AES content encryption, responses
 * always verified over their raw text, notifications, OpenAPI v3, the legacy
 * mapi MD5 services, and the ledger adapter.
 *
 * @packageDocumentation
 */
export { ALIPAY_CHANNELS, type AlipayChannel, AlipayProvider, type AlipayProviderOptions, eventKindOf, paymentStateOf } from './adapter.js';
export { AlipayClient, type AlipayExecOptions } from './client.js';
export {
  ALIPAY_GATEWAYS,
  type AlipayConfig,
  type AlipayEndpoints,
  type AlipayGateway,
  type AlipaySignType,
  type AlipayVerifyKey,
  alipayCertSn,
  alipayRootCertSn,
  type CertificateInput,
  type ResolvedAlipayConfig,
  resolveAlipayConfig,
} from './config.js';
export { type AlipayErrorBody, alipayError, alipayHint, PROVIDER_NAME } from './errors.js';
export {
  ALIPAY_LEGACY_GATEWAY,
  type AlipayDirectPayInput,
  AlipayLegacyClient,
  type AlipayLegacyConfig,
  type AlipayLegacyNotification,
  type AlipayTradeCreateByBuyerInput,
  legacyMd5Sign,
  legacySignContent,
} from './legacy.js';
export {
  ALIPAY_TRADE_STATUSES,
  type AlipayNotifyInput,
  type AlipayReturnParams,
  type AlipayTradeNotification,
  type AlipayTradeStatus,
  alipayNotifyReply,
  decodeNotifyParams,
  type NotifyExclusionRule,
  notifySignContent,
} from './notify.js';
export {
  aesDecryptText,
  aesEncryptText,
  type ExtractedResponse,
  extractResponse,
  responseKeyOf,
  topLevelMembers,
  type VerifiedResponse,
  verifyGatewayResponse,
} from './response.js';
export { chinaTime, parseChinaTime, requestSignContent, type SignedContent, signRequestParams } from './sign.js';
export type * from './types.js';
export {
  type AlipayV3RequestOptions,
  type AlipayV3Response,
  type V3Authorization,
  type V3AuthorizationInput,
  v3Authorization,
  v3Request,
  v3ResponseSignContent,
  verifyV3Response,
} from './v3.js';
