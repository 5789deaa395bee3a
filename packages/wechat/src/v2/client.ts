/**
 * The legacy API v2 client (XML): unified order with client parameters, order
 * query, close, refund and refund query over mTLS with `apiclient_cert.p12`,
 * payment notifications and refund notifications (`req_info`).
 *
 * @module
 */
import { Agent } from 'node:https';
import {
  aes256EcbDecrypt,
  assertSecureUrl,
  type Clock,
  decodeBase64Strict,
  defaultNonce,
  getDefaultTransport,
  type IncomingNotification,
  loadPkcs12,
  md5Hex,
  type NonceSource,
  type NotificationReply,
  PayArgumentError,
  PayConfigError,
  PayDecryptError,
  PayError,
  PayMismatchError,
  PayProviderError,
  PayResponseError,
  PaySignatureError,
  systemClock,
  type Transport,
} from '@pay/core';
import { providerError, relabel } from '../errors.js';
import { excerpt, isNonEmptyString, PKG } from '../internal.js';
import { type V2SignType, v2Sign, v2VerifySign } from './sign.js';
import { buildV2Xml, DEFAULT_MAX_XML_BYTES, parseV2Xml } from './xml.js';

/** A v2 message: every value a string, field names as WeChat Pay spells them. */
export type V2Message = Record<string, string | undefined>;

/** Configuration of {@link WechatPayV2Client}. */
export interface WechatPayV2Config {
  /** The AppID (公众号 / 小程序 / 移动应用). */
  appid: string;
  /** The merchant id (`mch_id`). */
  mchid: string;
  /** The API v2 key (API密钥), 32 characters. */
  apiKey: string;
  /** `MD5` (default, as v2 defines it) or `HMAC-SHA256`. Every signature is made and checked with this type. */
  signType?: V2SignType;
  /** `apiclient_cert.p12` (bytes or base64), needed for refunds (`/secapi/…`). */
  pkcs12?: Uint8Array | string;
  /** Password of the `.p12`; WeChat Pay sets it to the mchid (the default). */
  pkcs12Password?: string;
  /** API host, `https://api.mch.weixin.qq.com` by default. */
  baseUrl?: string;
  /** Extra CA certificates to trust for the API host (PEM), e.g. the sandbox's. */
  ca?: string | Uint8Array | ReadonlyArray<string | Uint8Array>;
  /** HTTP transport (default: core's axios transport). */
  transport?: Transport;
  /** Clock (epoch ms) for client-parameter timestamps. */
  clock?: Clock;
  /** Nonce source. */
  nonce?: NonceSource;
  /** Largest XML accepted, bytes. Default 256 KiB. */
  maxXmlBytes?: number;
  /** Timeout per call, ms (default: the transport's). */
  timeoutMs?: number;
}

/** `unifiedorder` request (amounts in fen, as integers). */
export interface V2UnifiedOrderRequest {
  /** `APP`, `JSAPI` (also mini-programs), `NATIVE` or `MWEB` (H5). */
  trade_type: 'APP' | 'JSAPI' | 'NATIVE' | 'MWEB';
  /** What the payer sees. */
  body: string;
  /** The merchant's order number. */
  out_trade_no: string;
  /** Amount in fen. */
  total_fee: number;
  /** The payer's IP (or the server's for NATIVE). */
  spbill_create_ip: string;
  /** Where the payment notification goes. */
  notify_url: string;
  /** JSAPI: the payer's openid. */
  openid?: string;
  /** NATIVE: the product id. */
  product_id?: string;
  /** Echoed back in the notification. */
  attach?: string;
  /** MWEB: scene information JSON, e.g. `{"h5_info":{"type":"Wap",…}}`. */
  scene_info?: string;
  /** Other fields (`detail`, `time_expire`, `goods_tag`, `fee_type`, `device_info`…). */
  [field: string]: string | number | undefined;
}

/** Client parameters for the APP SDK (v2). */
export interface V2AppPayParams {
  /** The AppID. */
  appid: string;
  /** The mchid. */
  partnerid: string;
  /** The prepay id. */
  prepayid: string;
  /** Always `Sign=WXPay`. */
  package: 'Sign=WXPay';
  /** A random string. */
  noncestr: string;
  /** Epoch seconds. */
  timestamp: string;
  /** The signature (same sign type as the unified order). */
  sign: string;
}

