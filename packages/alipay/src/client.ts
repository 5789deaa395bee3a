/**
 * The Alipay OpenAPI client: orders for the client (APP order string, page /
 * WAP URL and form), gateway calls whose answers are always verified, OpenAPI
 * v3, and notification verification.
 *
 * @module
 */
import { assertMinorUnits, formEncode, type HttpRequest, type NotificationReply, PayArgumentError, toDecimalString } from '@pay/core';
import { type AlipayConfig, type AlipaySignType, type ResolvedAlipayConfig, resolveAlipayConfig } from './config.js';
import { PREFIX } from './errors.js';
import { autoSubmitForm } from './html.js';
import {
  type AlipayNotifyInput,
  type AlipayReturnParams,
  type AlipayTradeNotification,
  alipayNotifyReply,
  decodeNotifyParams,
  verifyNotifyParams,
  verifyTradeNotification,
} from './notify.js';
import { aesEncryptText, verifyGatewayResponse } from './response.js';
import { chinaTime, signRequestParams, toChinaTime } from './sign.js';
import type {
  AlipayBarcodeOrderInput,
  AlipayBillInput,
  AlipayBillResponse,
  AlipayCreateOrderInput,
  AlipayCreateResponse,
  AlipayOrderInput,
  AlipayPrecreateResponse,
  AlipayRefundInput,
  AlipayRefundQueryInput,
  AlipayRefundResponse,
  AlipayResponseBase,
  AlipaySignedRequest,
  AlipayTradeQueryResponse,
  AlipayTradeRef,
  AlipayWebOrderInput,
  AlipayWebPayment,
} from './types.js';
import { type AlipayV3RequestOptions, type AlipayV3Response, v3Request } from './v3.js';

/** Options of {@link AlipayClient.exec} and {@link AlipayClient.sign}. */
export interface AlipayExecOptions {
  /** `notify_url` common parameter. */
  notify_url?: string;
  /** `return_url` common parameter. */
  return_url?: string;
  /** An ISV's authorisation token. */
  app_auth_token?: string;
  /** Encrypt `biz_content` with the configured AES key (default: whenever `encryptKey` is configured, for gateway calls). */
  encrypt?: boolean;
  /** True when the call may be sent again safely (queries; refunds keyed by `out_request_no`). */
  idempotent?: boolean;
  /** Other common parameters to send and sign (e.g. `auth_token`). */
  extra?: Readonly<Record<string, string>>;
}

const IDEMPOTENT = new Set([
  'alipay.trade.query',
  'alipay.trade.fastpay.refund.query',
  'alipay.trade.close',
  'alipay.trade.cancel',
  'alipay.trade.refund',
  'alipay.data.dataservice.bill.downloadurl.query',
]);

const ORDER_FIELDS = new Set(['out_trade_no', 'total_amount', 'subject', 'product_code']);
const OUT_TRADE_NO_RE = /^[A-Za-z0-9_-]{1,64}$/;
/** Alipay's per-trade ceiling: 100 000 000.00 yuan. */
const MAX_AMOUNT_FEN = 10_000_000_000;

function requireRef(ref: AlipayTradeRef, what: string): Record<string, string> {
  if (ref === null || typeof ref !== 'object') throw new PayArgumentError(`${PREFIX} ${what}: expected { out_trade_no } or { trade_no }`);
  const out: Record<string, string> = {};
  if (ref.out_trade_no !== undefined) out.out_trade_no = ref.out_trade_no;
  if (ref.trade_no !== undefined) out.trade_no = ref.trade_no;
  if (!out.out_trade_no && !out.trade_no) throw new PayArgumentError(`${PREFIX} ${what}: expected out_trade_no or trade_no, got neither`);
  return out;
}

function amountText(amount: unknown, what: string): string {
  assertMinorUnits(amount, `${what}.amount`);
  if (amount > MAX_AMOUNT_FEN)
    throw new PayArgumentError(`${PREFIX} ${what}: amount ${amount} fen is above Alipay's limit of 100000000.00 yuan`);
  return toDecimalString(amount);
}

