/**
 * Asynchronous notifications (`notify_url`), gateway messages and `return_url`
 * redirects: decoded exactly once from the raw form, verified with the Alipay
 * key or certificate from config under the exclusion rule of their kind, and
 * checked against the configured `app_id` and `seller_id`.
 *
 * @module
 */
import {
  canonicalString,
  formDecode,
  type IncomingNotification,
  type NotificationReply,
  PayArgumentError,
  PayMismatchError,
  PayResponseError,
  PaySignatureError,
  textReply,
} from '@pay/core';
import type { ResolvedAlipayConfig } from './config.js';
import { PREFIX, PROVIDER_NAME } from './errors.js';
import { verifyWithAny } from './sign.js';

/** A notification as received: the framework-neutral incoming request, the raw form body, or a decoded object. */
export type AlipayNotifyInput = IncomingNotification | string | Uint8Array | Readonly<Record<string, string>>;

/** `trade_status` values: OpenAPI ones and the legacy double interface's (标准双接口). */
export type AlipayTradeStatus =
  | 'WAIT_BUYER_PAY'
  | 'TRADE_CLOSED'
  | 'TRADE_SUCCESS'
  | 'TRADE_FINISHED'
  | 'WAIT_SELLER_SEND_GOODS'
  | 'WAIT_BUYER_CONFIRM_GOODS';

/** Every `trade_status` Alipay documents. */
export const ALIPAY_TRADE_STATUSES: readonly AlipayTradeStatus[] = [
  'WAIT_BUYER_PAY',
  'TRADE_CLOSED',
  'TRADE_SUCCESS',
  'TRADE_FINISHED',
  'WAIT_SELLER_SEND_GOODS',
  'WAIT_BUYER_CONFIRM_GOODS',
];

/** A verified payment notification (`notify_type=trade_status_sync`), fields as Alipay spells them. */
export interface AlipayTradeNotification {
  /** Notification id: the same for every retry of one notification. */
  notify_id: string;
  /** `trade_status_sync` for trade notifications. */
  notify_type: string;
  /** When Alipay sent it, China time. */
  notify_time: string;
  /** The app id (checked against config). */
  app_id: string;
  /** The merchant PID (checked against `sellerId` when configured). */
  seller_id?: string;
  /** Alipay's trade number. */
  trade_no: string;
  /** The merchant order number. */
  out_trade_no: string;
  /** The trade status. */
  trade_status: AlipayTradeStatus;
  /** Order amount, yuan as text (`"88.88"`). */
  total_amount?: string;
  /** Refunded amount so far, yuan as text, on refund notifications. */
  refund_fee?: string;
  /** The refund request id (`out_request_no`) on refund notifications. */
  out_biz_no?: string;
  /** Echo of `passback_params`. */
  passback_params?: string;
  /** Every other field, as sent. */
  [field: string]: string | undefined;
}

/** A verified `return_url` redirect: display only, never a proof of payment. */
export interface AlipayReturnParams {
  /** The app id. */
  app_id: string;
  /** The merchant order number. */
  out_trade_no: string;
  /** Alipay's trade number. */
  trade_no: string;
  /** Amount, yuan as text. */
  total_amount: string;
  /** Every other field, as sent. */
  [field: string]: string;
}

function isIncoming(input: unknown): input is IncomingNotification {
  return typeof input === 'object' && input !== null && 'rawBody' in input && 'method' in input && 'query' in input;
}

/**
 * Decodes a notification's parameters exactly once (`+` is a space, `%2B` a plus;
 * a key present twice is an error). A GET request is read from its query string.
 *
 * @throws PayArgumentError on malformed encoding, a duplicated key, or a non-string value
 */
export function decodeNotifyParams(input: AlipayNotifyInput): Record<string, string> {
  if (typeof input === 'string') {
    const q = /^https?:\/\//i.test(input) ? input.slice(input.indexOf('?') + 1 || input.length) : input;
    return formDecode(q);
  }
  if (input instanceof Uint8Array) return formDecode(input);
  if (isIncoming(input)) return formDecode(input.method === 'GET' ? input.query : input.rawBody);
  if (typeof input !== 'object' || input === null)
    throw new PayArgumentError(`${PREFIX} expected a notification (raw form body, request, or decoded object), got ${typeof input}`);
  const out: Record<string, string> = Object.create(null);
  for (const [k, v] of Object.entries(input)) {
    if (typeof v !== 'string') {
      throw new PayArgumentError(
        `${PREFIX} notification field "${k}": expected a string, got ${Array.isArray(v) ? 'an array (the field was sent twice)' : typeof v}`,
      );
    }
    out[k] = v;
  }
  return out;
}

/** Which parameters a notification's signature leaves out. */
export type NotifyExclusionRule = 'payment' | 'gateway';