/** Client parameters for JSAPI / mini-programs (v2). */
export interface V2JsapiPayParams {
  /** The AppID. */
  appId: string;
  /** Epoch seconds. */
  timeStamp: string;
  /** A random string. */
  nonceStr: string;
  /** `prepay_id=…`. */
  package: string;
  /** `MD5` or `HMAC-SHA256`. */
  signType: V2SignType;
  /** The signature. */
  paySign: string;
}

/** `refund` request (amounts in fen). */
export interface V2RefundRequest {
  /** WeChat Pay's transaction id (this or `out_trade_no`). */
  transaction_id?: string;
  /** The merchant's order number (this or `transaction_id`). */
  out_trade_no?: string;
  /** The merchant's refund number (the idempotency key). */
  out_refund_no: string;
  /** The order total, fen. */
  total_fee: number;
  /** The amount to refund, fen. */
  refund_fee: number;
  /** Shown to the payer. */
  refund_desc?: string;
  /** Where the refund notification goes. */
  notify_url?: string;
  /** Other fields (`refund_fee_type`, `refund_account`). */
  [field: string]: string | number | undefined;
}

/** A verified v2 payment notification (`result_code` SUCCESS or FAIL), values as sent. */
export interface V2PaymentNotification extends V2Message {
  /** The AppID. */
  appid: string;
  /** The merchant id. */
  mch_id: string;
  /** `SUCCESS` when paid. */
  result_code: string;
  /** The merchant's order number. */
  out_trade_no: string;
  /** WeChat Pay's transaction id. */
  transaction_id: string;
  /** Amount in fen, as text. */
  total_fee: string;
}

/** A decrypted v2 refund notification: the envelope plus the fields of `req_info`. */
export interface V2RefundNotification {
  /** The AppID. */
  appid: string;
  /** The merchant id. */
  mch_id: string;
  /** The decrypted `req_info` fields (`out_refund_no`, `refund_status`, `refund_fee`…). */
  info: V2Message;
}

/** The v2 reply to a notification: XML `return_code` SUCCESS, or FAIL with a message. */
export function v2NotificationReply(ok: boolean, message?: string): NotificationReply {
  const body = buildV2Xml({ return_code: ok ? 'SUCCESS' : 'FAIL', return_msg: ok ? 'OK' : (message ?? 'FAIL') });
  return { status: 200, headers: { 'content-type': 'text/xml; charset=utf-8' }, body };
}

function toArray(ca: WechatPayV2Config['ca']): Array<string | Buffer> | undefined {
  if (ca === undefined) return undefined;
  const list = Array.isArray(ca) ? ca : [ca];
  return (list as Array<string | Uint8Array>).map((c) => (typeof c === 'string' ? c : Buffer.from(c)));
}

function stringify(params: Readonly<Record<string, string | number | undefined>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(params)) if (v !== undefined) out[k] = String(v);
  return out;
}

function assertFen(value: unknown, what: string): void {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    throw new PayArgumentError(`${PKG}: ${what}: expected a positive integer number of fen, got ${excerpt(String(value))}`, {
      hint: 'amounts are integers in fen: 88.88 yuan is 8888',
    });
  }
}

/**
 * WeChat Pay API v2 (XML) client. Keys and the `.p12` are read once here.
 *
 * @example
 * ```ts
 * const v2 = new WechatPayV2Client({ appid, mchid, apiKey, signType: 'HMAC-SHA256', pkcs12: readFileSync('apiclient_cert.p12') });
 * const order = await v2.unifiedOrder({ trade_type: 'JSAPI', body: 'T-shirt', out_trade_no: 'A1', total_fee: 100,
 *   spbill_create_ip: '203.0.113.7', notify_url: 'https://example.com/wx/notify', openid });
 * const params = v2.jsapiPayParams(order.prepay_id!);
 * ```
 */
export class WechatPayV2Client {
  /** The AppID. */
  readonly appid: string;
  /** The merchant id. */
  readonly mchid: string;
  /** The sign type every signature uses. */
  readonly signType: V2SignType;
  /** The API host. */
  readonly baseUrl: string;
  private readonly apiKey: string;
  private readonly reqInfoKey: string;
  private readonly transport: Transport;
  private readonly clock: Clock;
  private readonly nonce: NonceSource;
  private readonly maxXmlBytes: number;
  private readonly timeoutMs: number | undefined;
  private readonly tlsAgent: Agent | undefined;
  private readonly mtlsAgent: Agent | undefined;

