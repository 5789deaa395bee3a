/**
 * API v3 signing strings, the `Authorization` header and the client payment
 * parameters (APP and JSAPI / mini-program). Pure functions over pre-parsed keys.
 *
 * @module
 */
import type { KeyObject } from 'node:crypto';
import { rsaSign } from '@pay/core';

/** The only signature scheme API v3 defines: SHA256withRSA with a 2048-bit key. */
export const WECHATPAY_SCHEMA = 'WECHATPAY2-SHA256-RSA2048';

/**
 * The string a merchant signs for an API v3 request:
 * `METHOD\nURL\nTIMESTAMP\nNONCE\nBODY\n`, where URL is the path and query exactly as sent.
 *
 * @example
 * ```ts
 * requestSignMessage('GET', '/v3/certificates', '1554208460', '593BEC0C930BF1AFEB40B4A08C8FB242', '');
 * // 'GET\n/v3/certificates\n1554208460\n593BEC0C930BF1AFEB40B4A08C8FB242\n\n'
 * ```
 * @param method - HTTP method, upper case
 * @param url - path with query, e.g. `/v3/pay/transactions/out-trade-no/A1?mchid=1900000001`
 * @param timestamp - epoch seconds as sent in the header
 * @param nonce - the nonce as sent in the header
 * @param body - the exact body sent (empty for GET)
 */
export function requestSignMessage(method: string, url: string, timestamp: string, nonce: string, body: string): string {
  return `${method}\n${url}\n${timestamp}\n${nonce}\n${body}\n`;
}

/** The parts of an `Authorization` header. */
export interface AuthorizationParts {
  /** The merchant id that signs (`sp_mchid` in partner mode). */
  mchid: string;
  /** Serial number of the merchant API certificate, upper-case hex. */
  serialNo: string;
  /** Epoch seconds. */
  timestamp: string;
  /** The request nonce. */
  nonce: string;
  /** Base64 SHA256withRSA signature of {@link requestSignMessage}. */
  signature: string;
}

/**
 * Formats the API v3 `Authorization` header.
 *
 * @example
 * ```ts
 * authorizationHeader({ mchid, serialNo, timestamp, nonce, signature });
 * // 'WECHATPAY2-SHA256-RSA2048 mchid="…",nonce_str="…",signature="…",timestamp="…",serial_no="…"'
 * ```
 */
export function authorizationHeader(parts: AuthorizationParts): string {
  return `${WECHATPAY_SCHEMA} mchid="${parts.mchid}",nonce_str="${parts.nonce}",signature="${parts.signature}",timestamp="${parts.timestamp}",serial_no="${parts.serialNo}"`;
}

/** What {@link signRequest} needs. */
export interface SignRequestInput {
  /** HTTP method. */
  method: string;
  /** Path and query as sent. */
  url: string;
  /** The exact body ('' for none). */
  body: string;
  /** Epoch seconds. */
  timestamp: string;
  /** The nonce. */
  nonce: string;
  /** The merchant id. */
  mchid: string;
  /** The merchant certificate serial. */
  serialNo: string;
}

/**
 * Signs an API v3 request and returns the `Authorization` header value.
 *
 * @param privateKey - the merchant API private key (`apiclient_key.pem`), parsed once
 * @param input - the request parts
 */
export function signRequest(privateKey: KeyObject, input: SignRequestInput): string {
  const signature = rsaSign('sha256', privateKey, requestSignMessage(input.method, input.url, input.timestamp, input.nonce, input.body));
  return authorizationHeader({ mchid: input.mchid, serialNo: input.serialNo, timestamp: input.timestamp, nonce: input.nonce, signature });
}

const NEWLINE = Buffer.from('\n');

/**
 * The bytes WeChat Pay signs for a response or a callback: `TIMESTAMP\nNONCE\nBODY\n`,
 * built over the raw body bytes (never over a re-serialised object).
 *
 * @param timestamp - `Wechatpay-Timestamp`
 * @param nonce - `Wechatpay-Nonce`
 * @param body - the raw body exactly as received
 */
export function responseSignMessage(timestamp: string, nonce: string, body: string | Uint8Array): Buffer {
  const raw = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  return Buffer.concat([Buffer.from(`${timestamp}\n${nonce}\n`, 'utf8'), raw, NEWLINE]);
}

/** Client parameters for the APP SDK (`PayReq`), as the WeChat Open SDK expects them. */
export interface AppPayParams {
  /** The mobile app's AppID. */
  appid: string;
  /** The merchant id (`sub_mchid` in partner mode). */
  partnerid: string;
  /** The `prepay_id` returned by the APP prepay call. */
  prepayid: string;
  /** Always `Sign=WXPay`. */
  package: 'Sign=WXPay';
  /** A random string. */
  noncestr: string;
  /** Epoch seconds as a string. */
  timestamp: string;
  /** Base64 SHA256withRSA over `appid\ntimestamp\nnoncestr\nprepayid\n`. */
  sign: string;
}

/** Client parameters for JSAPI (`WeixinJSBridge` / `wx.chooseWXPay`) and mini-programs (`wx.requestPayment`). */
export interface JsapiPayParams {
  /** The official account's or mini-program's AppID. */
  appId: string;
  /** Epoch seconds as a string. */
  timeStamp: string;
  /** A random string. */
  nonceStr: string;
  /** `prepay_id=…`. */
  package: string;
  /** Always `RSA` in API v3. */
  signType: 'RSA';
  /** Base64 SHA256withRSA over `appId\ntimeStamp\nnonceStr\npackage\n`. */
  paySign: string;
}

/**
 * Builds and signs the APP client parameters.
 *
 * @param privateKey - the merchant API private key
 * @param input - appid, partnerid (mchid), prepay id, timestamp (epoch seconds) and nonce
 */
export function appPayParams(
  privateKey: KeyObject,
  input: { appid: string; partnerid: string; prepayid: string; timestamp: string; noncestr: string },
): AppPayParams {
  const sign = rsaSign('sha256', privateKey, `${input.appid}\n${input.timestamp}\n${input.noncestr}\n${input.prepayid}\n`);
  return {
    appid: input.appid,
    partnerid: input.partnerid,
    prepayid: input.prepayid,
    package: 'Sign=WXPay',
    noncestr: input.noncestr,
    timestamp: input.timestamp,
    sign,
  };
}

/**
 * Builds and signs the JSAPI / mini-program client parameters.
 *
 * @param privateKey - the merchant API private key
 * @param input - appId, prepay id, timestamp (epoch seconds) and nonce
 */
export function jsapiPayParams(
  privateKey: KeyObject,
  input: { appId: string; prepayId: string; timeStamp: string; nonceStr: string },
): JsapiPayParams {
  const pkg = `prepay_id=${input.prepayId}`;
  const paySign = rsaSign('sha256', privateKey, `${input.appId}\n${input.timeStamp}\n${input.nonceStr}\n${pkg}\n`);
  return { appId: input.appId, timeStamp: input.timeStamp, nonceStr: input.nonceStr, package: pkg, signType: 'RSA', paySign };
}