/**
 * An Alipay OpenAPI client for one app. Stateless and safe to share; keys are
 * parsed once, here.
 *
 * @example
 * ```ts
 * const alipay = new AlipayClient({ appId: '2021000122671080', privateKey, alipayPublicKey, sellerId: '2088…' });
 * const orderString = alipay.appPay({ out_trade_no: 'A1', amount: 8888, subject: '会员', notify_url });
 * const trade = await alipay.query({ out_trade_no: 'A1' });
 * ```
 */
export class AlipayClient {
  /** The validated configuration. */
  readonly config: ResolvedAlipayConfig;

  /**
   * @param config - app id, keys (public-key or certificate mode), gateway…
   * @throws PayConfigError when the configuration is incomplete or inconsistent (e.g. the app's own public key given as alipayPublicKey)
   */
  constructor(config: AlipayConfig) {
    this.config = resolveAlipayConfig(config);
  }

  /** The app id. */
  get appId(): string {
    return this.config.appId;
  }

  /** The configured sign type. */
  get signType(): AlipaySignType {
    return this.config.signType;
  }

  /**
   * Builds and signs the common parameters of an OpenAPI request around a `biz_content`.
   *
   * @param method - e.g. `alipay.trade.app.pay`
   * @param bizContent - serialised once with `JSON.stringify` (key order kept); a string is sent as is
   * @param options - common parameters
   * @throws PayArgumentError when `bizContent` cannot be serialised
   */
  sign(
    method: string,
    bizContent: Readonly<Record<string, unknown>> | string | undefined,
    options: AlipayExecOptions = {},
  ): AlipaySignedRequest {
    if (typeof method !== 'string' || !/^[a-z0-9]+(\.[a-z0-9_]+)+$/i.test(method)) {
      throw new PayArgumentError(`${PREFIX} expected an OpenAPI method such as alipay.trade.query, got ${JSON.stringify(method)}`);
    }
    const cfg = this.config;
    const params: Record<string, string> = {
      method,
      app_id: cfg.appId,
      charset: 'utf-8',
      version: '1.0',
      sign_type: cfg.signType,
      timestamp: chinaTime(cfg.clock()),
    };
    if (cfg.appCertSn !== undefined) params.app_cert_sn = cfg.appCertSn;
    if (cfg.alipayRootCertSn !== undefined) params.alipay_root_cert_sn = cfg.alipayRootCertSn;
    if (options.notify_url !== undefined) params.notify_url = options.notify_url;
    if (options.return_url !== undefined) params.return_url = options.return_url;
    if (options.app_auth_token !== undefined) params.app_auth_token = options.app_auth_token;
    if (options.extra) {
      for (const [k, v] of Object.entries(options.extra)) {
        if (k === 'sign' || k in params) throw new PayArgumentError(`${PREFIX} extra: "${k}" is set by the client`);
        params[k] = v;
      }
    }
    if (bizContent !== undefined) {
      let biz: string;
      if (typeof bizContent === 'string') biz = bizContent;
      else {
        try {
          biz = JSON.stringify(bizContent);
        } catch (e) {
          throw new PayArgumentError(`${PREFIX} ${method}: biz_content could not be serialised to JSON`, { cause: e });
        }
      }
      if (options.encrypt) {
        if (cfg.encryptKey === undefined)
          throw new PayArgumentError(`${PREFIX} ${method}: encrypt was asked for but no encryptKey is configured`);
        params.encrypt_type = 'AES';
        biz = aesEncryptText(cfg.encryptKey, biz);
      }
      params.biz_content = biz;
    }
    const { content, sign } = signRequestParams(params, cfg.privateKey, cfg.hash);
    params.sign = sign;
    return { params, signContent: content, sign };
  }

