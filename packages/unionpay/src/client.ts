/**
 * {@link UnionPayClient}: the ACP gateway's transactions, one method each,
 * built as small steps (fields → rules → sign → send → parse → verify → interpret).
 *
 * @module
 */
import { createRequire } from 'node:module';
import {
  type Clock,
  formEncode,
  type IncomingNotification,
  isPayError,
  type NotificationReply,
  PayArgumentError,
  PayConfigError,
  type PayError,
  PayMismatchError,
  PayResponseError,
  PaySignatureError,
  type Transport,
  textReply,
} from '@pay/core';
import { type AcpSignMethod, type AcpVersion, resolveConfig, type UnionPayConfig, type UnionPayEndpoints } from './config.js';
import { providerError, transportError } from './errors.js';
import {
  assertCallbackUrl,
  assertCurrencyCode,
  assertOrderId,
  assertQueryId,
  assertReqReserved,
  assertSettleDate,
  assertTxnTime,
  formatTxnTime,
  fromTxnAmt,
  PREFIX,
  toTxnAmt,
} from './fields.js';
import { parseGatewayResponse, parseNotificationBody } from './parse.js';
import { interpretQuery, nextQueryTime, PENDING_CODES, type QuerySchedule, type QueryState } from './query.js';
import { buildCustomerInfo, type CustomerInfo, decryptSensitive, encryptSensitive } from './sensitive.js';
import { type AcpFields, type AcpSigner, createSigner, prepareFields } from './sign.js';
import { AcpVerifier, type CertificateCacheStats } from './verify.js';

/** Provider fields added to a request as given (e.g. `riskRateInfo`, `accSplitData`, `accNo`, `encryptCertId`). */
export type ExtraFields = Readonly<Record<string, string | number | undefined>>;

/** Fields every consume and pre-authorisation takes. */
export interface ConsumeParams {
  /** The merchant's order number: 8–32 letters or digits, unique. */
  orderId: string;
  /** `YYYYMMDDhhmmss`, Beijing time; the client's clock by default. Keep it: queries need it. */
  txnTime?: string;
  /** Amount in fen. */
  txnAmt: number;
  /** `156` (CNY), the default and the only value accepted. */
  currencyCode?: '156';
  /** Where UnionPay posts the result (后台通知地址). */
  backUrl: string;
  /** Echoed back in the answer and the notification; at most 1024 bytes. */
  reqReserved?: string;
  /** When the order stops being payable, `YYYYMMDDhhmmss` Beijing time. */
  payTimeout?: string;
  /** Product type; `000201` (gateway payment) by default. */
  bizType?: string;
  /** Further provider fields, added as given. */
  extra?: ExtraFields;
}

/** Parameters of {@link UnionPayClient.frontConsume} and {@link UnionPayClient.frontPreAuth}. */
export interface FrontConsumeParams extends ConsumeParams {
  /** Where the payer's browser returns (前台通知地址; display only). */
  frontUrl: string;
  /** `07` PC web (default) or `08` mobile (WAP). */
  channelType?: '07' | '08';
}

/** Parameters of back-channel transactions on an earlier one (undo, refund, completion…). */
export interface BackTransParams {
  /** This transaction's own new order number (8–32 letters or digits). */
  orderId: string;
  /** This transaction's own `txnTime`; the client's clock by default. */
  txnTime?: string;
  /** Amount in fen. */
  txnAmt: number;
  /** The `queryId` of the original transaction. */
  origQryId: string;
  /** Where UnionPay posts the result. */
  backUrl: string;
  /** Echoed back in the answer and the notification; at most 1024 bytes. */
  reqReserved?: string;
  /** Product type; `000201` by default. */
  bizType?: string;
  /** Channel; `07` by default. */
  channelType?: string;
  /** Further provider fields, added as given. */
  extra?: ExtraFields;
}

/** The answer of an app transaction: the `tn` for the UnionPay mobile SDK. */
export interface AppTransResult {
  /** The transaction number (受理订单号) the app passes to the UnionPay SDK. */
  tn: string;
  /** The order number sent. */
  orderId: string;
  /** The `txnTime` sent (store it: queries need it). */
  txnTime: string;
  /** The verified answer. */
  fields: Readonly<AcpFields>;
}

/** A browser form that submits itself to the gateway. */
export interface FrontForm {
  /** The gateway URL the form posts to. */
  action: string;
  /** The signed fields. */
  fields: Readonly<AcpFields>;
  /** A complete HTML page that posts the form on load (values HTML-escaped). */
  html: string;
  /** The order number sent. */
  orderId: string;
  /** The `txnTime` sent. */
  txnTime: string;
}

