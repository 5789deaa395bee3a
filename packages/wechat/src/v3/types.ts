/**
 * API v3 request and response shapes, with field names as WeChat Pay spells them.
 *
 * @module
 */
import type { EncryptedResource } from './aead.js';

/** The four prepay products of API v3 (mini-programs use `jsapi`). */
export type TradeType = 'jsapi' | 'app' | 'h5' | 'native';

/** The payer of a JSAPI / mini-program payment. */
export interface Payer {
  /** Direct mode: the payer's openid under `appid`. */
  openid?: string;
  /** Partner mode: the payer's openid under `sp_appid`. */
  sp_openid?: string;
  /** Partner mode: the payer's openid under `sub_appid`. */
  sub_openid?: string;
}

/** Scene information; H5 payments need `payer_client_ip` and `h5_info`. */
export interface SceneInfo {
  /** The payer's IP address. */
  payer_client_ip: string;
  /** The merchant's device id. */
  device_id?: string;
  /** H5 only: `{ type: 'Wap' | 'iOS' | 'Android', … }`. */
  h5_info?: { type: string; app_name?: string; app_url?: string; bundle_id?: string; package_name?: string };
  /** Store information. */
  store_info?: { id: string; name?: string; area_code?: string; address?: string };
}

/**
 * A prepay request (`POST /v3/pay/transactions/{jsapi|app|h5|native}`, or the
 * `/v3/pay/partner/…` variant in partner mode). `appid`/`mchid` (or
 * `sp_appid`/`sp_mchid`/`sub_mchid`) are filled from the client config when absent.
 */
export interface PrepayRequest {
  /** Direct mode: the AppID. */
  appid?: string;
  /** Direct mode: the merchant id. */
  mchid?: string;
  /** Partner mode: the service provider's AppID. */
  sp_appid?: string;
  /** Partner mode: the service provider's merchant id. */
  sp_mchid?: string;
  /** Partner mode: the sub-merchant's AppID. */
  sub_appid?: string;
  /** Partner mode: the sub-merchant id. */
  sub_mchid?: string;
  /** What the payer sees (at most 127 characters). */
  description: string;
  /** The merchant's order number (6–32 characters: digits, letters, `_-|*`). */
  out_trade_no: string;
  /** When the order stops being payable, RFC 3339 (`2018-06-08T10:34:56+08:00`). */
  time_expire?: string;
  /** Echoed back in the callback and queries. */
  attach?: string;
  /** Where the payment callback goes (HTTPS, no query string). */
  notify_url: string;
  /** Coupon tag. */
  goods_tag?: string;
  /** Whether electronic invoices are supported. */
  support_fapiao?: boolean;
  /** The amount: `total` in fen, `currency` `CNY`. */
  amount: { total: number; currency?: string };
  /** The payer (JSAPI / mini-program). */
  payer?: Payer;
  /** Goods detail. */
  detail?: Record<string, unknown>;
  /** Scene information (H5: required). */
  scene_info?: SceneInfo;
  /** Settlement options. */
  settle_info?: { profit_sharing?: boolean };
}

/** What a prepay call returns: one of the three, depending on the trade type. */
export interface PrepayResponse {
  /** JSAPI, mini-program and APP: the prepay id the client parameters are signed over. */
  prepay_id?: string;
  /** Native: the `weixin://wxpay/bizpayurl?pr=…` URL to show as a QR code. */
  code_url?: string;
  /** H5: the URL to send the mobile browser to. */
  h5_url?: string;
}

/** `trade_state` of a transaction. */
export type TradeState = 'SUCCESS' | 'REFUND' | 'NOTPAY' | 'CLOSED' | 'REVOKED' | 'USERPAYING' | 'PAYERROR' | (string & {});

