/**
 * Alipay error mapping: a business answer (`code` ≠ `10000`) becomes a
 * `PayError` that keeps Alipay's `code`, `sub_code` and `sub_msg`, with an
 * actionable hint for the common ones.
 *
 * @module
 */
import { type PayError, type PayErrorOptions, PayNotFoundError, PayProviderError, PayRateLimitError } from '@pay/core';

/** The provider name this package registers under. */
export const PROVIDER_NAME = 'alipay';

/** The prefix of every message this package writes. */
export const PREFIX = '@pay/alipay:';

/** What Alipay says about a failed call (`xxx_response` or `error_response` fields). */
export interface AlipayErrorBody {
  /** Gateway code: `10000` success, `20000` unavailable, `40001`…`40006` caller errors. */
  code?: string;
  /** Gateway message. */
  msg?: string;
  /** Business sub-code, e.g. `ACQ.TRADE_NOT_EXIST`. */
  sub_code?: string;
  /** Business sub-message. */
  sub_msg?: string;
}

const HINTS: Readonly<Record<string, string>> = {
  'isv.invalid-signature':
    'Alipay could not verify the request signature: the privateKey does not match the app public key (应用公钥) uploaded for this app_id, or signType differs from the console setting',
  'isv.invalid-app-id':
    'the app_id is unknown to this gateway: check appId, and that production app ids are not sent to the sandbox (or the reverse)',
  'isv.missing-signature-key':
    'no app public key or certificate is set for this app_id in the Alipay console (开发设置 → 接口加签方式): upload it first',
  'isv.missing-signature-config': 'no signing method is configured for this app_id in the Alipay console: set 接口加签方式 first',
  'isv.invalid-timestamp':
    'the timestamp is malformed or the server clock is off by more than Alipay allows: sync the clock (China time is used)',
  'isv.app-unauthorized': 'the app is not authorised for this interface: check the app_auth_token or the product agreements',
  'isv.insufficient-isv-permissions':
    'the product or interface is not enabled for this app_id (sign the product agreement / add the capability in the console), or the key does not belong to this app',
  'isv.invalid-encrypt':
    'the AES key (encryptKey) does not match the one set in the console, or content encryption is not enabled for this app',
  'ACQ.TRADE_HAS_SUCCESS': 'the trade is already paid: do not pay again; query it and settle the order from the query result',
  'ACQ.TRADE_NOT_EXIST':
    'Alipay has no such trade: check out_trade_no / trade_no and app_id (a precreated or page-pay trade only exists once the buyer scanned or logged in)',
  'ACQ.SYSTEM_ERROR':
    'Alipay had a transient system error: retry later with the same out_trade_no (and the same out_request_no for refunds), or query first',
  'ACQ.TRADE_HAS_CLOSE': 'the trade is closed: create a new order with a new out_trade_no',
  'ACQ.TRADE_STATUS_ERROR': 'the trade is not in a state that allows this operation: query it first',
  'ACQ.REFUND_AMT_NOT_EQUAL_TOTAL': 'a retried refund must repeat the same refund_amount with the same out_request_no',
  'ACQ.SELLER_BALANCE_NOT_ENOUGH': 'the merchant account balance is too low for this refund',
  'ACQ.INVALID_PARAMETER': 'a biz_content field is invalid: read sub_msg for which one',
  'ACQ.CONTEXT_INCONSISTENT': 'an order with this out_trade_no exists with different content (amount, subject…): use a new out_trade_no',
  'ACQ.PAYMENT_AUTH_CODE_INVALID': 'the buyer barcode (auth_code) is invalid or expired: ask the buyer to refresh it',
  'ACQ.ACCESS_FORBIDDEN': 'this merchant may not use this interface: check the signed products',
  'aop.ACQ.SYSTEM_ERROR': 'Alipay had a transient system error: retry later with the same out_trade_no',
};

const NO_PRIVILEGE =
  'the product or interface is not enabled for this app_id (sign the product agreement in the console), or the key does not belong to this app';

/**
 * The hint for an Alipay sub-code, if there is one.
 *
 * @example
 * ```ts
 * alipayHint('ACQ.SYSTEM_ERROR'); // 'Alipay had a transient system error: retry later with the same out_trade_no …'
 * ```
 */
export function alipayHint(subCode: string | undefined, code?: string): string | undefined {
  if (subCode !== undefined) {
    const exact = HINTS[subCode] ?? HINTS[`ACQ.${subCode}`];
    if (exact !== undefined) return exact;
    if (subCode.endsWith('HAS_NO_PRIVILEGE') || subCode.endsWith('NO_PERMISSION')) return NO_PRIVILEGE;
  }
  if (code === '20000')
    return 'Alipay service is unavailable: retry later (queries are safe to retry; creates and refunds with the same ids)';
  if (code === '40003' || code === '20001') return NO_PRIVILEGE;
  return undefined;
}

const RETRYABLE = new Set(['ACQ.SYSTEM_ERROR', 'aop.ACQ.SYSTEM_ERROR', 'isp.unknow-error', 'isp.unknown-error']);
const NOT_FOUND = new Set(['ACQ.TRADE_NOT_EXIST', 'TRADE_NOT_EXIST', 'ACQ.REFUND_NOT_EXIST']);

/**
 * Turns Alipay's answer to a failed call into a `PayError`: `ACQ.TRADE_NOT_EXIST`
 * is a `PayNotFoundError`, frequency limits a `PayRateLimitError`, anything else a
 * `PayProviderError`; all keep `code` / `sub_code` / `sub_msg` and get a hint.
 *
 * @param method - the OpenAPI method called, e.g. `alipay.trade.query`
 * @param body - the verified `xxx_response` or `error_response` object
 * @param options - HTTP status and cause
 */
export function alipayError(method: string, body: AlipayErrorBody, options: { httpStatus?: number; cause?: unknown } = {}): PayError {
  const code = typeof body.code === 'string' ? body.code : undefined;
  const subCode = typeof body.sub_code === 'string' ? body.sub_code : undefined;
  const subMsg = typeof body.sub_msg === 'string' ? body.sub_msg : typeof body.msg === 'string' ? body.msg : undefined;
  const hint = alipayHint(subCode, code);
  const retryable = (subCode !== undefined && RETRYABLE.has(subCode)) || code === '20000' || (subCode?.startsWith('isp.') ?? false);
  const opts: PayErrorOptions = { provider: PROVIDER_NAME, retryable };
  if (code !== undefined) opts.providerCode = code;
  if (subCode !== undefined) opts.providerSubCode = subCode;
  if (subMsg !== undefined) opts.providerMessage = subMsg;
  if (hint !== undefined) opts.hint = hint;
  if (options.httpStatus !== undefined) opts.httpStatus = options.httpStatus;
  if (options.cause !== undefined) opts.cause = options.cause;
  const what = `${PREFIX} ${method} failed: expected code 10000, got ${code ?? 'none'}${subCode ? ` ${subCode}` : ''}${subMsg ? ` (${subMsg})` : ''}`;
  if (subCode !== undefined && NOT_FOUND.has(subCode)) return new PayNotFoundError(what, opts);
  if (subCode !== undefined && /FREQUENCY|LIMIT_EXCEEDED|TOO_MANY/i.test(subCode)) return new PayRateLimitError(what, opts);
  return new PayProviderError(what, opts);
}