/** The synchronous answer of a back-channel transaction. */
export interface BackTransResult {
  /** `accepted` (respCode 00: the result follows by notification or query) or `processing` (03/04/05: query). */
  state: 'accepted' | 'processing';
  /** The gateway's code. */
  respCode: string;
  /** The gateway's message. */
  respMsg: string | undefined;
  /** This transaction's UnionPay id, when given. */
  queryId: string | undefined;
  /** The order number sent. */
  orderId: string;
  /** The `txnTime` sent. */
  txnTime: string;
  /** When to query this transaction if no notification arrived (UnionPay's back-channel schedule), epoch ms. */
  nextQueryAt: number | undefined;
  /** The verified answer. */
  fields: Readonly<AcpFields>;
}

/** Parameters of {@link UnionPayClient.query}. */
export interface QueryParams {
  /** The order number of the transaction asked about. */
  orderId: string;
  /** Its `txnTime`. */
  txnTime: string;
  /** Product type; `000000` by default. */
  bizType?: string;
}

/** Options of {@link UnionPayClient.query}: where in the follow-up schedule this query stands. */
export interface QueryOptions {
  /** `front` (default) after browser/app payments, `back` after back-channel transactions. */
  schedule?: QuerySchedule;
  /** How many queries were made before this one (default 0). */
  queriesMade?: number;
}

/** The answer of {@link UnionPayClient.query}. */
export interface QueryResult {
  /** `success` (for a consume: paid), `processing`, `failed` or `not_found`. */
  state: QueryState;
  /** The query's own code. */
  respCode: string;
  /** The query's own message. */
  respMsg: string | undefined;
  /** The transaction's code. */
  origRespCode: string | undefined;
  /** The transaction's message. */
  origRespMsg: string | undefined;
  /** The transaction's UnionPay id. */
  queryId: string | undefined;
  /** The transaction's amount in fen, when given. */
  txnAmt: number | undefined;
  /** When to query again (processing / not found), per UnionPay's schedule; undefined when final or the schedule is over. */
  nextQueryAt: number | undefined;
  /** The verified answer. */
  fields: Readonly<AcpFields>;
}

/** Parameters of {@link UnionPayClient.downloadFile}. */
export interface FileDownloadParams {
  /** Settlement date `MMDD`. */
  settleDate: string;
  /** File type; `00` (the merchant's reconciliation files) by default. */
  fileType?: string;
  /** `txnTime` of the request; the client's clock by default. */
  txnTime?: string;
}

/** A downloaded file. */
export interface DownloadedFile {
  /** The file name UnionPay gives (a zip archive of the day's files for fileType 00). */
  fileName: string | undefined;
  /** The inflated content. */
  content: Buffer;
  /** The verified answer (without `fileContent`). */
  fields: Readonly<AcpFields>;
}

/** A verified notification or front return. */
export interface AcpNotification {
  /** Every field, verified. */
  fields: Readonly<AcpFields>;
  /** Transaction type (`01` consume, `04` refund, `31` undo, `02` pre-authorisation, `03` completion…). */
  txnType: string | undefined;
  /** Transaction sub-type. */
  txnSubType: string | undefined;
  /** The merchant order number of this transaction. */
  orderId: string | undefined;
  /** The merchant number. */
  merId: string | undefined;
  /** Result code (`00` success). */
  respCode: string | undefined;
  /** Result message. */
  respMsg: string | undefined;
  /** UnionPay's id of this transaction. */
  queryId: string | undefined;
  /** UnionPay's id of the original transaction (refunds, undos, completions). */
  origQryId: string | undefined;
  /** Amount in fen. */
  txnAmt: number | undefined;
  /** Currency code (`156`). */
  currencyCode: string | undefined;
  /** `txnTime` of the transaction. */
  txnTime: string | undefined;
  /** Settlement date `MMDD`. */
  settleDate: string | undefined;
  /** The `reqReserved` sent with the request. */
  reqReserved: string | undefined;
}