const EXCLUDE: Record<NotifyExclusionRule, ReadonlySet<string>> = {
  payment: new Set(['sign', 'sign_type']),
  gateway: new Set(['sign']),
};

/**
 * The content a notification's signature covers: sorted `k=v&…` over the decoded
 * values, leaving out `sign` and `sign_type` (payment notifications, `return_url`,
 * rsaCheckV1) or only `sign` (gateway messages, rsaCheckV2). Empty values are left out.
 */
export function notifySignContent(params: Readonly<Record<string, string>>, rule: NotifyExclusionRule): string {
  return canonicalString(params, { exclude: EXCLUDE[rule] });
}

/**
 * Verifies decoded notification parameters under `rule` and checks them against the configuration.
 *
 * @throws PaySignatureError when `sign` is missing, `sign_type` differs from config, or the signature does not verify
 * @throws PayMismatchError when `app_id` or `seller_id` differ from config
 */
export function verifyNotifyParams(
  cfg: ResolvedAlipayConfig,
  params: Readonly<Record<string, string>>,
  rule: NotifyExclusionRule,
  what: string,
): void {
  const sign = params.sign;
  if (sign === undefined || sign === '') {
    throw new PaySignatureError(`${PREFIX} ${what}: expected a sign parameter, found ${sign === undefined ? 'none' : 'an empty one'}`, {
      provider: PROVIDER_NAME,
      reason: 'MISSING_SIGNATURE',
    });
  }
  const signType = params.sign_type;
  if (signType !== undefined && signType !== cfg.signType) {
    throw new PaySignatureError(
      `${PREFIX} ${what}: sign_type is ${JSON.stringify(signType)}, but this client verifies ${cfg.signType} only (from config, never from the message)`,
      {
        provider: PROVIDER_NAME,
        reason: 'SIGN_TYPE_MISMATCH',
      },
    );
  }
  const charset = params.charset;
  if (charset !== undefined && charset.toLowerCase() !== 'utf-8' && charset.toLowerCase() !== 'utf8') {
    throw new PayArgumentError(
      `${PREFIX} ${what}: charset is ${charset}; only utf-8 notifications are supported (this SDK always sends charset=utf-8)`,
    );
  }
  if (!verifyWithAny(cfg.hash, cfg.alipayKeys, notifySignContent(params, rule), sign)) {
    const other = rule === 'payment' ? 'verifyGatewayMessage (drops only sign)' : 'verifyNotify (drops sign and sign_type)';
    throw new PaySignatureError(
      `${PREFIX} ${what}: the signature does not verify with the configured Alipay ${cfg.mode === 'cert' ? 'certificate' : 'public key'} (${cfg.signType}) over the decoded parameters`,
      {
        provider: PROVIDER_NAME,
        reason: 'BAD_SIGNATURE',
        hint: `verify the body exactly as received (decoded once: a re-encoded or twice-decoded value changes the content); a field was changed or the key is wrong; if this is not a trade notification try ${other}`,
      },
    );
  }
  const appId = params.app_id;
  if (rule === 'payment' && appId === undefined)
    throw new PayMismatchError(`${PREFIX} ${what}: expected app_id ${cfg.appId}, found none`, { provider: PROVIDER_NAME });
  if (appId !== undefined && appId !== cfg.appId) {
    throw new PayMismatchError(`${PREFIX} ${what}: expected app_id ${cfg.appId}, found ${appId}`, {
      provider: PROVIDER_NAME,
      hint: 'the notification is for another app (or an ISV app): route it to the client configured for that app_id',
    });
  }
  if (rule === 'payment' && cfg.sellerId !== undefined && params.seller_id !== cfg.sellerId) {
    throw new PayMismatchError(`${PREFIX} ${what}: expected seller_id ${cfg.sellerId}, found ${params.seller_id ?? 'none'}`, {
      provider: PROVIDER_NAME,
    });
  }
}

/**
 * Verifies a trade notification and returns it typed.
 *
 * @throws PaySignatureError, PayMismatchError, PayArgumentError, PayResponseError (missing `notify_id`, `out_trade_no`…)
 */
export function verifyTradeNotification(cfg: ResolvedAlipayConfig, input: AlipayNotifyInput): AlipayTradeNotification {
  const params = decodeNotifyParams(input);
  verifyNotifyParams(cfg, params, 'payment', 'notification');
  for (const field of ['notify_id', 'out_trade_no', 'trade_status'] as const) {
    if (!params[field]) throw new PayResponseError(`${PREFIX} notification: expected ${field}, found none`, { provider: PROVIDER_NAME });
  }
  return { ...params } as AlipayTradeNotification;
}

/** The reply Alipay expects: the literal `success`, or a failure body so Alipay retries (1, 3, 5, 10, 15 … minutes over 24 h). */
export function alipayNotifyReply(ok: boolean): NotificationReply {
  return ok ? textReply(200, 'success') : textReply(200, 'failure');
}
