/**
 * A loopback emulator of the UnionPay ACP gateway (5.1.0 and 5.0.0): app
 * transactions (`tn`), browser transactions, back-channel undo / refund /
 * pre-authorisation completion and undos, `queryTrans`, file download, and
 * signed back notifications delivered with UnionPay's retry schedule.
 *
 * It checks request signatures the way the gateway does (the merchant
 * certificate found by `certId`, SHA-256 for 5.1.0, SHA-1 for 5.0.0, or the
 * secure key for signMethod 11/12) and answers with raw, signed `k=v&…` bodies
 * carrying its own generated `signPubKeyCert` (CRLF line breaks), with real
 * response codes.
 *
 * @module
 */
import { randomInt } from 'node:crypto';
import { deflateSync } from 'node:zlib';
import {
  type Clock,
  canonicalString,
  formDecode,
  formEncode,
  rsaPkcs1Decrypt,
  rsaPkcs1Encrypt,
  rsaSign,
  rsaVerify,
  sha1Hex,
  sha256Hex,
  sm3Hex,
  systemClock,
  timingSafeEqualData,
} from '@pay/core';
import { Notifier } from '../common/notifier.js';
import { type EmulatorRequest, type EmulatorResponse, type LoopbackServer, startLoopbackServer } from '../common/server.js';
import {
  generateUnionPayHierarchy,
  type IssuedCertificate,
  issueCertificate,
  toCrlfPem,
  UNIONPAY_OWNER,
  type UnionPayHierarchy,
  unionPayStyleCn,
} from './pki.js';

type Fields = Record<string, string>;

/** UnionPay's back-notification schedule: up to five sends, at intervals of 0, 1, 2 and 4 minutes. */
export const UNIONPAY_NOTIFY_RETRY_MS: readonly number[] = Object.freeze([0, 60_000, 120_000, 240_000]);

/** Options of {@link startUnionPayEmulator}. */
export interface UnionPayEmulatorOptions {
  /** The merchant number the emulator serves; `777290058110048` by default. */
  merId?: string;
  /** `5.1.0` (default) or `5.0.0`: the version of `clientConfig`. The emulator answers each request in its own version. */
  version?: '5.1.0' | '5.0.0';
  /** Factor applied to UnionPay's retry schedule (0, 1, 2, 4 minutes); 0.0005 by default (0, 30, 60, 120 ms). */
  timeScale?: number;
  /** The emulator's clock (txnTime checks, settleDate, certificate validity); the system clock by default. */
  clock?: Clock;
  /** Enables signMethod 11/12 requests with this secure key. */
  secureKey?: string;
  /** Reuse a generated hierarchy (saves the key generation); one is generated otherwise. */
  hierarchy?: UnionPayHierarchy;
  /** RSA key size of generated certificates; 2048 by default. */
  bits?: number;
}

/** What `new UnionPayClient(emu.clientConfig)` needs (structurally a `UnionPayConfig`). */
export interface UnionPayEmulatorClientConfig {
  /** The merchant number. */
  merId: string;
  /** The emulator's base URL. */
  environment: { baseUrl: string };
  /** The merchant `.pfx` the emulator generated (its certificate is known to the emulator by certId). */
  signCert: { pfx: Buffer; password: string };
  /** The emulator's root certificate. */
  rootCert: string;
  /** The emulator's middle certificate. */
  middleCert: string;
  /** The emulator's encryption certificate (for `accNo` / `customerInfo`). */
  encryptCert: string;
  /** 5.0.0: the emulator's verify certificate. */
  verifyCerts?: string[];
  /** The version. */
  version: '5.1.0' | '5.0.0';
}

/** Which certificate signs the emulator's answers and notifications. */
export type UnionPayCertificateFault = 'valid' | 'expired' | 'self-signed' | 'other-ca' | 'test-cn';