  private orderBiz(
    input: AlipayOrderInput,
    productCode: string,
    what: string,
    extra: Record<string, unknown> = {},
  ): Record<string, unknown> {
    if (input === null || typeof input !== 'object') throw new PayArgumentError(`${PREFIX} ${what}: expected an order object`);
    if (typeof input.out_trade_no !== 'string' || !OUT_TRADE_NO_RE.test(input.out_trade_no)) {
      throw new PayArgumentError(
        `${PREFIX} ${what}: out_trade_no must be 1-64 letters, digits, _ or -, got ${JSON.stringify(input.out_trade_no)}`,
      );
    }
    if (typeof input.subject !== 'string' || input.subject.trim() === '' || input.subject.length > 256) {
      throw new PayArgumentError(`${PREFIX} ${what}: subject must be 1-256 characters, got ${JSON.stringify(input.subject)}`);
    }
    if ((input as { total_amount?: unknown }).total_amount !== undefined) {
      throw new PayArgumentError(`${PREFIX} ${what}: give the amount as amount (integer fen), not total_amount`, {
        hint: '88.88 yuan is amount: 8888',
      });
    }
    const biz: Record<string, unknown> = {
      out_trade_no: input.out_trade_no,
      total_amount: amountText(input.amount, what),
      subject: input.subject,
      product_code: input.product_code ?? productCode,
      ...extra,
    };
    if (input.body !== undefined) biz.body = input.body;
    if (input.passback_params !== undefined) biz.passback_params = input.passback_params;
    if (input.timeout_express !== undefined) {
      if (!/^\d+[mhdc]$/.test(input.timeout_express)) {
        throw new PayArgumentError(
          `${PREFIX} ${what}: timeout_express must look like 30m, 2h, 1d or 1c, got ${JSON.stringify(input.timeout_express)}`,
        );
      }
      biz.timeout_express = input.timeout_express;
    }
    if (input.time_expire !== undefined) biz.time_expire = toChinaTime(input.time_expire, `${what}.time_expire`);
    if (input.biz) {
      for (const [k, v] of Object.entries(input.biz)) {
        if (ORDER_FIELDS.has(k) || k in biz)
          throw new PayArgumentError(`${PREFIX} ${what}: biz.${k} repeats a field the order already sets`);
        biz[k] = v;
      }
    }
    return biz;
  }

  private commonOf(input: { notify_url?: string; return_url?: string; app_auth_token?: string }): AlipayExecOptions {
    const o: AlipayExecOptions = {};
    if (input.notify_url !== undefined) o.notify_url = input.notify_url;
    if (input.return_url !== undefined) o.return_url = input.return_url;
    if (input.app_auth_token !== undefined) o.app_auth_token = input.app_auth_token;
    return o;
  }

  /**
   * The signed order string of APP pay (`alipay.trade.app.pay`) for the Alipay client SDK.
   *
   * @example
   * ```ts
   * const orderString = alipay.appPay({ out_trade_no: 'A1', amount: 1, subject: '测试', notify_url: 'https://shop.example/alipay/notify' });
   * // the app calls [[AlipaySDK defaultService] payOrder:orderString …]
   * ```
   * @throws PayArgumentError for an invalid order (amount not in integer fen, bad out_trade_no…)
   */
  appPay(order: AlipayOrderInput): string {
    const signed = this.appPaySigned(order);
    return Object.entries(signed.params)
      .map(([k, v]) => `${k}=${encodeURIComponent(v)}`)
      .join('&');
  }

  /** {@link appPay} with the signed parameters and the exact signed content. */
  appPaySigned(order: AlipayOrderInput): AlipaySignedRequest {
    return this.sign('alipay.trade.app.pay', this.orderBiz(order, 'QUICK_MSECURITY_PAY', 'appPay'), this.commonOf(order));
  }

  private webPay(method: string, biz: Record<string, unknown>, order: AlipayWebOrderInput): AlipayWebPayment {
    const { params } = this.sign(method, biz, this.commonOf(order));
    const url = `${this.config.gateway}?${formEncode(params)}`;
    const form = autoSubmitForm(`${this.config.gateway}?charset=utf-8`, params);
    return { url, form, params };
  }

