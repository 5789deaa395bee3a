/**
 * A loopback emulator of the WeChat Pay API v3 server (and the legacy XML API
 * v2): it checks the merchant's request signatures the way WeChat Pay does,
 * signs every answer with its platform certificate or WeChat Pay public key,
 * serves the encrypted `/v3/certificates`, keeps orders and refunds, serves
 * bills with their SHA-1, and delivers signed, AES-256-GCM-encrypted callbacks
 * through the {@link Notifier} on WeChat Pay's retry schedule. v2 runs on an
 * HTTPS port that requires the merchant certificate for `/secapi/…`.
 *
 * @module
 */
import { createHash, createPublicKey, type KeyObject, randomBytes, randomUUID, sign, verify } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import { gzipSync } from 'node:zlib';
import {
  aes256EcbEncrypt,
  aes256GcmEncrypt,
  type Clock,
  canonicalString,
  hmacSha256Hex,
  md5Hex,
  PayArgumentError,
  randomNonce,
  rsaOaepDecrypt,
  SeenIds,
  sha1Hex,
  timingSafeEqualData,
} from '@pay/core';
import { Notifier, type OutgoingNotification } from '../common/notifier.js';
import { type EmulatorRequest, type EmulatorResponse, type LoopbackServer, startLoopbackServer } from '../common/server.js';
import { type IssuedCert, issueWechatCertificate, type RsaPair, randomSerialHex, rsaPair, wechatPkcs12 } from './pki.js';
import { readV2Xml, writeV2Xml } from './xml.js';

/** WeChat Pay's callback retry schedule in seconds (15 s, 15 s, 30 s, 3 m, 10 m, 20 m, 30 m ×3, 1 h, 3 h ×3, 6 h ×2). */
export const WECHATPAY_RETRY_SCHEDULE_SECONDS: readonly number[] = [
  15, 15, 30, 180, 600, 1200, 1800, 1800, 1800, 3600, 10800, 10800, 10800, 21600, 21600,
];

/** How the emulator proves its answers: platform certificates, the WeChat Pay public key, or both (migration). */
export type WechatEmulatorMode = 'certificate' | 'publicKey' | 'both';

/** Options of {@link startWechatPayEmulator}. */
export interface WechatEmulatorOptions {
  /** The merchant id (the service provider's `sp_mchid` in partner mode). Default `1900000001`. */
  mchid?: string;
  /** The AppID. Default `wxd678efh567hg6787`. */
  appid?: string;
  /** Further AppIDs bound to the merchant (mini-program, mobile app). */
  extraAppids?: string[];
  /** The APIv3 key (32 characters); random by default. */
  apiV3Key?: string;
  /** The API v2 key (32 characters); random by default. */
  apiKey?: string;
  /** v2 sign type the generated v2 client config uses. Default `MD5`. */
  v2SignType?: 'MD5' | 'HMAC-SHA256';
  /** `certificate` (default), `publicKey` (no certificate endpoint) or `both`. */
  mode?: WechatEmulatorMode;
  /** Partner mode: the sub-merchants this service provider may act for (and the client's default). */
  partner?: { subMchid: string; subAppid?: string; moreSubMchids?: string[] };
  /** Multiplies WeChat Pay's retry delays (default 0.001: 15 s becomes 15 ms). */
  timeScale?: number;
  /** Time until a refund leaves PROCESSING, ms (default 20). */
  refundDelayMs?: number;
  /** The emulator's clock (epoch ms). Default `Date.now`. */
  clock?: Clock;
  /** Start the v2 HTTPS port (default true). */
  v2?: boolean;
  /**
   * Generate new keys and certificates for this emulator. By default the merchant, platform, public
   * and CA keys are generated once per process and mchid (key generation is slow) and shared by
   * emulators started without an injected clock; each emulator still has its own APIv3 / v2 keys,
   * orders and rotations.
   */
  freshKeys?: boolean;
}

/** Everything `new WechatPayClient(…)` needs to talk to the emulator. */
export interface WechatEmulatorClientConfig {
  /** The merchant id. */
  mchid: string;
  /** The AppID. */
  appid: string;
  /** The merchant API private key (PEM). */
  privateKey: string;
  /** The merchant API certificate serial. */
  merchantSerialNo: string;
  /** The APIv3 key. */
  apiV3Key: string;
  /** The emulator's base URL. */
  baseUrl: string;
  /** Public-key mode: the WeChat Pay public key (PEM). */
  wechatpayPublicKey?: string;
  /** Public-key mode: its id. */
  wechatpayPublicKeyId?: string;
  /** `both` mode: download certificates as well. */
  downloadCertificates?: boolean;
  /** Partner mode. */
  partner?: { subMchid: string; subAppid?: string };
}

/** Everything `new WechatPayV2Client(…)` needs to talk to the emulator's v2 port. */
export interface WechatEmulatorV2ClientConfig {
  /** The AppID. */
  appid: string;
  /** The merchant id. */
  mchid: string;
  /** The API v2 key. */
  apiKey: string;
  /** The sign type. */
  signType: 'MD5' | 'HMAC-SHA256';
  /** `apiclient_cert.p12` (password: the mchid). */
  pkcs12: Buffer;
  /** The v2 HTTPS base URL. */
  baseUrl: string;
  /** The emulator's CA (PEM), to trust its TLS certificate. */
  ca: string;
}

/** Faults a test can switch on; counters apply to the next N API answers (or refunds, bills). */
export interface WechatEmulatorFaults {
  /** Every API answer waits this long, ms. */
  delayMs: number;
  /** The next N API calls answer HTTP 500 `SYSTEM_ERROR` (signed). */
  serverErrors: number;
  /** The next N API calls answer HTTP 429 `FREQUENCY_LIMITED` (signed). */
  rateLimited: number;
  /** The next N answers carry a signature that does not verify. */
  badResponseSignature: number;
  /** The next N answers are timestamped 10 minutes in the past. */
  staleResponses: number;
  /** The next N answers carry a `WECHATPAY/SIGNTEST/…` probe signature. */
  probeSignature: number;
  /** The next N refunds end `ABNORMAL`. */
  refundAbnormal: number;
  /** The next N bill downloads have one byte changed. */
  tamperBill: number;
}

/** A v3 or v2 order as the emulator keeps it. */
export interface WechatEmulatedOrder {
  /** `v3` or `v2`. */
  api: 'v3' | 'v2';
  /** The merchant's order number. */
  out_trade_no: string;
  /** Partner mode: the sub-merchant; '' in direct mode. */
  sub_mchid: string;
  /** The AppID (`sp_appid` in partner mode). */
  appid: string;
  /** Partner mode: the sub-merchant AppID. */
  sub_appid?: string;
  /** `JSAPI`, `APP`, `NATIVE`, `MWEB`. */
  trade_type: string;
  /** Amount in fen. */
  total: number;
  /** The description. */
  description: string;
  /** Callback URL. */
  notify_url: string;
  /** Echoed data. */
  attach?: string;
  /** The payer (openid fields). */
  payer: Record<string, string>;
  /** `NOTPAY`, `SUCCESS`, `REFUND`, `CLOSED`. */
  trade_state: string;
  /** The prepay id. */
  prepay_id: string;
  /** Set once paid. */
  transaction_id?: string;
  /** Set once paid, RFC 3339. */
  success_time?: string;
  /** v2: the sign type of the unified order. */
  sign_type?: 'MD5' | 'HMAC-SHA256';
  /** The request body, for idempotent repeats. */
  fingerprint: string;
  /** When created, epoch ms. */
  created: number;
}