const FORM_HEADERS = Object.freeze({ 'content-type': 'application/x-www-form-urlencoded;charset=UTF-8' });
const SET_BY_CLIENT = new Set([
  'version',
  'encoding',
  'signMethod',
  'certId',
  'signature',
  'merId',
  'accessType',
  'txnType',
  'txnSubType',
  'bizType',
  'channelType',
  'orderId',
  'txnTime',
  'txnAmt',
  'currencyCode',
  'backUrl',
  'frontUrl',
  'origQryId',
  'reqReserved',
  'payTimeout',
]);
const requireHere = createRequire(import.meta.url);
let zlibModule: typeof import('node:zlib') | undefined;
/** node:zlib, loaded on the first file download only (it costs several ms of start-up otherwise). */
function zlib(): typeof import('node:zlib') {
  if (zlibModule === undefined) zlibModule = requireHere('node:zlib') as typeof import('node:zlib');
  return zlibModule;
}

const ECHOED = ['merId', 'orderId', 'txnType'] as const;
const QUERY_ECHOED = ['merId', 'orderId'] as const;
const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/**
 * Escapes text for an HTML attribute or element.
 *
 * @example
 * ```ts
 * escapeHtml('<a href="x">'); // '&lt;a href=&quot;x&quot;&gt;'
 * ```
 */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] as string);
}

/**
 * A stateless client of one UnionPay merchant. Keys and certificates are parsed
 * at construction; every failure is a `PayError` whose message starts with `@pay/unionpay`.
 *
 * @example
 * ```ts
 * const client = new UnionPayClient({ merId, environment: 'production', signCert: { pfx, password }, rootCert, middleCert });
 * const { tn, txnTime } = await client.appConsume({ orderId: 'A20240105001', txnAmt: 8888, backUrl: 'https://shop.example/unionpay/notify' });
 * ```
 */
export class UnionPayClient {
  /** The merchant number. */
  readonly merId: string;
  /** The ACP version used for every request and expected in every answer. */
  readonly version: AcpVersion;
  /** The signature method used and expected. */
  readonly signMethod: AcpSignMethod;
  /** `certId` of the signing certificate (its decimal serial), when a `.pfx` is configured. */
  readonly certId: string | undefined;
  /** When the signing certificate expires, epoch ms (renew it in time: UnionPay rejects expired certificates). */
  readonly signCertExpiresAt: number | undefined;
  /** `encryptCertId` of the encryption certificate, when configured. */
  readonly encryptCertId: string | undefined;
  /** The gateway endpoints. */
  readonly endpoints: UnionPayEndpoints;
  private readonly config: ReturnType<typeof resolveConfig>;
  private readonly signer: AcpSigner;
  private readonly verifier: AcpVerifier;
  private readonly transport: Transport;
  private readonly clock: Clock;

  /**
   * @param config - merchant number, environment, certificates
   * @throws PayConfigError naming what is missing or wrong
   */
  constructor(config: UnionPayConfig) {
    const resolved = resolveConfig(config);
    this.config = resolved;
    this.merId = resolved.merId;
    this.version = resolved.version;
    this.signMethod = resolved.signMethod;
    this.certId = resolved.certId;
    this.signCertExpiresAt = resolved.signCertificate?.notAfter;
    this.encryptCertId = resolved.encryptCertificate?.serialDecimal;
    this.endpoints = resolved.endpoints;
    this.transport = resolved.transport;
    this.clock = resolved.clock;
    this.signer = createSigner(resolved);
    this.verifier = new AcpVerifier({
      version: resolved.version,
      signMethod: resolved.signMethod,
      root: resolved.root,
      middle: resolved.middle,
      verifyCerts: resolved.verifyCerts,
      secureKeyDigest: resolved.secureKeyDigest,
      strictCn: resolved.strictCn,
      cacheSize: resolved.certCacheSize,
    });
  }

  // ---- low-level steps -------------------------------------------------

  /**
   * Signs request fields: blank values dropped, values trimmed, `signMethod`
   * (and `certId`) set, `signature` added. Returns a new object.
   *
   * @throws PayArgumentError for a value that is not a string or number
   */
  sign(fields: ExtraFields): AcpFields {
    return this.signer.sign(prepareFields(fields));
  }

  /**
   * Verifies UnionPay-signed fields (parsed from a response or a notification) at the client's clock.
   *
   * @throws PaySignatureError or PayCertificateError, with a `reason`
   */
  verify(fields: Readonly<AcpFields>, what = 'message'): void {
    this.verifier.verify(fields, this.clock(), what);
  }

  /**
   * Parses and verifies a raw synchronous gateway response (`k=v&…`, not URL-encoded).
   *
   * @param body - the response body exactly as received
   * @throws PayResponseError for a malformed body; PaySignatureError / PayCertificateError when it does not verify
   */
  verifyResponse(body: string | Uint8Array, what = 'gateway response'): AcpFields {
    const fields = parseGatewayResponse(body);
    this.verifyParsedResponse(fields, what);
    return fields;
  }