/** Faults a test can inject. Mutate freely. */
export interface UnionPayEmulatorFaults {
  /** Every API answer waits this long, ms. */
  delayMs: number;
  /** The next N API calls answer an HTTP 5xx. */
  http5xx: number;
  /** The status of those answers (503 by default). */
  status5xx: number;
  /** The next N API answers carry no signature. */
  unsigned: number;
  /** The next API answer is this (signed) business error. */
  nextRespCode: { respCode: string; respMsg: string } | undefined;
  /** The certificate that signs answers and notifications from now on. */
  certificate: UnionPayCertificateFault;
  /** Replaces the valid signing certificate by a new one from the same middle CA (a rotation). */
  rotateCertificate(): IssuedCertificate;
}

/** A transaction as the emulator keeps it. */
export interface UnionPayTransaction {
  /** Merchant order number. */
  orderId: string;
  /** Its txnTime. */
  txnTime: string;
  /** Transaction type (01 consume, 02 pre-auth, 03 completion, 04 refund, 31/32/33 undos). */
  txnType: string;
  /** Sub-type. */
  txnSubType: string;
  /** Product type. */
  bizType: string;
  /** Channel. */
  channelType: string;
  /** Amount, fen. */
  txnAmt: number;
  /** Where notifications go. */
  backUrl: string | undefined;
  /** Where the browser returns. */
  frontUrl: string | undefined;
  /** Echoed reserved data. */
  reqReserved: string | undefined;
  /** UnionPay's id (assigned when the transaction happens). */
  queryId: string | undefined;
  /** The original transaction's id (back-channel transactions). */
  origQryId: string | undefined;
  /** `created` (waiting for the payer), `success`, `processing` or `failed`. */
  state: 'created' | 'success' | 'processing' | 'failed';
  /** The transaction's result code once known. */
  origRespCode: string | undefined;
  /** The `tn` of app transactions. */
  tn: string | undefined;
  /** Amount already refunded / undone / completed against it, fen. */
  consumed: number;
  /** Settlement date MMDD. */
  settleDate: string | undefined;
  /** Trace number. */
  traceNo: string | undefined;
  /** Trace time MMDDhhmmss. */
  traceTime: string | undefined;
  /** The card number used (returned encrypted for the merchant). */
  accNo: string | undefined;
  /** The version the transaction was requested in. */
  version: string;
  /** The signMethod it was requested with. */
  signMethod: string;
}

/** Options of {@link UnionPayEmulator.pay}. */
export interface UnionPayPayOptions {
  /** `success` (default), `processing` (query answers origRespCode 05) or `failed`. */
  result?: 'success' | 'processing' | 'failed';
  /** The origRespCode of a failed payment (`60` by default). */
  respCode?: string;
  /** The card number; returned encrypted for the merchant in the notification and queries. */
  accNo?: string;
  /** Deliver the back notification (default true for success). */
  notify?: boolean;
}

/** A running UnionPay emulator. */
export interface UnionPayEmulator {
  /** Base URL (`http://127.0.0.1:<port>`). */
  readonly url: string;
  /** Everything `new UnionPayClient(...)` needs to talk to this emulator. */
  readonly clientConfig: UnionPayEmulatorClientConfig;
  /** The deliverer of back notifications (its `faults`: drop, duplicate, tamper, reorder, delay; its `log`). */
  readonly notifier: Notifier;
  /** API faults. */
  readonly faults: UnionPayEmulatorFaults;
  /** The generated hierarchy (root, middle, signing, encryption, merchant). */
  readonly hierarchy: UnionPayHierarchy;
  /** Transactions by orderId. */
  readonly transactions: ReadonlyMap<string, UnionPayTransaction>;
  /** Every API request received, with its decoded fields and the respCode answered. */
  readonly requests: ReadonlyArray<{ path: string; fields: Readonly<Record<string, string>>; respCode: string }>;
  /**
   * Marks an order (consume or pre-authorisation) paid — or processing / failed — and, on success,
   * delivers the signed back notification to its `backUrl` through the notifier.
   */
  pay(orderId: string, options?: UnionPayPayOptions): UnionPayTransaction;
  /** The signed form the payer's browser would post to the order's `frontUrl` after paying. */
  frontReturn(orderId: string): { url: string; body: string; fields: Record<string, string> };
  /** The signed notification body of a transaction (as delivered to its backUrl). */
  notificationBody(orderId: string): string;
  /** Signs fields as the gateway does (with the current certificate fault) and returns the raw response text. */
  signResponse(fields: Record<string, string>, version?: string): string;
  /** Stops the server and the notifier. */
  close(): Promise<void>;
}

