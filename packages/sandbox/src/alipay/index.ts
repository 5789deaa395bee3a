/**
 * The Alipay gateway emulator: OpenAPI `gateway.do` (form requests, signed JSON
 * answers, AES content), OpenAPI v3 (`Authorization: ALIPAY-SHA256withRSA`,
 * signed answers), the cashier for page / WAP / APP orders, signed trade
 * notifications delivered with Alipay's retry schedule, and the legacy mapi
 * services (MD5, `notify_verify`). It signs with its own generated key and
 * checks the SDK's signatures the way Alipay does.
 *
 * @module
 */
import { generateKeyPairSync, type KeyObject, randomBytes } from 'node:crypto';
import {
  aes128CbcDecrypt,
  aes128CbcEncrypt,
  canonicalString,
  formDecode,
  formEncode,
  fromDecimalString,
  md5Hex,
  type RsaHash,
  rsaSign,
  rsaVerify,
  timingSafeEqualData,
  toDecimalString,
} from '@pay/core';
import { Notifier } from '../common/notifier.js';
import { type EmulatorRequest, type EmulatorResponse, type LoopbackServer, startLoopbackServer } from '../common/server.js';
import { type IssuedCertificate, issueCertificate } from '../unionpay/pki.js';

/** Alipay's notification retry schedule, minutes after the first attempt (about 25 h in all). */
export const ALIPAY_RETRY_MINUTES: readonly number[] = [1, 3, 5, 10, 15, 30, 60, 120, 360, 900];

/** Options of {@link startAlipayEmulator}. */
export interface AlipayEmulatorOptions {
  /** The app id the emulator knows (default `2021000000000001`). */
  appId?: string;
  /** The merchant PID put in `seller_id` (default `2088000000000001`). */
  sellerId?: string;
  /** The app's sign type as set "in the console" (default `RSA2`). */
  signType?: 'RSA2' | 'RSA';
  /** An AES key (base64, 16 bytes) "set in the console"; a random one by default. */
  encryptKey?: string;
  /** Multiplies the retry schedule (`1` is real time; `0.0001` makes a minute 6 ms). Default 1. */
  timeScale?: number;
  /** Legacy mapi partner and MD5 key (random key by default). */
  legacy?: {
    /** The partner PID (default: `sellerId`). */
    partner?: string;
    /** The 32-character MD5 key. */
    md5Key?: string;
  };
  /** How far a request `timestamp` may be from the emulator's clock, minutes (default 15). */
  timestampToleranceMinutes?: number;
  /**
   * `key` (default): public-key mode. `cert`: public-key-certificate mode with a generated root,
   * Alipay and app certificate; requests must carry the right `app_cert_sn` / `alipay_root_cert_sn`
   * and answers carry `alipay_cert_sn`.
   */
  mode?: 'key' | 'cert';
}

/** Faults a test sets for the next gateway answers; counters go down as they are used. */
export interface AlipayEmulatorFaults {
  /** Wait this long before answering each API call, ms. */
  delayMs: number;
  /** Answer the next N API calls with an HTTP 5xx. */
  http5xx: number;
  /** The status used by `http5xx` (default 503). */
  status5xx: number;
  /** Sign the next N answers with a wrong signature. */
  badSign: number;
  /** Send the next N answers without `sign`. */
  unsigned: number;
  /** Answer the next N calls with `isv.insufficient-isv-permissions` (product not enabled). */
  noPrivilege: number;
  /** Answer the next N calls with `ACQ.SYSTEM_ERROR`. */
  systemError: number;
}

/** A trade as the emulator keeps it (Alipay's field names and yuan strings). */
export interface AlipayEmulatorTrade {
  /** The merchant order number. */
  out_trade_no: string;
  /** Alipay's trade number. */
  trade_no: string;
  /** Amount, yuan. */
  total_amount: string;
  /** Subject. */
  subject: string;
  /** Trade status. */
  trade_status: string;
  /** The method (or legacy service) that created it. */
  method: string;
  /** Where notifications go. */
  notify_url?: string;
  /** Echoed back in notifications. */
  passback_params?: string;
  /** Refunds by `out_request_no`, yuan. */
  refunds: Map<string, string>;
  /** Sum of refunds, fen. */
  refundedFen: number;
  /** Buyer id once paid. */
  buyer_id?: string;
  /** Creation time, China time. */
  gmt_create: string;
  /** Payment time, China time. */
  gmt_payment?: string;
  /** True for mapi (legacy) trades. */
  legacy: boolean;
}

/** One API call the emulator answered. */
export interface AlipayEmulatorCall {
  /** OpenAPI method, v3 path or legacy service. */
  method: string;
  /** The `sub_code` answered, or `OK`. */
  result: string;
}

/** The settings of an app registered with the emulator, in `AlipayClient` config shape. */
export interface AlipayEmulatorClientConfig {
  /** The app id. */
  appId: string;
  /** The app private key the emulator generated (PKCS#8 PEM). */
  privateKey: string;
  /** Public-key mode: the emulator's Alipay public key (SPKI PEM). */
  alipayPublicKey?: string;
  /** Certificate mode: the app certificate (PEM). */
  appCert?: string;
  /** Certificate mode: the current Alipay certificate (PEM). */
  alipayPublicCert?: string;
  /** Certificate mode: the root certificate (PEM). */
  alipayRootCert?: string;
  /** The emulator's `gateway.do` URL. */
  gateway: string;
  /** The merchant PID. */
  sellerId: string;
  /** The sign type "set in the console". */
  signType: 'RSA2' | 'RSA';
}