  /** Counters of the verified-certificate cache (size, hits, chain checks). */
  certificateCacheStats(): CertificateCacheStats {
    return this.verifier.cacheStats();
  }

  private verifyParsedResponse(fields: AcpFields, what: string): void {
    if (fields.signature === undefined) {
      const code = fields.respCode;
      throw new PaySignatureError(
        `${PREFIX}: ${what}: the answer carries no signature${code !== undefined ? ` (unverified respCode ${code}${fields.respMsg ? `: ${fields.respMsg}` : ''})` : ''}`,
        {
          reason: 'MISSING_SIGNATURE',
          provider: 'unionpay',
          ...(code !== undefined ? { providerCode: code } : {}),
          ...(fields.respMsg !== undefined ? { providerMessage: fields.respMsg } : {}),
        },
      );
    }
    this.verifier.verify(fields, this.clock(), what);
  }

  private txnTimeOf(value: string | undefined, what = 'txnTime'): string {
    if (value === undefined) return formatTxnTime(this.clock());
    assertTxnTime(value, what);
    return value;
  }

  private base(txnType: string, txnSubType: string, bizType: string | undefined, defaultBizType: string): AcpFields {
    const biz = bizType ?? defaultBizType;
    if (!/^\d{6}$/.test(biz)) throw new PayArgumentError(`${PREFIX}: bizType: expected 6 digits (e.g. 000201), got ${JSON.stringify(biz)}`);
    return {
      version: this.version,
      encoding: this.config.encoding,
      txnType,
      txnSubType,
      bizType: biz,
      accessType: '0',
      merId: this.merId,
    };
  }

  private addExtra(fields: AcpFields, extra: ExtraFields | undefined): AcpFields {
    if (extra === undefined) return fields;
    if (typeof extra !== 'object' || extra === null) throw new PayArgumentError(`${PREFIX}: extra: expected an object of fields`);
    const out = { ...fields };
    for (const [key, value] of Object.entries(extra)) {
      if (value === undefined) continue;
      if (SET_BY_CLIENT.has(key)) {
        throw new PayArgumentError(
          `${PREFIX}: extra.${key}: this field is set by the client (use the named parameter, or the configuration)`,
        );
      }
      if (typeof value !== 'string' && typeof value !== 'number') {
        throw new PayArgumentError(`${PREFIX}: extra.${key}: expected a string or a number, got ${typeof value}`);
      }
      out[key] = String(value);
    }
    return out;
  }

  private consumeFields(txnType: string, p: ConsumeParams, channelType: string): AcpFields {
    if (typeof p !== 'object' || p === null) throw new PayArgumentError(`${PREFIX}: expected an object of parameters`);
    assertOrderId(p.orderId);
    const txnTime = this.txnTimeOf(p.txnTime);
    const txnAmt = toTxnAmt(p.txnAmt);
    const currencyCode = p.currencyCode ?? '156';
    assertCurrencyCode(currencyCode);
    assertCallbackUrl(p.backUrl, 'backUrl');
    if (p.reqReserved !== undefined) assertReqReserved(p.reqReserved);
    if (p.payTimeout !== undefined) assertTxnTime(p.payTimeout, 'payTimeout');
    const fields: AcpFields = {
      ...this.base(txnType, '01', p.bizType, '000201'),
      channelType,
      orderId: p.orderId,
      txnTime,
      txnAmt,
      currencyCode,
      backUrl: p.backUrl,
    };
    if (p.reqReserved !== undefined) fields.reqReserved = p.reqReserved;
    if (p.payTimeout !== undefined) fields.payTimeout = p.payTimeout;
    return this.addExtra(fields, p.extra);
  }

  private backFields(txnType: string, p: BackTransParams): AcpFields {
    if (typeof p !== 'object' || p === null) throw new PayArgumentError(`${PREFIX}: expected an object of parameters`);
    assertOrderId(p.orderId);
    const txnTime = this.txnTimeOf(p.txnTime);
    const txnAmt = toTxnAmt(p.txnAmt);
    assertQueryId(p.origQryId);
    assertCallbackUrl(p.backUrl, 'backUrl');
    if (p.reqReserved !== undefined) assertReqReserved(p.reqReserved);
    const channelType = p.channelType ?? '07';
    if (!/^\d{2}$/.test(channelType))
      throw new PayArgumentError(`${PREFIX}: channelType: expected 2 digits (07, 08…), got ${JSON.stringify(channelType)}`);
    const fields: AcpFields = {
      ...this.base(txnType, '00', p.bizType, '000201'),
      channelType,
      orderId: p.orderId,
      txnTime,
      txnAmt,
      origQryId: p.origQryId,
      backUrl: p.backUrl,
    };
    if (p.reqReserved !== undefined) fields.reqReserved = p.reqReserved;
    return this.addExtra(fields, p.extra);
  }

