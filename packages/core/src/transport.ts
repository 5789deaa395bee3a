/**
 * HTTP behind a small interface. The default implementation uses axios (loaded
 * on the first call); tests, the sandbox and users inject their own.
 *
 * @module
 */
import type { Agent as HttpsAgent } from 'node:https';
import { PayArgumentError, PayError, PayNetworkError, PayResponseError, PayTimeoutError, PayUpstreamError } from './errors.js';
import { loadAxios } from './lazy.js';

/** An HTTP request as the provider packages make it. */
export interface HttpRequest {
  /** HTTP method. */
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Absolute URL. `http:` is only allowed for loopback hosts. */
  url: string;
  /** Request headers (names as written). */
  headers?: Record<string, string>;
  /** The body, sent as-is. */
  body?: string | Uint8Array;
  /** Timeout for this call in milliseconds (overrides the transport's default). */
  timeoutMs?: number;
  /**
   * True when the call may safely be sent again (queries, and creates or refunds
   * keyed by an idempotency id the provider honours). Only such calls are retried.
   */
  idempotent?: boolean;
  /** An https agent for this call (e.g. mTLS with the merchant certificate). */
  httpsAgent?: HttpsAgent;
}

/** An HTTP response: status, lower-cased headers and the raw body bytes. */
export interface HttpResponse {
  /** HTTP status code. */
  status: number;
  /** Response headers with lower-case names. */
  headers: Record<string, string>;
  /** The raw body, exactly as received (signatures are verified over it). */
  body: Buffer;
}

/**
 * What every transport implements. It returns any answer with a status below 500
 * (providers sign their 4xx business errors), and throws a {@link PayError}
 * otherwise: {@link PayTimeoutError}, {@link PayNetworkError}, {@link PayUpstreamError} (5xx, response kept).
 */
export interface Transport {
  /** Sends one request. */
  request(request: HttpRequest): Promise<HttpResponse>;
}

/** An HTTP(S) proxy for {@link createHttpTransport} (environment proxies are ignored unless given here). */
export interface ProxyOptions {
  /** `http` or `https`; `http` by default. */
  protocol?: string;
  /** Proxy host. */
  host: string;
  /** Proxy port. */
  port: number;
  /** Basic authentication for the proxy. */
  auth?: {
    /** User name. */
    username: string;
    /** Password (never logged). */
    password: string;
  };
}

/** Options of {@link createHttpTransport}. */
export interface HttpTransportOptions {
  /** Default timeout per attempt, milliseconds. Default 10 000. */
  timeoutMs?: number;
  /** Retries after the first attempt, for idempotent calls only. Default 2. */
  retries?: number;
  /** First backoff delay in ms; doubles each retry, with full jitter. Default 200. */
  backoffMs?: number;
  /** Longest backoff delay in ms. Default 3 000. */
  maxBackoffMs?: number;
  /** Proxy, as axios takes it. */
  proxy?: ProxyOptions;
  /** Default https agent (e.g. mTLS, custom CA). */
  httpsAgent?: HttpsAgent;
  /** Largest response body accepted, bytes. Default 20 MiB. */
  maxBodyBytes?: number;
  /** Sleep function (injectable for tests). */
  sleep?: (ms: number) => Promise<void>;
  /** Random source for jitter in [0, 1) (injectable for tests). */
  random?: () => number;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

/**
 * Checks that a URL is HTTPS, or HTTP to a loopback host (sandbox and tests).
 *
 * @throws PayArgumentError for any other URL
 */
export function assertSecureUrl(url: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (e) {
    throw new PayArgumentError(`@pay/core: transport: not an absolute URL: ${url}`, { cause: e });
  }
  if (parsed.protocol === 'https:') return parsed;
  if (parsed.protocol === 'http:' && LOOPBACK.has(parsed.hostname)) return parsed;
  throw new PayArgumentError(
    `@pay/core: transport: refusing ${parsed.protocol}//${parsed.host}: gateway calls must use HTTPS (plain HTTP is only allowed to 127.0.0.1 / localhost)`,
  );
}

const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Backoff before retry number `attempt` (1-based): full jitter over an exponential cap. */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const cap = Math.min(maxMs, baseMs * 2 ** (attempt - 1));
  return Math.floor(random() * cap);
}

/**
 * The default transport, over axios: per-call timeout, proxy, custom https agent
 * (mTLS), retries with exponential backoff and jitter for idempotent calls only.
 *
 * @example
 * ```ts
 * const transport = createHttpTransport({ timeoutMs: 5000, retries: 2 });
 * const res = await transport.request({ method: 'GET', url: 'https://openapi.alipay.com/gateway.do', idempotent: true });
 * ```
 */
