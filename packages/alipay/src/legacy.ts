/**
 * The legacy mapi gateway (`https://mapi.alipay.com/gateway.do`): 即时到帐
 * `create_direct_pay_by_user` and 标准双接口 `trade_create_by_buyer` with MD5 (or
 * RSA) signatures, and their notifications, verified by signature and by the
 * `notify_verify` check of `notify_id` against the gateway.
 *
 * @module
 */
import type { KeyObject } from 'node:crypto';
import {
  assertMinorUnits,
  assertSecureUrl,
  canonicalString,
  formEncode,
  getDefaultTransport,
  type KeyInput,
  loadPrivateKey,
  loadPublicKey,
  md5Hex,
  type NotificationReply,
  type Params,
  PayArgumentError,
  PayConfigError,
  PayMismatchError,
  PayResponseError,
  PaySignatureError,
  publicKeyOf,
  rsaSign,
  rsaVerify,
  samePublicKey,
  type Transport,
  timingSafeEqualData,
  toDecimalString,
} from '@pay/core';
import { PREFIX, PROVIDER_NAME } from './errors.js';
import { autoSubmitForm } from './html.js';
import { type AlipayNotifyInput, type AlipayTradeStatus, alipayNotifyReply, decodeNotifyParams } from './notify.js';
import type { AlipayWebPayment } from './types.js';

/** The production mapi gateway. */
export const ALIPAY_LEGACY_GATEWAY = 'https://mapi.alipay.com/gateway.do';

/** Configuration of {@link AlipayLegacyClient}. */
export interface AlipayLegacyConfig {
  /** The partner id (PID, 2088…). */
  partner: string;
  /** `MD5` (default) or `RSA` (SHA1withRSA with the partner's RSA key). Never taken from a message. */
  signType?: 'MD5' | 'RSA';
  /** The MD5 security key (安全校验码, 32 characters). */
  md5Key?: string;
  /** RSA: the partner's private key. */
  privateKey?: KeyInput;
  /** RSA: Alipay's (legacy) public key, to verify notifications. */
  alipayPublicKey?: KeyInput;
  /** The seller's PID when it differs from `partner` (default: `partner`). */
  sellerId?: string;
  /** Send `seller_email` instead of `seller_id`. */
  sellerEmail?: string;
  /** The gateway URL (default production; the emulator's `…/gateway.do` in tests). */
  gateway?: string;
  /** The transport used for `notify_verify`. */
  transport?: Transport;
  /** Timeout of `notify_verify`, ms. */
  timeoutMs?: number;
}

/** An order of 即时到帐 (`create_direct_pay_by_user`). */
export interface AlipayDirectPayInput {
  /** The merchant order number. */
  out_trade_no: string;
  /** Amount in fen (sent as `total_fee`, yuan). */
  amount: number;
  /** What the buyer sees. */
  subject: string;
  /** Description. */
  body?: string;
  /** Notification URL. */
  notify_url?: string;
  /** Browser return URL (display only). */
  return_url?: string;
  /** Product page. */
  show_url?: string;
  /** Expiry such as `30m`, `1h`, `1d`. */
  it_b_pay?: string;
  /** Any other documented parameter. */
  extra?: Readonly<Record<string, string>>;
}

/** An order of the double interface (`trade_create_by_buyer`): goods with logistics. */
export interface AlipayTradeCreateByBuyerInput {
  /** The merchant order number. */
  out_trade_no: string;
  /** What the buyer sees. */
  subject: string;
  /** Unit price in fen. */
  price: number;
  /** Quantity. */
  quantity: number;
  /** `EXPRESS`, `POST` or `EMS`. */
  logistics_type: 'EXPRESS' | 'POST' | 'EMS';
  /** Logistics fee in fen. */
  logistics_fee: number;
  /** Who pays the logistics: `SELLER_PAY`, `BUYER_PAY`, `BUYER_PAY_AFTER_RECEIVE`. */
  logistics_payment: 'SELLER_PAY' | 'BUYER_PAY' | 'BUYER_PAY_AFTER_RECEIVE';
  /** Description. */
  body?: string;
  /** Notification URL. */
  notify_url?: string;
  /** Browser return URL. */
  return_url?: string;
  /** Any other documented parameter (receive_name, receive_address…). */
  extra?: Readonly<Record<string, string>>;
}