  /**
   * @param config - ids, key, sign type, `.p12` and options
   * @throws PayConfigError for a missing id, a key that is not 32 characters, an unknown sign type or a `.p12` that does not open
   */
  constructor(config: WechatPayV2Config) {
    if (config === null || typeof config !== 'object') throw new PayConfigError(`${PKG}: v2: expected a config object`);
    if (!isNonEmptyString(config.appid))
      throw new PayConfigError(`${PKG}: v2: appid: expected the AppID, got ${excerpt(String(config.appid))}`);
    if (!isNonEmptyString(config.mchid))
      throw new PayConfigError(`${PKG}: v2: mchid: expected the merchant id, got ${excerpt(String(config.mchid))}`);
    if (typeof config.apiKey !== 'string' || Buffer.byteLength(config.apiKey) !== 32) {
      throw new PayConfigError(
        `${PKG}: v2: apiKey: expected the 32-character API v2 key, got ${typeof config.apiKey === 'string' ? `${Buffer.byteLength(config.apiKey)} characters` : typeof config.apiKey}`,
        { hint: 'the API v2 key is set in 商户平台 → 账户中心 → API安全 → 设置API密钥 (not the APIv3 key)' },
      );
    }
    const signType = config.signType ?? 'MD5';
    if (signType !== 'MD5' && signType !== 'HMAC-SHA256') {
      throw new PayConfigError(`${PKG}: v2: signType: expected MD5 or HMAC-SHA256, got ${excerpt(String(signType))}`);
    }
    const baseUrl = (config.baseUrl ?? 'https://api.mch.weixin.qq.com').replace(/\/+$/, '');
    try {
      assertSecureUrl(baseUrl);
    } catch (e) {
      throw new PayConfigError(`${PKG}: v2: baseUrl: ${e instanceof Error ? e.message.replace(/^@pay\/[a-z]+: /, '') : String(e)}`, {
        cause: e,
      });
    }
    this.appid = config.appid;
    this.mchid = config.mchid;
    this.apiKey = config.apiKey;
    this.reqInfoKey = md5Hex(config.apiKey);
    this.signType = signType;
    this.baseUrl = baseUrl;
    this.transport = config.transport ?? getDefaultTransport();
    this.clock = config.clock ?? systemClock;
    this.nonce = config.nonce ?? defaultNonce;
    this.maxXmlBytes = config.maxXmlBytes ?? DEFAULT_MAX_XML_BYTES;
    this.timeoutMs = config.timeoutMs;
    const ca = toArray(config.ca);
    this.tlsAgent = ca ? new Agent({ ca }) : undefined;
    if (config.pkcs12 !== undefined) {
      let contents: ReturnType<typeof loadPkcs12>;
      try {
        contents = loadPkcs12(config.pkcs12, config.pkcs12Password ?? config.mchid, { label: 'pkcs12' });
      } catch (e) {
        const err = e instanceof PayError ? e : undefined;
        throw new PayConfigError(`${PKG}: v2: pkcs12: ${e instanceof Error ? e.message.replace(/^@pay\/[a-z]+: /, '') : String(e)}`, {
          cause: e,
          hint: err?.hint ?? 'apiclient_cert.p12 opens with the mchid as password unless you changed it',
        });
      }
      this.mtlsAgent = new Agent({
        key: contents.privateKey.export({ format: 'pem', type: 'pkcs8' }),
        cert: [contents.certificate.pem, ...contents.chain.map((c) => c.pem)].join(''),
        ...(ca ? { ca } : {}),
      });
    }
  }