  /**
   * Page pay (`alipay.trade.page.pay`, PC web): a GET URL and an auto-submit POST form.
   *
   * @throws PayArgumentError for an invalid order
   */
  pagePay(order: AlipayWebOrderInput): AlipayWebPayment {
    return this.webPay('alipay.trade.page.pay', this.orderBiz(order, 'FAST_INSTANT_TRADE_PAY', 'pagePay'), order);
  }

  /**
   * WAP pay (`alipay.trade.wap.pay`, mobile browsers): a GET URL and an auto-submit POST form.
   *
   * @throws PayArgumentError for an invalid order
   */
  wapPay(order: AlipayWebOrderInput): AlipayWebPayment {
    const extra: Record<string, unknown> = {};
    if (order?.quit_url !== undefined) extra.quit_url = order.quit_url;
    return this.webPay('alipay.trade.wap.pay', this.orderBiz(order, 'QUICK_WAP_WAY', 'wapPay', extra), order);
  }

  /**
   * Calls any OpenAPI method through the gateway and returns its verified content.
   *
   * @example
   * ```ts
   * const res = await alipay.exec('alipay.trade.orderinfo.sync', { trade_no, out_request_no, biz_type: 'CREDIT_AUTH' });
   * ```
   * @throws PaySignatureError / PayCertificateError when the answer does not verify (never skipped)
   * @throws PayProviderError / PayNotFoundError for a verified business failure, with `sub_code` and a hint
   * @throws PayTimeoutError / PayNetworkError / PayUpstreamError from the transport
   */
  async exec<T extends AlipayResponseBase = AlipayResponseBase>(
    method: string,
    bizContent?: Readonly<Record<string, unknown>> | string,
    options: AlipayExecOptions = {},
  ): Promise<T> {
    const cfg = this.config;
    const encrypt = options.encrypt ?? cfg.encryptKey !== undefined;
    const { params } = this.sign(method, bizContent, { ...options, encrypt: encrypt && bizContent !== undefined });
    const query: Record<string, string> = {};
    const body: Record<string, string> = {};
    for (const [k, v] of Object.entries(params)) (k === 'biz_content' ? body : query)[k] = v;
    const req: HttpRequest = {
      method: 'POST',
      url: `${cfg.gateway}?${formEncode(query)}`,
      headers: { 'content-type': 'application/x-www-form-urlencoded;charset=utf-8', accept: 'application/json' },
      body: formEncode(body),
      idempotent: options.idempotent ?? IDEMPOTENT.has(method),
    };
    if (cfg.timeoutMs !== undefined) req.timeoutMs = cfg.timeoutMs;
    const res = await cfg.transport.request(req);
    return verifyGatewayResponse(cfg, res.body.toString('utf8'), method, res.status).data as T;
  }

  /**
   * Precreate (`alipay.trade.precreate`): a QR code the buyer scans.
   *
   * @throws as {@link exec}
   */
  precreate(order: AlipayOrderInput): Promise<AlipayPrecreateResponse> {
    return this.exec<AlipayPrecreateResponse>(
      'alipay.trade.precreate',
      this.orderBiz(order, 'FACE_TO_FACE_PAYMENT', 'precreate'),
      this.commonOf(order),
    );
  }

  /**
   * Barcode / face pay (`alipay.trade.pay`). A `10003` (buyer is entering the password) is
   * returned as is: poll {@link query} until it settles, then {@link cancel} if it does not.
   *
   * @throws as {@link exec}
   */
  async pay(order: AlipayBarcodeOrderInput): Promise<AlipayTradeQueryResponse> {
    if (typeof order?.auth_code !== 'string' || order.auth_code === '')
      throw new PayArgumentError(`${PREFIX} pay: expected auth_code (the buyer's code)`);
    const biz = this.orderBiz(order, 'FACE_TO_FACE_PAYMENT', 'pay', { auth_code: order.auth_code, scene: order.scene ?? 'bar_code' });
    return this.exec<AlipayTradeQueryResponse>('alipay.trade.pay', biz, this.commonOf(order));
  }