/** A verified legacy notification, fields as Alipay spells them. */
export interface AlipayLegacyNotification {
  /** Notification id, checked with `notify_verify`. */
  notify_id: string;
  /** `trade_status_sync`. */
  notify_type: string;
  /** When Alipay sent it. */
  notify_time: string;
  /** The merchant order number. */
  out_trade_no: string;
  /** Alipay's trade number. */
  trade_no: string;
  /** The status (double interface: also `WAIT_SELLER_SEND_GOODS`, `WAIT_BUYER_CONFIRM_GOODS`). */
  trade_status: AlipayTradeStatus;
  /** Amount, yuan text. */
  total_fee?: string;
  /** The seller's PID. */
  seller_id?: string;
  /** Every other field. */
  [field: string]: string | undefined;
}

const EXCLUDE = new Set(['sign', 'sign_type']);

/** The content a mapi signature covers: sorted, non-empty, `sign` and `sign_type` left out. */
export function legacySignContent(params: Params): string {
  return canonicalString(params, { exclude: EXCLUDE });
}

/**
 * The MD5 signature of the mapi services: `md5(content + key)`, lower-case hex.
 *
 * @example
 * ```ts
 * legacyMd5Sign({ service: 'test', partner: '123' }, key); // md5('partner=123&service=test' + key)
 * ```
 */
export function legacyMd5Sign(params: Params, key: string): string {
  return md5Hex(legacySignContent(params) + key);
}

function fail(message: string): never {
  throw new PayConfigError(`${PREFIX} legacy: ${message}`);
}

/**
 * A client of the legacy mapi services for one partner.
 *
 * @example
 * ```ts
 * const legacy = new AlipayLegacyClient({ partner: '2088…', md5Key });
 * res.redirect(legacy.directPay({ out_trade_no: 'A1', amount: 100, subject: '充值', notify_url }).url);
 * ```
 */
export class AlipayLegacyClient {
  /** The partner id. */
  readonly partner: string;
  /** The configured sign type. */
  readonly signType: 'MD5' | 'RSA';
  private readonly md5Key: string | undefined;
  private readonly privateKey: KeyObject | undefined;
  private readonly alipayPublicKey: KeyObject | undefined;
  private readonly seller: Record<string, string>;
  private readonly sellerId: string;
  private readonly gateway: string;
  private readonly transport: Transport;
  private readonly timeoutMs: number | undefined;

  /**
   * @param config - partner, keys and gateway
   * @throws PayConfigError when the partner id or the key of the sign type is missing or malformed
   */
  constructor(config: AlipayLegacyConfig) {
    if (!/^2088\d{12}$/.test(config?.partner ?? ''))
      fail(`partner: expected the PID (16 digits starting 2088), got ${JSON.stringify(config?.partner)}`);
    this.partner = config.partner;
    this.signType = config.signType ?? 'MD5';
    if (this.signType === 'MD5') {
      if (typeof config.md5Key !== 'string' || !/^[0-9a-zA-Z]{32}$/.test(config.md5Key)) {
        fail(
          `md5Key: expected the 32-character MD5 key, got ${typeof config.md5Key === 'string' ? `${config.md5Key.length} characters` : 'nothing'}`,
        );
      }
      this.md5Key = config.md5Key;
    } else if (this.signType === 'RSA') {
      this.privateKey = loadPrivateKey(config.privateKey as KeyInput, { label: 'legacy privateKey' });
      this.alipayPublicKey = loadPublicKey(config.alipayPublicKey as KeyInput, { label: 'legacy alipayPublicKey' });
      if (samePublicKey(this.alipayPublicKey, publicKeyOf(this.privateKey)))
        fail("alipayPublicKey looks like the partner's own public key");
    } else fail(`signType: expected 'MD5' or 'RSA', got ${JSON.stringify(this.signType)}`);
    this.sellerId = config.sellerId ?? config.partner;
    this.seller = config.sellerEmail !== undefined ? { seller_email: config.sellerEmail } : { seller_id: this.sellerId };
    try {
      this.gateway = assertSecureUrl(config.gateway ?? ALIPAY_LEGACY_GATEWAY).toString();
    } catch (e) {
      throw new PayConfigError(`${PREFIX} legacy: gateway: expected an https URL, got ${JSON.stringify(config.gateway)}`, { cause: e });
    }
    this.transport = config.transport ?? getDefaultTransport();
    this.timeoutMs = config.timeoutMs;
  }