  private async call(
    path: string,
    params: Record<string, string>,
    options: { mtls?: boolean | 'when-configured' } = {},
  ): Promise<V2Message> {
    const call = `POST ${path}`;
    if (options.mtls === true && !this.mtlsAgent) {
      throw new PayConfigError(`${PKG}: v2: ${call} needs the merchant certificate: configure pkcs12 (apiclient_cert.p12)`);
    }
    const message: Record<string, string> = {
      appid: this.appid,
      mch_id: this.mchid,
      nonce_str: this.nonce(),
      sign_type: this.signType,
      ...params,
    };
    message.sign = v2Sign(message, this.apiKey, this.signType);
    const agent = options.mtls ? (this.mtlsAgent ?? this.tlsAgent) : this.tlsAgent;
    let response: Awaited<ReturnType<Transport['request']>>;
    try {
      response = await this.transport.request({
        method: 'POST',
        url: this.baseUrl + path,
        headers: { 'Content-Type': 'text/xml; charset=utf-8', Accept: 'text/xml' },
        body: buildV2Xml(message),
        ...(agent ? { httpsAgent: agent } : {}),
        ...(this.timeoutMs !== undefined ? { timeoutMs: this.timeoutMs } : {}),
        idempotent: false,
      });
    } catch (e) {
      throw relabel(e, `v2 ${call}`);
    }
    if (response.status !== 200) {
      throw new PayResponseError(`${PKG}: v2 ${call}: WeChat Pay answered HTTP ${response.status}`, {
        provider: 'wechat',
        httpStatus: response.status,
      });
    }
    const answer = parseV2Xml(response.body, { maxBytes: this.maxXmlBytes, what: `v2 ${call} answer` });
    if (answer.return_code !== 'SUCCESS') {
      const msg = answer.return_msg ?? '';
      throw new PayProviderError(`${PKG}: v2 ${call}: WeChat Pay answered return_code ${excerpt(answer.return_code ?? '(none)')}: ${msg}`, {
        provider: 'wechat',
        providerCode: answer.return_code ?? 'FAIL',
        providerMessage: msg,
        ...(/签名/.test(msg)
          ? { hint: 'WeChat Pay could not verify the v2 signature: check apiKey (API v2 key, not the APIv3 key) and signType' }
          : {}),
      });
    }
    this.verifyMessage(answer, `v2 ${call} answer`);
    if (answer.result_code !== undefined && answer.result_code !== 'SUCCESS') {
      throw providerError(`v2 ${call}`, answer.err_code ?? 'FAIL', answer.err_code_des);
    }
    return answer;
  }

  private verifyMessage(message: V2Message, what: string): void {
    if (message.sign_type !== undefined && message.sign_type !== this.signType) {
      throw new PaySignatureError(
        `${PKG}: ${what}: expected sign_type ${this.signType} (from configuration), got ${excerpt(message.sign_type)}`,
        {
          reason: 'WRONG_SIGN_TYPE',
          provider: 'wechat',
        },
      );
    }
    if (!isNonEmptyString(message.sign)) {
      throw new PaySignatureError(`${PKG}: ${what}: expected a sign field, got none`, { reason: 'MISSING_SIGNATURE', provider: 'wechat' });
    }
    if (!v2VerifySign(message, this.apiKey, this.signType)) {
      throw new PaySignatureError(
        `${PKG}: ${what}: the ${this.signType} sign does not verify (wrong apiKey, wrong sign type, or a changed field)`,
        {
          reason: 'BAD_SIGNATURE',
          provider: 'wechat',
        },
      );
    }
    if (message.appid !== undefined && message.appid !== this.appid) {
      throw new PayMismatchError(`${PKG}: ${what}: appid is ${excerpt(message.appid)}, expected ${this.appid}`, { provider: 'wechat' });
    }
    if (message.mch_id !== undefined && message.mch_id !== this.mchid) {
      throw new PayMismatchError(`${PKG}: ${what}: mch_id is ${excerpt(message.mch_id)}, expected ${this.mchid}`, { provider: 'wechat' });
    }
  }

  /**
   * `pay/unifiedorder`: creates a prepay order.
   *
   * @returns the verified answer (`prepay_id`, and `code_url` for NATIVE / `mweb_url` for MWEB)
   * @throws PayArgumentError for missing fields; PayProviderError / PayStateError for WeChat Pay's refusals
   */
  async unifiedOrder(request: V2UnifiedOrderRequest): Promise<V2Message> {
    if (!request || !['APP', 'JSAPI', 'NATIVE', 'MWEB'].includes(request.trade_type)) {
      throw new PayArgumentError(
        `${PKG}: v2 unifiedOrder: expected trade_type APP, JSAPI, NATIVE or MWEB, got ${excerpt(String(request?.trade_type))}`,
      );
    }
    for (const f of ['body', 'out_trade_no', 'spbill_create_ip', 'notify_url'] as const) {
      if (!isNonEmptyString(request[f])) throw new PayArgumentError(`${PKG}: v2 unifiedOrder: expected ${f}`);
    }
    assertFen(request.total_fee, 'v2 unifiedOrder: total_fee');
    if (request.trade_type === 'JSAPI' && !isNonEmptyString(request.openid))
      throw new PayArgumentError(`${PKG}: v2 unifiedOrder JSAPI: expected openid`);
    const answer = await this.call('/pay/unifiedorder', stringify(request));
    if (!isNonEmptyString(answer.prepay_id))
      throw new PayResponseError(`${PKG}: v2 unifiedorder: the answer has no prepay_id`, { provider: 'wechat' });
    return answer;
  }

