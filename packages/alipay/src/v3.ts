/**
 * OpenAPI v3: JSON over HTTP with an `Authorization: ALIPAY-SHA256withRSA …`
 * request signature and `alipay-timestamp` / `alipay-nonce` / `alipay-signature`
 * response signatures, verified over the raw body within a time window.
 *
 * @module
 */
import { type HttpRequest, PayCertificateError, PayReplayError, PayResponseError, PaySignatureError, randomId, rsaSign } from '@pay/core';
import type { ResolvedAlipayConfig } from './config.js';
import { alipayError, PREFIX, PROVIDER_NAME } from './errors.js';
import { verifyWithAny } from './sign.js';

/** Options of a v3 call. */
export interface AlipayV3RequestOptions {
  /** Query parameters, appended to the path (and signed as part of it). */
  query?: Readonly<Record<string, string | number>>;
  /** The JSON body (an object is serialised once; that exact text is signed and sent). */
  body?: unknown;
  /** An ISV's authorisation token (`alipay-app-auth-token`, signed). */
  appAuthToken?: string;
  /** Mark a create/refund keyed by its own id as safe to retry. GET is always retried. */
  idempotent?: boolean;
  /** `alipay-request-id`; a random UUID by default. */
  requestId?: string;
}

/** A verified v3 answer. */
export interface AlipayV3Response<T = Record<string, unknown>> {
  /** HTTP status (2xx; failures are thrown). */
  status: number;
  /** The parsed body (empty object for an empty body). */
  data: T;
  /** `alipay-trace-id`, for Alipay support. */
  traceId?: string;
  /** The raw body text that was verified. */
  raw: string;
}

/** The parts of a v3 request signature. */
export interface V3AuthorizationInput {
  /** HTTP method, upper case. */
  method: string;
  /** Path with query, e.g. `/v3/alipay/trade/query`. */
  pathWithQuery: string;
  /** The exact body text ('' for none). */
  body: string;
  /** Nonce. */
  nonce: string;
  /** Epoch ms. */
  timestamp: number;
  /** ISV token, when used. */
  appAuthToken?: string;
}

/** A v3 `Authorization` header and the content its signature covers. */
export interface V3Authorization {
  /** The header value. */
  authorization: string;
  /** The signed content. */
  signContent: string;
}

/**
 * Builds the v3 `Authorization` header: `ALIPAY-SHA256withRSA app_id=…[,app_cert_sn=…],nonce=…,timestamp=…,sign=…`,
 * the signature covering `auth\nMETHOD\npath\nbody\n[token\n]`.
 */
export function v3Authorization(cfg: ResolvedAlipayConfig, input: V3AuthorizationInput): V3Authorization {
  const auth = `app_id=${cfg.appId}${cfg.appCertSn !== undefined ? `,app_cert_sn=${cfg.appCertSn}` : ''},nonce=${input.nonce},timestamp=${input.timestamp}`;
  let signContent = `${auth}\n${input.method}\n${input.pathWithQuery}\n${input.body}\n`;
  if (input.appAuthToken !== undefined) signContent += `${input.appAuthToken}\n`;
  const sign = rsaSign('sha256', cfg.privateKey, signContent);
  return { authorization: `ALIPAY-SHA256withRSA ${auth},sign=${sign}`, signContent };
}

/** The content a v3 response signature covers: `timestamp\nnonce\nbody\n`. */
export function v3ResponseSignContent(timestamp: string, nonce: string, body: string): string {
  return `${timestamp}\n${nonce}\n${body}\n`;
}

function parseBody(raw: string, status: number): Record<string, unknown> {
  if (raw === '') return {};
  try {
    const v = JSON.parse(raw) as unknown;
    if (v !== null && typeof v === 'object') return v as Record<string, unknown>;
  } catch {
    /* fall through */
  }
  throw new PayResponseError(`${PREFIX} v3: expected a JSON body, got ${JSON.stringify(raw.slice(0, 40))} (HTTP ${status})`, {
    provider: PROVIDER_NAME,
    httpStatus: status,
  });
}

/**
 * Verifies a v3 answer: signature over the raw body, certificate SN in certificate
 * mode, timestamp within the window; then maps 4xx bodies to errors.
 *
 * @throws PaySignatureError, PayCertificateError, PayReplayError, PayResponseError, or the mapped business error
 */