const DAY = 86_400_000;
const OK_MSG = '成功[0000000]';
const MESSAGES: Record<string, string> = {
  '10': '报文格式错误',
  '11': '验证签名失败',
  '12': '重复交易',
  '13': '报文交易要素缺失',
  '31': '商户状态不正确',
  '32': '无此交易权限',
  '34': '查无此交易',
  '35': '原交易不存在或状态不正确',
  '36': '与原交易信息不符',
  '60': '交易失败，详情请咨询您的发卡行',
  '98': '文件不存在',
};
const REQUIRED = ['version', 'encoding', 'signMethod', 'txnType', 'txnSubType', 'bizType', 'accessType', 'merId', 'signature'];

function beijing(ms: number): string {
  return new Date(ms + 8 * 3600_000).toISOString().slice(0, 19).replace(/[-T:]/g, '');
}

function digits(n: number): string {
  let s = '';
  while (s.length < n) s += String(randomInt(1_000_000_000)).padStart(9, '0');
  return s.slice(0, n);
}

class AcpError extends Error {
  constructor(
    readonly respCode: string,
    message?: string,
  ) {
    super(message ?? MESSAGES[respCode] ?? 'error');
  }
}

/**
 * Starts the emulator on 127.0.0.1 at a random port.
 *
 * @example
 * ```ts
 * const emu = await startUnionPayEmulator();
 * const client = new UnionPayClient(emu.clientConfig);
 * const { tn } = await client.appConsume({ orderId: 'A20260101001', txnAmt: 100, backUrl });
 * emu.pay('A20260101001'); // delivers the signed notification to backUrl
 * ```
 */
