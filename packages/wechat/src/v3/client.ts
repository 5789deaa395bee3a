/**
 * The API v3 client: request signing, response verification on every call,
 * platform certificates / WeChat Pay public key, payments, refunds, bills,
 * callbacks, sensitive fields and partner (service-provider) mode.
 *
 * @module
 */
import type { KeyObject } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import {
  assertSecureUrl,
  backoffDelay,
  Certificate,
  type Clock,
  defaultNonce,
  getDefaultTransport,
  type HttpResponse,
  type IncomingNotification,
  type KeyInput,
  loadPrivateKey,
  loadPublicKey,
  type NonceSource,
  type NotificationReply,
  PayArgumentError,
  PayCertificateError,
  PayConfigError,
  PayError,
  PayMismatchError,
  PayResponseError,
  PaySignatureError,
  parseCertificates,
  rsaOaepDecrypt,
  rsaOaepEncrypt,
  SeenIds,
  samePublicKey,
  sha1Hex,
  systemClock,
  type Transport,
  timingSafeEqualData,
} from '@pay/core';
import { providerError, relabel } from '../errors.js';
import { excerpt, isNonEmptyString, PKG, parseJsonBody } from '../internal.js';
import { apiV3KeyBytes, type DownloadCertificatesResponse, decryptCertificates, decryptResource } from './aead.js';
import { type AppPayParams, appPayParams, type JsapiPayParams, jsapiPayParams, signRequest } from './signing.js';
import type {
  BillInfo,
  FundFlowBillRequest,
  NotificationEnvelope,
  PrepayRequest,
  PrepayResponse,
  Refund,
  RefundCreateRequest,
  RefundNotificationResource,
  TradeBillRequest,
  TradeState,
  TradeType,
  Transaction,
  WechatErrorBody,
  WechatNotification,
} from './types.js';
import {
  checkSignatureHeaders,
  normaliseSerial,
  PlatformKeyStore,
  signatureHeadersOf,
  verifySignatureWithKey,
  verifyWechatSignature,
} from './verifier.js';

/** The production API host. */
export const WECHATPAY_BASE_URL = 'https://api.mch.weixin.qq.com';

/** Partner (service-provider, 服务商) mode settings. */
export interface PartnerConfig {
  /** The default sub-merchant id (each call may name another `sub_mchid`). */
  subMchid?: string;
  /** The default sub-merchant AppID. */
  subAppid?: string;
}

/** Configuration of {@link WechatPayClient}. */
export interface WechatPayConfig {
  /** The merchant id (商户号) that signs requests; in partner mode the service provider's `sp_mchid`. */
  mchid: string;
  /** The merchant API private key (`apiclient_key.pem`), in any form `loadPrivateKey` reads. */
  privateKey: KeyInput;
  /** Serial number of the merchant API certificate (hex). Give this or `merchantCertificate`. */
  merchantSerialNo?: string;
  /** The merchant API certificate (`apiclient_cert.pem`); its serial is read from it and its key checked against `privateKey`. */
  merchantCertificate?: string | Uint8Array;
  /** The APIv3 key: exactly 32 bytes. */
  apiV3Key: string | Uint8Array;
  /** The default AppID (`sp_appid` in partner mode). */
  appid?: string;
  /** Platform certificates to trust (PEM text, bundles, DER, or parsed). Downloaded ones are added. */
  platformCertificates?: ReadonlyArray<string | Uint8Array | Certificate>;
  /** The WeChat Pay public key (微信支付公钥). Configure with `wechatpayPublicKeyId`. */
  wechatpayPublicKey?: KeyInput;
  /** The id of the public key, `PUB_KEY_ID_…`: responses signed with it carry this `Wechatpay-Serial`. */
  wechatpayPublicKeyId?: string;
  /**
   * Download platform certificates from `/v3/certificates` (on first need, on schedule and once on an
   * unknown serial). Default: true unless a WeChat Pay public key is configured.
   */
  downloadCertificates?: boolean;
  /** How often downloaded certificates are refreshed, ms. Default 12 h. */
  certificateRefreshIntervalMs?: number;
  /** Shortest time between two downloads caused by an unknown serial, ms. Default 60 s. */
  unknownSerialRefreshIntervalMs?: number;
  /** Partner (service-provider) mode: prepay, query, close and refund use the partner endpoints. */
  partner?: PartnerConfig;
  /** API host, `https://api.mch.weixin.qq.com` by default (`http://127.0.0.1:…` for the sandbox). */
  baseUrl?: string;
  /** HTTP transport (default: core's axios transport). */
  transport?: Transport;
  /** Clock (epoch ms): request timestamps and the ±300 s check of every signature. */
  clock?: Clock;
  /** Nonce source. */
  nonce?: NonceSource;
  /** Allowed distance between `Wechatpay-Timestamp` and the clock, seconds. Default 300. */
  timestampWindowSeconds?: number;
  /** Retries of a call after a network error, timeout, 5xx or 429 (each retry is signed afresh). Default 2. */
  retries?: number;
  /** First backoff delay, ms (doubles each retry, full jitter). Default 200. */
  backoffMs?: number;
  /** Sleep function for backoff (injectable for tests). */
  sleep?: (ms: number) => Promise<void>;
  /** Timeout per attempt, ms (default: the transport's). */
  timeoutMs?: number;
  /** Largest bill accepted after decompression, bytes. Default 512 MiB. */
  maxBillBytes?: number;
}

/** Options of {@link WechatPayClient.request}. */
export interface RequestOptions {
  /** Query parameters (values are percent-encoded; `undefined` values are left out). */
  query?: Readonly<Record<string, string | number | undefined>>;
  /** A JSON body: an object (serialised once) or the exact text to send. */
  body?: object | string;
  /** Retry on network errors, timeouts, 5xx and 429 (each retry signed afresh). Default false. */
  idempotent?: boolean;
  /** `Wechatpay-Serial` to send (default: the key this client verifies with). */
  wechatpaySerial?: string;
  /** Extra request headers. */
  headers?: Readonly<Record<string, string>>;
}

/** A verified API v3 answer. */
export interface WechatResponse<T> {
  /** HTTP status (2xx). */
  status: number;
  /** Response headers (lower case). */
  headers: Record<string, string>;
  /** The parsed JSON body, or undefined for an empty body (204). */
  data: T | undefined;
  /** The raw body that was verified. */
  raw: Buffer;
}