  /**
   * Creates a trade for a mini-program or JSAPI payment (`alipay.trade.create`); hand `trade_no` to `my.tradePay`.
   *
   * @throws as {@link exec}
   */
  create(order: AlipayCreateOrderInput): Promise<AlipayCreateResponse> {
    const extra: Record<string, unknown> = {};
    if (order?.buyer_id !== undefined) extra.buyer_id = order.buyer_id;
    if (order?.buyer_open_id !== undefined) extra.buyer_open_id = order.buyer_open_id;
    if (order?.op_app_id !== undefined) extra.op_app_id = order.op_app_id;
    return this.exec<AlipayCreateResponse>('alipay.trade.create', this.orderBiz(order, 'JSAPI_PAY', 'create', extra), this.commonOf(order));
  }

  /**
   * Queries a trade (`alipay.trade.query`). A trade Alipay does not know throws `PayNotFoundError`.
   *
   * @throws as {@link exec}
   */
  query(ref: AlipayTradeRef & { query_options?: readonly string[] }): Promise<AlipayTradeQueryResponse> {
    const biz: Record<string, unknown> = requireRef(ref, 'query');
    if (ref.query_options !== undefined) biz.query_options = ref.query_options;
    return this.exec<AlipayTradeQueryResponse>('alipay.trade.query', biz, this.commonOf(ref));
  }

  /**
   * Refunds (part of) a trade (`alipay.trade.refund`). Retrying with the same
   * `out_request_no` and amount never refunds twice (`fund_change` is then `N`).
   *
   * @throws as {@link exec}
   */
  refund(input: AlipayRefundInput): Promise<AlipayRefundResponse> {
    const biz: Record<string, unknown> = requireRef(input, 'refund');
    biz.refund_amount = amountText(input.amount, 'refund');
    if (typeof input.out_request_no !== 'string' || !OUT_TRADE_NO_RE.test(input.out_request_no)) {
      throw new PayArgumentError(
        `${PREFIX} refund: out_request_no (the refund request id) must be 1-64 letters, digits, _ or -, got ${JSON.stringify(input.out_request_no)}`,
      );
    }
    biz.out_request_no = input.out_request_no;
    if (input.refund_reason !== undefined) biz.refund_reason = input.refund_reason;
    if (input.biz) for (const [k, v] of Object.entries(input.biz)) if (!(k in biz)) biz[k] = v;
    return this.exec<AlipayRefundResponse>('alipay.trade.refund', biz, this.commonOf(input));
  }

  /**
   * Queries a refund (`alipay.trade.fastpay.refund.query`). An answer without
   * `refund_status` / `refund_amount` means the refund did not happen.
   *
   * @throws as {@link exec}
   */
  refundQuery(input: AlipayRefundQueryInput): Promise<AlipayResponseBase> {
    const biz: Record<string, unknown> = requireRef(input, 'refundQuery');
    if (typeof input.out_request_no !== 'string' || input.out_request_no === '')
      throw new PayArgumentError(`${PREFIX} refundQuery: expected out_request_no`);
    biz.out_request_no = input.out_request_no;
    if (input.query_options !== undefined) biz.query_options = input.query_options;
    return this.exec('alipay.trade.fastpay.refund.query', biz, this.commonOf(input));
  }

  /**
   * Closes an unpaid trade (`alipay.trade.close`).
   *
   * @throws as {@link exec}
   */
  close(ref: AlipayTradeRef & { operator_id?: string }): Promise<AlipayResponseBase> {
    const biz: Record<string, unknown> = requireRef(ref, 'close');
    if (ref.operator_id !== undefined) biz.operator_id = ref.operator_id;
    return this.exec('alipay.trade.close', biz, this.commonOf(ref));
  }