/** The legacy mapi settings, in `AlipayLegacyClient` config shape. */
export interface AlipayEmulatorLegacyConfig {
  /** The partner PID. */
  partner: string;
  /** The MD5 key. */
  md5Key: string;
  /** The emulator's `gateway.do` URL. */
  gateway: string;
}

/** A running Alipay emulator. */
export interface AlipayEmulator {
  /** Base URL (`http://127.0.0.1:PORT`). */
  readonly url: string;
  /** The `gateway.do` URL. */
  readonly gatewayUrl: string;
  /** What `new AlipayClient(emu.clientConfig)` needs, as of start (a later `rotateCertificate` does not change it). */
  readonly clientConfig: AlipayEmulatorClientConfig;
  /** The AES key "set in the console" (add it to clientConfig as `encryptKey` to use AES). */
  readonly encryptKey: string;
  /** What `new AlipayLegacyClient(emu.legacyConfig)` needs. */
  readonly legacyConfig: AlipayEmulatorLegacyConfig;
  /** Delivers notifications (its `faults`: drop, duplicate, tamper, reorder, delay). */
  readonly notifier: Notifier;
  /** Gateway faults for the next answers. */
  readonly faults: AlipayEmulatorFaults;
  /** Trades by `out_trade_no`. */
  readonly trades: ReadonlyMap<string, AlipayEmulatorTrade>;
  /** Every API call answered, in order. */
  readonly calls: readonly AlipayEmulatorCall[];
  /** The emulator's current signing key (to forge test messages with the right key). */
  readonly alipayPrivateKey: KeyObject;
  /** Certificate mode: the `alipay_cert_sn` answers carry now. */
  readonly alipayCertSn: string | undefined;
  /**
   * Certificate mode: Alipay renews its certificate. Later answers and notifications are signed
   * with a new key and carry the new `alipay_cert_sn`.
   *
   * @returns the new certificate (PEM) and its SN
   * @throws Error in public-key mode
   */
  rotateCertificate(): { pem: string; sn: string };
  /**
   * Plays the Alipay app receiving an APP order string: checks its signature and registers the trade.
   *
   * @throws Error with Alipay's sub_code when the order string is invalid
   */
  submitOrderString(orderString: string): AlipayEmulatorTrade;
  /**
   * Marks a trade paid and delivers the signed notification to its `notify_url`.
   * Legacy double-interface trades move to `status` (default `WAIT_SELLER_SEND_GOODS`).
   *
   * @returns the notification parameters sent (undefined when the trade has no notify_url)
   * @throws Error when the trade is unknown or not payable
   */
  pay(outTradeNo: string, options?: { buyerId?: string; status?: string }): Record<string, string> | undefined;
  /** Signs notification parameters as Alipay does (RSA2 over all but sign and sign_type) and returns the form body. */
  signNotification(params: Readonly<Record<string, string>>): string;
  /** Stops the server and the notifier. */
  close(): Promise<void>;
}