/** A transaction as queries and `TRANSACTION.SUCCESS` callbacks describe it. */
export interface Transaction {
  /** Direct mode: the AppID. */
  appid?: string;
  /** Direct mode: the merchant id. */
  mchid?: string;
  /** Partner mode: the service provider's AppID. */
  sp_appid?: string;
  /** Partner mode: the service provider's merchant id. */
  sp_mchid?: string;
  /** Partner mode: the sub-merchant's AppID. */
  sub_appid?: string;
  /** Partner mode: the sub-merchant id. */
  sub_mchid?: string;
  /** The merchant's order number. */
  out_trade_no: string;
  /** WeChat Pay's transaction id (once paid). */
  transaction_id?: string;
  /** `JSAPI`, `NATIVE`, `APP`, `MICROPAY`, `MWEB`, `FACEPAY`. */
  trade_type?: string;
  /** The state. */
  trade_state: TradeState;
  /** The state in words. */
  trade_state_desc?: string;
  /** The payer's bank. */
  bank_type?: string;
  /** What the merchant attached. */
  attach?: string;
  /** When it was paid, RFC 3339. */
  success_time?: string;
  /** The payer. */
  payer?: Payer;
  /** Amounts in fen. */
  amount?: { total?: number; payer_total?: number; currency?: string; payer_currency?: string };
  /** Scene information. */
  scene_info?: { device_id?: string };
  /** Coupons. */
  promotion_detail?: unknown[];
}

/** A refund request (`POST /v3/refund/domestic/refunds`). */
export interface RefundCreateRequest {
  /** Partner mode: the sub-merchant id (filled from config when absent). */
  sub_mchid?: string;
  /** WeChat Pay's transaction id (this or `out_trade_no`). */
  transaction_id?: string;
  /** The merchant's order number (this or `transaction_id`). */
  out_trade_no?: string;
  /** The merchant's refund number: the idempotency key (same number, same refund). */
  out_refund_no: string;
  /** Shown to the payer. */
  reason?: string;
  /** Where the refund callback goes. */
  notify_url?: string;
  /** `AVAILABLE` to refund from the available balance. */
  funds_account?: string;
  /** Amounts in fen. */
  amount: { refund: number; total: number; currency: string; from?: Array<{ account: string; amount: number }> };
  /** Goods detail. */
  goods_detail?: unknown[];
}

/** `status` of a refund. */
export type RefundStatus = 'SUCCESS' | 'CLOSED' | 'PROCESSING' | 'ABNORMAL' | (string & {});

/** A refund as the refund and refund-query calls describe it. */
export interface Refund {
  /** WeChat Pay's refund id. */
  refund_id: string;
  /** The merchant's refund number. */
  out_refund_no: string;
  /** WeChat Pay's transaction id. */
  transaction_id: string;
  /** The merchant's order number. */
  out_trade_no: string;
  /** `ORIGINAL`, `BALANCE`, `OTHER_BALANCE`, `OTHER_BANKCARD`. */
  channel?: string;
  /** Where the money goes, in words. */
  user_received_account?: string;
  /** When it succeeded, RFC 3339. */
  success_time?: string;
  /** When it was accepted, RFC 3339. */
  create_time?: string;
  /** The state. */
  status: RefundStatus;
  /** The funds account. */
  funds_account?: string;
  /** Amounts in fen. */
  amount: {
    total: number;
    refund: number;
    payer_total?: number;
    payer_refund?: number;
    settlement_refund?: number;
    settlement_total?: number;
    discount_refund?: number;
    currency?: string;
  };
  /** Coupons. */
  promotion_detail?: unknown[];
}

/** The plaintext of `REFUND.*` callbacks. */
export interface RefundNotificationResource {
  /** Direct mode: the merchant id. */
  mchid?: string;
  /** Partner mode: the service provider's merchant id. */
  sp_mchid?: string;
  /** Partner mode: the sub-merchant id. */
  sub_mchid?: string;
  /** The merchant's order number. */
  out_trade_no: string;
  /** WeChat Pay's transaction id. */
  transaction_id: string;
  /** The merchant's refund number. */
  out_refund_no: string;
  /** WeChat Pay's refund id. */
  refund_id: string;
  /** `SUCCESS`, `CLOSED` or `ABNORMAL`. */
  refund_status: RefundStatus;
  /** When it succeeded, RFC 3339. */
  success_time?: string;
  /** Where the money went, in words. */
  user_received_account?: string;
  /** Amounts in fen. */
  amount: { total: number; refund: number; payer_total?: number; payer_refund?: number };
}