  /**
   * Signs and posts fields to an endpoint, then parses and verifies the answer
   * and checks that it echoes our merchant and order.
   */
  private async post(
    url: string,
    fields: AcpFields,
    what: string,
    idempotent: boolean,
    echoed: readonly string[] = ECHOED,
  ): Promise<AcpFields> {
    const signed = this.signer.sign(prepareFields(fields));
    let response: Awaited<ReturnType<Transport['request']>>;
    try {
      response = await this.transport.request({
        method: 'POST',
        url,
        headers: { ...FORM_HEADERS },
        body: formEncode(signed),
        idempotent,
        ...(this.config.timeoutMs !== undefined ? { timeoutMs: this.config.timeoutMs } : {}),
      });
    } catch (e) {
      throw transportError(e, what);
    }
    if (response.status !== 200) {
      throw new PayResponseError(`${PREFIX}: ${what}: expected HTTP 200 from the gateway, got ${response.status}`, {
        httpStatus: response.status,
        provider: 'unionpay',
      });
    }
    const answer = parseGatewayResponse(response.body);
    this.verifyParsedResponse(answer, what);
    for (const key of echoed) {
      const sent = signed[key];
      const got = answer[key];
      if (sent !== undefined && got !== undefined && got !== sent) {
        throw new PayMismatchError(`${PREFIX}: ${what}: the answer is for ${key} ${got}, the request was for ${sent}`, {
          provider: 'unionpay',
        });
      }
    }
    return answer;
  }

  // ---- payments ------------------------------------------------------------

  /**
   * App consume (txnType 01, channelType 08): asks the gateway for the `tn` the
   * app hands to the UnionPay mobile SDK. The payment result arrives at `backUrl`.
   *
   * @throws PayArgumentError for invalid fields; PayProviderError when the gateway refuses
   */
  async appConsume(params: ConsumeParams): Promise<AppTransResult> {
    return this.appTrans('01', params, 'appConsume');
  }

  /**
   * App pre-authorisation (txnType 02): like {@link UnionPayClient.appConsume}, but only
   * freezes the amount; complete it with {@link UnionPayClient.preAuthComplete}.
   *
   * @throws PayArgumentError for invalid fields; PayProviderError when the gateway refuses
   */
  async appPreAuth(params: ConsumeParams): Promise<AppTransResult> {
    return this.appTrans('02', params, 'appPreAuth');
  }

  private async appTrans(txnType: string, params: ConsumeParams, what: string): Promise<AppTransResult> {
    const fields = this.consumeFields(txnType, params, '08');
    const answer = await this.post(this.endpoints.appTransReq, fields, what, false);
    if (answer.respCode !== '00') throw providerError(what, answer);
    const tn = answer.tn;
    if (tn === undefined || tn === '') throw new PayResponseError(`${PREFIX}: ${what}: respCode 00 but no tn in the answer`);
    return { tn, orderId: fields.orderId as string, txnTime: fields.txnTime as string, fields: answer };
  }

  /**
   * Web or WAP consume (txnType 01): a signed form that the payer's browser posts
   * to `frontTransReq.do`. No network call is made here.
   *
   * @example
   * ```ts
   * const { html } = client.frontConsume({ orderId, txnAmt: 100, backUrl, frontUrl, channelType: '08' });
   * res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(html);
   * ```
   * @throws PayArgumentError for invalid fields
   */
  frontConsume(params: FrontConsumeParams): FrontForm {
    return this.frontTrans('01', params);
  }

  /**
   * Web or WAP pre-authorisation (txnType 02) as an auto-submitting form.
   *
   * @throws PayArgumentError for invalid fields
   */
  frontPreAuth(params: FrontConsumeParams): FrontForm {
    return this.frontTrans('02', params);
  }