function pad(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

function chinaTime(ms: number): string {
  const d = new Date(ms + 8 * 3600_000);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

function parseChinaTime(text: string): number | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/.exec(text);
  if (!m) return undefined;
  const n = m.slice(1).map(Number) as [number, number, number, number, number, number];
  return Date.UTC(n[0], n[1] - 1, n[2], n[3], n[4], n[5]) - 8 * 3600_000;
}

class GatewayError extends Error {
  constructor(
    readonly code: string,
    readonly msg: string,
    readonly subCode: string,
    readonly subMsg: string,
    readonly where: 'method' | 'error' = 'method',
    readonly signed = true,
  ) {
    super(`${subCode}: ${subMsg}`);
  }
}

const invalidArgs = (sub: string, msg: string, where: 'method' | 'error' = 'method', signed = true) =>
  new GatewayError('40002', 'Invalid Arguments', sub, msg, where, signed);
const bizFailed = (sub: string, msg: string) => new GatewayError('40004', 'Business Failed', sub, msg);

function digits(n: number): string {
  let out = '';
  for (const b of randomBytes(n)) out += String(b % 10);
  return out;
}

/**
 * Starts the Alipay emulator on 127.0.0.1 (random port).
 *
 * @example
 * ```ts
 * const emu = await startAlipayEmulator({ timeScale: 0.0001 });
 * const alipay = new AlipayClient(emu.clientConfig);
 * const { qr_code } = await alipay.precreate({ out_trade_no: 'A1', amount: 100, subject: 'x', notify_url });
 * emu.pay('A1'); // delivers the signed notification to notify_url
 * ```
 */
export async function startAlipayEmulator(options: AlipayEmulatorOptions = {}): Promise<AlipayEmulator> {
  const appId = options.appId ?? '2021000000000001';
  const sellerId = options.sellerId ?? '2088000000000001';
  const signType = options.signType ?? 'RSA2';
  const hash: RsaHash = signType === 'RSA2' ? 'sha256' : 'sha1';
  const tolerance = (options.timestampToleranceMinutes ?? 15) * 60_000;
  const encryptKey = options.encryptKey ?? randomBytes(16).toString('base64');
  const aesKey = Buffer.from(encryptKey, 'base64');
  const partner = options.legacy?.partner ?? sellerId;
  const md5Key = options.legacy?.md5Key ?? randomBytes(16).toString('hex');
  const scale = options.timeScale ?? 1;

  const app = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const gatewayKeys = generateKeyPairSync('rsa', { modulusLength: 2048 });
  let alipayPrivateKey = gatewayKeys.privateKey;
  const appPublicKey = app.publicKey;
  const certMode = options.mode === 'cert';
  const sn = (c: IssuedCertificate): string => md5Hex(c.cert.issuerName({ order: 'reverse' }) + c.cert.serialDecimal);
  const year = 365 * 24 * 3600_000;
  const validity = { notBefore: Date.now() - 3600_000, notAfter: Date.now() + 2 * year };
  let root: IssuedCertificate | undefined;
  let alipayCert: IssuedCertificate | undefined;
  let appCert: IssuedCertificate | undefined;
  if (certMode) {
    root = issueCertificate({
      subject: {
        C: 'CN',
        O: 'Ant Financial sandbox',
        OU: 'Certification Authority',
        CN: 'Ant Financial Certification Authority R1 sandbox',
      },
      ca: true,
      ...validity,
    });
    alipayCert = issueCertificate({
      subject: { C: 'CN', O: 'Alipay emulator', OU: 'Alipay', CN: `支付宝(中国)网络技术有限公司-${sellerId}` },
      issuer: root,
      keyPair: gatewayKeys,
      ...validity,
    });
    appCert = issueCertificate({ subject: { C: 'CN', O: 'Merchant', OU: 'Alipay', CN: appId }, issuer: root, keyPair: app, ...validity });
  }
  let alipayCertSn = alipayCert ? sn(alipayCert) : undefined;
  const appCertSn = appCert ? sn(appCert) : undefined;
  const rootCertSn = root ? sn(root) : undefined;

  const trades = new Map<string, AlipayEmulatorTrade>();
  const calls: AlipayEmulatorCall[] = [];
  const notifyIds = new Set<string>();
  const faults: AlipayEmulatorFaults = { delayMs: 0, http5xx: 0, status5xx: 503, badSign: 0, unsigned: 0, noPrivilege: 0, systemError: 0 };
  const notifier = new Notifier({
    retryDelaysMs: ALIPAY_RETRY_MINUTES.map((m) => Math.round(m * 60_000 * scale)),
    isAcknowledged: (status, body) => status === 200 && body.trim() === 'success',
  });

  const newTradeNo = (): string => `${chinaTime(Date.now()).replace(/\D/g, '').slice(0, 8)}22001${digits(15)}`;

  function signedBody(
    method: string,
    payload: Record<string, unknown> | string,
    where: 'method' | 'error' = 'method',
    signed = true,
  ): string {
    const key = where === 'error' ? 'error_response' : `${method.replace(/\./g, '_')}_response`;
    const text = JSON.stringify(payload);
    if (!signed || faults.unsigned > 0) {
      if (signed) faults.unsigned--;
      return `{"${key}":${text}}`;
    }
    let sign = rsaSign(hash, alipayPrivateKey, text);
    if (faults.badSign > 0) {
      faults.badSign--;
      sign = rsaSign(hash, alipayPrivateKey, `${text} `);
    }
    return `{"${key}":${text},${alipayCertSn !== undefined ? `"alipay_cert_sn":"${alipayCertSn}",` : ''}"sign":"${sign}"}`;
  }

  function json(body: string): EmulatorResponse {
    return { status: 200, headers: { 'content-type': 'text/html;charset=utf-8' }, body };
  }

  function notificationBody(params: Record<string, string>): string {
    const content = canonicalString(params, { exclude: ['sign', 'sign_type'] });
    return formEncode({ ...params, sign: rsaSign(hash, alipayPrivateKey, content) });
  }

  function deliver(trade: AlipayEmulatorTrade, extra: Record<string, string>): Record<string, string> | undefined {
    if (!trade.notify_url) return undefined;
    const notifyId = `${Date.now().toString(16)}${randomBytes(12).toString('hex')}`;
    notifyIds.add(notifyId);
    let params: Record<string, string>;
    let body: string;
    if (trade.legacy) {
      params = {
        notify_time: chinaTime(Date.now()),
        notify_type: 'trade_status_sync',
        notify_id: notifyId,
        out_trade_no: trade.out_trade_no,
        trade_no: trade.trade_no,
        subject: trade.subject,
        payment_type: '1',
        trade_status: trade.trade_status,
        total_fee: trade.total_amount,
        seller_id: partner,
        buyer_id: trade.buyer_id ?? '',
        gmt_create: trade.gmt_create,
        ...(trade.gmt_payment ? { gmt_payment: trade.gmt_payment } : {}),
        ...extra,
      };
      const content = canonicalString(params, { exclude: ['sign', 'sign_type'] });
      params.sign = md5Hex(content + md5Key);
      params.sign_type = 'MD5';
      body = formEncode(params);
    } else {
      params = {
        gmt_create: trade.gmt_create,
        charset: 'utf-8',
        notify_time: chinaTime(Date.now()),
        notify_type: 'trade_status_sync',
        notify_id: notifyId,
        app_id: appId,
        auth_app_id: appId,
        version: '1.0',
        sign_type: signType,
        trade_no: trade.trade_no,
        out_trade_no: trade.out_trade_no,
        trade_status: trade.trade_status,
        total_amount: trade.total_amount,
        receipt_amount: trade.total_amount,
        buyer_pay_amount: trade.total_amount,
        subject: trade.subject,
        seller_id: sellerId,
        buyer_id: trade.buyer_id ?? '',
        ...(trade.gmt_payment ? { gmt_payment: trade.gmt_payment } : {}),
        ...(trade.passback_params !== undefined ? { passback_params: trade.passback_params } : {}),
        ...extra,
      };
      body = notificationBody(params);
      params = formDecode(body);
    }
    notifier.send({ url: trade.notify_url, headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' }, body });
    return params;
  }

  function bizOf(params: Record<string, string>): Record<string, unknown> {
    let text = params.biz_content ?? '{}';
    if (params.encrypt_type === 'AES') {
      try {
        text = aes128CbcDecrypt(aesKey, Buffer.from(text, 'base64')).toString('utf8');
      } catch {
        throw invalidArgs('isv.decryption-error', '解密出错');
      }
    } else if (params.encrypt_type !== undefined) throw invalidArgs('isv.invalid-encrypt-type', '无效的加密类型');
    try {
      const v = JSON.parse(text) as unknown;
      if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error('not an object');
      return v as Record<string, unknown>;
    } catch {
      throw invalidArgs('isv.invalid-biz-content', 'biz_content 不是合法的 JSON');
    }
  }

  /** Checks the common parameters and the signature of an OpenAPI request, as the gateway does. */
  function checkRequest(params: Record<string, string>): void {
    if (!params.method) throw new GatewayError('40001', 'Missing Required Arguments', 'isv.missing-method', '缺少方法名参数', 'error');
    if (!params.app_id)
      throw new GatewayError('40001', 'Missing Required Arguments', 'isv.missing-app-id', '缺少AppID参数', 'error', false);
    if (params.app_id !== appId) throw invalidArgs('isv.invalid-app-id', '无效的AppID参数', 'error', false);
    if (params.charset !== undefined && params.charset.toLowerCase() !== 'utf-8') throw invalidArgs('isv.invalid-charset', '字符集错误');
    const ts = parseChinaTime(params.timestamp ?? '');
    if (ts === undefined || Math.abs(ts - Date.now()) > tolerance) throw invalidArgs('isv.invalid-timestamp', '非法的时间戳参数');
    if (!params.sign) throw new GatewayError('40001', 'Missing Required Arguments', 'isv.missing-signature', '缺少签名参数');
    if (params.sign_type !== signType) throw invalidArgs('isv.invalid-signature-type', '无效的签名类型');
    if (certMode && params.app_cert_sn !== appCertSn) throw invalidArgs('isv.invalid-app-cert-sn', '应用公钥证书序列号无效');
    if (certMode && params.alipay_root_cert_sn !== rootCertSn)
      throw invalidArgs('isv.invalid-alipay-root-cert-sn', '支付宝根证书序列号无效');
    const content = canonicalString(params, { exclude: ['sign'] });
    if (!rsaVerify(hash, appPublicKey, content, params.sign)) {
      throw invalidArgs(
        'isv.invalid-signature',
        `验签出错，建议检查签名字符串或签名私钥与应用公钥是否匹配，网关生成的验签字符串为：${content}`,
      );
    }
  }

  function str(biz: Record<string, unknown>, name: string, required = true): string | undefined {
    const v = biz[name];
    if (v === undefined || v === null || v === '') {
      if (required)
        throw new GatewayError('40001', 'Missing Required Arguments', `isv.missing-${name.replace(/_/g, '-')}`, `缺少必选参数${name}`);
      return undefined;
    }
    if (typeof v !== 'string') throw invalidArgs('isv.invalid-parameter', `${name} 类型错误`);
    return v;
  }

  function amountOf(text: string, name: string): number {
    let fen: number;
    try {
      fen = fromDecimalString(text);
    } catch {
      throw invalidArgs('isv.invalid-parameter', `${name} 格式错误`);
    }
    if (!/^\d+(\.\d{1,2})?$/.test(text) || fen < 1) throw invalidArgs('isv.invalid-parameter', `${name} 格式错误`);
    return fen;
  }

  /** Registers (or finds again) a trade for an order method. */
  function order(
    method: string,
    params: Record<string, string>,
    biz: Record<string, unknown>,
    status = 'WAIT_BUYER_PAY',
  ): AlipayEmulatorTrade {
    const outTradeNo = str(biz, 'out_trade_no') as string;
    const total = str(biz, 'total_amount') as string;
    const subject = str(biz, 'subject') as string;
    const fen = amountOf(total, 'total_amount');
    const existing = trades.get(outTradeNo);
    if (existing) {
      if (existing.trade_status === 'TRADE_SUCCESS' || existing.trade_status === 'TRADE_FINISHED')
        throw bizFailed('ACQ.TRADE_HAS_SUCCESS', '交易已被支付');
      if (existing.trade_status === 'TRADE_CLOSED') throw bizFailed('ACQ.TRADE_HAS_CLOSE', '交易已经关闭');
      if (fromDecimalString(existing.total_amount) !== fen || existing.subject !== subject) {
        throw bizFailed('ACQ.CONTEXT_INCONSISTENT', '交易信息被篡改');
      }
      return existing;
    }
    const trade: AlipayEmulatorTrade = {
      out_trade_no: outTradeNo,
      trade_no: newTradeNo(),
      total_amount: toDecimalString(fen),
      subject,
      trade_status: status,
      method,
      refunds: new Map(),
      refundedFen: 0,
      gmt_create: chinaTime(Date.now()),
      legacy: false,
    };
    if (params.notify_url) trade.notify_url = params.notify_url;
    const passback = str(biz, 'passback_params', false);
    if (passback !== undefined) trade.passback_params = passback;
    trades.set(outTradeNo, trade);
    return trade;
  }

  function findTrade(biz: Record<string, unknown>): AlipayEmulatorTrade {
    const out = str(biz, 'out_trade_no', false);
    const no = str(biz, 'trade_no', false);
    if (out === undefined && no === undefined)
      throw new GatewayError('40001', 'Missing Required Arguments', 'isv.missing-out-trade-no', '缺少必选参数out_trade_no');
    const trade = out !== undefined ? trades.get(out) : [...trades.values()].find((t) => t.trade_no === no);
    if (!trade || (no !== undefined && trade.trade_no !== no)) throw bizFailed('ACQ.TRADE_NOT_EXIST', '交易不存在');
    return trade;
  }

  function markPaid(trade: AlipayEmulatorTrade, buyerId: string | undefined, status = 'TRADE_SUCCESS'): void {
    trade.trade_status = status;
    trade.buyer_id = buyerId ?? trade.buyer_id ?? `2088${digits(12)}`;
    trade.gmt_payment ??= chinaTime(Date.now());
  }

  function tradeFields(trade: AlipayEmulatorTrade): Record<string, unknown> {
    return {
      trade_no: trade.trade_no,
      out_trade_no: trade.out_trade_no,
      trade_status: trade.trade_status,
      total_amount: trade.total_amount,
      ...(trade.buyer_id ? { buyer_user_id: trade.buyer_id, buyer_logon_id: 'tes***@sandbox.com' } : {}),
      ...(trade.gmt_payment
        ? { send_pay_date: trade.gmt_payment, receipt_amount: trade.total_amount, buyer_pay_amount: trade.total_amount }
        : {}),
    };
  }

  function refund(trade: AlipayEmulatorTrade, outRequestNo: string, amountText: string): Record<string, unknown> {
    const fen = amountOf(amountText, 'refund_amount');
    const previous = trade.refunds.get(outRequestNo);
    if (previous !== undefined) {
      if (fromDecimalString(previous) !== fen) throw bizFailed('ACQ.REFUND_AMT_NOT_EQUAL_TOTAL', '退款金额与原请求不一致');
      return { fund_change: 'N', refund_fee: toDecimalString(trade.refundedFen) };
    }
    if (trade.trade_status !== 'TRADE_SUCCESS') throw bizFailed('ACQ.TRADE_STATUS_ERROR', '交易状态不合法');
    const total = fromDecimalString(trade.total_amount);
    if (trade.refundedFen + fen > total) throw bizFailed('ACQ.REFUND_AMT_NOT_EQUAL_TOTAL', '退款金额超限');
    trade.refunds.set(outRequestNo, toDecimalString(fen));
    trade.refundedFen += fen;
    if (trade.refundedFen === total) trade.trade_status = 'TRADE_CLOSED';
    deliver(trade, {
      refund_fee: toDecimalString(trade.refundedFen),
      out_biz_no: outRequestNo,
      gmt_refund: `${chinaTime(Date.now())}.000`,
    });
    return { fund_change: 'Y', refund_fee: toDecimalString(trade.refundedFen) };
  }

  /** Answers one OpenAPI call (method already checked). */
  function dispatch(method: string, params: Record<string, string>, biz: Record<string, unknown>): Record<string, unknown> {
    switch (method) {
      case 'alipay.trade.precreate': {
        const trade = order(method, params, biz);
        return { out_trade_no: trade.out_trade_no, qr_code: `https://qr.alipay.com/bax0${trade.trade_no.slice(-12)}` };
      }
      case 'alipay.trade.create': {
        if (str(biz, 'buyer_id', false) === undefined && str(biz, 'buyer_open_id', false) === undefined) {
          throw invalidArgs('ACQ.INVALID_PARAMETER', 'buyer_id 和 buyer_open_id 不能同时为空');
        }
        const trade = order(method, params, biz);
        return { out_trade_no: trade.out_trade_no, trade_no: trade.trade_no };
      }
      case 'alipay.trade.pay': {
        const code = str(biz, 'auth_code') as string;
        if (!/^(2[5-9]|30)\d{14,22}$/.test(code))
          throw bizFailed('ACQ.PAYMENT_AUTH_CODE_INVALID', '支付失败，获取顾客账户信息失败，请顾客刷新付款码后重新收款');
        const trade = order(method, params, biz);
        markPaid(trade, undefined);
        deliver(trade, {});
        return { ...tradeFields(trade), gmt_payment: trade.gmt_payment };
      }
      case 'alipay.trade.query':
        return tradeFields(findTrade(biz));
      case 'alipay.trade.refund': {
        const trade = findTrade(biz);
        const r = refund(trade, str(biz, 'out_request_no', false) ?? trade.out_trade_no, str(biz, 'refund_amount') as string);
        return { trade_no: trade.trade_no, out_trade_no: trade.out_trade_no, buyer_logon_id: 'tes***@sandbox.com', ...r };
      }
      case 'alipay.trade.fastpay.refund.query': {
        const trade = findTrade(biz);
        const no = str(biz, 'out_request_no') as string;
        const amount = trade.refunds.get(no);
        const base = { trade_no: trade.trade_no, out_trade_no: trade.out_trade_no, out_request_no: no };
        return amount === undefined
          ? base
          : { ...base, total_amount: trade.total_amount, refund_amount: amount, refund_status: 'REFUND_SUCCESS' };
      }
      case 'alipay.trade.close': {
        const trade = findTrade(biz);
        if (trade.trade_status !== 'WAIT_BUYER_PAY') throw bizFailed('ACQ.TRADE_STATUS_ERROR', '交易状态不合法');
        trade.trade_status = 'TRADE_CLOSED';
        return { trade_no: trade.trade_no, out_trade_no: trade.out_trade_no };
      }
      case 'alipay.trade.cancel': {
        const trade = findTrade(biz);
        let action = 'close';
        if (trade.trade_status === 'TRADE_SUCCESS') {
          refund(trade, `cancel-${trade.out_trade_no}`, toDecimalString(fromDecimalString(trade.total_amount) - trade.refundedFen));
          action = 'refund';
        } else trade.trade_status = 'TRADE_CLOSED';
        return { trade_no: trade.trade_no, out_trade_no: trade.out_trade_no, retry_flag: 'N', action };
      }
      case 'alipay.data.dataservice.bill.downloadurl.query': {
        const date = str(biz, 'bill_date') as string;
        str(biz, 'bill_type');
        return { bill_download_url: `${server.url}/bill/${encodeURIComponent(date)}.csv.zip` };
      }
      default:
        throw new GatewayError('40002', 'Invalid Arguments', 'isv.invalid-method', '不存在的方法名', 'error');
    }
  }

  function cashier(trade: AlipayEmulatorTrade): EmulatorResponse {
    return {
      status: 200,
      headers: { 'content-type': 'text/html;charset=utf-8' },
      body: `<!doctype html><title>Alipay emulator cashier</title><p>Pay ${trade.total_amount} CNY for ${trade.subject.replace(/[<&]/g, '')} (out_trade_no ${trade.out_trade_no})</p>`,
    };
  }

  function requestParams(req: EmulatorRequest): Record<string, string> {
    const fromQuery = formDecode(req.query);
    const fromBody = req.method === 'POST' && req.body.length > 0 ? formDecode(req.body) : {};
    for (const k of Object.keys(fromBody))
      if (Object.hasOwn(fromQuery, k) && fromQuery[k] !== fromBody[k]) throw invalidArgs('isv.invalid-parameter', `参数 ${k} 重复`);
    return { ...fromQuery, ...fromBody };
  }

  async function gateway(req: EmulatorRequest): Promise<EmulatorResponse> {
    let params: Record<string, string>;
    try {
      params = requestParams(req);
    } catch (e) {
      const g = e instanceof GatewayError ? e : invalidArgs('isv.invalid-parameter', '参数编码错误');
      return json(signedBody('unknown', { code: g.code, msg: g.msg, sub_code: g.subCode, sub_msg: g.subMsg }, 'error'));
    }
    if (params.service !== undefined) return legacy(params);
    const method = params.method ?? 'unknown';
    if (faults.delayMs > 0) await new Promise((r) => setTimeout(r, faults.delayMs));
    if (faults.http5xx > 0) {
      faults.http5xx--;
      calls.push({ method, result: `HTTP ${faults.status5xx}` });
      return { status: faults.status5xx, headers: { 'content-type': 'text/html' }, body: '<html><body>Service Unavailable</body></html>' };
    }
    const encrypted = params.encrypt_type === 'AES';
    try {
      checkRequest(params);
      if (method === 'alipay.trade.page.pay' || method === 'alipay.trade.wap.pay') {
        const trade = order(method, params, bizOf(params));
        calls.push({ method, result: 'OK' });
        return cashier(trade);
      }
      if (faults.noPrivilege > 0) {
        faults.noPrivilege--;
        throw new GatewayError(
          '40006',
          'Insufficient Permissions',
          'isv.insufficient-isv-permissions',
          'ISV权限不足，建议在开发者中心检查对应功能是否已经添加',
        );
      }
      if (faults.systemError > 0) {
        faults.systemError--;
        throw new GatewayError('20000', 'Service Currently Unavailable', 'ACQ.SYSTEM_ERROR', '系统错误');
      }
      const data = { code: '10000', msg: 'Success', ...dispatch(method, params, bizOf(params)) };
      calls.push({ method, result: 'OK' });
      const payload = encrypted ? aes128CbcEncrypt(aesKey, JSON.stringify(data)).toString('base64') : data;
      return json(signedBody(method, payload));
    } catch (e) {
      if (!(e instanceof GatewayError)) throw e;
      calls.push({ method, result: e.subCode });
      return json(signedBody(method, { code: e.code, msg: e.msg, sub_code: e.subCode, sub_msg: e.subMsg }, e.where, e.signed));
    }
  }

  function legacy(params: Record<string, string>): EmulatorResponse {
    const text = (body: string): EmulatorResponse => ({ status: 200, headers: { 'content-type': 'text/plain;charset=utf-8' }, body });
    if (params.service === 'notify_verify') {
      const ok = params.partner === partner && params.notify_id !== undefined && notifyIds.has(params.notify_id);
      calls.push({ method: 'notify_verify', result: ok ? 'OK' : 'false' });
      return text(ok ? 'true' : 'false');
    }
    const fail = (code: string): EmulatorResponse => {
      calls.push({ method: params.service as string, result: code });
      return { status: 200, headers: { 'content-type': 'text/html;charset=utf-8' }, body: `<html><body>错误代码 ${code}</body></html>` };
    };
    if (params.partner !== partner) return fail('ILLEGAL_PARTNER');
    if (params.sign_type !== 'MD5') return fail('ILLEGAL_SIGN_TYPE');
    const expected = md5Hex(canonicalString(params, { exclude: ['sign', 'sign_type'] }) + md5Key);
    if (!timingSafeEqualData(expected, (params.sign ?? '').toLowerCase())) return fail('ILLEGAL_SIGN');
    if (params.service !== 'create_direct_pay_by_user' && params.service !== 'trade_create_by_buyer') return fail('ILLEGAL_SERVICE');
    let fen: number;
    try {
      fen =
        params.service === 'create_direct_pay_by_user'
          ? fromDecimalString(params.total_fee ?? '')
          : fromDecimalString(params.price ?? '') * Number(params.quantity ?? 'NaN') + fromDecimalString(params.logistics_fee ?? '0');
    } catch {
      return fail('ILLEGAL_ARGUMENT');
    }
    if (!Number.isSafeInteger(fen) || fen < 1 || !params.out_trade_no || !params.subject) return fail('ILLEGAL_ARGUMENT');
    let trade = trades.get(params.out_trade_no);
    if (!trade) {
      trade = {
        out_trade_no: params.out_trade_no,
        trade_no: newTradeNo(),
        total_amount: toDecimalString(fen),
        subject: params.subject,
        trade_status: 'WAIT_BUYER_PAY',
        method: params.service,
        refunds: new Map(),
        refundedFen: 0,
        gmt_create: chinaTime(Date.now()),
        legacy: true,
      };
      if (params.notify_url) trade.notify_url = params.notify_url;
      trades.set(trade.out_trade_no, trade);
    }
    calls.push({ method: params.service, result: 'OK' });
    return cashier(trade);
  }

  function v3Sign(status: number, body: Record<string, unknown>): EmulatorResponse {
    const text = JSON.stringify(body);
    const timestamp = String(Date.now());
    const nonce = randomBytes(16).toString('hex');
    const headers: Record<string, string> = { 'content-type': 'application/json', 'alipay-trace-id': randomBytes(8).toString('hex') };
    if (faults.unsigned > 0) faults.unsigned--;
    else {
      let content = `${timestamp}\n${nonce}\n${text}\n`;
      if (faults.badSign > 0) {
        faults.badSign--;
        content += ' ';
      }
      headers['alipay-timestamp'] = timestamp;
      headers['alipay-nonce'] = nonce;
      headers['alipay-signature'] = rsaSign('sha256', alipayPrivateKey, content);
      if (alipayCertSn !== undefined) headers['alipay-sn'] = alipayCertSn;
    }
    return { status, headers, body: text };
  }

  async function v3(req: EmulatorRequest): Promise<EmulatorResponse> {
    const pathWithQuery = req.query === '' ? req.path : `${req.path}?${req.query}`;
    if (faults.delayMs > 0) await new Promise((r) => setTimeout(r, faults.delayMs));
    if (faults.http5xx > 0) {
      faults.http5xx--;
      calls.push({ method: req.path, result: `HTTP ${faults.status5xx}` });
      return { status: faults.status5xx, body: 'Service Unavailable' };
    }
    const auth = /^ALIPAY-SHA256withRSA (.+),sign=([A-Za-z0-9+/=]+)$/.exec(req.headers.authorization ?? '');
    const fields = new Map(
      (auth?.[1] ?? '').split(',').map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)] as [string, string]),
    );
    const reject = (code: string, message: string, status = 401): EmulatorResponse => {
      calls.push({ method: req.path, result: code });
      return v3Sign(status, { code, message });
    };
    if (!auth) return reject('invalid-auth', 'Authorization 格式错误');
    if (fields.get('app_id') !== appId) return reject('invalid-app-id', '无效的 app_id');
    if (certMode && fields.get('app_cert_sn') !== appCertSn) return reject('invalid-app-cert-sn', '应用公钥证书序列号无效');
    const ts = Number(fields.get('timestamp'));
    if (!Number.isFinite(ts) || Math.abs(ts - Date.now()) > tolerance) return reject('invalid-timestamp', '时间戳无效');
    let content = `${auth[1]}\n${req.method}\n${pathWithQuery}\n${req.body.toString('utf8')}\n`;
    if (req.headers['alipay-app-auth-token'] !== undefined) content += `${req.headers['alipay-app-auth-token']}\n`;
    if (!rsaVerify('sha256', appPublicKey, content, auth[2] as string)) return reject('invalid-signature', '验签失败');
    let body: Record<string, unknown> = {};
    try {
      if (req.body.length > 0) body = JSON.parse(req.body.toString('utf8')) as Record<string, unknown>;
    } catch {
      return reject('INVALID_PARAMETER', 'body 不是合法的 JSON', 400);
    }
    const method = `alipay.${req.path.slice('/v3/alipay/'.length).replace(/\//g, '.')}`;
    try {
      if (faults.systemError > 0) {
        faults.systemError--;
        throw new GatewayError('20000', 'Service Currently Unavailable', 'SYSTEM_ERROR', '系统繁忙');
      }
      if (
        ![
          'alipay.trade.query',
          'alipay.trade.close',
          'alipay.trade.refund',
          'alipay.trade.precreate',
          'alipay.trade.fastpay.refund.query',
        ].includes(method)
      ) {
        return reject('NOT_FOUND', '接口不存在', 404);
      }
      const data = dispatch(method, {}, body);
      calls.push({ method: req.path, result: 'OK' });
      return v3Sign(200, data);
    } catch (e) {
      if (!(e instanceof GatewayError)) throw e;
      const code = e.subCode.replace(/^ACQ\./, '');
      calls.push({ method: req.path, result: code });
      return v3Sign(e.code === '20000' ? 500 : 400, { code, message: e.subMsg });
    }
  }

  const server: LoopbackServer = await startLoopbackServer(async (req) => {
    if (req.path === '/gateway.do') return gateway(req);
    if (req.path.startsWith('/v3/')) return v3(req);
    if (req.path.startsWith('/bill/'))
      return { status: 200, headers: { 'content-type': 'application/zip' }, body: Buffer.from('PK\u0005\u0006') };
    return { status: 404, body: 'not found' };
  });

  return {
    url: server.url,
    gatewayUrl: `${server.url}/gateway.do`,
    clientConfig: {
      appId,
      privateKey: app.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
      ...(certMode
        ? { appCert: appCert?.pem as string, alipayPublicCert: alipayCert?.pem as string, alipayRootCert: root?.pem as string }
        : { alipayPublicKey: gatewayKeys.publicKey.export({ format: 'pem', type: 'spki' }).toString() }),
      gateway: `${server.url}/gateway.do`,
      sellerId,
      signType,
    },
    encryptKey,
    legacyConfig: { partner, md5Key, gateway: `${server.url}/gateway.do` },
    notifier,
    faults,
    trades,
    calls,
    get alipayPrivateKey(): KeyObject {
      return alipayPrivateKey;
    },
    get alipayCertSn(): string | undefined {
      return alipayCertSn;
    },
    rotateCertificate(): { pem: string; sn: string } {
      if (!root) throw new Error('Alipay emulator: rotateCertificate needs mode: cert');
      const next = issueCertificate({
        subject: { C: 'CN', O: 'Alipay emulator', OU: 'Alipay', CN: `支付宝(中国)网络技术有限公司-${sellerId}` },
        issuer: root,
        ...validity,
      });
      alipayPrivateKey = next.privateKey;
      alipayCertSn = sn(next);
      return { pem: next.pem, sn: alipayCertSn };
    },
    submitOrderString(orderString: string): AlipayEmulatorTrade {
      const params = formDecode(orderString);
      try {
        checkRequest(params);
        if (params.method !== 'alipay.trade.app.pay') throw invalidArgs('isv.invalid-method', '不是 APP 支付订单');
        return order('alipay.trade.app.pay', params, bizOf(params));
      } catch (e) {
        if (e instanceof GatewayError) throw new Error(`Alipay app rejected the order string: ${e.subCode} ${e.subMsg}`);
        throw e;
      }
    },
    pay(outTradeNo: string, opts: { buyerId?: string; status?: string } = {}): Record<string, string> | undefined {
      const trade = trades.get(outTradeNo);
      if (!trade) throw new Error(`Alipay emulator: no trade ${outTradeNo}`);
      if (trade.trade_status !== 'WAIT_BUYER_PAY' && !(trade.legacy && opts.status !== undefined)) {
        throw new Error(`Alipay emulator: trade ${outTradeNo} is ${trade.trade_status}, not payable`);
      }
      const status = opts.status ?? (trade.method === 'trade_create_by_buyer' ? 'WAIT_SELLER_SEND_GOODS' : 'TRADE_SUCCESS');
      markPaid(trade, opts.buyerId, status);
      return deliver(trade, {});
    },
    signNotification: (params) => notificationBody({ ...params }),
    async close(): Promise<void> {
      notifier.stop();
      await server.close();
    },
  };
}