export function createHttpTransport(options: HttpTransportOptions = {}): Transport {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const retries = options.retries ?? 2;
  const backoffMs = options.backoffMs ?? 200;
  const maxBackoffMs = options.maxBackoffMs ?? 3_000;
  const maxBodyBytes = options.maxBodyBytes ?? 20 * 1024 * 1024;
  const sleep = options.sleep ?? defaultSleep;
  const random = options.random ?? Math.random;

  async function once(req: HttpRequest): Promise<HttpResponse> {
    const axios = loadAxios();
    const host = new URL(req.url).host;
    const timeout = req.timeoutMs ?? timeoutMs;
    // axios' own timeout is a socket idle timeout; this deadline also bounds a body that trickles in.
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(), timeout);
    let res: import('axios').AxiosResponse<ArrayBuffer>;
    try {
      res = await axios.request<ArrayBuffer>({
        method: req.method,
        url: req.url,
        headers: req.headers ?? {},
        // axios sends strings and Buffers but refuses other Uint8Array views
        data:
          req.body instanceof Uint8Array && !Buffer.isBuffer(req.body)
            ? Buffer.from(req.body.buffer, req.body.byteOffset, req.body.byteLength)
            : req.body,
        timeout,
        signal: deadline.signal,
        responseType: 'arraybuffer',
        transformResponse: [(d: unknown) => d],
        transformRequest: [(d: unknown) => d],
        validateStatus: () => true,
        maxRedirects: 0,
        maxContentLength: maxBodyBytes,
        decompress: true,
        proxy: options.proxy ?? false,
        ...((req.httpsAgent ?? options.httpsAgent) ? { httpsAgent: req.httpsAgent ?? options.httpsAgent } : {}),
      });
    } catch (e) {
      const err = e as { code?: string; message?: string; cause?: { code?: string } };
      if (deadline.signal.aborted || err.code === 'ECONNABORTED' || err.code === 'ETIMEDOUT' || /timeout/i.test(err.message ?? '')) {
        throw new PayTimeoutError(`@pay/core: transport: ${req.method} ${host} timed out after ${timeout} ms`, { cause: e });
      }
      if (/maxContentLength/.test(err.message ?? '')) {
        throw new PayResponseError(`@pay/core: transport: ${req.method} ${host} answered with a body larger than ${maxBodyBytes} bytes`, {
          cause: e,
        });
      }
      const code = err.code ?? err.cause?.code ?? '';
      // A certificate or TLS failure will fail again: do not retry it.
      const tls = /CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|EPROTO/i.test(`${code} ${err.message ?? ''}`);
      throw new PayNetworkError(`@pay/core: transport: ${req.method} ${host} failed: ${code} ${err.message ?? ''}`.trim(), {
        cause: e,
        ...(tls
          ? {
              retryable: false,
              hint: 'TLS failed: check the https agent (client certificate and key for mTLS, trusted CA) and the server certificate',
            }
          : {}),
      });
    } finally {
      clearTimeout(timer);
    }
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(res.headers ?? {})) {
      if (v === undefined || v === null) continue;
      headers[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : String(v);
    }
    const body = Buffer.from(res.data ?? new ArrayBuffer(0));
    const response: HttpResponse = { status: res.status, headers, body };
    if (res.status >= 500) {
      throw new PayUpstreamError(`@pay/core: transport: ${req.method} ${host} answered HTTP ${res.status}`, {
        httpStatus: res.status,
        response,
      });
    }
    return response;
  }

  return {
    async request(req: HttpRequest): Promise<HttpResponse> {
      assertSecureUrl(req.url);
      const attempts = req.idempotent ? retries + 1 : 1;
      let last: unknown;
      for (let attempt = 1; attempt <= attempts; attempt++) {
        try {
          return await once(req);
        } catch (e) {
          last = e;
          if (!(e instanceof PayError) || !e.retryable || attempt === attempts) throw e;
          await sleep(backoffDelay(attempt, backoffMs, maxBackoffMs, random));
        }
      }
      throw last;
    },
  };
}

let defaultTransport: Transport | undefined;

/** The shared default transport (created on first use). */
export function getDefaultTransport(): Transport {
  if (defaultTransport === undefined) defaultTransport = createHttpTransport();
  return defaultTransport;
}

/** The body of a response as UTF-8 text. */
export function responseText(response: HttpResponse): string {
  return response.body.toString('utf8');
}