export async function startUnionPayEmulator(options: UnionPayEmulatorOptions = {}): Promise<UnionPayEmulator> {
  const clock = options.clock ?? systemClock;
  const merId = options.merId ?? '777290058110048';
  const version = options.version ?? '5.1.0';
  const timeScale = options.timeScale ?? 0.0005;
  const bits = options.bits ?? 2048;
  const hierarchy = options.hierarchy ?? generateUnionPayHierarchy({ now: clock(), bits, merId });
  const merchants = new Map<string, IssuedCertificate>([[hierarchy.merchant.certId, hierarchy.merchant]]);
  let signing = hierarchy.signing;
  const faultCerts = new Map<UnionPayCertificateFault, IssuedCertificate>();
  const faultCert = (kind: UnionPayCertificateFault): IssuedCertificate => {
    if (kind === 'valid') return signing;
    let c = faultCerts.get(kind);
    if (c) return c;
    const now = clock();
    const subject = (owner: string): Record<string, string> => ({
      C: 'cn',
      O: 'pay-sdk sandbox OCA1',
      OU: 'Enterprises',
      CN: unionPayStyleCn(owner),
    });
    if (kind === 'expired') {
      c = issueCertificate({
        subject: subject(UNIONPAY_OWNER),
        issuer: hierarchy.middle,
        notBefore: now - 400 * DAY,
        notAfter: now - DAY,
        bits,
      });
    } else if (kind === 'test-cn') {
      c = issueCertificate({
        subject: subject('00040000:SIGN'),
        issuer: hierarchy.middle,
        notBefore: now - DAY,
        notAfter: now + 365 * DAY,
        bits,
      });
    } else if (kind === 'self-signed') {
      c = issueCertificate({ subject: subject(UNIONPAY_OWNER), notBefore: now - DAY, notAfter: now + 365 * DAY, bits });
    } else {
      const otherRoot = issueCertificate({
        subject: { CN: 'another CA' },
        ca: true,
        notBefore: now - DAY,
        notAfter: now + 3650 * DAY,
        bits,
      });
      c = issueCertificate({
        subject: subject(UNIONPAY_OWNER),
        issuer: otherRoot,
        notBefore: now - DAY,
        notAfter: now + 365 * DAY,
        bits,
      });
    }
    faultCerts.set(kind, c);
    return c;
  };

  const faults: UnionPayEmulatorFaults = {
    delayMs: 0,
    http5xx: 0,
    status5xx: 503,
    unsigned: 0,
    nextRespCode: undefined,
    certificate: 'valid',
    rotateCertificate() {
      const now = clock();
      signing = issueCertificate({
        subject: { C: 'cn', O: 'pay-sdk sandbox OCA1', OU: 'Enterprises', CN: unionPayStyleCn(UNIONPAY_OWNER) },
        issuer: hierarchy.middle,
        notBefore: now - DAY,
        notAfter: now + 365 * DAY,
        bits,
      });
      return signing;
    },
  };

  const notifier = new Notifier({
    retryDelaysMs: UNIONPAY_NOTIFY_RETRY_MS.map((d) => d * timeScale),
    isAcknowledged: (status) => status === 200 || status === 302,
  });
  const transactions = new Map<string, UnionPayTransaction>();
  const byQueryId = new Map<string, UnionPayTransaction>();
  const requests: Array<{ path: string; fields: Readonly<Fields>; respCode: string }> = [];

  const signingString = (fields: Fields): string => canonicalString(fields, { exclude: ['signature'], dropEmpty: false });

  /** Signs fields as UnionPay does (5.1.0: signPubKeyCert + SHA-256; 5.0.0: certId + SHA-1; 11/12: secure key). */
  const signAsUnionPay = (fields: Fields, v: string, signMethod = '01'): Fields => {
    const out: Fields = { ...fields, version: v, signMethod };
    delete out.signature;
    if (signMethod === '11' || signMethod === '12') {
      const key = options.secureKey ?? '';
      const digest = signMethod === '11' ? sha256Hex : sm3Hex;
      out.signature = digest(`${signingString(out)}&${digest(key)}`);
      return out;
    }
    const cert = faultCert(faults.certificate);
    if (v === '5.0.0') {
      out.certId = cert.certId;
      out.signature = rsaSign('sha1', cert.privateKey, sha1Hex(signingString(out)));
    } else {
      out.signPubKeyCert = toCrlfPem(cert.pem);
      out.signature = rsaSign('sha256', cert.privateKey, sha256Hex(signingString(out)));
    }
    return out;
  };

  const rawBody = (fields: Fields): string => {
    const tail = ['signPubKeyCert', 'signature'];
    const keys = Object.keys(fields)
      .filter((k) => !tail.includes(k))
      .sort();
    for (const k of tail) if (fields[k] !== undefined) keys.push(k);
    return keys.map((k) => `${k}=${fields[k]}`).join('&');
  };

  /** Checks a merchant request the way the gateway does; throws AcpError. */
  const checkRequest = (fields: Fields): void => {
    for (const k of REQUIRED) if (fields[k] === undefined || fields[k] === '') throw new AcpError('13', `报文交易要素缺失[${k}]`);
    if (fields.version !== '5.1.0' && fields.version !== '5.0.0') throw new AcpError('10', `报文格式错误[version]`);
    const text = signingString(fields);
    const signature = fields.signature as string;
    if (fields.signMethod === '01') {
      const merchant = fields.certId === undefined ? undefined : merchants.get(fields.certId);
      if (!merchant) throw new AcpError('11', `验证签名失败[certId ${fields.certId ?? ''}]`);
      const ok =
        fields.version === '5.1.0'
          ? rsaVerify('sha256', merchant.publicKey, sha256Hex(text), signature)
          : rsaVerify('sha1', merchant.publicKey, sha1Hex(text), signature);
      if (!ok) throw new AcpError('11');
    } else if ((fields.signMethod === '11' || fields.signMethod === '12') && options.secureKey !== undefined) {
      const digest = fields.signMethod === '11' ? sha256Hex : sm3Hex;
      if (!timingSafeEqualData(digest(`${text}&${digest(options.secureKey)}`), signature)) throw new AcpError('11');
    } else {
      throw new AcpError('11', `验证签名失败[signMethod ${fields.signMethod}]`);
    }
    if (fields.merId !== merId) throw new AcpError('31');
    if (fields.accessType !== '0') throw new AcpError('32');
    if (fields.txnTime !== undefined && !/^\d{14}$/.test(fields.txnTime)) throw new AcpError('10', '报文格式错误[txnTime]');
    if (fields.accNo !== undefined) {
      if (fields.encryptCertId !== hierarchy.encrypt.certId) throw new AcpError('10', '报文格式错误[encryptCertId]');
      try {
        rsaPkcs1Decrypt(hierarchy.encrypt.privateKey, fields.accNo);
      } catch {
        throw new AcpError('10', '报文格式错误[accNo]');
      }
    }
  };

  const need = (fields: Fields, ...names: string[]): void => {
    for (const n of names) if (fields[n] === undefined || fields[n] === '') throw new AcpError('13', `报文交易要素缺失[${n}]`);
  };

  const echo = (fields: Fields): Fields => {
    const out: Fields = {};
    for (const k of [
      'version',
      'encoding',
      'bizType',
      'txnTime',
      'txnType',
      'txnSubType',
      'accessType',
      'merId',
      'orderId',
      'txnAmt',
      'currencyCode',
      'reqReserved',
      'origQryId',
      'settleDate',
      'fileType',
    ]) {
      if (fields[k] !== undefined) out[k] = fields[k] as string;
    }
    return out;
  };

  const newTransaction = (fields: Fields, state: UnionPayTransaction['state']): UnionPayTransaction => {
    need(fields, 'orderId', 'txnTime', 'txnAmt');
    if (!/^[A-Za-z0-9]{8,32}$/.test(fields.orderId as string)) throw new AcpError('10', '报文格式错误[orderId]');
    if (!/^\d{1,12}$/.test(fields.txnAmt as string) || Number(fields.txnAmt) === 0) throw new AcpError('10', '报文格式错误[txnAmt]');
    if (transactions.has(fields.orderId as string)) throw new AcpError('12');
    const t: UnionPayTransaction = {
      orderId: fields.orderId as string,
      txnTime: fields.txnTime as string,
      txnType: fields.txnType as string,
      txnSubType: fields.txnSubType as string,
      bizType: fields.bizType as string,
      channelType: fields.channelType ?? '07',
      txnAmt: Number(fields.txnAmt),
      backUrl: fields.backUrl,
      frontUrl: fields.frontUrl,
      reqReserved: fields.reqReserved,
      queryId: undefined,
      origQryId: fields.origQryId,
      state,
      origRespCode: undefined,
      tn: undefined,
      consumed: 0,
      settleDate: undefined,
      traceNo: undefined,
      traceTime: undefined,
      accNo: undefined,
      version: fields.version as string,
      signMethod: fields.signMethod as string,
    };
    return t;
  };

  const settle = (t: UnionPayTransaction, state: UnionPayTransaction['state'], code: string): void => {
    const now = clock();
    const bj = beijing(now);
    t.state = state;
    t.origRespCode = code;
    if (t.queryId === undefined) {
      t.queryId = `${bj.slice(2, 14)}${digits(9)}`;
      byQueryId.set(t.queryId, t);
    }
    t.traceNo = digits(6);
    t.traceTime = bj.slice(4, 14);
    t.settleDate = bj.slice(4, 8);
  };

  const resultFields = (t: UnionPayTransaction): Fields => {
    const f: Fields = {
      version: t.version,
      encoding: 'utf-8',
      bizType: t.bizType,
      txnTime: t.txnTime,
      txnType: t.txnType,
      txnSubType: t.txnSubType,
      accessType: '0',
      merId,
      orderId: t.orderId,
      txnAmt: String(t.txnAmt),
      currencyCode: '156',
      respCode: t.origRespCode ?? '00',
      respMsg: t.origRespCode === '00' || t.origRespCode === undefined ? 'Success!' : (MESSAGES[t.origRespCode] ?? 'failed'),
    };
    if (t.queryId !== undefined) f.queryId = t.queryId;
    if (t.origQryId !== undefined) f.origQryId = t.origQryId;
    if (t.traceNo !== undefined) f.traceNo = t.traceNo;
    if (t.traceTime !== undefined) f.traceTime = t.traceTime;
    if (t.settleDate !== undefined) {
      f.settleDate = t.settleDate;
      f.settleAmt = String(t.txnAmt);
      f.settleCurrencyCode = '156';
    }
    if (t.reqReserved !== undefined) f.reqReserved = t.reqReserved;
    if (t.accNo !== undefined) f.accNo = rsaPkcs1Encrypt(hierarchy.merchant.publicKey, t.accNo);
    return f;
  };

  const notify = (t: UnionPayTransaction): void => {
    if (t.backUrl === undefined) return;
    notifier.send({
      url: t.backUrl,
      headers: { 'content-type': 'application/x-www-form-urlencoded;charset=UTF-8' },
      body: formEncode(signAsUnionPay(resultFields(t), t.version, t.signMethod)),
    });
  };

  // ---- routes ------------------------------------------------------------------

  const consume = (fields: Fields, channel: 'app' | 'front'): UnionPayTransaction => {
    if (fields.txnType !== '01' && fields.txnType !== '02') throw new AcpError('32', `无此交易权限[txnType ${fields.txnType}]`);
    need(fields, 'orderId', 'txnTime', 'txnAmt', 'currencyCode', 'backUrl', 'channelType');
    if (fields.currencyCode !== '156') throw new AcpError('10', '报文格式错误[currencyCode]');
    if (channel === 'front') need(fields, 'frontUrl');
    const t = newTransaction(fields, 'created');
    if (channel === 'app') t.tn = digits(21);
    transactions.set(t.orderId, t);
    return t;
  };

  const back = (fields: Fields): UnionPayTransaction => {
    need(fields, 'orderId', 'txnTime', 'txnAmt', 'origQryId', 'backUrl');
    const orig = byQueryId.get(fields.origQryId as string);
    const amount = Number(fields.txnAmt);
    const type = fields.txnType;
    const expected: Record<string, string> = { '31': '01', '04': '01', '03': '02', '32': '02', '33': '03' };
    if (expected[type as string] === undefined) throw new AcpError('32', `无此交易权限[txnType ${type}]`);
    if (!orig || orig.txnType !== expected[type as string] || orig.state !== 'success') throw new AcpError('35');
    const remaining = orig.txnAmt - orig.consumed;
    if (type === '31' || type === '32' || type === '33') {
      if (orig.consumed > 0 || amount !== orig.txnAmt) throw new AcpError('36', '与原交易信息不符[txnAmt]');
    } else if (type === '04') {
      if (amount > remaining) throw new AcpError('36', '与原交易信息不符[txnAmt]');
    } else if (type === '03') {
      if (orig.consumed > 0 || amount > Math.floor(orig.txnAmt * 1.15)) throw new AcpError('36', '与原交易信息不符[txnAmt]');
    }
    const t = newTransaction(fields, 'created');
    transactions.set(t.orderId, t);
    settle(t, 'success', '00');
    orig.consumed += type === '03' ? orig.txnAmt : amount;
    return t;
  };

  const api = (path: string, fields: Fields): Fields => {
    if (faults.nextRespCode) {
      const { respCode, respMsg } = faults.nextRespCode;
      faults.nextRespCode = undefined;
      throw new AcpError(respCode, respMsg);
    }
    checkRequest(fields);
    const base = echo(fields);
    switch (path) {
      case '/gateway/api/appTransReq.do': {
        const t = consume(fields, 'app');
        return { ...base, respCode: '00', respMsg: OK_MSG, tn: t.tn as string };
      }
      case '/gateway/api/backTransReq.do': {
        const t = back(fields);
        setTimeout(() => notify(t), 0);
        return { ...base, respCode: '00', respMsg: OK_MSG, queryId: t.queryId as string };
      }
      case '/gateway/api/queryTrans.do': {
        if (fields.txnType !== '00') throw new AcpError('32', `无此交易权限[txnType ${fields.txnType}]`);
        need(fields, 'orderId', 'txnTime');
        const t = transactions.get(fields.orderId as string);
        if (!t || t.txnTime !== fields.txnTime || t.state === 'created') throw new AcpError('34');
        const r = resultFields(t);
        return {
          ...r,
          txnType: t.txnType,
          txnSubType: t.txnSubType,
          respCode: '00',
          respMsg: OK_MSG,
          origRespCode: t.state === 'processing' ? '05' : (t.origRespCode as string),
          origRespMsg:
            t.state === 'processing'
              ? '交易已受理，请稍后查询交易结果'
              : t.origRespCode === '00'
                ? OK_MSG
                : (MESSAGES[t.origRespCode ?? ''] ?? 'failed'),
        };
      }
      case '/': {
        if (fields.txnType !== '76') throw new AcpError('32', `无此交易权限[txnType ${fields.txnType}]`);
        need(fields, 'settleDate', 'txnTime', 'fileType');
        const rows = [...transactions.values()].filter((t) => t.state === 'success' && t.settleDate === fields.settleDate);
        if (rows.length === 0) throw new AcpError('98');
        const text = rows.map((t) => [t.txnType, t.orderId, t.queryId, t.txnAmt, t.txnTime, t.settleDate].join('|')).join('\n');
        return {
          ...base,
          respCode: '00',
          respMsg: OK_MSG,
          fileName: `${merId}_${fields.settleDate}.txt`,
          fileContent: deflateSync(Buffer.from(`${text}\n`, 'utf8')).toString('base64'),
        };
      }
      default:
        throw new AcpError('10', `报文格式错误[path ${path}]`);
    }
  };

  const handler = async (req: EmulatorRequest): Promise<EmulatorResponse> => {
    if (faults.delayMs > 0) await new Promise((r) => setTimeout(r, faults.delayMs));
    if (faults.http5xx > 0) {
      faults.http5xx--;
      return { status: faults.status5xx, headers: { 'content-type': 'text/html' }, body: '<html><body>Service Unavailable</body></html>' };
    }
    if (req.method !== 'POST') return { status: 405, body: 'method not allowed' };
    let fields: Fields;
    try {
      fields = formDecode(req.body);
    } catch {
      return { status: 200, headers: { 'content-type': 'text/plain;charset=UTF-8' }, body: `respCode=10&respMsg=${MESSAGES['10']}` };
    }
    const v = fields.version === '5.0.0' ? '5.0.0' : '5.1.0';
    if (req.path === '/gateway/api/frontTransReq.do') {
      try {
        checkRequest(fields);
        const t = consume(fields, 'front');
        requests.push({ path: req.path, fields, respCode: '00' });
        return {
          status: 200,
          headers: { 'content-type': 'text/html; charset=utf-8' },
          body: `<!DOCTYPE html><html><head><meta charset="utf-8"><title>UnionPay sandbox</title></head><body><h1>UnionPay sandbox checkout</h1><p>Order ${t.orderId}: ${t.txnAmt} fen. Call emulator.pay('${t.orderId}') to pay it.</p></body></html>`,
        };
      } catch (e) {
        const code = e instanceof AcpError ? e.respCode : '99';
        requests.push({ path: req.path, fields, respCode: code });
        return {
          status: 200,
          headers: { 'content-type': 'text/html; charset=utf-8' },
          body: `<!DOCTYPE html><html><body><h1>UnionPay sandbox</h1><p>respCode=${code} ${e instanceof Error ? e.message : ''}</p></body></html>`,
        };
      }
    }
    let answer: Fields;
    try {
      answer = api(req.path, fields);
    } catch (e) {
      if (!(e instanceof AcpError)) throw e;
      answer = { ...echo(fields), respCode: e.respCode, respMsg: e.message };
    }
    requests.push({ path: req.path, fields, respCode: answer.respCode as string });
    let body: string;
    if (faults.unsigned > 0) {
      faults.unsigned--;
      body = rawBody({ ...answer, version: v });
    } else {
      const method = fields.signMethod === '11' || fields.signMethod === '12' ? fields.signMethod : '01';
      body = rawBody(signAsUnionPay(answer, v, options.secureKey !== undefined ? method : '01'));
    }
    return { status: 200, headers: { 'content-type': 'text/plain;charset=UTF-8' }, body };
  };

  const server: LoopbackServer = await startLoopbackServer(handler);

  const clientConfig: UnionPayEmulatorClientConfig = {
    merId,
    environment: { baseUrl: server.url },
    signCert: { pfx: hierarchy.merchantPfx, password: hierarchy.pfxPassword },
    rootCert: hierarchy.root.pem,
    middleCert: hierarchy.middle.pem,
    encryptCert: hierarchy.encrypt.pem,
    version,
    ...(version === '5.0.0' ? { verifyCerts: [hierarchy.signing.pem] } : {}),
  };

  const find = (orderId: string): UnionPayTransaction => {
    const t = transactions.get(orderId);
    if (!t) throw new Error(`UnionPay emulator: no transaction with orderId ${orderId}`);
    return t;
  };

  return {
    url: server.url,
    clientConfig,
    notifier,
    faults,
    hierarchy,
    transactions,
    requests,
    pay(orderId, payOptions = {}) {
      const t = find(orderId);
      if (t.txnType !== '01' && t.txnType !== '02') throw new Error(`UnionPay emulator: ${orderId} is not a consume or pre-authorisation`);
      if (t.state === 'success') throw new Error(`UnionPay emulator: ${orderId} is already paid`);
      const result = payOptions.result ?? 'success';
      if (payOptions.accNo !== undefined) t.accNo = payOptions.accNo;
      if (result === 'success') settle(t, 'success', '00');
      else if (result === 'processing') settle(t, 'processing', '05');
      else settle(t, 'failed', payOptions.respCode ?? '60');
      if (payOptions.notify ?? result === 'success') notify(t);
      return t;
    },
    frontReturn(orderId) {
      const t = find(orderId);
      if (!t.frontUrl) throw new Error(`UnionPay emulator: ${orderId} has no frontUrl (not a browser transaction)`);
      const fields = signAsUnionPay(resultFields(t), t.version, t.signMethod);
      return { url: t.frontUrl, body: formEncode(fields), fields };
    },
    notificationBody(orderId) {
      const t = find(orderId);
      return formEncode(signAsUnionPay(resultFields(t), t.version, t.signMethod));
    },
    signResponse(fields, v = version) {
      return rawBody(signAsUnionPay(fields, v));
    },
    async close() {
      notifier.stop();
      await server.close();
    },
  };
}