/** A refund as the emulator keeps it. */
export interface WechatEmulatedRefund {
  /** `v3` or `v2`. */
  api: 'v3' | 'v2';
  /** The order. */
  order: WechatEmulatedOrder;
  /** The merchant's refund number. */
  out_refund_no: string;
  /** WeChat Pay's refund id. */
  refund_id: string;
  /** Refunded, fen. */
  refund: number;
  /** `PROCESSING`, `SUCCESS`, `ABNORMAL`. */
  status: string;
  /** RFC 3339. */
  create_time: string;
  /** RFC 3339, once successful. */
  success_time?: string;
  /** Callback URL. */
  notify_url?: string;
  /** Reason. */
  reason?: string;
}

/** A signed callback, ready to post. */
export interface WechatEmulatedNotification {
  /** Headers (`Wechatpay-*`, `Content-Type`). */
  headers: Record<string, string>;
  /** The JSON body. */
  body: string;
  /** The notification id. */
  id: string;
}

/** A running emulator. */
export interface WechatPayEmulator {
  /** The API v3 base URL (`http://127.0.0.1:…`). */
  readonly url: string;
  /** The API v2 base URL (`https://127.0.0.1:…`), when started. */
  readonly v2Url: string | undefined;
  /** Config for `new WechatPayClient(emu.clientConfig)`. */
  readonly clientConfig: WechatEmulatorClientConfig;
  /** Config for `new WechatPayV2Client(emu.v2ClientConfig)`. */
  readonly v2ClientConfig: WechatEmulatorV2ClientConfig;
  /** The callback deliverer (its `faults`: drop, duplicate, tamper, reorder, delay; its `log`). */
  readonly notifier: Notifier;
  /** Faults of the API answers. */
  readonly faults: WechatEmulatorFaults;
  /** Every API call received: method, path and the status answered. */
  readonly calls: Array<{ method: string; path: string; status: number; api: 'v3' | 'v2' }>;
  /** The merchant API certificate (PEM) the emulator trusts. */
  readonly merchantCertificatePem: string;
  /** The serial of the platform certificate currently signing. */
  readonly platformSerial: string;
  /** The platform certificate currently signing (PEM). */
  readonly platformCertificatePem: string;
  /** The WeChat Pay public key id. */
  readonly publicKeyId: string;
  /** The WeChat Pay public key (PEM). */
  readonly publicKeyPem: string;
  /** Which key signs callbacks and answers that do not ask for one: `certificate` or `publicKey`. */
  signer: 'certificate' | 'publicKey';
  /** An order by number (and sub-merchant), if known. */
  order(outTradeNo: string, subMchid?: string): WechatEmulatedOrder | undefined;
  /** A refund by number, if known. */
  refundOf(outRefundNo: string): WechatEmulatedRefund | undefined;
  /**
   * Marks an order paid and delivers the signed callback to its notify URL (through the notifier).
   * `amount` overrides the total reported in the callback (to test mismatches).
   */
  pay(outTradeNo: string, options?: { subMchid?: string; amount?: number; notifyUrl?: string; deliver?: boolean }): WechatEmulatedOrder;
  /** Builds a signed, encrypted v3 callback for any event and resource (not sent). */
  notification(eventType: string, resource: object, options?: { originalType?: string; summary?: string }): WechatEmulatedNotification;
  /** Generates a new platform certificate that signs from now on; the old one stays listed unless `retireOld`. */
  rotatePlatformCertificate(options?: { retireOld?: boolean }): Promise<string>;
  /** Replaces the signing platform certificate by an expired one (same listing rules). */
  expirePlatformCertificate(): Promise<string>;
  /** Decrypts a sensitive field the merchant encrypted for `serial` (platform certificate or public key id), as WeChat Pay would. */
  decryptSensitive(ciphertext: string, serial: string): string;
  /** Stops the servers and the notifier. */
  close(): Promise<void>;
}

interface Platform {
  issued: IssuedCert;
  serial: string;
}

const SCHEMA = 'WECHATPAY2-SHA256-RSA2048';
const OUT_TRADE_NO = /^[0-9A-Za-z_\-|*]{6,32}$/;