export function verifyV3Response<T>(
  cfg: ResolvedAlipayConfig,
  what: string,
  status: number,
  headers: Readonly<Record<string, string>>,
  raw: string,
): AlipayV3Response<T> {
  const signature = headers['alipay-signature'];
  const timestamp = headers['alipay-timestamp'];
  const nonce = headers['alipay-nonce'];
  const traceId = headers['alipay-trace-id'];
  if (!signature || !timestamp || !nonce) {
    let claim = '';
    try {
      const body = raw === '' ? {} : (JSON.parse(raw) as { code?: unknown });
      if (typeof body.code === 'string') claim = ` (it claims code ${body.code})`;
    } catch {
      /* not JSON */
    }
    throw new PaySignatureError(
      `${PREFIX} ${what}: expected alipay-signature, alipay-timestamp and alipay-nonce headers, found ${[signature ? '' : 'no signature', timestamp ? '' : 'no timestamp', nonce ? '' : 'no nonce'].filter(Boolean).join(', ')}${claim}; an unsigned answer is never trusted`,
      { provider: PROVIDER_NAME, reason: 'UNSIGNED_RESPONSE', httpStatus: status },
    );
  }
  let keys = cfg.alipayKeys;
  const sn = headers['alipay-sn'];
  if (cfg.mode === 'cert' && sn !== undefined) {
    keys = keys.filter((k) => k.sn === sn);
    if (keys.length === 0) {
      throw new PayCertificateError(`${PREFIX} ${what}: alipay-sn ${sn} names no configured Alipay certificate`, {
        provider: PROVIDER_NAME,
        reason: 'UNKNOWN_CERT_SN',
      });
    }
  }
  if (!verifyWithAny('sha256', keys, v3ResponseSignContent(timestamp, nonce, raw), signature)) {
    throw new PaySignatureError(`${PREFIX} ${what}: alipay-signature does not verify over timestamp, nonce and the raw body`, {
      provider: PROVIDER_NAME,
      reason: 'BAD_SIGNATURE',
      httpStatus: status,
    });
  }
  if (!/^\d{10,16}$/.test(timestamp)) {
    throw new PayReplayError(
      `${PREFIX} ${what}: alipay-timestamp must be epoch milliseconds, got ${JSON.stringify(timestamp.slice(0, 20))}`,
      {
        provider: PROVIDER_NAME,
      },
    );
  }
  const skew = Number(timestamp) - cfg.clock();
  if (Math.abs(skew) > cfg.v3WindowSeconds * 1000) {
    throw new PayReplayError(
      `${PREFIX} ${what}: alipay-timestamp is ${Math.round(skew / 1000)} s from the clock; the window is ±${cfg.v3WindowSeconds} s (replayed answer or wrong clock)`,
      { provider: PROVIDER_NAME },
    );
  }
  const data = parseBody(raw, status);
  if (status >= 300) {
    const code = typeof data.code === 'string' ? data.code : undefined;
    const message = typeof data.message === 'string' ? data.message : undefined;
    throw alipayError(
      what,
      { ...(code !== undefined ? { code, sub_code: code } : {}), ...(message !== undefined ? { sub_msg: message } : {}) },
      { httpStatus: status },
    );
  }
  return { status, data: data as T, ...(traceId !== undefined ? { traceId } : {}), raw };
}

/**
 * Sends one v3 call and verifies the answer.
 *
 * @throws PayError of every kind {@link verifyV3Response} and the transport raise
 */
export async function v3Request<T>(
  cfg: ResolvedAlipayConfig,
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
  path: string,
  options: AlipayV3RequestOptions = {},
): Promise<AlipayV3Response<T>> {
  if (!path.startsWith('/')) throw new PayResponseError(`${PREFIX} v3: expected a path starting with '/', got ${JSON.stringify(path)}`);
  let pathWithQuery = path;
  if (options.query !== undefined) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(options.query)) q.set(k, String(v));
    const s = q.toString();
    if (s !== '') pathWithQuery += `${path.includes('?') ? '&' : '?'}${s}`;
  }
  const body = options.body === undefined ? '' : typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
  const { authorization } = v3Authorization(cfg, {
    method,
    pathWithQuery,
    body,
    nonce: cfg.nonce(),
    timestamp: cfg.clock(),
    ...(options.appAuthToken !== undefined ? { appAuthToken: options.appAuthToken } : {}),
  });
  const headers: Record<string, string> = {
    authorization,
    accept: 'application/json',
    'content-type': 'application/json',
    'alipay-request-id': options.requestId ?? randomId(),
  };
  if (options.appAuthToken !== undefined) headers['alipay-app-auth-token'] = options.appAuthToken;
  const req: HttpRequest = { method, url: `${cfg.endpoint}${pathWithQuery}`, headers, idempotent: options.idempotent ?? method === 'GET' };
  if (body !== '') req.body = body;
  if (cfg.timeoutMs !== undefined) req.timeoutMs = cfg.timeoutMs;
  const res = await cfg.transport.request(req);
  return verifyV3Response<T>(cfg, `${method} ${path}`, res.status, res.headers, res.body.toString('utf8'));
}
