/**
 * Turning WeChat Pay's error answers (v3 JSON `{code, message}`, v2
 * `return_code`/`result_code`/`err_code`) and transport failures into PayErrors
 * whose messages start with `@pay/wechat`.
 *
 * @module
 */
import {
  PayArgumentError,
  PayConfigError,
  PayError,
  type PayErrorOptions,
  PayNetworkError,
  PayNotFoundError,
  PayProviderError,
  PayRateLimitError,
  PayStateError,
  PayTimeoutError,
  PayUpstreamError,
} from '@pay/core';
import { PKG } from './internal.js';

const NOT_FOUND = new Set(['ORDER_NOT_EXIST', 'ORDERNOTEXIST', 'RESOURCE_NOT_EXISTS', 'NOT_FOUND', 'REFUNDNOTEXIST', 'REFUND_NOT_EXIST']);
const STATE = new Set(['ORDERPAID', 'ORDER_PAID', 'ORDERCLOSED', 'ORDER_CLOSED', 'TRADE_STATE_ERROR']);
const RETRYABLE = new Set(['SYSTEM_ERROR', 'SYSTEMERROR', 'BANKERROR', 'BANK_ERROR', 'USERPAYING']);
const HINTS: Readonly<Record<string, string>> = {
  SIGN_ERROR:
    'WeChat Pay could not verify the request signature: check that privateKey is the key of the merchant certificate merchantSerialNo, and mchid',
  SIGNERROR: 'WeChat Pay could not verify the v2 signature: check apiKey (API v2 key, not the APIv3 key) and signType',
  APPID_MCHID_NOT_MATCH: 'the appid is not bound to this mchid (商户平台 → 产品中心 → AppID账号管理)',
  MCH_NOT_EXISTS: 'the mchid is wrong',
  NO_AUTH: 'the product is not enabled for this merchant or appid',
  NOAUTH: 'the product is not enabled for this merchant or appid',
  OUT_TRADE_NO_USED: 'this out_trade_no was already used with different parameters; use a new order number',
  INVALID_REQUEST: 'the request does not fit the order state or the parameters of the first request with this number',
  PARAM_ERROR: 'a parameter is missing or malformed; the provider message names it',
  NOT_ENOUGH: 'the merchant balance is not enough for this refund',
  NOTENOUGH: 'the balance is not enough',
  FREQUENCY_LIMITED: 'too many requests: slow down and retry later',
};

/**
 * Builds the PayError for a WeChat Pay business error.
 *
 * @param call - e.g. `POST /v3/pay/transactions/jsapi`
 * @param code - the provider's code
 * @param message - the provider's message
 * @param httpStatus - HTTP status, when there was one
 * @internal
 */
export function providerError(call: string, code: string, message: string | undefined, httpStatus?: number): PayError {
  const text = `${PKG}: ${call}: WeChat Pay answered ${httpStatus !== undefined ? `HTTP ${httpStatus} ` : ''}${code}${message ? `: ${message}` : ''}`;
  const options: PayErrorOptions = { provider: 'wechat', providerCode: code };
  if (message !== undefined) options.providerMessage = message;
  if (httpStatus !== undefined) options.httpStatus = httpStatus;
  const hint = HINTS[code];
  if (hint !== undefined) options.hint = hint;
  if (NOT_FOUND.has(code) || (httpStatus === 404 && !STATE.has(code))) return new PayNotFoundError(text, options);
  if (code === 'FREQUENCY_LIMITED' || httpStatus === 429) return new PayRateLimitError(text, options);
  if (STATE.has(code)) return new PayStateError(text, options);
  if (RETRYABLE.has(code)) return new PayProviderError(text, { ...options, retryable: true });
  return new PayProviderError(text, options);
}

/**
 * Re-labels an error from `@pay/core` (transport, keys) with this package's
 * prefix and the call, keeping its class, code, cause and response.
 *
 * @internal
 */
export function relabel(error: unknown, call: string): PayError {
  if (!(error instanceof PayError)) {
    return new PayProviderError(`${PKG}: ${call}: unexpected failure: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
      provider: 'wechat',
    });
  }
  if (error.message.startsWith(`${PKG}:`)) return error;
  const rest = error.message.replace(/^@pay\/[a-z]+: /, '');
  const message = `${PKG}: ${call}: ${rest}`;
  const options: PayErrorOptions = { cause: error, provider: 'wechat', retryable: error.retryable };
  if (error.hint !== undefined) options.hint = error.hint;
  if (error.reason !== undefined) options.reason = error.reason;
  if (error.httpStatus !== undefined) options.httpStatus = error.httpStatus;
  if (error.providerCode !== undefined) options.providerCode = error.providerCode;
  if (error.providerMessage !== undefined) options.providerMessage = error.providerMessage;
  if (error instanceof PayUpstreamError) {
    const body = error.response?.body;
    if (body && options.providerCode === undefined) {
      try {
        const parsed = JSON.parse(Buffer.from(body).toString('utf8')) as { code?: unknown; message?: unknown };
        if (typeof parsed?.code === 'string') options.providerCode = parsed.code;
        if (typeof parsed?.message === 'string') options.providerMessage = parsed.message;
      } catch {
        // not a JSON error body
      }
    }
    return new PayUpstreamError(message, error.response === undefined ? options : { ...options, response: error.response });
  }
  if (error instanceof PayTimeoutError) return new PayTimeoutError(message, options);
  if (error instanceof PayNetworkError) return new PayNetworkError(message, options);
  if (error instanceof PayConfigError) return new PayConfigError(message, options);
  if (error instanceof PayArgumentError) return new PayArgumentError(message, options);
  const Ctor = error.constructor as new (m: string, o: PayErrorOptions) => PayError;
  try {
    return new Ctor(message, options);
  } catch {
    return new PayError(error.resultCode, message, options);
  }
}