/** The envelope of an API v3 callback, as received (before decryption). */
export interface NotificationEnvelope {
  /** The notification id: the same for every retry of one notification. */
  id: string;
  /** When it was created, RFC 3339. */
  create_time: string;
  /** `TRANSACTION.SUCCESS`, `REFUND.SUCCESS`, `REFUND.ABNORMAL`, `REFUND.CLOSED`, … */
  event_type: string;
  /** `encrypt-resource`. */
  resource_type: string;
  /** A short summary in words. */
  summary?: string;
  /** The encrypted payload. */
  resource: EncryptedResource;
}

/** What every decrypted callback carries. */
export interface NotificationBase {
  /** The notification id (use it to recognise retries of the same notification). */
  id: string;
  /** When it was created, RFC 3339. */
  create_time: string;
  /** The resource type, `encrypt-resource`. */
  resource_type: string;
  /** A short summary in words. */
  summary?: string;
  /** `original_type` of the resource (`transaction`, `refund`). */
  original_type?: string;
  /** The key that verified it (`Wechatpay-Serial`). */
  serial: string;
  /** True when this client already parsed a notification with the same id (a retry or a duplicate). */
  duplicate: boolean;
}

/** A verified and decrypted `TRANSACTION.SUCCESS` callback. */
export interface TransactionNotification extends NotificationBase {
  /** Discriminator. */
  kind: 'transaction';
  /** The event. */
  event_type: 'TRANSACTION.SUCCESS';
  /** The paid transaction. */
  resource: Transaction;
}

/** A verified and decrypted `REFUND.SUCCESS` / `REFUND.ABNORMAL` / `REFUND.CLOSED` callback. */
export interface RefundNotification extends NotificationBase {
  /** Discriminator. */
  kind: 'refund';
  /** The event. */
  event_type: 'REFUND.SUCCESS' | 'REFUND.ABNORMAL' | 'REFUND.CLOSED';
  /** The refund. */
  resource: RefundNotificationResource;
}

/** A verified and decrypted callback of another kind (kept as parsed JSON). */
export interface OtherNotification extends NotificationBase {
  /** Discriminator. */
  kind: 'other';
  /** The event. */
  event_type: string;
  /** The decrypted object. */
  resource: Record<string, unknown>;
}

/** A verified and decrypted API v3 callback. */
export type WechatNotification = TransactionNotification | RefundNotification | OtherNotification;

/** Request of the trade bill (`GET /v3/bill/tradebill`). */
export interface TradeBillRequest {
  /** `YYYY-MM-DD`. */
  bill_date: string;
  /** `ALL` (default), `SUCCESS` or `REFUND`. */
  bill_type?: 'ALL' | 'SUCCESS' | 'REFUND';
  /** `GZIP` for a compressed file. */
  tar_type?: 'GZIP';
  /** Partner mode: the sub-merchant (omit for the service provider's own bill). */
  sub_mchid?: string;
}

/** Request of the fund-flow bill (`GET /v3/bill/fundflowbill`). */
export interface FundFlowBillRequest {
  /** `YYYY-MM-DD`. */
  bill_date: string;
  /** `BASIC` (default), `OPERATION` or `FEES`. */
  account_type?: 'BASIC' | 'OPERATION' | 'FEES';
  /** `GZIP` for a compressed file. */
  tar_type?: 'GZIP';
}

/** Where to download a bill and the digest of its (uncompressed) content. */
export interface BillInfo {
  /** `SHA1`. */
  hash_type: string;
  /** Lower-case hex digest of the original (uncompressed) bill. */
  hash_value: string;
  /** The download URL, valid for 30 s. */
  download_url: string;
}

/** The JSON body of an API v3 error answer. */
export interface WechatErrorBody {
  /** E.g. `PARAM_ERROR`, `ORDER_NOT_EXIST`, `SIGN_ERROR`. */
  code: string;
  /** The message in words. */
  message: string;
  /** Details (field, location). */
  detail?: unknown;
}