  /** Signs the v2 APP client parameters (same sign type as the unified order). */
  appPayParams(prepayId: string): V2AppPayParams {
    if (!isNonEmptyString(prepayId)) throw new PayArgumentError(`${PKG}: v2 appPayParams: expected prepay_id`);
    const params = {
      appid: this.appid,
      partnerid: this.mchid,
      prepayid: prepayId,
      package: 'Sign=WXPay' as const,
      noncestr: this.nonce(),
      timestamp: String(Math.floor(this.clock() / 1000)),
    };
    return { ...params, sign: v2Sign(params, this.apiKey, this.signType) };
  }

  /** Signs the v2 JSAPI / mini-program client parameters (`signType` from configuration). */
  jsapiPayParams(prepayId: string, options: { appId?: string } = {}): V2JsapiPayParams {
    if (!isNonEmptyString(prepayId)) throw new PayArgumentError(`${PKG}: v2 jsapiPayParams: expected prepay_id`);
    const params = {
      appId: options.appId ?? this.appid,
      timeStamp: String(Math.floor(this.clock() / 1000)),
      nonceStr: this.nonce(),
      package: `prepay_id=${prepayId}`,
      signType: this.signType,
    };
    return { ...params, paySign: v2Sign(params, this.apiKey, this.signType) };
  }

  /**
   * `pay/orderquery` by `out_trade_no` or `transaction_id`.
   *
   * @throws PayNotFoundError for `ORDERNOTEXIST`
   */
  async orderQuery(ref: { out_trade_no?: string; transaction_id?: string }): Promise<V2Message> {
    if (!isNonEmptyString(ref?.out_trade_no) && !isNonEmptyString(ref?.transaction_id)) {
      throw new PayArgumentError(`${PKG}: v2 orderQuery: expected out_trade_no or transaction_id`);
    }
    return this.call('/pay/orderquery', stringify(ref));
  }

  /**
   * `pay/closeorder`.
   *
   * @throws PayStateError for `ORDERPAID`
   */
  async closeOrder(outTradeNo: string): Promise<V2Message> {
    if (!isNonEmptyString(outTradeNo)) throw new PayArgumentError(`${PKG}: v2 closeOrder: expected out_trade_no`);
    return this.call('/pay/closeorder', { out_trade_no: outTradeNo });
  }

  /**
   * `secapi/pay/refund` over mTLS with the merchant certificate.
   *
   * @throws PayConfigError without `pkcs12`; PayProviderError for refusals (`NOTENOUGH`…)
   */
  async refund(request: V2RefundRequest): Promise<V2Message> {
    if (!request || (!isNonEmptyString(request.out_trade_no) && !isNonEmptyString(request.transaction_id))) {
      throw new PayArgumentError(`${PKG}: v2 refund: expected out_trade_no or transaction_id`);
    }
    if (!isNonEmptyString(request.out_refund_no)) throw new PayArgumentError(`${PKG}: v2 refund: expected out_refund_no`);
    assertFen(request.total_fee, 'v2 refund: total_fee');
    assertFen(request.refund_fee, 'v2 refund: refund_fee');
    if (request.refund_fee > request.total_fee) throw new PayArgumentError(`${PKG}: v2 refund: refund_fee exceeds total_fee`);
    return this.call('/secapi/pay/refund', stringify(request), { mtls: true });
  }

  /**
   * `pay/refundquery` by one of the four references (sent with the merchant certificate when one is configured).
   *
   * @throws PayNotFoundError for `REFUNDNOTEXIST`
   */
  async refundQuery(ref: {
    out_refund_no?: string;
    refund_id?: string;
    out_trade_no?: string;
    transaction_id?: string;
    offset?: number;
  }): Promise<V2Message> {
    if (
      !ref ||
      !['out_refund_no', 'refund_id', 'out_trade_no', 'transaction_id'].some((k) => isNonEmptyString((ref as Record<string, unknown>)[k]))
    ) {
      throw new PayArgumentError(`${PKG}: v2 refundQuery: expected out_refund_no, refund_id, out_trade_no or transaction_id`);
    }
    return this.call('/pay/refundquery', stringify(ref), { mtls: 'when-configured' });
  }