  private frontTrans(txnType: string, params: FrontConsumeParams): FrontForm {
    const channelType = params.channelType ?? '07';
    if (channelType !== '07' && channelType !== '08') {
      throw new PayArgumentError(`${PREFIX}: channelType: expected '07' (PC web) or '08' (mobile), got ${JSON.stringify(channelType)}`);
    }
    assertCallbackUrl(params.frontUrl, 'frontUrl');
    const fields = this.consumeFields(txnType, params, channelType);
    fields.frontUrl = params.frontUrl;
    const signed = this.signer.sign(prepareFields(fields));
    const action = this.endpoints.frontTransReq;
    const inputs = Object.keys(signed)
      .map((k) => `<input type="hidden" name="${escapeHtml(k)}" value="${escapeHtml(signed[k] as string)}">`)
      .join('\n');
    const html = `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>UnionPay</title></head>
<body>
<form id="unionpay_form" action="${escapeHtml(action)}" method="post" accept-charset="utf-8">
${inputs}
<noscript><button type="submit">Continue to UnionPay</button></noscript>
</form>
<script>document.getElementById('unionpay_form').submit();</script>
</body></html>
`;
    return { action, fields: signed, html, orderId: fields.orderId as string, txnTime: fields.txnTime as string };
  }

  // ---- back-channel ----------------------------------------------------------

  /**
   * Consume undo (消费撤销, txnType 31): cancels a consume on the day it was made, for its full amount.
   *
   * @throws PayArgumentError for invalid fields; PayProviderError when the gateway refuses
   */
  consumeUndo(params: BackTransParams): Promise<BackTransResult> {
    return this.backTrans('31', params, 'consumeUndo');
  }

  /**
   * Refund (退货, txnType 04): returns (part of) a consume; it needs its own new
   * `orderId` and `txnTime`, and the consume's `queryId` as `origQryId`.
   *
   * @throws PayArgumentError for invalid fields; PayProviderError when the gateway refuses
   */
  refund(params: BackTransParams): Promise<BackTransResult> {
    return this.backTrans('04', params, 'refund');
  }

  /**
   * Pre-authorisation completion (预授权完成, txnType 03): takes the money of a
   * pre-authorisation (`origQryId`), up to 115% of its amount.
   *
   * @throws PayArgumentError for invalid fields; PayProviderError when the gateway refuses
   */
  preAuthComplete(params: BackTransParams): Promise<BackTransResult> {
    return this.backTrans('03', params, 'preAuthComplete');
  }

  /**
   * Pre-authorisation undo (预授权撤销, txnType 32): releases a pre-authorisation; `txnAmt` must equal it.
   *
   * @throws PayArgumentError for invalid fields; PayProviderError when the gateway refuses
   */
  preAuthUndo(params: BackTransParams): Promise<BackTransResult> {
    return this.backTrans('32', params, 'preAuthUndo');
  }

  /**
   * Pre-authorisation completion undo (预授权完成撤销, txnType 33): cancels a completion (`origQryId`).
   *
   * @throws PayArgumentError for invalid fields; PayProviderError when the gateway refuses
   */
  preAuthCompleteUndo(params: BackTransParams): Promise<BackTransResult> {
    return this.backTrans('33', params, 'preAuthCompleteUndo');
  }

  private async backTrans(txnType: string, params: BackTransParams, what: string): Promise<BackTransResult> {
    const fields = this.backFields(txnType, params);
    const answer = await this.post(this.endpoints.backTransReq, fields, what, false);
    const code = answer.respCode ?? '';
    if (code !== '00' && !PENDING_CODES.has(code)) throw providerError(what, answer);
    const now = this.clock();
    return {
      state: code === '00' ? 'accepted' : 'processing',
      respCode: code,
      respMsg: answer.respMsg,
      queryId: answer.queryId,
      orderId: fields.orderId as string,
      txnTime: fields.txnTime as string,
      nextQueryAt: nextQueryTime('back', 0, now),
      fields: answer,
    };
  }

  // ---- query and files ---------------------------------------------------------

