/**
 * The WeChat Pay emulator: API v3 (signed answers, encrypted `/v3/certificates`
 * and public-key mode, signed and encrypted callbacks, certificate rotation and
 * expiry as faults) and the legacy XML API v2 over HTTPS with mTLS refunds.
 *
 * @module
 */
export {
  startWechatPayEmulator,
  WECHATPAY_RETRY_SCHEDULE_SECONDS,
  type WechatEmulatedNotification,
  type WechatEmulatedOrder,
  type WechatEmulatedRefund,
  type WechatEmulatorClientConfig,
  type WechatEmulatorFaults,
  type WechatEmulatorMode,
  type WechatEmulatorOptions,
  type WechatEmulatorV2ClientConfig,
  type WechatPayEmulator,
} from './emulator.js';
