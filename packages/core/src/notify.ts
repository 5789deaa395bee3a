/**
 * Notification I/O: one framework-neutral shape for an incoming provider
 * callback, built from a Node `IncomingMessage`, a Web `Request`, or values a
 * framework already read — always keeping the raw body, because signatures are
 * computed over the exact bytes sent.
 *
 * @module
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { PayArgumentError } from './errors.js';

/** An incoming callback, as received. */
export interface IncomingNotification {
  /** HTTP method, upper case. */
  method: string;
  /** Headers with lower-case names; repeated headers joined with `, `. */
  headers: Record<string, string>;
  /** The body exactly as received. */
  rawBody: Buffer;
  /** The raw query string (without `?`), undecoded; empty when there is none. */
  query: string;
}

/** The answer a provider expects to a callback. */
export interface NotificationReply {
  /** HTTP status. */
  status: number;
  /** Response headers. */
  headers: Record<string, string>;
  /** Response body. */
  body: string;
}

/** Default largest accepted body: 1 MiB (provider callbacks are a few KiB). */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

function lowerHeaders(headers: Record<string, string | string[] | undefined> | Iterable<[string, string]>): Record<string, string> {
  const out: Record<string, string> = {};
  const entries =
    Symbol.iterator in (headers as object)
      ? (headers as Iterable<[string, string]>)
      : Object.entries(headers as Record<string, string | string[] | undefined>);
  for (const [k, v] of entries) {
    if (v === undefined) continue;
    out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : String(v);
  }
  return out;
}

function splitUrl(url: string | undefined): string {
  if (!url) return '';
  const q = url.indexOf('?');
  return q < 0 ? '' : url.slice(q + 1);
}

/**
 * Reads a Node `IncomingMessage` (node:http, Express and Koa's `req`, Fastify's
 * `request.raw`) into an {@link IncomingNotification}, reading the body stream.
 * The body must not have been consumed by a parser before.
 *
 * @example
 * ```ts
 * http.createServer(async (req, res) => {
 *   const incoming = await fromNodeRequest(req);
 *   writeNodeReply(res, await payments.handleNotification('alipay', incoming));
 * });
 * ```
 * @throws PayArgumentError when the body is larger than `maxBytes`, was already read by a body parser, or the stream fails
 */
export async function fromNodeRequest(req: IncomingMessage, options: { maxBytes?: number } = {}): Promise<IncomingNotification> {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BODY_BYTES;
  const tooLarge = (): PayArgumentError =>
    new PayArgumentError(`@pay/core: notification body is larger than ${maxBytes} bytes`, {
      hint: 'answer 413; raise maxBytes if the provider really sends such bodies',
    });
  const declared = Number(req.headers['content-length'] ?? Number.NaN);
  if (declared > maxBytes) throw tooLarge();
  // A body parser that ran first has consumed the stream: there is nothing left to read.
  if (req.readableEnded) {
    throw new PayArgumentError(
      '@pay/core: the notification body was already read (a body parser such as express.json() or express.urlencoded() ran first); the raw bytes are needed to verify the signature',
      {
        hint: "mount express.raw({ type: () => true }) (or your framework's raw-body option) on the notify route, or pass the raw body to fromParts()",
      },
    );
  }
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    // destroyOnReturn: false keeps the socket open when we stop early, so a 413 can still be answered.
    for await (const chunk of req.iterator({ destroyOnReturn: false })) {
      const buf = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : (chunk as Buffer);
      size += buf.length;
      if (size > maxBytes) {
        req.resume(); // discard the rest instead of buffering it
        throw tooLarge();
      }
      chunks.push(buf);
    }
  } catch (e) {
    if (e instanceof PayArgumentError) throw e;
    throw new PayArgumentError('@pay/core: could not read the notification body (the connection failed or was aborted)', { cause: e });
  }
  return {
    method: (req.method ?? 'POST').toUpperCase(),
    headers: lowerHeaders(req.headers),
    rawBody: Buffer.concat(chunks),
    query: splitUrl(req.url),
  };
}