  /**
   * Transaction status query (queryTrans.do, txnType 00) by `orderId` + `txnTime`:
   * `respCode` then `origRespCode` interpreted into a state, plus when to ask again.
   *
   * @example
   * ```ts
   * const r = await client.query({ orderId, txnTime });
   * if (r.state === 'success') markPaid(r.queryId, r.txnAmt);
   * else if (r.nextQueryAt) scheduleAt(r.nextQueryAt);
   * ```
   * @throws PayArgumentError for invalid fields; PayProviderError / PayRateLimitError when the query itself failed
   */
  async query(params: QueryParams, options: QueryOptions = {}): Promise<QueryResult> {
    if (typeof params !== 'object' || params === null) throw new PayArgumentError(`${PREFIX}: query: expected { orderId, txnTime }`);
    assertOrderId(params.orderId);
    assertTxnTime(params.txnTime);
    const fields: AcpFields = { ...this.base('00', '00', params.bizType, '000000'), orderId: params.orderId, txnTime: params.txnTime };
    // a query answer carries the txnType of the transaction asked about, not 00
    const answer = await this.post(this.endpoints.queryTrans, fields, 'query', true, QUERY_ECHOED);
    const { state } = interpretQuery(answer.respCode, answer.origRespCode);
    if (state === 'error') throw providerError('query', answer);
    if (state !== 'not_found' && answer.respCode === '00' && answer.origRespCode === undefined) {
      throw new PayResponseError(`${PREFIX}: query: respCode 00 but no origRespCode in the answer`, { provider: 'unionpay' });
    }
    const queriesMade = (options.queriesMade ?? 0) + 1;
    const final = state === 'success' || state === 'failed';
    return {
      state,
      respCode: answer.respCode as string,
      respMsg: answer.respMsg,
      origRespCode: answer.origRespCode,
      origRespMsg: answer.origRespMsg,
      queryId: answer.queryId,
      txnAmt: answer.txnAmt === undefined ? undefined : fromTxnAmt(answer.txnAmt),
      nextQueryAt: final ? undefined : nextQueryTime(options.schedule ?? 'front', queriesMade, this.clock()),
      fields: answer,
    };
  }

  /**
   * File download (txnType 76): the reconciliation files of a settlement date,
   * sent as base64 of zlib-deflated bytes and returned inflated.
   *
   * @throws PayNotFoundError (respCode 98) when there is no file; PayResponseError when the content does not inflate
   */
  async downloadFile(params: FileDownloadParams): Promise<DownloadedFile> {
    if (typeof params !== 'object' || params === null) throw new PayArgumentError(`${PREFIX}: downloadFile: expected { settleDate }`);
    assertSettleDate(params.settleDate);
    const fileType = params.fileType ?? '00';
    if (!/^\d{2}$/.test(fileType))
      throw new PayArgumentError(`${PREFIX}: fileType: expected 2 digits (00), got ${JSON.stringify(fileType)}`);
    const fields: AcpFields = {
      ...this.base('76', '01', undefined, '000000'),
      settleDate: params.settleDate,
      txnTime: this.txnTimeOf(params.txnTime),
      fileType,
    };
    const answer = await this.post(this.endpoints.fileTransfer, fields, 'downloadFile', true);
    if (answer.respCode !== '00') throw providerError('downloadFile', answer);
    const { fileContent, ...rest } = answer;
    if (fileContent === undefined || fileContent === '') {
      throw new PayResponseError(`${PREFIX}: downloadFile: respCode 00 but no fileContent in the answer`);
    }
    let content: Buffer;
    try {
      content = zlib().inflateSync(Buffer.from(fileContent, 'base64'), { maxOutputLength: 512 * 1024 * 1024 });
    } catch (e) {
      throw new PayResponseError(`${PREFIX}: downloadFile: fileContent is not base64 of zlib-deflated data: ${(e as Error).message}`, {
        cause: e,
      });
    }
    return { fileName: answer.fileName, content, fields: rest };
  }

  // ---- notifications ---------------------------------------------------------

  /**
   * Verifies a back notification (`backUrl`): a form-encoded POST whose fields
   * are verified exactly as posted. The query string is never read: only POST fields count.
   *
   * @example
   * ```ts
   * const n = client.verifyNotification(await fromNodeRequest(req));
   * if (n.respCode === '00' && n.txnType === '01') markPaid(n.orderId, n.txnAmt);
   * writeNodeReply(res, client.notificationReply(true));
   * ```
   * @param incoming - the request (`fromNodeRequest`, `fromWebRequest`, `fromParts`) or the raw body
   * @throws PayArgumentError for a non-POST or malformed body; PaySignatureError / PayCertificateError when it does not verify
   */
  verifyNotification(incoming: IncomingNotification | string | Uint8Array): AcpNotification {
    return this.verifyPosted(incoming, 'notification');
  }

  /**
   * Verifies a front return (`frontUrl`), the form the payer's browser posts back.
   * Display only: settle payments on the back notification or a query.
   *
   * @throws PayArgumentError for a non-POST or malformed body; PaySignatureError / PayCertificateError when it does not verify
   */
  verifyFrontReturn(incoming: IncomingNotification | string | Uint8Array): AcpNotification {
    return this.verifyPosted(incoming, 'front return');
  }