  /**
   * Verifies a v2 payment notification: XML without DOCTYPE, `return_code` SUCCESS, `sign` with the
   * configured sign type (a `sign_type` field that disagrees is rejected), and appid / mch_id.
   *
   * @param incoming - the raw body, or the request as received
   * @throws PaySignatureError, PayMismatchError, PayResponseError
   */
  parsePaymentNotification(incoming: string | Uint8Array | Pick<IncomingNotification, 'rawBody'>): V2PaymentNotification {
    const raw = typeof incoming === 'string' || incoming instanceof Uint8Array ? incoming : incoming?.rawBody;
    if (typeof raw !== 'string' && !(raw instanceof Uint8Array))
      throw new PayArgumentError(`${PKG}: v2 notification: expected the raw XML body`);
    const message = parseV2Xml(raw, { maxBytes: this.maxXmlBytes, what: 'v2 payment notification' });
    if (message.return_code !== 'SUCCESS') {
      throw new PayResponseError(
        `${PKG}: v2 payment notification: return_code is ${excerpt(message.return_code ?? '(none)')}: ${message.return_msg ?? ''}`,
        {
          provider: 'wechat',
        },
      );
    }
    this.verifyMessage(message, 'v2 payment notification');
    for (const f of ['appid', 'mch_id', 'out_trade_no', 'total_fee', 'result_code'] as const) {
      if (!isNonEmptyString(message[f]))
        throw new PayResponseError(`${PKG}: v2 payment notification: expected ${f}`, { provider: 'wechat' });
    }
    return message as V2PaymentNotification;
  }

  /**
   * Decrypts a v2 refund notification: `req_info` is AES-256-ECB with the key = lower-case hex MD5 of the API key.
   *
   * @throws PayDecryptError when `req_info` does not decrypt; PayMismatchError for another merchant's notification
   */
  parseRefundNotification(incoming: string | Uint8Array | Pick<IncomingNotification, 'rawBody'>): V2RefundNotification {
    const raw = typeof incoming === 'string' || incoming instanceof Uint8Array ? incoming : incoming?.rawBody;
    if (typeof raw !== 'string' && !(raw instanceof Uint8Array))
      throw new PayArgumentError(`${PKG}: v2 refund notification: expected the raw XML body`);
    const message = parseV2Xml(raw, { maxBytes: this.maxXmlBytes, what: 'v2 refund notification' });
    if (message.return_code !== 'SUCCESS') {
      throw new PayResponseError(`${PKG}: v2 refund notification: return_code is ${excerpt(message.return_code ?? '(none)')}`, {
        provider: 'wechat',
      });
    }
    if (message.appid !== this.appid || message.mch_id !== this.mchid) {
      throw new PayMismatchError(
        `${PKG}: v2 refund notification: addressed to appid ${excerpt(String(message.appid))} / mch_id ${excerpt(String(message.mch_id))}, expected ${this.appid} / ${this.mchid}`,
        { provider: 'wechat' },
      );
    }
    return { appid: message.appid, mch_id: message.mch_id, info: this.decryptReqInfo(message.req_info ?? '') };
  }

  /**
   * Decrypts a refund notification's `req_info` into its fields.
   *
   * @throws PayDecryptError when it is not base64, does not decrypt, or is not the expected XML
   */
  decryptReqInfo(reqInfo: string): V2Message {
    const data = decodeBase64Strict(reqInfo);
    if (data === undefined || data.length === 0 || data.length % 16 !== 0) {
      throw new PayDecryptError(`${PKG}: v2 req_info: expected base64 of AES-256-ECB blocks, got ${excerpt(reqInfo)}`);
    }
    let plain: Buffer;
    try {
      plain = aes256EcbDecrypt(this.reqInfoKey, data);
    } catch (e) {
      throw new PayDecryptError(`${PKG}: v2 req_info: AES-256-ECB decryption failed (wrong API key or damaged req_info)`, { cause: e });
    }
    try {
      return parseV2Xml(plain, { root: 'root', maxBytes: this.maxXmlBytes, what: 'v2 req_info' });
    } catch (e) {
      throw new PayDecryptError(`${PKG}: v2 req_info: decrypted to something that is not the expected <root> XML (wrong API key?)`, {
        cause: e,
      });
    }
  }

  /** The XML reply to a v2 notification (`return_code` SUCCESS, or FAIL with a message). */
  notificationReply(ok: boolean, message?: string): NotificationReply {
    return v2NotificationReply(ok, message);
  }
}
