/**
 * `@pay/sandbox`: local emulators of the Alipay, WeChat Pay, UnionPay and App
 * Store servers on 127.0.0.1, speaking the real wire protocols, for tests, the
 * demo and your own integration tests.
 *
 * @packageDocumentation
 */
export * from './alipay/index.js';
export * from './common/notifier.js';
export * from './common/server.js';
export * from './iap/index.js';
export * from './unionpay/index.js';
export * from './wechat/index.js';