  private verifyPosted(incoming: IncomingNotification | string | Uint8Array, what: string): AcpNotification {
    let body: string | Uint8Array;
    if (typeof incoming === 'string' || incoming instanceof Uint8Array) body = incoming;
    else if (typeof incoming === 'object' && incoming !== null && incoming.rawBody instanceof Uint8Array) {
      if (incoming.method !== 'POST') {
        throw new PayArgumentError(
          `${PREFIX}: ${what}: expected a POST with form fields, got ${incoming.method} (query strings are never trusted)`,
        );
      }
      const type = incoming.headers?.['content-type'];
      if (type !== undefined && !type.toLowerCase().includes('application/x-www-form-urlencoded')) {
        throw new PayArgumentError(`${PREFIX}: ${what}: expected content-type application/x-www-form-urlencoded, got ${type}`);
      }
      body = incoming.rawBody;
    } else {
      throw new PayArgumentError(`${PREFIX}: ${what}: expected an IncomingNotification or the raw body (string or bytes)`);
    }
    const fields = parseNotificationBody(body);
    this.verifier.verify(fields, this.clock(), what);
    return {
      fields,
      txnType: fields.txnType,
      txnSubType: fields.txnSubType,
      orderId: fields.orderId,
      merId: fields.merId,
      respCode: fields.respCode,
      respMsg: fields.respMsg,
      queryId: fields.queryId,
      origQryId: fields.origQryId,
      txnAmt: fields.txnAmt === undefined ? undefined : fromTxnAmt(fields.txnAmt),
      currencyCode: fields.currencyCode,
      txnTime: fields.txnTime,
      settleDate: fields.settleDate,
      reqReserved: fields.reqReserved,
    };
  }

  /**
   * The reply UnionPay expects to a back notification: HTTP 200 when handled
   * (it retries on anything else; 400 for a message that did not verify, 500 otherwise).
   *
   * @param outcome - true / `{ ok: true }` when handled, or the error
   */
  notificationReply(outcome: boolean | { ok: true } | { ok: false; error: PayError }): NotificationReply {
    const ok = typeof outcome === 'boolean' ? outcome : outcome.ok;
    if (ok) return textReply(200, 'ok');
    const error = typeof outcome === 'object' && !outcome.ok ? outcome.error : undefined;
    const verification = error !== undefined && isPayError(error) && error.resultCode >= 1000 && error.resultCode < 3000;
    return textReply(verification ? 400 : 500, 'fail');
  }

  // ---- sensitive information ---------------------------------------------------

  /**
   * Encrypts `accNo` (or another sensitive value) with the encryption certificate;
   * send it with `encryptCertId` (see {@link UnionPayClient.sensitiveFields}).
   *
   * @throws PayConfigError when no encryption certificate is configured
   */
  encryptData(value: string, what = 'accNo'): string {
    const cert = this.config.encryptCertificate;
    if (!cert)
      throw new PayConfigError(`${PREFIX}: encryptCert: configure UnionPay's encryption certificate (acp_*_enc.cer) to encrypt ${what}`);
    return encryptSensitive(cert.publicKey, value, what);
  }

  /**
   * The request fields for a card number and/or customer details, encrypted, with `encryptCertId`.
   * Pass the result as `extra`.
   *
   * @example
   * ```ts
   * const extra = client.sensitiveFields({ accNo: '6216261000000000018', customerInfo: { phoneNo: '13552535506' } });
   * ```
   * @throws PayConfigError when no encryption certificate is configured
   */
  sensitiveFields(input: { accNo?: string; customerInfo?: CustomerInfo }): Record<string, string> {
    const cert = this.config.encryptCertificate;
    if (!cert) throw new PayConfigError(`${PREFIX}: encryptCert: configure UnionPay's encryption certificate (acp_*_enc.cer)`);
    const out: Record<string, string> = { encryptCertId: cert.serialDecimal };
    if (input.accNo !== undefined) out.accNo = encryptSensitive(cert.publicKey, input.accNo, 'accNo');
    if (input.customerInfo !== undefined) out.customerInfo = buildCustomerInfo(input.customerInfo, cert.publicKey);
    return out;
  }

  /**
   * Decrypts a value UnionPay encrypted for this merchant (e.g. `accNo` in a query answer) with the `.pfx` key.
   *
   * @throws PayConfigError without a `.pfx`; PayDecryptError when it does not decrypt
   */
  decryptData(ciphertext: string, what = 'accNo'): string {
    const key = this.config.privateKey;
    if (!key) throw new PayConfigError(`${PREFIX}: signCert: the merchant .pfx is needed to decrypt ${what}`);
    return decryptSensitive(key, ciphertext, what);
  }
}
