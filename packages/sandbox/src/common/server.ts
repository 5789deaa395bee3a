/**
 * A tiny HTTP(S) server on 127.0.0.1 with a random port, the base of every emulator.
 *
 * @module
 */
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type ServerOptions as HttpsOptions } from 'node:https';
import type { AddressInfo } from 'node:net';

/** A request as an emulator route sees it: raw body kept. */
export interface EmulatorRequest {
  /** HTTP method. */
  method: string;
  /** Path without the query. */
  path: string;
  /** Raw query string (without `?`). */
  query: string;
  /** Headers, lower-case names. */
  headers: Record<string, string>;
  /** The raw body. */
  body: Buffer;
  /** The Node request (for TLS details such as the client certificate). */
  node: IncomingMessage;
}

/** What a route answers. */
export interface EmulatorResponse {
  /** HTTP status, 200 by default. */
  status?: number;
  /** Response headers. */
  headers?: Record<string, string>;
  /** Response body. */
  body?: string | Buffer;
}

/** A request handler. */
export type EmulatorHandler = (req: EmulatorRequest) => EmulatorResponse | Promise<EmulatorResponse>;

/** A running loopback server. */
export interface LoopbackServer {
  /** Base URL, e.g. `http://127.0.0.1:53211`. */
  readonly url: string;
  /** The port. */
  readonly port: number;
  /** Stops the server and closes open connections. */
  close(): Promise<void>;
}

/**
 * Starts a server on 127.0.0.1 at a random port that hands every request, body
 * read, to `handler`. A thrown handler error becomes a 500.
 *
 * @param handler - the routes
 * @param options - `tls` to serve HTTPS (e.g. with `requestCert` for mTLS)
 */
export async function startLoopbackServer(handler: EmulatorHandler, options: { tls?: HttpsOptions } = {}): Promise<LoopbackServer> {
  const listener = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
    let out: EmulatorResponse;
    try {
      out = await handler({
        method: req.method ?? 'GET',
        path: q < 0 ? url : url.slice(0, q),
        query: q < 0 ? '' : url.slice(q + 1),
        headers,
        body: Buffer.concat(chunks),
        node: req,
      });
    } catch (e) {
      out = {
        status: 500,
        headers: { 'content-type': 'text/plain' },
        body: `emulator error: ${e instanceof Error ? e.message : String(e)}`,
      };
    }
    if (res.destroyed) return;
    res.writeHead(out.status ?? 200, out.headers ?? {});
    res.end(out.body ?? '');
  };
  const server: Server = options.tls ? createHttpsServer(options.tls, listener) : createHttpServer(listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}