/**
 * Reads a Web `Request` (Next.js route handlers, Hono, Deno, Bun, Workers) into an
 * {@link IncomingNotification}.
 *
 * @example
 * ```ts
 * export async function POST(request: Request): Promise<Response> {
 *   return toWebResponse(await payments.handleNotification('wechat', await fromWebRequest(request)));
 * }
 * ```
 * @throws PayArgumentError when the body is larger than `maxBytes` or was already read
 */
export async function fromWebRequest(request: Request, options: { maxBytes?: number } = {}): Promise<IncomingNotification> {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BODY_BYTES;
  const tooLarge = (): PayArgumentError => new PayArgumentError(`@pay/core: notification body is larger than ${maxBytes} bytes`);
  const length = Number(request.headers.get('content-length') ?? '0');
  if (length > maxBytes) throw tooLarge();
  if (request.bodyUsed) {
    throw new PayArgumentError(
      '@pay/core: the Request body was already read (request.json()/formData()/text() ran first); the raw bytes are needed to verify the signature',
      { hint: 'read nothing before fromWebRequest(), or pass request.clone()' },
    );
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (request.body !== null) {
    const reader = request.body.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        size += value.byteLength;
        if (size > maxBytes) {
          await reader.cancel().catch(() => undefined);
          throw tooLarge();
        }
        chunks.push(value);
      }
    } catch (e) {
      if (e instanceof PayArgumentError) throw e;
      throw new PayArgumentError('@pay/core: could not read the notification body', { cause: e });
    }
  }
  const headers: Record<string, string> = {};
  request.headers.forEach((value, key) => {
    headers[key.toLowerCase()] = value;
  });
  return { method: request.method.toUpperCase(), headers, rawBody: Buffer.concat(chunks), query: splitUrl(request.url) };
}

/** What a framework already read, for {@link fromParts}. */
export interface NotificationParts {
  /** HTTP method; `POST` by default. */
  method?: string;
  /** Headers as the framework exposes them. */
  headers?: Record<string, string | string[] | undefined>;
  /** The raw body (keep it: a re-serialised parsed body does not verify). */
  rawBody?: string | Uint8Array | ArrayBuffer;
  /** The request URL (its query string is kept) or the raw query string. */
  url?: string;
  /** The raw query string, without `?`. */
  query?: string;
}

/**
 * Builds an {@link IncomingNotification} from values a framework already read
 * (e.g. Express `express.raw()`, Fastify `addContentTypeParser(..., { parseAs: 'buffer' })`).
 *
 * @throws PayArgumentError when `rawBody` is an object (a parsed body cannot be verified)
 */
export function fromParts(parts: NotificationParts): IncomingNotification {
  const given = parts.rawBody;
  const body = given instanceof ArrayBuffer ? new Uint8Array(given) : given;
  if (body !== undefined && typeof body !== 'string' && !(body instanceof Uint8Array)) {
    throw new PayArgumentError(
      `@pay/core: rawBody must be the raw string or bytes of the body, got ${body === null ? 'null' : Array.isArray(body) ? 'an array' : `a parsed ${typeof body}`}; a parsed and re-serialised body no longer matches its signature (configure the framework to keep the raw body)`,
      {
        hint: 'Express: express.raw({ type: () => true }); Fastify: addContentTypeParser(..., { parseAs: "buffer" }); Koa: koa-body with includeUnparsed',
      },
    );
  }
  return {
    method: (parts.method ?? 'POST').toUpperCase(),
    headers: lowerHeaders(parts.headers ?? {}),
    rawBody: body === undefined ? Buffer.alloc(0) : typeof body === 'string' ? Buffer.from(body, 'utf8') : Buffer.from(body),
    query: parts.query ?? splitUrl(parts.url),
  };
}

/** Writes a {@link NotificationReply} to a Node `ServerResponse`. */
export function writeNodeReply(res: ServerResponse, reply: NotificationReply): void {
  res.writeHead(reply.status, reply.headers);
  res.end(reply.body);
}

/** Turns a {@link NotificationReply} into a Web `Response`. */
export function toWebResponse(reply: NotificationReply): Response {
  return new Response(reply.status === 204 ? null : reply.body, { status: reply.status, headers: reply.headers });
}

/** A plain-text reply (Alipay's `success`). */
export function textReply(status: number, body: string): NotificationReply {
  return { status, headers: { 'content-type': 'text/plain; charset=utf-8' }, body };
}
