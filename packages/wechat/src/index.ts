/**
 * `@pay/wechat`: WeChat Pay (微信支付) for pay-sdk.
 *
 * - {@link WechatPayClient}: API v3 — request signing, verification of every answer and callback
 *   (platform certificates and/or the WeChat Pay public key), payments for JSAPI / mini-program /
 *   APP / H5 / Native with client parameters, query, close, refunds, bills, sensitive fields and
 *   partner (service-provider) mode.
 * - {@link WechatPayV2Client}: the legacy XML API v2 — MD5 / HMAC-SHA256, unified order, query,
 *   close, refunds over mTLS with `apiclient_cert.p12`, notifications and `req_info`.
 * - {@link WechatPayProvider}: the ledger adapter (core's `PaymentProvider`).
 *
 * @packageDocumentation
 */

/** The provider name this package registers under. */
export const PROVIDER_NAME = 'wechat';

export { toWechatTime, tradeStateToPaymentState, type WechatChannel, WechatPayProvider, type WechatProviderOptions } from './adapter.js';
export {
  type V2AppPayParams,
  type V2JsapiPayParams,
  type V2Message,
  type V2PaymentNotification,
  type V2RefundNotification,
  type V2RefundRequest,
  type V2UnifiedOrderRequest,
  v2NotificationReply,
  WechatPayV2Client,
  type WechatPayV2Config,
} from './v2/client.js';
export { type V2SignType, v2Sign, v2SignString, v2VerifySign } from './v2/sign.js';
export { buildV2Xml, DEFAULT_MAX_XML_BYTES, type ParseXmlOptions, parseV2Xml } from './v2/xml.js';
export {
  AEAD_AES_256_GCM,
  apiV3KeyBytes,
  type DownloadCertificatesResponse,
  decryptCertificates,
  decryptResource,
  type EncryptedResource,
  encryptResource,
  type PlatformCertificateEntry,
} from './v3/aead.js';
export {
  type PartnerConfig,
  type PaymentConfirmation,
  type RequestOptions,
  type SensitiveCiphertext,
  type SubMerchantOption,
  WECHATPAY_BASE_URL,
  WechatPayClient,
  type WechatPayConfig,
  type WechatResponse,
  wechatNotificationReply,
} from './v3/client.js';
export {
  type AppPayParams,
  type AuthorizationParts,
  appPayParams,
  authorizationHeader,
  type JsapiPayParams,
  jsapiPayParams,
  requestSignMessage,
  responseSignMessage,
  type SignRequestInput,
  signRequest,
  WECHATPAY_SCHEMA,
} from './v3/signing.js';
export type * from './v3/types.js';
export {
  checkSignatureHeaders,
  normaliseSerial,
  PlatformKeyStore,
  type PlatformKeyStoreOptions,
  SIGNTEST_PREFIX,
  type SignatureHeaders,
  signatureHeadersOf,
  type VerifySignatureOptions,
  verifySignatureWithKey,
  verifyWechatSignature,
} from './v3/verifier.js';