  /**
   * Cancels a barcode trade (`alipay.trade.cancel`): closes it if unpaid, refunds it if paid.
   *
   * @throws as {@link exec}
   */
  cancel(ref: AlipayTradeRef): Promise<AlipayResponseBase> {
    return this.exec('alipay.trade.cancel', requireRef(ref, 'cancel'), this.commonOf(ref));
  }

  /**
   * The download URL of a bill (`alipay.data.dataservice.bill.downloadurl.query`), valid 30 s.
   *
   * @throws as {@link exec}
   */
  billDownloadUrl(input: AlipayBillInput): Promise<AlipayBillResponse> {
    if (!/^\d{4}-\d{2}(-\d{2})?$/.test(input?.bill_date ?? '')) {
      throw new PayArgumentError(
        `${PREFIX} billDownloadUrl: bill_date must be yyyy-MM-dd or yyyy-MM, got ${JSON.stringify(input?.bill_date)}`,
      );
    }
    return this.exec(
      'alipay.data.dataservice.bill.downloadurl.query',
      { bill_type: input.bill_type, bill_date: input.bill_date },
      this.commonOf(input),
    );
  }

  /**
   * Calls an OpenAPI v3 endpoint (`Authorization: ALIPAY-SHA256withRSA …`) and verifies the signed answer.
   *
   * @example
   * ```ts
   * const { data } = await alipay.v3('POST', '/v3/alipay/trade/query', { body: { out_trade_no: 'A1' } });
   * ```
   * @throws PaySignatureError / PayReplayError / PayCertificateError when the answer does not verify; mapped business errors for 4xx
   */
  v3<T = Record<string, unknown>>(
    method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
    path: string,
    options: AlipayV3RequestOptions = {},
  ): Promise<AlipayV3Response<T>> {
    return v3Request<T>(this.config, method, path, options);
  }

  /**
   * Verifies an asynchronous trade notification (`notify_url` POST): from the
   * incoming request, the raw form body, or an object a framework decoded once.
   * Drops `sign` and `sign_type`, verifies with the key from config, checks
   * `app_id` and `seller_id`. Duplicates carry the same `notify_id`.
   *
   * @example
   * ```ts
   * const n = alipay.verifyNotify(await fromNodeRequest(req));
   * if (n.trade_status === 'TRADE_SUCCESS') await markPaid(n.out_trade_no, n.total_amount);
   * writeNodeReply(res, alipay.notifyReply(true));
   * ```
   * @throws PaySignatureError, PayMismatchError, PayArgumentError, PayResponseError
   */
  verifyNotify(input: AlipayNotifyInput): AlipayTradeNotification {
    return verifyTradeNotification(this.config, input);
  }

  /**
   * Verifies a gateway message (e.g. `servicemarket_order_notify`, 生活号 messages):
   * only `sign` is dropped, `sign_type` is part of the signed content (rsaCheckV2).
   *
   * @throws PaySignatureError, PayMismatchError, PayArgumentError
   */
  verifyGatewayMessage(input: AlipayNotifyInput): Record<string, string> {
    const params = decodeNotifyParams(input);
    verifyNotifyParams(this.config, params, 'gateway', 'gateway message');
    return { ...params };
  }

  /**
   * Verifies the `return_url` GET redirect (query string, full URL or decoded object).
   * Display only: the buyer's browser is not a proof of payment — settle on the notification or a query.
   *
   * @throws PaySignatureError, PayMismatchError, PayArgumentError
   */
  verifyReturn(input: AlipayNotifyInput): AlipayReturnParams {
    const params = decodeNotifyParams(input);
    verifyNotifyParams(this.config, params, 'payment', 'return_url');
    return { ...params } as AlipayReturnParams;
  }

  /** The reply to a notification: `success` when handled, otherwise a body that makes Alipay retry. */
  notifyReply(ok: boolean): NotificationReply {
    return alipayNotifyReply(ok);
  }
}