/** Per-call partner options of queries and closes. */
export interface SubMerchantOption {
  /** Partner mode: the sub-merchant (default: `partner.subMchid`). */
  sub_mchid?: string;
}

/** The answer of {@link WechatPayClient.confirmPayment}. */
export interface PaymentConfirmation {
  /** True when WeChat Pay says the order is paid (`SUCCESS`, or `REFUND` after payment). */
  paid: boolean;
  /** The authoritative `trade_state`. */
  state: TradeState;
  /** The verified transaction. */
  transaction: Transaction;
}

/** A ciphertext of a sensitive field and the `Wechatpay-Serial` the request must carry. */
export interface SensitiveCiphertext {
  /** Base64 RSA-OAEP (SHA-1) ciphertext. */
  ciphertext: string;
  /** The serial or public key id of the key used: send it as `Wechatpay-Serial`. */
  serial: string;
}

const DEFAULT_REFRESH_MS = 12 * 60 * 60 * 1000;
const DEFAULT_UNKNOWN_MS = 60 * 1000;
const USER_AGENT = 'pay-sdk-wechat/0.1 (+https://github.com/pay-sdk)';
const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function rewrapConfig(e: unknown, label: string): never {
  if (e instanceof PayError) {
    throw new PayConfigError(`${PKG}: ${label}: ${e.message.replace(/^@pay\/[a-z]+: /, '')}`, {
      cause: e,
      ...(e.hint !== undefined ? { hint: e.hint } : {}),
    });
  }
  throw new PayConfigError(`${PKG}: ${label}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
}

function encodeQuery(query: RequestOptions['query']): string {
  if (!query) return '';
  const parts: string[] = [];
  for (const [k, v] of Object.entries(query)) if (v !== undefined) parts.push(`${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`);
  return parts.length ? `?${parts.join('&')}` : '';
}

function segment(value: string, what: string): string {
  if (!isNonEmptyString(value)) throw new PayArgumentError(`${PKG}: ${what}: expected a non-empty string, got ${excerpt(String(value))}`);
  return encodeURIComponent(value);
}

/**
 * WeChat Pay API v3 client. Stateless apart from its per-client certificate cache:
 * keys are parsed once here; every response is verified before it is returned.
 *
 * @example
 * ```ts
 * const wechat = new WechatPayClient({
 *   mchid: '1900000001', appid: 'wxd678efh567hg6787',
 *   privateKey: readFileSync('apiclient_key.pem', 'utf8'),
 *   merchantSerialNo: '5F1C72E2A8931B72A2E13AF8DEE92471EB397115',
 *   apiV3Key: process.env.WECHATPAY_APIV3_KEY!,
 *   wechatpayPublicKey: readFileSync('pub_key.pem', 'utf8'),
 *   wechatpayPublicKeyId: 'PUB_KEY_ID_0000000000000024101100397200000006',
 * });
 * const { prepay_id } = await wechat.prepay('jsapi', { description: 'T-shirt', out_trade_no: 'A1',
 *   notify_url: 'https://example.com/wechat/notify', amount: { total: 100 }, payer: { openid } });
 * const params = wechat.jsapiPayParams(prepay_id!);
 * ```
 */
export class WechatPayClient {
  /** The merchant id that signs (`sp_mchid` in partner mode). */
  readonly mchid: string;
  /** The default AppID (`sp_appid` in partner mode). */
  readonly appid: string | undefined;
  /** The merchant certificate serial sent in `Authorization`. */
  readonly merchantSerialNo: string;
  /** Partner mode settings, when in partner mode. */
  readonly partner: PartnerConfig | undefined;
  /** The API host. */
  readonly baseUrl: string;
  /** The verification keys of this client (never shared with another client). */
  readonly keys: PlatformKeyStore;
  private readonly privateKey: KeyObject;
  private readonly apiV3Key: Buffer;
  private readonly transport: Transport;
  private readonly clock: Clock;
  private readonly nonce: NonceSource;
  private readonly windowSeconds: number;
  private readonly retries: number;
  private readonly backoffMs: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly timeoutMs: number | undefined;
  private readonly maxBillBytes: number;
  private readonly seen = new SeenIds(10_000);

  /**
   * @param config - merchant id, keys, verification material and options
   * @throws PayConfigError for a missing or malformed key, a certificate that does not match the key,
   *   an APIv3 key that is not 32 bytes, or no way to verify WeChat Pay's signatures
   */
  constructor(config: WechatPayConfig) {
    if (config === null || typeof config !== 'object') throw new PayConfigError(`${PKG}: expected a config object, got ${typeof config}`);
    if (!isNonEmptyString(config.mchid))
      throw new PayConfigError(`${PKG}: mchid: expected the merchant id (商户号), got ${excerpt(String(config.mchid))}`);
    this.mchid = config.mchid;
    this.appid = config.appid;
    try {
      this.privateKey = loadPrivateKey(config.privateKey, { label: 'privateKey' });
    } catch (e) {
      rewrapConfig(e, 'privateKey');
    }
    if (this.privateKey.asymmetricKeyType !== 'rsa') {
      throw new PayConfigError(`${PKG}: privateKey: expected an RSA key (apiclient_key.pem), got ${this.privateKey.asymmetricKeyType}`);
    }
    let serial: string | undefined;
    if (config.merchantCertificate !== undefined) {
      let cert: Certificate;
      try {
        const certs = parseCertificates(config.merchantCertificate);
        cert = certs[0] as Certificate;
      } catch (e) {
        rewrapConfig(e, 'merchantCertificate');
      }
      if (!samePublicKey(cert.publicKey, this.privateKey)) {
        throw new PayConfigError(`${PKG}: merchantCertificate: the certificate (serial ${cert.serialHex}) does not belong to privateKey`, {
          hint: 'use the apiclient_cert.pem that was issued together with apiclient_key.pem',
        });
      }
      serial = cert.serialHex;
    }
    if (config.merchantSerialNo !== undefined) {
      const given = String(config.merchantSerialNo).trim();
      if (!/^[0-9A-Fa-f]{1,40}$/.test(given)) {
        throw new PayConfigError(`${PKG}: merchantSerialNo: expected the certificate serial in hex (40 characters), got ${excerpt(given)}`);
      }
      if (serial !== undefined && normaliseSerial(given) !== normaliseSerial(serial)) {
        throw new PayConfigError(`${PKG}: merchantSerialNo ${given.toUpperCase()} is not the serial of merchantCertificate (${serial})`);
      }
      serial = given.toUpperCase();
    }
    if (serial === undefined) {
      throw new PayConfigError(`${PKG}: expected merchantSerialNo or merchantCertificate, got neither`, {
        hint: 'the serial of apiclient_cert.pem is shown in 商户平台 → API安全 → 管理证书, or run `openssl x509 -noout -serial -in apiclient_cert.pem`',
      });
    }
    this.merchantSerialNo = serial;
    const configAny = config as unknown as Record<string, unknown>;
    if (config.apiV3Key === undefined && configAny.apiKey !== undefined) {
      throw new PayConfigError(`${PKG}: apiV3Key: expected the APIv3 key, got only apiKey`, {
        hint: 'apiKey is the API v2 key (used by WechatPayV2Client); API v3 needs the separate APIv3 key (商户平台 → API安全 → 设置APIv3密钥)',
      });
    }
    this.apiV3Key = apiV3KeyBytes(config.apiV3Key);
    if (typeof configAny.apiKey === 'string' && Buffer.from(configAny.apiKey).equals(this.apiV3Key)) {
      throw new PayConfigError(`${PKG}: apiV3Key: is the same as the API v2 apiKey`, {
        hint: 'the APIv3 key and the API v2 key are two different secrets; set the APIv3 key in 商户平台 → API安全',
      });
    }
    const certificates: Certificate[] = [];
    for (const [i, c] of (config.platformCertificates ?? []).entries()) {
      if (c instanceof Certificate) certificates.push(c);
      else {
        try {
          certificates.push(...parseCertificates(c));
        } catch (e) {
          rewrapConfig(e, `platformCertificates[${i}]`);
        }
      }
    }
    let publicKey: { id: string; key: KeyObject } | undefined;
    if ((config.wechatpayPublicKey === undefined) !== (config.wechatpayPublicKeyId === undefined)) {
      throw new PayConfigError(`${PKG}: expected wechatpayPublicKey and wechatpayPublicKeyId together, got only one of them`);
    }
    if (config.wechatpayPublicKey !== undefined) {
      const id = String(config.wechatpayPublicKeyId);
      if (!id.startsWith('PUB_KEY_ID_')) {
        throw new PayConfigError(`${PKG}: wechatpayPublicKeyId: expected an id starting with PUB_KEY_ID_, got ${excerpt(id)}`);
      }
      try {
        publicKey = { id, key: loadPublicKey(config.wechatpayPublicKey, { label: 'wechatpayPublicKey' }) };
      } catch (e) {
        rewrapConfig(e, 'wechatpayPublicKey');
      }
    }
    const download = config.downloadCertificates ?? publicKey === undefined;
    if (!download && certificates.length === 0 && publicKey === undefined) {
      throw new PayConfigError(
        `${PKG}: no way to verify WeChat Pay: no platformCertificates, no wechatpayPublicKey, and downloadCertificates is false`,
      );
    }
    const baseUrl = (config.baseUrl ?? WECHATPAY_BASE_URL).replace(/\/+$/, '');
    try {
      assertSecureUrl(baseUrl);
    } catch (e) {
      rewrapConfig(e, 'baseUrl');
    }
    this.baseUrl = baseUrl;
    this.partner = config.partner;
    this.transport = config.transport ?? getDefaultTransport();
    this.clock = config.clock ?? systemClock;
    this.nonce = config.nonce ?? defaultNonce;
    this.windowSeconds = config.timestampWindowSeconds ?? 300;
    this.retries = config.retries ?? 2;
    this.backoffMs = config.backoffMs ?? 200;
    this.sleep = config.sleep ?? defaultSleep;
    this.timeoutMs = config.timeoutMs;
    this.maxBillBytes = config.maxBillBytes ?? 512 * 1024 * 1024;
    this.keys = new PlatformKeyStore({
      certificates,
      publicKey,
      download: download ? () => this.fetchCertificates() : undefined,
      clock: this.clock,
      refreshIntervalMs: config.certificateRefreshIntervalMs ?? DEFAULT_REFRESH_MS,
      unknownSerialIntervalMs: config.unknownSerialRefreshIntervalMs ?? DEFAULT_UNKNOWN_MS,
    });
  }

  /** True in partner (service-provider) mode. */
  get isPartner(): boolean {
    return this.partner !== undefined;
  }

  // ---------------------------------------------------------------- transport

  private async send(
    method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
    pathAndQuery: string,
    bodyText: string,
    options: { idempotent: boolean; wechatpaySerial: string | null | undefined; headers?: Readonly<Record<string, string>> },
    absoluteUrl?: string,
  ): Promise<HttpResponse> {
    const call = `${method} ${pathAndQuery.split('?')[0]}`;
    const attempts = options.idempotent ? this.retries + 1 : 1;
    for (let attempt = 1; ; attempt++) {
      try {
        let serialHeader: string | undefined;
        if (options.wechatpaySerial === undefined) serialHeader = (await this.keys.preferred()).serial;
        else if (options.wechatpaySerial !== null) serialHeader = options.wechatpaySerial;
        const timestamp = String(Math.floor(this.clock() / 1000));
        const nonce = this.nonce();
        const authorization = signRequest(this.privateKey, {
          method,
          url: pathAndQuery,
          body: bodyText,
          timestamp,
          nonce,
          mchid: this.mchid,
          serialNo: this.merchantSerialNo,
        });
        const headers: Record<string, string> = {
          Accept: 'application/json',
          'User-Agent': USER_AGENT,
          ...(options.headers ?? {}),
          Authorization: authorization,
        };
        if (bodyText !== '') headers['Content-Type'] = 'application/json';
        if (serialHeader !== undefined) headers['Wechatpay-Serial'] = serialHeader;
        const response = await this.transport.request({
          method,
          url: absoluteUrl ?? this.baseUrl + pathAndQuery,
          headers,
          ...(bodyText !== '' ? { body: bodyText } : {}),
          ...(this.timeoutMs !== undefined ? { timeoutMs: this.timeoutMs } : {}),
          idempotent: false,
        });
        if (response.status === 429 && attempt < attempts) {
          await this.sleep(backoffDelay(attempt, this.backoffMs, 5_000));
          continue;
        }
        return response;
      } catch (e) {
        const err = relabel(e, call);
        if (err.retryable && attempt < attempts) {
          await this.sleep(backoffDelay(attempt, this.backoffMs, 5_000));
          continue;
        }
        throw err;
      }
    }
  }

  /**
   * Sends a signed request to any API v3 endpoint and verifies the answer
   * (signature, key by `Wechatpay-Serial`, timestamp window). 4xx answers become
   * PayErrors carrying WeChat Pay's code and message.
   *
   * @example
   * ```ts
   * const res = await wechat.request<{ data: unknown[] }>('GET', '/v3/merchant-service/complaints-v2', {
   *   query: { limit: 10, begin_date: '2024-01-01', end_date: '2024-01-30' }, idempotent: true });
   * ```
   * @param method - HTTP method
   * @param path - path starting with `/v3/`
   * @param options - query, body, idempotency, `Wechatpay-Serial`
   * @throws PaySignatureError, PayReplayError, PayCertificateError when the answer does not verify;
   *   PayProviderError / PayNotFoundError / PayRateLimitError / PayStateError for WeChat Pay errors;
   *   PayNetworkError / PayTimeoutError / PayUpstreamError for transport failures
   */
  async request<T>(
    method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
    path: string,
    options: RequestOptions = {},
  ): Promise<WechatResponse<T>> {
    if (typeof path !== 'string' || !path.startsWith('/')) {
      throw new PayArgumentError(`${PKG}: request: expected a path starting with /, got ${excerpt(String(path))}`);
    }
    const pathAndQuery = path + encodeQuery(options.query);
    const bodyText = options.body === undefined ? '' : typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
    const response = await this.send(method, pathAndQuery, bodyText, {
      idempotent: options.idempotent ?? false,
      wechatpaySerial: options.wechatpaySerial,
      ...(options.headers ? { headers: options.headers } : {}),
    });
    return this.verifyResponse<T>(`${method} ${path}`, response);
  }

  private async verifyResponse<T>(call: string, response: HttpResponse): Promise<WechatResponse<T>> {
    const headers = signatureHeadersOf(response.headers);
    const ok = response.status >= 200 && response.status < 300;
    try {
      await verifyWechatSignature(headers, response.body, (serial) => this.keys.keyFor(serial, `response to ${call}`), {
        clock: this.clock,
        windowSeconds: this.windowSeconds,
        what: `response to ${call} (HTTP ${response.status})`,
      });
    } catch (e) {
      if (ok || !(e instanceof PayError)) throw e;
      // An error answer that does not verify: say what it claimed, but as a verification failure.
      const claimed = tryErrorBody(response.body);
      throw new PaySignatureError(`${e.message}${claimed ? `; it claimed ${claimed.code}: ${claimed.message}` : ''}`, {
        cause: e,
        provider: 'wechat',
        httpStatus: response.status,
        ...(e.reason !== undefined ? { reason: e.reason } : {}),
      });
    }
    if (!ok) {
      const body = tryErrorBody(response.body);
      if (!body) {
        throw new PayResponseError(
          `${PKG}: ${call}: WeChat Pay answered HTTP ${response.status} with ${response.body.length === 0 ? 'an empty body' : `a body that is not {code, message}: ${excerpt(response.body.toString('utf8'))}`}`,
          { provider: 'wechat', httpStatus: response.status },
        );
      }
      throw providerError(call, body.code, body.message, response.status);
    }
    const data = response.body.length === 0 ? undefined : parseJsonBody<T>(response.body, `response to ${call}`);
    return { status: response.status, headers: response.headers, data, raw: response.body };
  }

  private async fetchCertificates(): Promise<Certificate[]> {
    const call = 'GET /v3/certificates';
    const response = await this.send('GET', '/v3/certificates', '', { idempotent: true, wechatpaySerial: null });
    if (response.status !== 200) {
      // Verify the error with what we know, if we can; an unverifiable error is still an error.
      const body = tryErrorBody(response.body);
      if (body) throw providerError(call, body.code, body.message, response.status);
      throw new PayResponseError(`${PKG}: ${call}: WeChat Pay answered HTTP ${response.status}`, {
        provider: 'wechat',
        httpStatus: response.status,
      });
    }
    const parsed = parseJsonBody<DownloadCertificatesResponse>(response.body, `response to ${call}`);
    const certs = decryptCertificates(parsed, this.apiV3Key);
    const fresh = new Map(certs.map((c) => [normaliseSerial(c.serialHex), c]));
    // The answer is signed by one of the certificates it carries (they are authenticated by the
    // APIv3 key through AES-GCM), by one already known, or by the WeChat Pay public key.
    await verifyWechatSignature(
      signatureHeadersOf(response.headers),
      response.body,
      async (serial) => {
        const cert = fresh.get(normaliseSerial(serial));
        if (cert) {
          if (!cert.isValidAt(this.clock())) {
            throw new PayCertificateError(
              `${PKG}: response to ${call}: signed with platform certificate ${cert.serialHex}, which is not valid now`,
              {
                reason: this.clock() > cert.notAfter ? 'EXPIRED' : 'NOT_YET_VALID',
                provider: 'wechat',
              },
            );
          }
          return cert.publicKey;
        }
        if (serial === this.keys.publicKeyId) return this.keys.keyFor(serial, `response to ${call}`);
        const known = this.keys.certificates().find((c) => normaliseSerial(c.serialHex) === normaliseSerial(serial));
        if (known) return known.publicKey;
        throw new PayCertificateError(
          `${PKG}: response to ${call}: signed with unknown serial ${excerpt(serial)}, which is not among the certificates it carries`,
          {
            reason: 'UNKNOWN_SERIAL',
            provider: 'wechat',
          },
        );
      },
      { clock: this.clock, windowSeconds: this.windowSeconds, what: `response to ${call}` },
    );
    return certs;
  }

  /**
   * Downloads the platform certificates now (decrypted, checked and cached in this client).
   *
   * @returns every platform certificate now known
   * @throws PayDecryptError when they do not decrypt with the APIv3 key; PaySignatureError when the answer does not verify
   */
  async downloadCertificates(): Promise<Certificate[]> {
    if (!this.keys.canDownload) {
      throw new PayConfigError(`${PKG}: downloadCertificates: certificate download is off for this client (public-key mode)`, {
        hint: 'set downloadCertificates: true to use both platform certificates and the public key during a migration',
      });
    }
    await this.keys.refresh();
    return this.keys.certificates();
  }

  // ---------------------------------------------------------------- payments

  private partnerIds(subMchid: string | undefined): { sp_mchid: string; sub_mchid: string } {
    const sub = subMchid ?? this.partner?.subMchid;
    if (!isNonEmptyString(sub)) {
      throw new PayArgumentError(`${PKG}: partner mode: expected sub_mchid (in the call or as partner.subMchid), got none`);
    }
    return { sp_mchid: this.mchid, sub_mchid: sub };
  }

  /**
   * Creates a prepay order (`POST /v3/pay/transactions/{type}`, or `/v3/pay/partner/transactions/{type}`
   * in partner mode). Safe to retry: the same `out_trade_no` with the same body returns the same prepay.
   *
   * @param tradeType - `jsapi` (also mini-programs), `app`, `h5` or `native`
   * @param request - the order; ids are filled from the config
   * @returns `prepay_id` (jsapi, app), `code_url` (native) or `h5_url` (h5)
   * @throws PayArgumentError for a missing field or a non-integer amount; PayProviderError for WeChat Pay's refusals
   */
  async prepay(tradeType: TradeType, request: PrepayRequest): Promise<PrepayResponse> {
    if (!['jsapi', 'app', 'h5', 'native'].includes(tradeType)) {
      throw new PayArgumentError(`${PKG}: prepay: expected trade type jsapi, app, h5 or native, got ${excerpt(String(tradeType))}`);
    }
    const body = this.prepayBody(tradeType, request);
    const path = this.isPartner ? `/v3/pay/partner/transactions/${tradeType}` : `/v3/pay/transactions/${tradeType}`;
    const res = await this.request<PrepayResponse>('POST', path, { body, idempotent: true });
    const data = res.data ?? {};
    const field = tradeType === 'native' ? 'code_url' : tradeType === 'h5' ? 'h5_url' : 'prepay_id';
    if (!isNonEmptyString(data[field])) {
      throw new PayResponseError(`${PKG}: POST ${path}: expected ${field} in the answer, got ${excerpt(res.raw.toString('utf8'))}`, {
        provider: 'wechat',
      });
    }
    return data;
  }

  private prepayBody(tradeType: TradeType, request: PrepayRequest): Record<string, unknown> {
    if (request === null || typeof request !== 'object') throw new PayArgumentError(`${PKG}: prepay: expected a request object`);
    for (const f of ['description', 'out_trade_no', 'notify_url'] as const) {
      if (!isNonEmptyString(request[f])) throw new PayArgumentError(`${PKG}: prepay: expected ${f}, got ${excerpt(String(request[f]))}`);
    }
    const total = request.amount?.total;
    if (typeof total !== 'number' || !Number.isSafeInteger(total) || total <= 0) {
      throw new PayArgumentError(`${PKG}: prepay: amount.total: expected a positive integer number of fen, got ${excerpt(String(total))}`, {
        hint: 'API v3 amounts are integers in fen: 88.88 yuan is 8888',
      });
    }
    const body: Record<string, unknown> = { ...request, amount: { total, currency: request.amount.currency ?? 'CNY' } };
    if (this.isPartner) {
      const ids = this.partnerIds(request.sub_mchid);
      body.sp_mchid = ids.sp_mchid;
      body.sub_mchid = ids.sub_mchid;
      body.sp_appid = request.sp_appid ?? this.appid;
      if (request.sub_appid === undefined && this.partner?.subAppid !== undefined) body.sub_appid = this.partner.subAppid;
      if (!isNonEmptyString(body.sp_appid)) throw new PayArgumentError(`${PKG}: prepay: expected sp_appid (or appid in the config)`);
      delete body.mchid;
      delete body.appid;
      if (tradeType === 'jsapi' && !request.payer?.sp_openid && !request.payer?.sub_openid) {
        throw new PayArgumentError(`${PKG}: prepay jsapi (partner): expected payer.sp_openid or payer.sub_openid`);
      }
    } else {
      body.mchid = request.mchid ?? this.mchid;
      body.appid = request.appid ?? this.appid;
      if (!isNonEmptyString(body.appid)) throw new PayArgumentError(`${PKG}: prepay: expected appid (in the request or the config)`);
      if (body.mchid !== this.mchid)
        throw new PayArgumentError(`${PKG}: prepay: mchid ${excerpt(String(body.mchid))} is not this client's mchid ${this.mchid}`);
      if (tradeType === 'jsapi' && !isNonEmptyString(request.payer?.openid)) {
        throw new PayArgumentError(`${PKG}: prepay jsapi: expected payer.openid (the payer's openid under appid)`);
      }
    }
    if (tradeType === 'h5' && (!isNonEmptyString(request.scene_info?.payer_client_ip) || !request.scene_info?.h5_info?.type)) {
      throw new PayArgumentError(`${PKG}: prepay h5: expected scene_info.payer_client_ip and scene_info.h5_info.type`);
    }
    return body;
  }

  /**
   * Signs the APP client parameters for a `prepay_id` (`appid\ntimestamp\nnoncestr\nprepayid\n`).
   *
   * @param prepayId - from {@link WechatPayClient.prepay} with `app`
   * @param options - the app's AppID and the partner id (defaults: config appid / mchid; partner mode: sub ids)
   * @throws PayArgumentError when no AppID is known
   */
  appPayParams(prepayId: string, options: { appid?: string; partnerid?: string } = {}): AppPayParams {
    const appid = options.appid ?? (this.isPartner ? (this.partner?.subAppid ?? this.appid) : this.appid);
    const partnerid = options.partnerid ?? (this.isPartner ? this.partner?.subMchid : this.mchid);
    if (!isNonEmptyString(appid) || !isNonEmptyString(partnerid) || !isNonEmptyString(prepayId)) {
      throw new PayArgumentError(`${PKG}: appPayParams: expected appid, partnerid and prepay_id`);
    }
    return appPayParams(this.privateKey, {
      appid,
      partnerid,
      prepayid: prepayId,
      timestamp: String(Math.floor(this.clock() / 1000)),
      noncestr: this.nonce(),
    });
  }

  /**
   * Signs the JSAPI / mini-program client parameters for a `prepay_id` (`appId\ntimeStamp\nnonceStr\npackage\n`).
   *
   * @param prepayId - from {@link WechatPayClient.prepay} with `jsapi`
   * @param options - the AppID the payer uses (default: config appid; partner mode: subAppid if set)
   * @throws PayArgumentError when no AppID is known
   */
  jsapiPayParams(prepayId: string, options: { appId?: string } = {}): JsapiPayParams {
    const appId = options.appId ?? (this.isPartner ? (this.partner?.subAppid ?? this.appid) : this.appid);
    if (!isNonEmptyString(appId) || !isNonEmptyString(prepayId))
      throw new PayArgumentError(`${PKG}: jsapiPayParams: expected appId and prepay_id`);
    return jsapiPayParams(this.privateKey, {
      appId,
      prepayId,
      timeStamp: String(Math.floor(this.clock() / 1000)),
      nonceStr: this.nonce(),
    });
  }

  private ownerQuery(options: SubMerchantOption): Record<string, string> {
    return this.isPartner ? this.partnerIds(options.sub_mchid) : { mchid: this.mchid };
  }

  /**
   * Queries an order by the merchant's order number.
   *
   * @throws PayNotFoundError when WeChat Pay does not know it (`ORDER_NOT_EXIST`)
   */
  async queryByOutTradeNo(outTradeNo: string, options: SubMerchantOption = {}): Promise<Transaction> {
    const base = this.isPartner ? '/v3/pay/partner/transactions/out-trade-no/' : '/v3/pay/transactions/out-trade-no/';
    const res = await this.request<Transaction>('GET', base + segment(outTradeNo, 'out_trade_no'), {
      query: this.ownerQuery(options),
      idempotent: true,
    });
    return this.checkTransaction(res, `GET ${base}{out_trade_no}`);
  }

  /**
   * Queries an order by WeChat Pay's transaction id.
   *
   * @throws PayNotFoundError when WeChat Pay does not know it
   */
  async queryByTransactionId(transactionId: string, options: SubMerchantOption = {}): Promise<Transaction> {
    const base = this.isPartner ? '/v3/pay/partner/transactions/id/' : '/v3/pay/transactions/id/';
    const res = await this.request<Transaction>('GET', base + segment(transactionId, 'transaction_id'), {
      query: this.ownerQuery(options),
      idempotent: true,
    });
    return this.checkTransaction(res, `GET ${base}{transaction_id}`);
  }

  private checkTransaction(res: WechatResponse<Transaction>, call: string): Transaction {
    const t = res.data;
    if (!t || !isNonEmptyString(t.out_trade_no) || !isNonEmptyString(t.trade_state)) {
      throw new PayResponseError(
        `${PKG}: ${call}: expected a transaction with out_trade_no and trade_state, got ${excerpt(res.raw.toString('utf8'))}`,
        {
          provider: 'wechat',
        },
      );
    }
    const owner = this.isPartner ? t.sp_mchid : t.mchid;
    if (owner !== undefined && owner !== this.mchid) {
      throw new PayMismatchError(`${PKG}: ${call}: the transaction belongs to merchant ${excerpt(owner)}, not ${this.mchid}`, {
        provider: 'wechat',
      });
    }
    return t;
  }

  /**
   * Closes an unpaid order (`POST …/out-trade-no/{out_trade_no}/close`, answered 204).
   *
   * @throws PayStateError when it is already paid (`ORDERPAID`)
   */
  async closeOrder(outTradeNo: string, options: SubMerchantOption = {}): Promise<void> {
    const base = this.isPartner ? '/v3/pay/partner/transactions/out-trade-no/' : '/v3/pay/transactions/out-trade-no/';
    await this.request('POST', `${base}${segment(outTradeNo, 'out_trade_no')}/close`, { body: this.ownerQuery(options), idempotent: true });
  }

  /**
   * Asks WeChat Pay, authoritatively, whether an order is paid: what to call when the client says it
   * paid but no callback arrived (the client's own result is never trusted).
   *
   * @param outTradeNo - the merchant's order number
   * @param expected - the amount (fen) and AppID the order was created with; checked when paid
   * @throws PayMismatchError when the paid amount or AppID differs; PayNotFoundError for an unknown order
   */
  async confirmPayment(
    outTradeNo: string,
    expected: { amount?: number; appid?: string; sub_mchid?: string } = {},
  ): Promise<PaymentConfirmation> {
    const transaction = await this.queryByOutTradeNo(outTradeNo, expected.sub_mchid !== undefined ? { sub_mchid: expected.sub_mchid } : {});
    const paid =
      transaction.trade_state === 'SUCCESS' || (transaction.trade_state === 'REFUND' && isNonEmptyString(transaction.success_time));
    if (paid) {
      const total = transaction.amount?.total;
      if (expected.amount !== undefined && total !== expected.amount) {
        throw new PayMismatchError(
          `${PKG}: confirmPayment ${outTradeNo}: expected amount ${expected.amount} fen, WeChat Pay reports ${String(total)}`,
          {
            provider: 'wechat',
          },
        );
      }
      const appid = this.isPartner ? (transaction.sub_appid ?? transaction.sp_appid) : transaction.appid;
      if (expected.appid !== undefined && appid !== expected.appid) {
        throw new PayMismatchError(
          `${PKG}: confirmPayment ${outTradeNo}: expected appid ${expected.appid}, WeChat Pay reports ${String(appid)}`,
          {
            provider: 'wechat',
          },
        );
      }
    }
    return { paid, state: transaction.trade_state, transaction };
  }

  // ---------------------------------------------------------------- refunds

  /**
   * Requests a refund (`POST /v3/refund/domestic/refunds`). Safe to retry with the same `out_refund_no`.
   *
   * @throws PayArgumentError for a missing order reference or non-integer amounts; PayProviderError for refusals
   */
  async refund(request: RefundCreateRequest): Promise<Refund> {
    if (request === null || typeof request !== 'object') throw new PayArgumentError(`${PKG}: refund: expected a request object`);
    if (!isNonEmptyString(request.out_refund_no)) throw new PayArgumentError(`${PKG}: refund: expected out_refund_no`);
    if (!isNonEmptyString(request.transaction_id) && !isNonEmptyString(request.out_trade_no)) {
      throw new PayArgumentError(`${PKG}: refund: expected transaction_id or out_trade_no`);
    }
    const a = request.amount;
    for (const f of ['refund', 'total'] as const) {
      const v = a?.[f];
      if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0) {
        throw new PayArgumentError(`${PKG}: refund: amount.${f}: expected a positive integer number of fen, got ${excerpt(String(v))}`);
      }
    }
    if (a.refund > a.total) throw new PayArgumentError(`${PKG}: refund: amount.refund ${a.refund} exceeds amount.total ${a.total}`);
    const body: Record<string, unknown> = { ...request, amount: { ...a, currency: a.currency ?? 'CNY' } };
    if (this.isPartner) body.sub_mchid = this.partnerIds(request.sub_mchid).sub_mchid;
    const res = await this.request<Refund>('POST', '/v3/refund/domestic/refunds', { body, idempotent: true });
    return checkRefund(res, 'POST /v3/refund/domestic/refunds');
  }

  /**
   * Queries a refund by the merchant's refund number.
   *
   * @throws PayNotFoundError when WeChat Pay does not know it
   */
  async queryRefund(outRefundNo: string, options: SubMerchantOption = {}): Promise<Refund> {
    const res = await this.request<Refund>('GET', `/v3/refund/domestic/refunds/${segment(outRefundNo, 'out_refund_no')}`, {
      ...(this.isPartner ? { query: { sub_mchid: this.partnerIds(options.sub_mchid).sub_mchid } } : {}),
      idempotent: true,
    });
    return checkRefund(res, 'GET /v3/refund/domestic/refunds/{out_refund_no}');
  }

  // ---------------------------------------------------------------- bills

  /** Asks for the trade bill of a day (`GET /v3/bill/tradebill`). */
  async tradeBill(request: TradeBillRequest): Promise<BillInfo> {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(request?.bill_date ?? ''))
      throw new PayArgumentError(`${PKG}: tradeBill: expected bill_date YYYY-MM-DD`);
    const res = await this.request<BillInfo>('GET', '/v3/bill/tradebill', { query: { ...request }, idempotent: true });
    return checkBill(res, 'GET /v3/bill/tradebill');
  }

  /** Asks for the fund-flow bill of a day (`GET /v3/bill/fundflowbill`). */
  async fundFlowBill(request: FundFlowBillRequest): Promise<BillInfo> {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(request?.bill_date ?? ''))
      throw new PayArgumentError(`${PKG}: fundFlowBill: expected bill_date YYYY-MM-DD`);
    const res = await this.request<BillInfo>('GET', '/v3/bill/fundflowbill', { query: { ...request }, idempotent: true });
    return checkBill(res, 'GET /v3/bill/fundflowbill');
  }

  /**
   * Downloads a bill file (the one unsigned answer of API v3: the request is signed, the file is
   * checked against the SHA-1 `hash_value` of the verified bill answer instead). GZIP files are
   * decompressed first: the hash covers the original bill.
   *
   * @returns the bill's bytes (CSV-like text, UTF-8)
   * @throws PayMismatchError when the SHA-1 differs; PayResponseError for a damaged gzip file
   */
  async downloadBill(info: BillInfo): Promise<Buffer> {
    if (info?.hash_type?.toUpperCase() !== 'SHA1') {
      throw new PayResponseError(`${PKG}: downloadBill: expected hash_type SHA1, got ${excerpt(String(info?.hash_type))}`, {
        provider: 'wechat',
      });
    }
    let url: URL;
    try {
      url = new URL(info.download_url);
    } catch (e) {
      throw new PayArgumentError(`${PKG}: downloadBill: download_url is not a URL: ${excerpt(String(info.download_url))}`, { cause: e });
    }
    const base = new URL(this.baseUrl);
    const trusted = url.origin === base.origin || /(^|\.)(weixin\.qq\.com|wechatpay\.cn)$/.test(url.hostname);
    if (!trusted || (url.protocol !== 'https:' && url.origin !== base.origin)) {
      throw new PayArgumentError(
        `${PKG}: downloadBill: refusing to send credentials to ${url.origin} (expected ${base.origin} or a WeChat Pay host)`,
      );
    }
    const pathAndQuery = url.pathname + url.search;
    const response = await this.send('GET', pathAndQuery, '', { idempotent: true, wechatpaySerial: null }, url.href);
    if (response.status !== 200) {
      // Errors of the download endpoint are ordinary signed API answers.
      await this.verifyResponse('GET /v3/billdownload/file', response);
      throw new PayResponseError(`${PKG}: downloadBill: WeChat Pay answered HTTP ${response.status}`, {
        provider: 'wechat',
        httpStatus: response.status,
      });
    }
    let content = response.body;
    if (content.length >= 2 && content[0] === 0x1f && content[1] === 0x8b) {
      try {
        content = gunzipSync(content, { maxOutputLength: this.maxBillBytes });
      } catch (e) {
        throw new PayResponseError(`${PKG}: downloadBill: the gzip file is damaged or larger than ${this.maxBillBytes} bytes`, {
          cause: e,
          provider: 'wechat',
        });
      }
    }
    const digest = sha1Hex(content);
    if (!timingSafeEqualData(digest, info.hash_value.toLowerCase())) {
      throw new PayMismatchError(
        `${PKG}: downloadBill: SHA-1 of the bill is ${digest}, the bill answer says ${excerpt(info.hash_value)} (damaged or tampered file)`,
        {
          provider: 'wechat',
        },
      );
    }
    return content;
  }

  // ---------------------------------------------------------------- callbacks

  /**
   * Verifies a callback from its raw body and headers (`Wechatpay-Timestamp`, `-Nonce`, `-Signature`,
   * `-Serial`; ±300 s window; key chosen by serial), then decrypts its `resource`
   * (AEAD_AES_256_GCM with the APIv3 key; the tag is always checked) into a typed event.
   *
   * @example
   * ```ts
   * const event = await wechat.parseNotification(await fromNodeRequest(req));
   * if (event.kind === 'transaction') markPaid(event.resource.out_trade_no, event.resource.amount?.total);
   * writeNodeReply(res, wechat.notificationReply(true));
   * ```
   * @param incoming - the request as received (raw body kept)
   * @throws PaySignatureError, PayReplayError, PayCertificateError, PayDecryptError, PayMismatchError, PayResponseError
   */
  async parseNotification(incoming: Pick<IncomingNotification, 'headers' | 'rawBody'>): Promise<WechatNotification> {
    if (!incoming || typeof incoming !== 'object' || !incoming.headers || !(incoming.rawBody instanceof Uint8Array)) {
      throw new PayArgumentError(
        `${PKG}: parseNotification: expected { headers, rawBody } with the raw body bytes (see fromNodeRequest / fromParts)`,
      );
    }
    const headers = signatureHeadersOf(incoming.headers);
    checkSignatureHeaders(headers, { clock: this.clock, windowSeconds: this.windowSeconds, what: 'callback' });
    const serial = headers.serial as string;
    const key = this.keys.keyForNow(serial) ?? (await this.keys.keyFor(serial, 'callback'));
    verifySignatureWithKey(headers, incoming.rawBody, key, 'callback');
    const raw = Buffer.isBuffer(incoming.rawBody) ? incoming.rawBody : Buffer.from(incoming.rawBody);
    const envelope = parseJsonBody<NotificationEnvelope>(raw, 'callback');
    if (!isNonEmptyString(envelope.id) || !isNonEmptyString(envelope.event_type) || typeof envelope.resource !== 'object') {
      throw new PayResponseError(`${PKG}: callback: expected id, event_type and resource, got ${excerpt(raw.toString('utf8'))}`, {
        provider: 'wechat',
      });
    }
    const plain = decryptResource(this.apiV3Key, envelope.resource, `callback ${envelope.id} resource`);
    const resource = parseJsonBody<Record<string, unknown>>(plain, `callback ${envelope.id} resource`);
    const base = {
      id: envelope.id,
      create_time: envelope.create_time,
      resource_type: envelope.resource_type,
      serial,
      duplicate: !this.seen.add(envelope.id),
      ...(envelope.summary !== undefined ? { summary: envelope.summary } : {}),
      ...(envelope.resource.original_type !== undefined ? { original_type: envelope.resource.original_type } : {}),
    };
    const owner = (this.isPartner ? resource.sp_mchid : resource.mchid) ?? resource.mchid ?? resource.sp_mchid;
    if (envelope.event_type === 'TRANSACTION.SUCCESS' || envelope.event_type.startsWith('REFUND.')) {
      if (owner !== this.mchid) {
        throw new PayMismatchError(
          `${PKG}: callback ${envelope.id}: addressed to merchant ${excerpt(String(owner))}, this client is ${this.mchid}`,
          {
            provider: 'wechat',
          },
        );
      }
    }
    if (envelope.event_type === 'TRANSACTION.SUCCESS') {
      return { ...base, kind: 'transaction', event_type: 'TRANSACTION.SUCCESS', resource: resource as unknown as Transaction };
    }
    if (envelope.event_type === 'REFUND.SUCCESS' || envelope.event_type === 'REFUND.ABNORMAL' || envelope.event_type === 'REFUND.CLOSED') {
      return { ...base, kind: 'refund', event_type: envelope.event_type, resource: resource as unknown as RefundNotificationResource };
    }
    return { ...base, kind: 'other', event_type: envelope.event_type, resource };
  }

  /**
   * The answer WeChat Pay expects to a callback: 204 for success; for a failure a 4xx/5xx with
   * `{"code":"FAIL","message":…}` so that WeChat Pay retries.
   *
   * @param ok - true when the callback was verified and handled
   * @param error - the failure, when not ok (chooses 401 for verification failures, 500 otherwise)
   */
  notificationReply(ok: boolean, error?: unknown): NotificationReply {
    return wechatNotificationReply(ok, error);
  }

  // ---------------------------------------------------------------- sensitive fields

  /**
   * Encrypts a sensitive field (name, ID number, phone…) with RSA-OAEP (SHA-1) for WeChat Pay, using
   * the public key or newest platform certificate; send the returned serial as `Wechatpay-Serial`.
   *
   * @example
   * ```ts
   * const { ciphertext, serial } = await wechat.encryptSensitive('张三');
   * await wechat.request('POST', '/v3/…', { body: { name: ciphertext }, wechatpaySerial: serial });
   * ```
   * @throws PayCertificateError when no key is available
   */
  async encryptSensitive(plaintext: string): Promise<SensitiveCiphertext> {
    if (typeof plaintext !== 'string') throw new PayArgumentError(`${PKG}: encryptSensitive: expected a string`);
    const { serial, key } = await this.keys.preferred();
    return { ciphertext: rsaOaepEncrypt(key, plaintext), serial };
  }

  /**
   * Decrypts a sensitive field WeChat Pay encrypted for the merchant (RSA-OAEP SHA-1, merchant key).
   *
   * @throws PayDecryptError when it does not decrypt with the merchant key
   */
  decryptSensitive(ciphertext: string): string {
    try {
      return rsaOaepDecrypt(this.privateKey, ciphertext).toString('utf8');
    } catch (e) {
      throw relabel(e, 'decryptSensitive');
    }
  }
}

