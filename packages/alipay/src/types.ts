/**
 * Inputs and answers of the Alipay client, fields spelled as Alipay spells them.
 * Amounts going in are integers in fen (`amount`); Alipay's own answers keep
 * their yuan strings (`total_amount: "88.88"`).
 *
 * @module
 */

/** What every order-creating call takes. */
export interface AlipayOrderInput {
  /** The merchant's order number (≤ 64 characters: letters, digits, `_`, `-`). */
  out_trade_no: string;
  /** The amount in fen (integer): `8888` is sent as `"88.88"`. */
  amount: number;
  /** What the buyer sees. */
  subject: string;
  /** Longer description. */
  body?: string;
  /** Alipay product code; each method has its default (`QUICK_MSECURITY_PAY`, `FAST_INSTANT_TRADE_PAY`, `QUICK_WAP_WAY`, …). */
  product_code?: string;
  /** Where the asynchronous notification goes (https, publicly reachable, no query string). */
  notify_url?: string;
  /** Opaque data echoed in the notification (Alipay asks that it be URL-encoded by the merchant). */
  passback_params?: string;
  /** Relative expiry such as `30m`, `2h`, `1d` (`m` minutes … `d` days). */
  timeout_express?: string;
  /** Absolute expiry: epoch ms, a `Date`, or `yyyy-MM-dd HH:mm:ss` China time. */
  time_expire?: number | Date | string;
  /** An ISV's authorisation token for this merchant. */
  app_auth_token?: string;
  /** Further `biz_content` fields, merged after the ones above (e.g. `goods_detail`, `extend_params`). */
  biz?: Readonly<Record<string, unknown>>;
}

/** Page / WAP pay: the buyer's browser goes to Alipay and back to `return_url`. */
export interface AlipayWebOrderInput extends AlipayOrderInput {
  /** Where the browser returns after paying (display only: wait for the notification). */
  return_url?: string;
  /** WAP: where the buyer goes on "quit" (`quit_url`). */
  quit_url?: string;
}

/** Barcode / face pay (`alipay.trade.pay`): the merchant scans the buyer. */
export interface AlipayBarcodeOrderInput extends AlipayOrderInput {
  /** The code scanned from the buyer's app (or the face token). */
  auth_code: string;
  /** `bar_code` (default) or `security_code` (face pay). */
  scene?: 'bar_code' | 'security_code' | (string & {});
}

/** `alipay.trade.create` (mini-program / JSAPI): needs the buyer. */
export interface AlipayCreateOrderInput extends AlipayOrderInput {
  /** The buyer's user id (2088…). */
  buyer_id?: string;
  /** The buyer's open id (newer apps). */
  buyer_open_id?: string;
  /** The mini-program's app id, when different. */
  op_app_id?: string;
}

/** A trade, named by the merchant's or Alipay's number. */
export interface AlipayTradeRef {
  /** The merchant's order number. */
  out_trade_no?: string;
  /** Alipay's trade number (takes precedence at Alipay when both are given). */
  trade_no?: string;
  /** An ISV's authorisation token. */
  app_auth_token?: string;
}

/** `alipay.trade.refund`. */
export interface AlipayRefundInput extends AlipayTradeRef {
  /** Refund amount in fen. */
  amount: number;
  /** The refund request id: repeat it (with the same amount) when retrying, so the refund happens once. */
  out_request_no: string;
  /** Why. */
  refund_reason?: string;
  /** Further `biz_content` fields. */
  biz?: Readonly<Record<string, unknown>>;
}

/** `alipay.trade.fastpay.refund.query`. */
export interface AlipayRefundQueryInput extends AlipayTradeRef {
  /** The refund request id given to the refund. */
  out_request_no: string;
  /** Extra answer fields, e.g. `['gmt_refund_pay']`. */
  query_options?: readonly string[];
}

/** `alipay.data.dataservice.bill.downloadurl.query`. */
export interface AlipayBillInput {
  /** `trade` or `signcustomer`. */
  bill_type: 'trade' | 'signcustomer' | (string & {});
  /** `yyyy-MM-dd` (daily) or `yyyy-MM` (monthly). */
  bill_date: string;
  /** An ISV's authorisation token. */
  app_auth_token?: string;
}

/** The fields every verified answer has. */
export interface AlipayResponseBase {
  /** `10000` (only successes are returned; failures are thrown). */
  code: string;
  /** `Success`. */
  msg: string;
  /** Every other field. */
  [field: string]: unknown;
}

/** `alipay.trade.query` answer. */
export interface AlipayTradeQueryResponse extends AlipayResponseBase {
  /** Alipay's trade number. */
  trade_no: string;
  /** The merchant order number. */
  out_trade_no: string;
  /** The trade status. */
  trade_status: string;
  /** Order amount, yuan text. */
  total_amount: string;
  /** Buyer's logon id, masked. */
  buyer_logon_id?: string;
  /** When it was paid, China time. */
  send_pay_date?: string;
}

/** `alipay.trade.refund` answer. */
export interface AlipayRefundResponse extends AlipayResponseBase {
  /** Alipay's trade number. */
  trade_no: string;
  /** The merchant order number. */
  out_trade_no: string;
  /** Total refunded so far, yuan text. */
  refund_fee: string;
  /** `Y` when this call moved money; `N` when it did not (e.g. a repeated request). */
  fund_change: string;
}

/** `alipay.trade.precreate` answer. */
export interface AlipayPrecreateResponse extends AlipayResponseBase {
  /** The merchant order number. */
  out_trade_no: string;
  /** The QR code content to render. */
  qr_code: string;
}

/** `alipay.trade.create` answer. */
export interface AlipayCreateResponse extends AlipayResponseBase {
  /** The merchant order number. */
  out_trade_no: string;
  /** Alipay's trade number, handed to `my.tradePay`. */
  trade_no: string;
}

/** `alipay.data.dataservice.bill.downloadurl.query` answer. */
export interface AlipayBillResponse extends AlipayResponseBase {
  /** Where to download the bill (valid 30 seconds). */
  bill_download_url: string;
}

/** A page / WAP pay order for the browser. */
export interface AlipayWebPayment {
  /** GET URL to redirect the browser to (every parameter in the query). */
  url: string;
  /** An HTML form (values HTML-escaped) that POSTs to the gateway and submits itself. */
  form: string;
  /** The signed parameters. */
  params: Readonly<Record<string, string>>;
}

/** Signed request parameters with what was signed. */
export interface AlipaySignedRequest {
  /** The parameters, `sign` last, in the order they are sent. */
  params: Record<string, string>;
  /** The exact string that was signed. */
  signContent: string;
  /** The signature. */
  sign: string;
}