function chinaTime(ms: number): string {
  const d = new Date(ms + 8 * 3600_000);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())}T${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}+08:00`;
}

function compactChinaTime(ms: number): string {
  return chinaTime(ms).replace(/[-:T]/g, '').slice(0, 14);
}

function digits(n: number): string {
  let s = '';
  while (s.length < n) s += String(randomBytes(4).readUInt32BE(0));
  return s.slice(0, n);
}

function json(status: number, body: unknown): { status: number; body: string } {
  return { status, body: body === undefined ? '' : JSON.stringify(body) };
}

function err(status: number, code: string, message: string): { status: number; body: string } {
  return json(status, { code, message });
}

interface Material {
  ca: IssuedCert;
  merchant: IssuedCert;
  platform: Platform;
  publicKey: RsaPair;
  publicKeyId: string;
  tls: IssuedCert;
  pkcs12: Buffer;
}

const YEAR = 365 * 24 * 3600_000;
const materialCache = new Map<string, Promise<Material>>();

function platformOf(ca: IssuedCert, key: RsaPair, notBefore: number, notAfter: number): Platform {
  const issued = issueWechatCertificate({
    subject: [
      ['CN', 'Tenpay.com sign'],
      ['O', 'Tenpay.com'],
      ['OU', 'Tenpay.com CA Center'],
      ['C', 'CN'],
      ['L', 'ShenZhen'],
    ],
    issuer: ca,
    key,
    serialHex: randomSerialHex(),
    notBefore,
    notAfter,
  });
  return { issued, serial: issued.cert.serialHex };
}

async function generateMaterial(mchid: string, now: number): Promise<Material> {
  const [caKey, merchantKey, platformKey, publicKey, tlsKey] = await Promise.all([rsaPair(), rsaPair(), rsaPair(), rsaPair(), rsaPair()]);
  const ca = issueWechatCertificate({
    subject: [
      ['C', 'CN'],
      ['O', 'Tenpay.com'],
      ['OU', 'Tenpay.com CA Center'],
      ['CN', 'Tenpay.com Root CA (sandbox)'],
    ],
    key: caKey,
    ca: true,
    notBefore: now - YEAR,
    notAfter: now + 20 * YEAR,
  });
  const merchant = issueWechatCertificate({
    subject: [
      ['CN', mchid],
      ['O', '微信商户系统'],
      ['OU', 'sandbox merchant'],
      ['C', 'CN'],
    ],
    issuer: ca,
    key: merchantKey,
    usage: 'client',
    notBefore: now - YEAR,
    notAfter: now + 5 * YEAR,
  });
  const tls = issueWechatCertificate({
    subject: [['CN', '127.0.0.1']],
    issuer: ca,
    key: tlsKey,
    ips: ['127.0.0.1'],
    usage: 'server',
    notBefore: now - YEAR,
    notAfter: now + 5 * YEAR,
  });
  return {
    ca,
    merchant,
    platform: platformOf(ca, platformKey, now - 24 * 3600_000, now + 5 * YEAR),
    publicKey,
    publicKeyId: `PUB_KEY_ID_01${mchid.padStart(10, '0')}${digits(24)}`.slice(0, 46),
    tls,
    pkcs12: wechatPkcs12(merchantKey.privateKey, [merchant.pem, ca.pem], mchid),
  };
}

/** Key material per mchid, generated once per process unless fresh keys are asked for (or a clock is injected). */
function materialFor(mchid: string, policy: 'cached' | 'fresh', now: number): Promise<Material> {
  if (policy === 'fresh') return generateMaterial(mchid, now);
  let entry = materialCache.get(mchid);
  if (!entry) {
    entry = generateMaterial(mchid, now);
    materialCache.set(mchid, entry);
    entry.catch(() => materialCache.delete(mchid));
  }
  return entry;
}

/**
 * Starts the WeChat Pay emulator on 127.0.0.1 (random ports).
 *
 * @example
 * ```ts
 * const emu = await startWechatPayEmulator({ mode: 'certificate' });
 * const client = new WechatPayClient(emu.clientConfig);
 * const { code_url } = await client.prepay('native', { description: 'Tea', out_trade_no: 'T0001',
 *   notify_url: 'http://127.0.0.1:3000/notify', amount: { total: 100 } });
 * emu.pay('T0001'); // the signed callback goes to the notify URL
 * await emu.close();
 * ```
 */
export async function startWechatPayEmulator(options: WechatEmulatorOptions = {}): Promise<WechatPayEmulator> {
  const clock = options.clock ?? (() => Date.now());
  const mchid = options.mchid ?? '1900000001';
  const appid = options.appid ?? 'wxd678efh567hg6787';
  const appids = new Set([appid, ...(options.extraAppids ?? []), ...(options.partner?.subAppid ? [options.partner.subAppid] : [])]);
  const apiV3Key = options.apiV3Key ?? randomNonce(32);
  const apiKey = options.apiKey ?? randomNonce(32);
  const mode = options.mode ?? 'certificate';
  const timeScale = options.timeScale ?? 0.001;
  const refundDelayMs = options.refundDelayMs ?? 20;
  const subMchids = new Set(options.partner ? [options.partner.subMchid, ...(options.partner.moreSubMchids ?? [])] : []);
  if (Buffer.byteLength(apiV3Key) !== 32 || Buffer.byteLength(apiKey) !== 32) {
    throw new PayArgumentError('@pay/sandbox: wechat: apiV3Key and apiKey must be 32 characters');
  }

  const material = await materialFor(mchid, options.clock === undefined && options.freshKeys !== true ? 'cached' : 'fresh', clock());
  const { ca, merchant, tls, pkcs12, publicKeyId } = material;
  const merchantKey = merchant.key;
  const publicKeyPair = material.publicKey;
  const tlsKey = tls.key;
  const newPlatform = (key: RsaPair, notBefore: number, notAfter: number): Platform => platformOf(ca, key, notBefore, notAfter);
  let platforms: Platform[] = [material.platform];
  let current = platforms[0] as Platform;
  const publicKeyPem = publicKeyPair.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const merchantPublic: KeyObject = createPublicKey(merchantKey.privateKey);
  const merchantSerial = merchant.cert.serialHex;

  const notifier = new Notifier({
    retryDelaysMs: WECHATPAY_RETRY_SCHEDULE_SECONDS.map((s) => Math.max(1, Math.round(s * 1000 * timeScale))),
    isAcknowledged: (status, body) => {
      if (status !== 200 && status !== 204) return false;
      const t = body.trim();
      if (!t.startsWith('<')) return true;
      const reply = readV2Xml(t);
      return reply?.return_code === 'SUCCESS';
    },
  });
  const faults: WechatEmulatorFaults = {
    delayMs: 0,
    serverErrors: 0,
    rateLimited: 0,
    badResponseSignature: 0,
    staleResponses: 0,
    probeSignature: 0,
    refundAbnormal: 0,
    tamperBill: 0,
  };
  const calls: WechatPayEmulator['calls'] = [];
  const orders = new Map<string, WechatEmulatedOrder>();
  const refunds = new Map<string, WechatEmulatedRefund>();
  const bills = new Map<string, { content: Buffer; gzip: boolean; expires: number }>();
  const seenNonces = new SeenIds(100_000);
  const timers = new Set<NodeJS.Timeout>();
  let signerChoice: 'certificate' | 'publicKey' = mode === 'certificate' ? 'certificate' : 'publicKey';

  const orderKey = (no: string, sub = '') => `${sub}|${no}`;

  // ---- signing
  function signerFor(requested: string | undefined): { serial: string; key: KeyObject } {
    const usePublicKey =
      mode === 'publicKey' || (mode === 'both' && (requested === undefined ? signerChoice === 'publicKey' : requested === publicKeyId));
    return usePublicKey
      ? { serial: publicKeyId, key: publicKeyPair.privateKey }
      : { serial: current.serial, key: current.issued.key.privateKey };
  }

  function signedHeaders(body: string, requested: string | undefined, applyFaults: boolean): Record<string, string> {
    const signer = signerFor(requested);
    let ts = Math.floor(clock() / 1000);
    if (applyFaults && faults.staleResponses > 0) {
      faults.staleResponses--;
      ts -= 600;
    }
    const nonce = randomBytes(16).toString('hex').toUpperCase();
    let signature = sign('sha256', Buffer.from(`${ts}\n${nonce}\n${body}\n`, 'utf8'), signer.key).toString('base64');
    if (applyFaults && faults.badResponseSignature > 0) {
      faults.badResponseSignature--;
      signature = sign('sha256', Buffer.from(`${ts}\n${nonce}\n${body} \n`, 'utf8'), signer.key).toString('base64');
    }
    if (applyFaults && faults.probeSignature > 0) {
      faults.probeSignature--;
      signature = `WECHATPAY/SIGNTEST/${signature.slice(19)}`;
    }
    return {
      'Wechatpay-Timestamp': String(ts),
      'Wechatpay-Nonce': nonce,
      'Wechatpay-Signature': signature,
      'Wechatpay-Serial': signer.serial,
      'Wechatpay-Signature-Type': SCHEMA,
      'Request-ID': randomUUID().replace(/-/g, ''),
    };
  }

  function encrypt(plaintext: string, aad: string): { algorithm: string; ciphertext: string; nonce: string; associated_data: string } {
    const nonce = randomNonce(12);
    return {
      algorithm: 'AEAD_AES_256_GCM',
      ciphertext: aes256GcmEncrypt(apiV3Key, nonce, plaintext, aad).toString('base64'),
      nonce,
      associated_data: aad,
    };
  }

  function notification(
    eventType: string,
    resource: object,
    opts: { originalType?: string; summary?: string } = {},
  ): WechatEmulatedNotification {
    const originalType = opts.originalType ?? (eventType.startsWith('REFUND.') ? 'refund' : 'transaction');
    const id = randomUUID();
    const envelope = {
      id,
      create_time: chinaTime(clock()),
      resource_type: 'encrypt-resource',
      event_type: eventType,
      summary: opts.summary ?? (eventType === 'TRANSACTION.SUCCESS' ? '支付成功' : eventType === 'REFUND.SUCCESS' ? '退款成功' : '通知'),
      resource: { original_type: originalType, ...encrypt(JSON.stringify(resource), originalType) },
    };
    const body = JSON.stringify(envelope);
    return { id, body, headers: { 'Content-Type': 'application/json', ...signedHeaders(body, undefined, false) } };
  }

  // ---- resources
  function transactionOf(o: WechatEmulatedOrder, amountOverride?: number): Record<string, unknown> {
    const total = amountOverride ?? o.total;
    const paid = o.trade_state === 'SUCCESS' || o.trade_state === 'REFUND';
    const t: Record<string, unknown> = o.sub_mchid
      ? { sp_appid: o.appid, sp_mchid: mchid, ...(o.sub_appid ? { sub_appid: o.sub_appid } : {}), sub_mchid: o.sub_mchid }
      : { appid: o.appid, mchid };
    Object.assign(t, {
      out_trade_no: o.out_trade_no,
      ...(o.transaction_id ? { transaction_id: o.transaction_id } : {}),
      trade_type: o.trade_type,
      trade_state: o.trade_state,
      trade_state_desc: { SUCCESS: '支付成功', REFUND: '转入退款', NOTPAY: '未支付', CLOSED: '已关闭' }[o.trade_state] ?? o.trade_state,
      ...(paid ? { bank_type: 'OTHERS', success_time: o.success_time } : {}),
      attach: o.attach ?? '',
      payer: o.payer,
      amount: paid
        ? { total, payer_total: total, currency: 'CNY', payer_currency: 'CNY' }
        : { total, currency: 'CNY', payer_currency: 'CNY' },
    });
    return t;
  }

  function refundOf(r: WechatEmulatedRefund): Record<string, unknown> {
    return {
      refund_id: r.refund_id,
      out_refund_no: r.out_refund_no,
      transaction_id: r.order.transaction_id,
      out_trade_no: r.order.out_trade_no,
      channel: 'ORIGINAL',
      user_received_account: '支付用户零钱',
      ...(r.success_time ? { success_time: r.success_time } : {}),
      create_time: r.create_time,
      status: r.status,
      funds_account: 'AVAILABLE',
      amount: {
        total: r.order.total,
        refund: r.refund,
        payer_total: r.order.total,
        payer_refund: r.refund,
        settlement_refund: r.refund,
        settlement_total: r.order.total,
        discount_refund: 0,
        currency: 'CNY',
      },
      promotion_detail: [],
    };
  }

  function later(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
  }

  function deliver(url: string, n: { headers: Record<string, string>; body: string }): void {
    const out: OutgoingNotification = { url, headers: n.headers, body: n.body };
    notifier.send(out);
  }

  function finishRefund(r: WechatEmulatedRefund): void {
    later(refundDelayMs, () => {
      if (r.status !== 'PROCESSING') return;
      const abnormal = faults.refundAbnormal > 0;
      if (abnormal) faults.refundAbnormal--;
      r.status = abnormal ? 'ABNORMAL' : 'SUCCESS';
      if (!abnormal) {
        r.success_time = chinaTime(clock());
        r.order.trade_state = 'REFUND';
      }
      if (!r.notify_url) return;
      if (r.api === 'v3') {
        const o = r.order;
        const resource = {
          ...(o.sub_mchid ? { sp_mchid: mchid, sub_mchid: o.sub_mchid } : { mchid }),
          out_trade_no: o.out_trade_no,
          transaction_id: o.transaction_id,
          out_refund_no: r.out_refund_no,
          refund_id: r.refund_id,
          refund_status: r.status,
          ...(r.success_time ? { success_time: r.success_time } : {}),
          user_received_account: '支付用户零钱',
          amount: { total: o.total, refund: r.refund, payer_total: o.total, payer_refund: r.refund },
        };
        deliver(
          r.notify_url,
          notification(abnormal ? 'REFUND.ABNORMAL' : 'REFUND.SUCCESS', resource, { summary: abnormal ? '退款异常' : '退款成功' }),
        );
      } else {
        const info = writeV2Xml(
          {
            out_refund_no: r.out_refund_no,
            out_trade_no: r.order.out_trade_no,
            refund_account: 'REFUND_SOURCE_UNSETTLED_FUNDS',
            refund_fee: r.refund,
            refund_id: r.refund_id,
            refund_recv_accout: '支付用户零钱',
            refund_request_source: 'API',
            refund_status: r.status === 'SUCCESS' ? 'SUCCESS' : 'CHANGE',
            settlement_refund_fee: r.refund,
            settlement_total_fee: r.order.total,
            ...(r.success_time ? { success_time: r.success_time.slice(0, 19).replace('T', ' ') } : {}),
            total_fee: r.order.total,
            transaction_id: r.order.transaction_id,
          },
          'root',
        );
        const reqInfo = aes256EcbEncrypt(md5Hex(apiKey), info).toString('base64');
        const body = writeV2Xml({
          return_code: 'SUCCESS',
          appid: r.order.appid,
          mch_id: mchid,
          nonce_str: randomNonce(32),
          req_info: reqInfo,
        });
        deliver(r.notify_url, { headers: { 'Content-Type': 'text/xml' }, body });
      }
    });
  }

  // ---- v3 request authentication
  function authenticate(req: EmulatorRequest): { status: number; body: string } | undefined {
    const auth = req.headers.authorization ?? '';
    if (!auth.startsWith(`${SCHEMA} `))
      return err(401, 'SIGN_ERROR', 'Http头Authorization值格式错误，请参考《微信支付商户REST API签名规则》');
    const fields: Record<string, string> = {};
    for (const m of auth.slice(SCHEMA.length + 1).matchAll(/(\w+)="([^"]*)"/g)) fields[m[1] as string] = m[2] as string;
    const { mchid: m, serial_no: serial, timestamp, nonce_str: nonce, signature } = fields;
    if (!m || !serial || !timestamp || !nonce || !signature)
      return err(401, 'SIGN_ERROR', 'Http头Authorization值格式错误，缺少必要的签名参数');
    if (m !== mchid) return err(401, 'SIGN_ERROR', '商户号mchid与发起请求的商户不一致');
    if (serial.toUpperCase().replace(/^0+/, '') !== merchantSerial)
      return err(401, 'SIGN_ERROR', '商户证书序列号有误。请使用签名私钥匹配的证书序列号');
    const skew = Number(timestamp) - Math.floor(clock() / 1000);
    if (!/^\d+$/.test(timestamp) || Math.abs(skew) > 300) return err(401, 'SIGN_ERROR', '请求的时间戳已过期或不在有效时间范围内');
    const url = req.query ? `${req.path}?${req.query}` : req.path;
    const message = `${req.method}\n${url}\n${timestamp}\n${nonce}\n${req.body.toString('utf8')}\n`;
    let ok = false;
    try {
      ok = verify('sha256', Buffer.from(message, 'utf8'), merchantPublic, Buffer.from(signature, 'base64'));
    } catch {
      ok = false;
    }
    if (!ok) return err(401, 'SIGN_ERROR', '错误的签名，验签失败');
    if (!seenNonces.add(`${timestamp}:${nonce}`)) return err(401, 'SIGN_ERROR', '重复的请求(nonce_str已被使用)');
    return undefined;
  }

  function parseBody(req: EmulatorRequest): Record<string, any> | undefined {
    try {
      const v = JSON.parse(req.body.toString('utf8')) as unknown;
      return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, any>) : undefined;
    } catch {
      return undefined;
    }
  }

  function query(req: EmulatorRequest): URLSearchParams {
    return new URLSearchParams(req.query);
  }

  function acceptedSerials(): string[] {
    return [...(mode !== 'certificate' ? [publicKeyId] : []), ...(mode !== 'publicKey' ? platforms.map((p) => p.serial) : [])];
  }

  // ---- v3 routes
  function prepay(req: EmulatorRequest, type: string, partner: boolean): { status: number; body: string } {
    const b = parseBody(req);
    if (!b) return err(400, 'PARAM_ERROR', '请求体格式错误，应为JSON对象');
    const required = partner
      ? ['sp_appid', 'sp_mchid', 'sub_mchid', 'description', 'out_trade_no', 'notify_url']
      : ['appid', 'mchid', 'description', 'out_trade_no', 'notify_url'];
    for (const f of required)
      if (typeof b[f] !== 'string' || b[f] === '')
        return err(400, 'PARAM_ERROR', `输入源"/body/${f}"映射到字段"${f}"必填性规则校验失败，此字段为必填项`);
    const total = b.amount?.total;
    if (!Number.isSafeInteger(total) || total <= 0)
      return err(400, 'PARAM_ERROR', '输入源"/body/amount/total"映射到值字段"总金额"校验失败，应为正整数');
    if ((b.amount?.currency ?? 'CNY') !== 'CNY') return err(400, 'PARAM_ERROR', '货币类型只支持CNY');
    if (!OUT_TRADE_NO.test(b.out_trade_no)) return err(400, 'PARAM_ERROR', 'out_trade_no 应为6-32位数字、字母、_-|*');
    if (!/^https?:\/\/[^?]+$/.test(b.notify_url)) return err(400, 'PARAM_ERROR', 'notify_url 格式错误，不能携带参数');
    if ((partner ? b.sp_mchid : b.mchid) !== mchid) return err(400, 'PARAM_ERROR', '请求体中的商户号与Authorization中的商户号不一致');
    const app = partner ? b.sp_appid : b.appid;
    if (!appids.has(app) || (partner && b.sub_appid !== undefined && !appids.has(b.sub_appid)))
      return err(400, 'APPID_MCHID_NOT_MATCH', 'AppID和mch_id不匹配');
    if (partner && !subMchids.has(b.sub_mchid)) return err(403, 'NO_AUTH', '服务商与子商户不存在授权关系');
    const payer: Record<string, string> = {};
    if (type === 'jsapi') {
      const p = b.payer ?? {};
      if (partner ? !p.sp_openid && !p.sub_openid : !p.openid) return err(400, 'PARAM_ERROR', 'JSAPI支付必须传入payer.openid');
      for (const k of ['openid', 'sp_openid', 'sub_openid']) if (typeof p[k] === 'string') payer[k] = p[k];
    }
    if (type === 'h5' && (!b.scene_info?.payer_client_ip || !b.scene_info?.h5_info?.type))
      return err(400, 'PARAM_ERROR', 'H5支付必须传入scene_info.payer_client_ip和scene_info.h5_info.type');
    const sub = partner ? b.sub_mchid : '';
    const fingerprint = JSON.stringify([type, b.description, total, b.notify_url, payer]);
    const existing = orders.get(orderKey(b.out_trade_no, sub));
    let o: WechatEmulatedOrder;
    if (existing) {
      if (existing.trade_state === 'SUCCESS' || existing.trade_state === 'REFUND') return err(400, 'ORDERPAID', '该订单已支付');
      if (existing.trade_state === 'CLOSED') return err(400, 'ORDER_CLOSED', '该订单已关闭');
      if (existing.fingerprint !== fingerprint) return err(403, 'OUT_TRADE_NO_USED', '商户订单号重复');
      o = existing;
    } else {
      o = {
        api: 'v3',
        out_trade_no: b.out_trade_no,
        sub_mchid: sub,
        appid: app,
        ...(partner && b.sub_appid ? { sub_appid: b.sub_appid } : {}),
        trade_type: { jsapi: 'JSAPI', app: 'APP', h5: 'MWEB', native: 'NATIVE' }[type] as string,
        total,
        description: b.description,
        notify_url: b.notify_url,
        ...(typeof b.attach === 'string' ? { attach: b.attach } : {}),
        payer,
        trade_state: 'NOTPAY',
        prepay_id: `wx${compactChinaTime(clock())}${randomBytes(10).toString('hex')}`.slice(0, 36),
        fingerprint,
        created: clock(),
      };
      orders.set(orderKey(o.out_trade_no, sub), o);
    }
    if (type === 'native') return json(200, { code_url: `weixin://wxpay/bizpayurl?pr=${o.prepay_id.slice(-7)}` });
    if (type === 'h5')
      return json(200, { h5_url: `https://wx.tenpay.com/cgi-bin/mmpayweb-bin/checkmweb?prepay_id=${o.prepay_id}&package=${digits(10)}` });
    return json(200, { prepay_id: o.prepay_id });
  }

  function ownerFromQuery(req: EmulatorRequest, partner: boolean): { sub: string } | { status: number; body: string } {
    const q = query(req);
    if (partner) {
      if (q.get('sp_mchid') !== mchid) return err(400, 'PARAM_ERROR', 'sp_mchid 与请求商户不一致');
      const sub = q.get('sub_mchid') ?? '';
      if (!subMchids.has(sub)) return err(403, 'NO_AUTH', '服务商与子商户不存在授权关系');
      return { sub };
    }
    if (q.get('mchid') !== mchid)
      return err(400, 'PARAM_ERROR', '输入源"/query/mchid"映射到字段"直连商户号"必填性规则校验失败，此字段为必填项');
    return { sub: '' };
  }

  function v3Route(req: EmulatorRequest): { status: number; body: string } {
    const { method, path } = req;
    let m = method === 'POST' ? /^\/v3\/pay\/(partner\/)?transactions\/(jsapi|app|h5|native)$/.exec(path) : null;
    if (m) return prepay(req, m[2] as string, !!m[1]);
    m = method === 'GET' ? /^\/v3\/pay\/(partner\/)?transactions\/(out-trade-no|id)\/([^/]+)$/.exec(path) : null;
    if (m) {
      const owner = ownerFromQuery(req, !!m[1]);
      if ('status' in owner) return owner;
      const id = decodeURIComponent(m[3] as string);
      const o =
        m[2] === 'id'
          ? [...orders.values()].find((x) => x.api === 'v3' && x.transaction_id === id && x.sub_mchid === owner.sub)
          : orders.get(orderKey(id, owner.sub));
      if (o?.api !== 'v3') return err(404, 'ORDER_NOT_EXIST', '订单不存在');
      return json(200, transactionOf(o));
    }
    m = method === 'POST' ? /^\/v3\/pay\/(partner\/)?transactions\/out-trade-no\/([^/]+)\/close$/.exec(path) : null;
    if (m) {
      const b = parseBody(req);
      if (!b) return err(400, 'PARAM_ERROR', '请求体格式错误');
      const partner = !!m[1];
      if ((partner ? b.sp_mchid : b.mchid) !== mchid) return err(400, 'PARAM_ERROR', '商户号与请求商户不一致');
      if (partner && !subMchids.has(b.sub_mchid)) return err(403, 'NO_AUTH', '服务商与子商户不存在授权关系');
      const o = orders.get(orderKey(decodeURIComponent(m[2] as string), partner ? b.sub_mchid : ''));
      if (o?.api !== 'v3') return err(404, 'ORDER_NOT_EXIST', '订单不存在');
      if (o.trade_state === 'SUCCESS' || o.trade_state === 'REFUND') return err(400, 'ORDERPAID', '订单已支付，不能关闭');
      o.trade_state = 'CLOSED';
      return { status: 204, body: '' };
    }
    if (method === 'POST' && path === '/v3/refund/domestic/refunds') return createRefund(req);
    m = method === 'GET' ? /^\/v3\/refund\/domestic\/refunds\/([^/]+)$/.exec(path) : null;
    if (m) {
      const r = refunds.get(decodeURIComponent(m[1] as string));
      const sub = query(req).get('sub_mchid') ?? '';
      if (r?.api !== 'v3' || r.order.sub_mchid !== sub) return err(404, 'RESOURCE_NOT_EXISTS', '退款单不存在');
      return json(200, refundOf(r));
    }
    if (method === 'GET' && path === '/v3/certificates') {
      if (mode === 'publicKey') return err(404, 'NOT_FOUND', '无可用的平台证书，请在商户平台-API安全申请使用微信支付公钥');
      return json(200, {
        data: platforms.map((p) => ({
          serial_no: p.serial,
          effective_time: chinaTime(p.issued.cert.notBefore),
          expire_time: chinaTime(p.issued.cert.notAfter),
          encrypt_certificate: encrypt(p.issued.pem, 'certificate'),
        })),
      });
    }
    if (method === 'GET' && (path === '/v3/bill/tradebill' || path === '/v3/bill/fundflowbill'))
      return bill(req, path.endsWith('tradebill'));
    return err(404, 'NOT_FOUND', `无法将请求路由到处理程序: ${method} ${path}`);
  }

  function createRefund(req: EmulatorRequest): { status: number; body: string } {
    const b = parseBody(req);
    if (!b) return err(400, 'PARAM_ERROR', '请求体格式错误');
    const sub = typeof b.sub_mchid === 'string' ? b.sub_mchid : '';
    if (sub && !subMchids.has(sub)) return err(403, 'NO_AUTH', '服务商与子商户不存在授权关系');
    if (typeof b.out_refund_no !== 'string' || !OUT_TRADE_NO.test(b.out_refund_no))
      return err(400, 'PARAM_ERROR', 'out_refund_no 必填，6-64位');
    const o = b.transaction_id
      ? [...orders.values()].find((x) => x.api === 'v3' && x.transaction_id === b.transaction_id && x.sub_mchid === sub)
      : orders.get(orderKey(String(b.out_trade_no ?? ''), sub));
    if (o?.api !== 'v3') return err(404, 'RESOURCE_NOT_EXISTS', '订单不存在');
    const a = b.amount ?? {};
    if (!Number.isSafeInteger(a.refund) || a.refund <= 0 || !Number.isSafeInteger(a.total))
      return err(400, 'PARAM_ERROR', 'amount.refund 和 amount.total 必须为正整数');
    if (a.total !== o.total) return err(400, 'PARAM_ERROR', '订单金额amount.total与原订单金额不一致');
    const existing = refunds.get(b.out_refund_no);
    if (existing) {
      if (existing.order !== o || existing.refund !== a.refund) return err(400, 'INVALID_REQUEST', '退款请求参数与之前的请求不一致');
      return json(200, refundOf(existing));
    }
    if (o.trade_state !== 'SUCCESS' && o.trade_state !== 'REFUND') return err(400, 'INVALID_REQUEST', '订单未支付，不能退款');
    const refunded = [...refunds.values()]
      .filter((r) => r.order === o && r.status !== 'ABNORMAL' && r.status !== 'CLOSED')
      .reduce((s, r) => s + r.refund, 0);
    if (refunded + a.refund > o.total) return err(400, 'INVALID_REQUEST', '申请退款金额超过订单可退金额');
    const r: WechatEmulatedRefund = {
      api: 'v3',
      order: o,
      out_refund_no: b.out_refund_no,
      refund_id: `50${digits(27)}`,
      refund: a.refund,
      status: 'PROCESSING',
      create_time: chinaTime(clock()),
      ...(typeof b.notify_url === 'string' ? { notify_url: b.notify_url } : {}),
      ...(typeof b.reason === 'string' ? { reason: b.reason } : {}),
    };
    refunds.set(r.out_refund_no, r);
    finishRefund(r);
    return json(200, refundOf(r));
  }

  function bill(req: EmulatorRequest, trade: boolean): { status: number; body: string } {
    const q = query(req);
    const date = q.get('bill_date') ?? '';
    if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) return err(400, 'PARAM_ERROR', 'bill_date 格式应为 YYYY-MM-DD');
    if (date > chinaTime(clock()).slice(0, 10)) return err(400, 'NO_STATEMENT_EXIST', '账单文件不存在');
    const sub = q.get('sub_mchid') ?? '';
    const rows: string[] = [];
    if (trade) {
      rows.push(
        '交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注',
      );
      let count = 0;
      let sum = 0;
      for (const o of orders.values()) {
        if (o.api !== 'v3' || !o.success_time || o.success_time.slice(0, 10) !== date || (sub && o.sub_mchid !== sub)) continue;
        count++;
        sum += o.total;
        const yuan = (o.total / 100).toFixed(2);
        rows.push(
          [
            o.success_time.replace('T', ' ').slice(0, 19),
            o.appid,
            mchid,
            o.sub_mchid || '0',
            '',
            o.transaction_id,
            o.out_trade_no,
            Object.values(o.payer)[0] ?? '',
            o.trade_type,
            'SUCCESS',
            'OTHERS',
            'CNY',
            yuan,
            '0.00',
            '0',
            '0',
            '0.00',
            '0.00',
            '',
            '',
            o.description,
            o.attach ?? '',
            '0.00000',
            '0.60%',
            yuan,
            '0.00',
            '',
          ]
            .map((v) => `\`${v}`)
            .join(','),
        );
      }
      rows.push('总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额');
      rows.push([count, (sum / 100).toFixed(2), '0.00', '0.00', '0.00000', (sum / 100).toFixed(2), '0.00'].map((v) => `\`${v}`).join(','));
    } else {
      rows.push(
        '记账时间,微信支付业务单号,资金流水单号,业务名称,业务类型,收支类型,收支金额（元）,账户结余（元）,资金变更提交申请人,备注,业务凭证号',
      );
      let balance = 0;
      for (const o of orders.values()) {
        if (o.api !== 'v3' || !o.success_time || o.success_time.slice(0, 10) !== date) continue;
        balance += o.total;
        rows.push(
          [
            o.success_time.replace('T', ' ').slice(0, 19),
            o.transaction_id,
            digits(20),
            '交易',
            '交易',
            '收入',
            (o.total / 100).toFixed(2),
            (balance / 100).toFixed(2),
            'system',
            '缴费',
            o.transaction_id,
          ]
            .map((v) => `\`${v}`)
            .join(','),
        );
      }
      rows.push('资金流水总笔数,收入笔数,收入金额,支出笔数,支出金额');
      rows.push(`\`${rows.length - 2},\`${rows.length - 2},\`${(balance / 100).toFixed(2)},\`0,\`0.00`);
    }
    const content = Buffer.from(`${rows.join('\r\n')}\r\n`, 'utf8');
    const token = randomBytes(16).toString('hex');
    const gzip = q.get('tar_type') === 'GZIP';
    bills.set(token, { content, gzip, expires: clock() + 30_000 });
    return json(200, {
      hash_type: 'SHA1',
      hash_value: sha1Hex(content),
      download_url: `${v3Server.url}/v3/billdownload/file?token=${token}`,
    });
  }

  function downloadBill(req: EmulatorRequest): EmulatorResponse {
    const token = query(req).get('token') ?? '';
    const entry = bills.get(token);
    if (!entry || entry.expires < clock()) return err(400, 'INVALID_REQUEST', '下载链接已失效，请重新申请账单');
    let content = Buffer.from(entry.content);
    if (faults.tamperBill > 0) {
      faults.tamperBill--;
      content[content.length - 3] = (content[content.length - 3] as number) ^ 1;
    }
    if (entry.gzip) content = gzipSync(content);
    return { status: 200, headers: { 'Content-Type': 'application/octet-stream' }, body: content };
  }

  async function v3Handler(req: EmulatorRequest): Promise<EmulatorResponse> {
    if (faults.delayMs > 0) await new Promise((r) => setTimeout(r, faults.delayMs));
    const requested = req.headers['wechatpay-serial'];
    let out: { status: number; body: string };
    const denied = authenticate(req);
    if (denied) out = denied;
    else if (requested !== undefined && !acceptedSerials().some((x) => x === requested || x === requested.toUpperCase())) {
      out = err(400, 'PARAM_ERROR', 'Wechatpay-Serial 对应的平台证书或微信支付公钥不存在或未启用');
    } else if (faults.serverErrors > 0) {
      faults.serverErrors--;
      out = err(500, 'SYSTEM_ERROR', '系统错误');
    } else if (faults.rateLimited > 0) {
      faults.rateLimited--;
      out = err(429, 'FREQUENCY_LIMITED', '请求频率超限');
    } else if (req.method === 'GET' && req.path === '/v3/billdownload/file') {
      const file = downloadBill(req);
      calls.push({ method: req.method, path: req.path, status: file.status ?? 200, api: 'v3' });
      if (file.status === 200) return file;
      out = { status: file.status ?? 400, body: String(file.body) };
    } else {
      out = v3Route(req);
    }
    calls.push({ method: req.method, path: req.path, status: out.status, api: 'v3' });
    const headers = signedHeaders(out.body, requested, true);
    if (out.body !== '') headers['Content-Type'] = 'application/json; charset=utf-8';
    return { status: out.status, headers, body: out.body };
  }

  // ---- v2
  function v2Sign(fields: Record<string, string>, type: 'MD5' | 'HMAC-SHA256'): string {
    const text = `${canonicalString(fields, { exclude: ['sign'], dropEmpty: true })}&key=${apiKey}`;
    return (type === 'HMAC-SHA256' ? hmacSha256Hex(apiKey, text) : md5Hex(text)).toUpperCase();
  }

  function v2Answer(fields: Record<string, string | number | undefined>, type: 'MD5' | 'HMAC-SHA256'): string {
    const out: Record<string, string> = { return_code: 'SUCCESS', return_msg: 'OK', appid, mch_id: mchid, nonce_str: randomNonce(32) };
    for (const [k, v] of Object.entries(fields)) if (v !== undefined) out[k] = String(v);
    out.sign = v2Sign(out, type);
    return writeV2Xml(out);
  }

  const v2Fail = (msg: string) => writeV2Xml({ return_code: 'FAIL', return_msg: msg });
  const v2Error = (code: string, des: string, type: 'MD5' | 'HMAC-SHA256') =>
    v2Answer({ result_code: 'FAIL', err_code: code, err_code_des: des }, type);

  function v2Route(req: EmulatorRequest): string {
    if (req.method !== 'POST') return v2Fail('请使用post方法');
    const f = readV2Xml(req.body.toString('utf8'));
    if (!f) return v2Fail('XML格式错误');
    const type = (f.sign_type ?? 'MD5') as 'MD5' | 'HMAC-SHA256';
    if (type !== 'MD5' && type !== 'HMAC-SHA256') return v2Fail('sign_type参数格式错误');
    if (f.mch_id !== mchid) return v2Fail('mch_id参数格式错误');
    if (!f.sign || !timingSafeEqualData(v2Sign(f, type), f.sign)) return v2Fail('签名错误');
    if (!f.appid || !appids.has(f.appid)) return v2Error('APPID_MCHID_NOT_MATCH', 'appid和mch_id不匹配', type);
    const path = req.path;
    if (path === '/secapi/pay/refund') {
      const socket = req.node.socket as TLSSocket;
      const peer = socket.authorized ? socket.getPeerCertificate() : undefined;
      const fp = peer?.raw ? createHash('sha256').update(peer.raw).digest('hex') : '';
      if (fp !== merchant.cert.fingerprint256) return v2Fail('证书验证失败，请使用商户API证书(apiclient_cert.p12)调用此接口');
    }
    if (path === '/pay/unifiedorder') {
      for (const k of ['body', 'out_trade_no', 'total_fee', 'spbill_create_ip', 'notify_url', 'trade_type'])
        if (!f[k]) return v2Error('PARAM_ERROR', `缺少参数${k}`, type);
      const total = Number(f.total_fee);
      if (!/^\d+$/.test(f.total_fee as string) || total <= 0) return v2Error('PARAM_ERROR', 'total_fee 应为正整数', type);
      if (f.trade_type === 'JSAPI' && !f.openid) return v2Error('PARAM_ERROR', 'JSAPI支付必须传openid', type);
      const existing = orders.get(orderKey(f.out_trade_no as string, 'v2'));
      const fingerprint = JSON.stringify([f.trade_type, f.body, total, f.notify_url, f.openid ?? '']);
      let o: WechatEmulatedOrder;
      if (existing) {
        if (existing.trade_state === 'SUCCESS' || existing.trade_state === 'REFUND') return v2Error('ORDERPAID', '该订单已支付', type);
        if (existing.trade_state === 'CLOSED') return v2Error('ORDERCLOSED', '该订单已关闭', type);
        if (existing.fingerprint !== fingerprint) return v2Error('INVALID_REQUEST', '201 商户订单号重复', type);
        o = existing;
      } else {
        o = {
          api: 'v2',
          out_trade_no: f.out_trade_no as string,
          sub_mchid: 'v2',
          appid: f.appid,
          trade_type: f.trade_type as string,
          total,
          description: f.body as string,
          notify_url: f.notify_url as string,
          ...(f.attach ? { attach: f.attach } : {}),
          payer: f.openid ? { openid: f.openid } : {},
          trade_state: 'NOTPAY',
          prepay_id: `wx${compactChinaTime(clock())}${randomBytes(10).toString('hex')}`.slice(0, 36),
          sign_type: type,
          fingerprint,
          created: clock(),
        };
        orders.set(orderKey(o.out_trade_no, 'v2'), o);
      }
      return v2Answer(
        {
          result_code: 'SUCCESS',
          trade_type: o.trade_type,
          prepay_id: o.prepay_id,
          ...(o.trade_type === 'NATIVE' ? { code_url: `weixin://wxpay/bizpayurl?pr=${o.prepay_id.slice(-7)}` } : {}),
          ...(o.trade_type === 'MWEB'
            ? { mweb_url: `https://wx.tenpay.com/cgi-bin/mmpayweb-bin/checkmweb?prepay_id=${o.prepay_id}&package=${digits(10)}` }
            : {}),
        },
        type,
      );
    }
    const findOrder = () =>
      f.transaction_id
        ? [...orders.values()].find((x) => x.api === 'v2' && x.transaction_id === f.transaction_id)
        : orders.get(orderKey(f.out_trade_no ?? '', 'v2'));
    if (path === '/pay/orderquery') {
      const o = findOrder();
      if (!o) return v2Error('ORDERNOTEXIST', '此交易订单号不存在', type);
      const paid = o.trade_state === 'SUCCESS' || o.trade_state === 'REFUND';
      return v2Answer(
        {
          result_code: 'SUCCESS',
          out_trade_no: o.out_trade_no,
          trade_state: o.trade_state,
          trade_state_desc:
            { SUCCESS: '支付成功', REFUND: '转入退款', NOTPAY: '订单未支付', CLOSED: '订单已关闭' }[o.trade_state] ?? o.trade_state,
          trade_type: o.trade_type,
          total_fee: o.total,
          fee_type: 'CNY',
          attach: o.attach,
          openid: o.payer.openid,
          ...(paid
            ? {
                transaction_id: o.transaction_id,
                time_end: compactChinaTime(Date.parse(o.success_time as string)),
                cash_fee: o.total,
                bank_type: 'OTHERS',
                is_subscribe: 'N',
              }
            : {}),
        },
        type,
      );
    }
    if (path === '/pay/closeorder') {
      const o = findOrder();
      if (!o) return v2Error('ORDERNOTEXIST', '此交易订单号不存在', type);
      if (o.trade_state === 'SUCCESS' || o.trade_state === 'REFUND') return v2Error('ORDERPAID', '订单已支付，不能发起关单', type);
      o.trade_state = 'CLOSED';
      return v2Answer({ result_code: 'SUCCESS', result_msg: 'OK' }, type);
    }
    if (path === '/secapi/pay/refund') {
      const o = findOrder();
      if (!o) return v2Error('ORDERNOTEXIST', '订单不存在', type);
      if (o.trade_state !== 'SUCCESS' && o.trade_state !== 'REFUND') return v2Error('TRADE_STATE_ERROR', '订单状态错误', type);
      const refundFee = Number(f.refund_fee);
      if (Number(f.total_fee) !== o.total || !Number.isSafeInteger(refundFee) || refundFee <= 0)
        return v2Error('PARAM_ERROR', '订单金额或退款金额与之前请求不一致，请核实后再试', type);
      const existing = refunds.get(f.out_refund_no ?? '');
      let r = existing;
      if (!r) {
        const refunded = [...refunds.values()].filter((x) => x.order === o).reduce((s, x) => s + x.refund, 0);
        if (refunded + refundFee > o.total) return v2Error('ERROR', '累计退款金额大于支付金额', type);
        r = {
          api: 'v2',
          order: o,
          out_refund_no: f.out_refund_no as string,
          refund_id: `50${digits(27)}`,
          refund: refundFee,
          status: 'PROCESSING',
          create_time: chinaTime(clock()),
          ...(f.notify_url ? { notify_url: f.notify_url } : {}),
        };
        refunds.set(r.out_refund_no, r);
        finishRefund(r);
      }
      return v2Answer(
        {
          result_code: 'SUCCESS',
          transaction_id: o.transaction_id,
          out_trade_no: o.out_trade_no,
          out_refund_no: r.out_refund_no,
          refund_id: r.refund_id,
          refund_fee: r.refund,
          settlement_refund_fee: r.refund,
          total_fee: o.total,
          settlement_total_fee: o.total,
          fee_type: 'CNY',
          cash_fee: o.total,
          cash_refund_fee: r.refund,
        },
        type,
      );
    }
    if (path === '/pay/refundquery') {
      const list = [...refunds.values()].filter(
        (r) =>
          r.api === 'v2' &&
          ((f.out_refund_no && r.out_refund_no === f.out_refund_no) ||
            (f.refund_id && r.refund_id === f.refund_id) ||
            (f.out_trade_no && r.order.out_trade_no === f.out_trade_no) ||
            (f.transaction_id && r.order.transaction_id === f.transaction_id)),
      );
      if (list.length === 0) return v2Error('REFUNDNOTEXIST', '退款订单查询失败', type);
      const o = (list[0] as WechatEmulatedRefund).order;
      const fields: Record<string, string | number | undefined> = {
        result_code: 'SUCCESS',
        transaction_id: o.transaction_id,
        out_trade_no: o.out_trade_no,
        total_fee: o.total,
        cash_fee: o.total,
        refund_count: list.length,
      };
      list.forEach((r, i) => {
        fields[`out_refund_no_${i}`] = r.out_refund_no;
        fields[`refund_id_${i}`] = r.refund_id;
        fields[`refund_fee_${i}`] = r.refund;
        fields[`refund_status_${i}`] = r.status === 'ABNORMAL' ? 'CHANGE' : r.status;
        fields[`refund_channel_${i}`] = 'ORIGINAL';
      });
      return v2Answer(fields, type);
    }
    return v2Fail('接口不存在');
  }

  async function v2Handler(req: EmulatorRequest): Promise<EmulatorResponse> {
    if (faults.delayMs > 0) await new Promise((r) => setTimeout(r, faults.delayMs));
    if (faults.serverErrors > 0) {
      faults.serverErrors--;
      calls.push({ method: req.method, path: req.path, status: 500, api: 'v2' });
      return { status: 500, headers: { 'Content-Type': 'text/plain' }, body: 'System Error' };
    }
    const body = v2Route(req);
    calls.push({ method: req.method, path: req.path, status: 200, api: 'v2' });
    return { status: 200, headers: { 'Content-Type': 'text/xml; charset=utf-8' }, body };
  }

  const v3Server: LoopbackServer = await startLoopbackServer(v3Handler);
  const v2Server: LoopbackServer | undefined =
    options.v2 === false
      ? undefined
      : await startLoopbackServer(v2Handler, {
          tls: {
            key: tlsKey.privateKey.export({ type: 'pkcs8', format: 'pem' }),
            cert: tls.pem,
            ca: [ca.pem],
            requestCert: true,
            rejectUnauthorized: false,
          },
        });

  const clientConfig: WechatEmulatorClientConfig = {
    mchid,
    appid,
    privateKey: merchantKey.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    merchantSerialNo: merchantSerial,
    apiV3Key,
    baseUrl: v3Server.url,
    ...(mode !== 'certificate' ? { wechatpayPublicKey: publicKeyPem, wechatpayPublicKeyId: publicKeyId } : {}),
    ...(mode === 'both' ? { downloadCertificates: true } : {}),
    ...(options.partner
      ? { partner: { subMchid: options.partner.subMchid, ...(options.partner.subAppid ? { subAppid: options.partner.subAppid } : {}) } }
      : {}),
  };
  const v2ClientConfig: WechatEmulatorV2ClientConfig = {
    appid,
    mchid,
    apiKey,
    signType: options.v2SignType ?? 'MD5',
    pkcs12,
    baseUrl: v2Server?.url ?? '',
    ca: ca.pem,
  };

  async function replacePlatform(expired: boolean, retireOld: boolean): Promise<string> {
    const key = await rsaPair();
    const t = clock();
    const p = expired ? newPlatform(key, t - 2 * YEAR, t - 24 * 3600_000) : newPlatform(key, t - 60_000, t + 5 * YEAR);
    platforms = retireOld ? [p] : [...platforms, p];
    current = p;
    return p.serial;
  }

  const emulator: WechatPayEmulator = {
    url: v3Server.url,
    v2Url: v2Server?.url,
    clientConfig,
    v2ClientConfig,
    notifier,
    faults,
    calls,
    merchantCertificatePem: merchant.pem,
    get platformSerial() {
      return current.serial;
    },
    get platformCertificatePem() {
      return current.issued.pem;
    },
    publicKeyId,
    publicKeyPem,
    get signer() {
      return signerChoice;
    },
    set signer(value: 'certificate' | 'publicKey') {
      signerChoice = value;
    },
    order: (no, sub) => orders.get(orderKey(no, sub ?? '')) ?? (sub === undefined ? orders.get(orderKey(no, 'v2')) : undefined),
    refundOf: (no) => refunds.get(no),
    pay(outTradeNo, opts = {}) {
      const o =
        orders.get(orderKey(outTradeNo, opts.subMchid ?? '')) ??
        (opts.subMchid === undefined
          ? (orders.get(orderKey(outTradeNo, 'v2')) ?? [...orders.values()].find((x) => x.out_trade_no === outTradeNo))
          : undefined);
      if (!o) throw new PayArgumentError(`@pay/sandbox: wechat: pay: no order ${outTradeNo}`);
      if (o.trade_state !== 'NOTPAY')
        throw new PayArgumentError(`@pay/sandbox: wechat: pay: order ${outTradeNo} is ${o.trade_state}, not NOTPAY`);
      o.trade_state = 'SUCCESS';
      o.transaction_id = `42000${digits(23)}`;
      o.success_time = chinaTime(clock());
      if (Object.keys(o.payer).length === 0)
        o.payer = o.sub_mchid && o.sub_mchid !== 'v2' ? { sp_openid: `o${randomNonce(27)}` } : { openid: `o${randomNonce(27)}` };
      if (opts.deliver === false) return o;
      const url = opts.notifyUrl ?? o.notify_url;
      if (o.api === 'v3') {
        deliver(url, notification('TRANSACTION.SUCCESS', transactionOf(o, opts.amount)));
      } else {
        const total = opts.amount ?? o.total;
        const fields: Record<string, string> = {
          appid: o.appid,
          bank_type: 'OTHERS',
          cash_fee: String(total),
          fee_type: 'CNY',
          is_subscribe: 'N',
          mch_id: mchid,
          nonce_str: randomNonce(32),
          openid: o.payer.openid ?? '',
          out_trade_no: o.out_trade_no,
          result_code: 'SUCCESS',
          return_code: 'SUCCESS',
          time_end: compactChinaTime(clock()),
          total_fee: String(total),
          trade_type: o.trade_type,
          transaction_id: o.transaction_id,
          ...(o.attach ? { attach: o.attach } : {}),
          ...(o.sign_type === 'HMAC-SHA256' ? { sign_type: 'HMAC-SHA256' } : {}),
        };
        fields.sign = v2Sign(fields, o.sign_type ?? 'MD5');
        deliver(url, { headers: { 'Content-Type': 'text/xml' }, body: writeV2Xml(fields) });
      }
      return o;
    },
    notification,
    rotatePlatformCertificate: (opts = {}) => replacePlatform(false, opts.retireOld === true),
    expirePlatformCertificate: () => replacePlatform(true, false),
    decryptSensitive(ciphertext, serial) {
      const key = serial === publicKeyId ? publicKeyPair.privateKey : platforms.find((p) => p.serial === serial)?.issued.key.privateKey;
      if (!key) throw new PayArgumentError(`@pay/sandbox: wechat: decryptSensitive: unknown serial ${serial}`);
      return rsaOaepDecrypt(key, ciphertext).toString('utf8');
    },
    async close() {
      notifier.stop();
      for (const t of timers) clearTimeout(t);
      timers.clear();
      await Promise.all([v3Server.close(), v2Server?.close()]);
    },
  };
  return emulator;
}