  /** Signs mapi parameters with the configured sign type; returns them with `sign` and `sign_type`. */
  signParams(params: Readonly<Record<string, string>>): Record<string, string> {
    const content = legacySignContent(params);
    const sign =
      this.signType === 'MD5' ? md5Hex(content + (this.md5Key as string)) : rsaSign('sha1', this.privateKey as KeyObject, content);
    return { ...params, sign, sign_type: this.signType };
  }

  private request(params: Record<string, string>): AlipayWebPayment {
    const signed = this.signParams(params);
    const url = `${this.gateway}?${formEncode(signed)}`;
    const form = autoSubmitForm(`${this.gateway}?_input_charset=utf-8`, signed);
    return { url, form, params: signed };
  }

  private base(
    service: string,
    input: { out_trade_no: string; subject: string; body?: string; notify_url?: string; return_url?: string },
  ): Record<string, string> {
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(input?.out_trade_no ?? ''))
      throw new PayArgumentError(`${PREFIX} legacy ${service}: out_trade_no must be 1-64 letters, digits, _ or -`);
    if (typeof input.subject !== 'string' || input.subject === '')
      throw new PayArgumentError(`${PREFIX} legacy ${service}: expected a subject`);
    const p: Record<string, string> = { service, partner: this.partner, _input_charset: 'utf-8', payment_type: '1', ...this.seller };
    p.out_trade_no = input.out_trade_no;
    p.subject = input.subject;
    if (input.body !== undefined) p.body = input.body;
    if (input.notify_url !== undefined) p.notify_url = input.notify_url;
    if (input.return_url !== undefined) p.return_url = input.return_url;
    return p;
  }

  private merge(p: Record<string, string>, extra: Readonly<Record<string, string>> | undefined): Record<string, string> {
    if (extra)
      for (const [k, v] of Object.entries(extra)) {
        if (k in p || k === 'sign' || k === 'sign_type')
          throw new PayArgumentError(`${PREFIX} legacy: extra.${k} repeats a parameter the client sets`);
        p[k] = v;
      }
    return p;
  }

  /**
   * 即时到帐 (`create_direct_pay_by_user`): a GET URL and an auto-submit form.
   *
   * @throws PayArgumentError for an invalid order
   */
  directPay(order: AlipayDirectPayInput): AlipayWebPayment {
    const p = this.base('create_direct_pay_by_user', order);
    assertMinorUnits(order.amount, 'directPay.amount');
    p.total_fee = toDecimalString(order.amount);
    if (order.show_url !== undefined) p.show_url = order.show_url;
    if (order.it_b_pay !== undefined) p.it_b_pay = order.it_b_pay;
    return this.request(this.merge(p, order.extra));
  }

  /**
   * 标准双接口 (`trade_create_by_buyer`): goods with logistics; the buyer confirms receipt.
   *
   * @throws PayArgumentError for an invalid order
   */
  tradeCreateByBuyer(order: AlipayTradeCreateByBuyerInput): AlipayWebPayment {
    const p = this.base('trade_create_by_buyer', order);
    assertMinorUnits(order.price, 'tradeCreateByBuyer.price');
    assertMinorUnits(order.logistics_fee, 'tradeCreateByBuyer.logistics_fee', { allowZero: true });
    if (!Number.isInteger(order.quantity) || order.quantity < 1)
      throw new PayArgumentError(`${PREFIX} legacy trade_create_by_buyer: quantity must be a positive integer, got ${order.quantity}`);
    p.price = toDecimalString(order.price);
    p.quantity = String(order.quantity);
    p.logistics_type = order.logistics_type;
    p.logistics_fee = toDecimalString(order.logistics_fee);
    p.logistics_payment = order.logistics_payment;
    return this.request(this.merge(p, order.extra));
  }

  /** Verifies only the signature of decoded legacy parameters. */
  verifySignature(params: Readonly<Record<string, string>>): boolean {
    const sign = params.sign;
    if (!sign) return false;
    const content = legacySignContent(params);
    if (this.signType === 'MD5') return timingSafeEqualData(md5Hex(content + (this.md5Key as string)), sign.toLowerCase());
    return rsaVerify('sha1', this.alipayPublicKey as KeyObject, content, sign);
  }

  /**
   * Asks the gateway whether a `notify_id` is genuine (`service=notify_verify`): true only for the answer `true`.
   *
   * @throws PayTimeoutError / PayNetworkError / PayUpstreamError from the transport
   */
  async checkNotifyId(notifyId: string): Promise<boolean> {
    const url = `${this.gateway}?${formEncode({ service: 'notify_verify', partner: this.partner, notify_id: notifyId })}`;
    const res = await this.transport.request({
      method: 'GET',
      url,
      idempotent: true,
      ...(this.timeoutMs !== undefined ? { timeoutMs: this.timeoutMs } : {}),
    });
    return res.body.toString('utf8').trim() === 'true';
  }

  /**
   * Verifies a legacy notification: signature (sign type from config), `seller_id`,
   * then `notify_verify` of its `notify_id` against the gateway.
   *
   * @throws PaySignatureError (missing/invalid signature, wrong sign_type, notify_verify not `true`), PayMismatchError, PayArgumentError
   */
  async verifyNotify(input: AlipayNotifyInput): Promise<AlipayLegacyNotification> {
    const params = decodeNotifyParams(input);
    if (!params.sign)
      throw new PaySignatureError(`${PREFIX} legacy notification: expected a sign parameter, found none`, {
        provider: PROVIDER_NAME,
        reason: 'MISSING_SIGNATURE',
      });
    if (params.sign_type !== undefined && params.sign_type !== this.signType) {
      throw new PaySignatureError(
        `${PREFIX} legacy notification: sign_type is ${JSON.stringify(params.sign_type)}, this client verifies ${this.signType} only`,
        {
          provider: PROVIDER_NAME,
          reason: 'SIGN_TYPE_MISMATCH',
        },
      );
    }
    if (!this.verifySignature(params)) {
      throw new PaySignatureError(
        `${PREFIX} legacy notification: the ${this.signType} signature does not verify over the decoded parameters`,
        {
          provider: PROVIDER_NAME,
          reason: 'BAD_SIGNATURE',
        },
      );
    }
    if (params.seller_id !== undefined && params.seller_id !== this.sellerId) {
      throw new PayMismatchError(`${PREFIX} legacy notification: expected seller_id ${this.sellerId}, found ${params.seller_id}`, {
        provider: PROVIDER_NAME,
      });
    }
    if (!params.notify_id)
      throw new PayResponseError(`${PREFIX} legacy notification: expected notify_id, found none`, { provider: PROVIDER_NAME });
    if (!(await this.checkNotifyId(params.notify_id))) {
      throw new PaySignatureError(
        `${PREFIX} legacy notification: notify_verify did not answer true for notify_id ${params.notify_id} (forged, or verified too late)`,
        {
          provider: PROVIDER_NAME,
          reason: 'NOTIFY_ID_REJECTED',
        },
      );
    }
    return { ...params } as AlipayLegacyNotification;
  }

  /** The reply: `success`, or a body that makes Alipay retry. */
  notifyReply(ok: boolean): NotificationReply {
    return alipayNotifyReply(ok);
  }
}