function tryErrorBody(body: Buffer): WechatErrorBody | undefined {
  try {
    const v = JSON.parse(body.toString('utf8')) as Partial<WechatErrorBody>;
    if (v && typeof v === 'object' && typeof v.code === 'string')
      return { code: v.code, message: typeof v.message === 'string' ? v.message : '' };
  } catch {
    /* not JSON */
  }
  return undefined;
}

function checkRefund(res: WechatResponse<Refund>, call: string): Refund {
  const r = res.data;
  if (!r || !isNonEmptyString(r.out_refund_no) || !isNonEmptyString(r.status) || typeof r.amount?.refund !== 'number') {
    throw new PayResponseError(
      `${PKG}: ${call}: expected a refund with out_refund_no, status and amount, got ${excerpt(res.raw.toString('utf8'))}`,
      {
        provider: 'wechat',
      },
    );
  }
  return r;
}

function checkBill(res: WechatResponse<BillInfo>, call: string): BillInfo {
  const b = res.data;
  if (!b || !isNonEmptyString(b.download_url) || !isNonEmptyString(b.hash_value) || !isNonEmptyString(b.hash_type)) {
    throw new PayResponseError(
      `${PKG}: ${call}: expected hash_type, hash_value and download_url, got ${excerpt(res.raw.toString('utf8'))}`,
      {
        provider: 'wechat',
      },
    );
  }
  return b;
}

/**
 * The API v3 callback reply: 204 on success, else `{"code":"FAIL","message":…}` with 401 for
 * verification failures (signature, certificate, replay, decryption) and 500 otherwise.
 *
 * @param ok - whether the callback was verified and handled
 * @param error - the failure, when not ok
 */
export function wechatNotificationReply(ok: boolean, error?: unknown): NotificationReply {
  if (ok) return { status: 204, headers: {}, body: '' };
  const code = error instanceof PayError ? error.resultCode : 0;
  const verification = code >= 2000 && code < 2004;
  const message = error instanceof PayError ? `${error.code}${error.reason ? ` ${error.reason}` : ''}` : 'processing failed';
  return {
    status: verification ? 401 : 500,
    headers: { 'content-type': 'application/json; charset=utf-8' },
    body: JSON.stringify({ code: 'FAIL', message }),
  };
}
