/**
 * The axios transport against real sockets on 127.0.0.1: node:http servers for
 * statuses, timeouts, resets and retries, and a node:https server that demands
 * a client certificate (mTLS). Sleep and jitter are injected, server hits counted.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, Agent as HttpsAgent } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  assertSecureUrl,
  backoffDelay,
  createHttpTransport,
  getDefaultTransport,
  PayArgumentError,
  PayError,
  PayNetworkError,
  PayResponseError,
  PayTimeoutError,
  PayUpstreamError,
  responseText,
} from '../src/index.js';
import { keyPem, makeCert } from './helpers/pki.js';

type Handler = (req: IncomingMessage, res: ServerResponse, body: Buffer) => void;

/** A node:http server on 127.0.0.1 whose behaviour each test sets; counts requests. */
class TestServer {
  hits = 0;
  requests: Array<{ method: string; url: string; headers: IncomingMessage['headers']; body: Buffer }> = [];
  handler: Handler = (_req, res) => res.end('ok');
  readonly sockets = new Set<Socket>();
  constructor(
    readonly server: Server,
    readonly scheme: 'http' | 'https' = 'http',
  ) {
    server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.hits++;
        const body = Buffer.concat(chunks);
        this.requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
        this.handler(req, res, body);
      });
    });
  }
  get url(): string {
    return `${this.scheme}://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }
  async listen(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return this;
  }
  reset(): void {
    this.hits = 0;
    this.requests = [];
    this.handler = (_req, res) => res.end('ok');
  }
  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

const noSleep = { delays: [] as number[], sleep: async (ms: number) => void noSleep.delays.push(ms) };

let http: TestServer;
beforeAll(async () => {
  http = await new TestServer(createServer()).listen();
});
afterAll(async () => {
  await http.close();
});
afterEach(() => {
  http.reset();
  noSleep.delays = [];
});

async function rejection(promise: Promise<unknown>): Promise<PayError> {
  try {
    await promise;
  } catch (e) {
    expect(e).toBeInstanceOf(PayError);
    expect((e as PayError).message).toMatch(/^@pay\/core: transport: /);
    return e as PayError;
  }
  throw new Error('expected a rejection');
}

describe('requests and responses', () => {
  it('sends method, headers and the exact body bytes; returns status, lower-case headers and the raw body', async () => {
    const binary = Buffer.from([0xff, 0xfe, 0x00, 0xb2, 0xe2, 0xca, 0xd4]); // not UTF-8 (GBK 测试)
    http.handler = (_req, res, body) => {
      res.writeHead(200, { 'X-Custom-Header': 'Value', 'Content-Type': 'application/octet-stream' });
      res.end(Buffer.concat([body, binary]));
    };
    const t = createHttpTransport();
    const res = await t.request({
      method: 'POST',
      url: `${http.url}/gateway.do?x=1`,
      headers: { 'Content-Type': 'text/plain', 'X-Req': 'a' },
      body: 'a=1&b=测试',
    });
    expect(res.status).toBe(200);
    expect(res.headers['x-custom-header']).toBe('Value');
    expect(res.body.equals(Buffer.concat([Buffer.from('a=1&b=测试'), binary]))).toBe(true);
    expect(http.requests[0]?.method).toBe('POST');
    expect(http.requests[0]?.url).toBe('/gateway.do?x=1');
    expect(http.requests[0]?.headers['x-req']).toBe('a');
    expect(http.requests[0]?.headers['content-type']).toBe('text/plain');
  });

  it('sends Buffer and plain Uint8Array bodies byte for byte', async () => {
    http.handler = (_req, res, body) => res.end(body);
    const t = createHttpTransport();
    const bytes = new Uint8Array([0, 1, 2, 250, 251, 252]);
    expect((await t.request({ method: 'PUT', url: http.url, body: bytes })).body.equals(Buffer.from(bytes))).toBe(true);
    const view = new Uint8Array([...Buffer.from('xxHELLOxx')]).subarray(2, 7); // a view with an offset
    expect(responseText(await t.request({ method: 'POST', url: http.url, body: view }))).toBe('HELLO');
    expect(responseText(await t.request({ method: 'POST', url: http.url, body: Buffer.from('buf') }))).toBe('buf');
  });

  it('returns 4xx answers (providers sign their business errors) without throwing or retrying', async () => {
    http.handler = (_req, res) => {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end('{"code":"PARAM_ERROR","message":"bad"}');
    };
    const t = createHttpTransport({ sleep: noSleep.sleep });
    const res = await t.request({ method: 'GET', url: http.url, idempotent: true });
    expect(res.status).toBe(400);
    expect(JSON.parse(responseText(res)).code).toBe('PARAM_ERROR');
    expect(http.hits).toBe(1);
    http.handler = (_req, res) => {
      res.writeHead(429);
      res.end('slow down');
    };
    expect((await t.request({ method: 'GET', url: http.url, idempotent: true })).status).toBe(429);
    expect(http.hits).toBe(2);
  });

  it('does not follow redirects', async () => {
    http.handler = (_req, res) => {
      res.writeHead(302, { location: 'https://example.com/' });
      res.end();
    };
    const res = await createHttpTransport().request({ method: 'GET', url: http.url });
    expect(res.status).toBe(302);
    expect(res.headers.location).toBe('https://example.com/');
  });

  it('answers a body larger than maxBodyBytes with a PayResponseError (not retried)', async () => {
    http.handler = (_req, res) => res.end('x'.repeat(5000));
    const t = createHttpTransport({ maxBodyBytes: 1000, sleep: noSleep.sleep });
    const e = await rejection(t.request({ method: 'GET', url: http.url, idempotent: true }));
    expect(e).toBeInstanceOf(PayResponseError);
    expect(e.message).toMatch(/larger than 1000 bytes/);
    expect(http.hits).toBe(1);
  });

  it('goes through a configured proxy', async () => {
    const proxy = await new TestServer(createServer()).listen();
    proxy.handler = (req, res) => res.end(`proxied ${req.url}`);
    try {
      const t = createHttpTransport({ proxy: { protocol: 'http', host: '127.0.0.1', port: (proxy.server.address() as AddressInfo).port } });
      const res = await t.request({ method: 'GET', url: `${http.url}/v3/certificates` });
      expect(responseText(res)).toBe(`proxied ${http.url}/v3/certificates`);
      expect(http.hits).toBe(0);
    } finally {
      await proxy.close();
    }
  });

  it('getDefaultTransport is one shared transport', () => {
    expect(getDefaultTransport()).toBe(getDefaultTransport());
  });
});

describe('failures become typed PayErrors', () => {
  it('5xx → PayUpstreamError keeping status, headers and body', async () => {
    http.handler = (_req, res) => {
      res.writeHead(503, { 'retry-after': '2' });
      res.end('<html>busy</html>');
    };
    const e = await rejection(createHttpTransport().request({ method: 'POST', url: `${http.url}/pay` }));
    expect(e).toBeInstanceOf(PayUpstreamError);
    const up = e as PayUpstreamError;
    expect(up.httpStatus).toBe(503);
    expect(up.retryable).toBe(true);
    expect(up.response?.status).toBe(503);
    expect(up.response?.headers['retry-after']).toBe('2');
    expect(Buffer.from(up.response?.body ?? []).toString()).toBe('<html>busy</html>');
    expect(up.message).toBe(`@pay/core: transport: POST 127.0.0.1:${(http.server.address() as AddressInfo).port} answered HTTP 503`);
  });

  it('no answer within timeoutMs → PayTimeoutError (per call and per transport)', async () => {
    http.handler = () => {}; // never answers
    const t = createHttpTransport({ timeoutMs: 150 });
    const started = Date.now();
    const e = await rejection(t.request({ method: 'GET', url: http.url }));
    expect(e).toBeInstanceOf(PayTimeoutError);
    expect(e.message).toMatch(/timed out after 150 ms/);
    expect(Date.now() - started).toBeLessThan(2000);
    const e2 = await rejection(createHttpTransport({ timeoutMs: 10_000 }).request({ method: 'GET', url: http.url, timeoutMs: 100 }));
    expect(e2.message).toMatch(/timed out after 100 ms/);
  });

  it('a body that trickles in past the deadline → PayTimeoutError (the deadline covers the whole answer)', async () => {
    http.handler = (_req, res) => {
      res.writeHead(200);
      const iv = setInterval(() => res.write('.'), 40);
      res.on('close', () => clearInterval(iv));
    };
    const started = Date.now();
    const e = await rejection(createHttpTransport({ timeoutMs: 300 }).request({ method: 'GET', url: http.url }));
    expect(e).toBeInstanceOf(PayTimeoutError);
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('connection refused → PayNetworkError (retryable)', async () => {
    const closed = await new TestServer(createServer()).listen();
    const url = closed.url;
    await closed.close();
    const e = await rejection(createHttpTransport().request({ method: 'GET', url }));
    expect(e).toBeInstanceOf(PayNetworkError);
    expect(e.message).toMatch(/ECONNREFUSED/);
    expect(e.retryable).toBe(true);
    expect(e.cause).toBeDefined();
  });

  it('connection reset mid-request → PayNetworkError', async () => {
    http.handler = (req) => req.socket.destroy();
    const e = await rejection(createHttpTransport().request({ method: 'POST', url: http.url, body: 'x' }));
    expect(e).toBeInstanceOf(PayNetworkError);
  });
});

describe('retries: only idempotent calls, with exponential backoff and jitter', () => {
  const failTimes = (n: number, status = 503): void => {
    http.handler = (_req, res) => {
      if (http.hits <= n) {
        res.writeHead(status);
        res.end('busy');
      } else res.end('done');
    };
  };

  it('retries an idempotent call after 5xx until it succeeds, sleeping full-jitter backoff', async () => {
    failTimes(2);
    const t = createHttpTransport({ retries: 3, backoffMs: 100, maxBackoffMs: 1000, sleep: noSleep.sleep, random: () => 0.5 });
    const res = await t.request({ method: 'GET', url: http.url, idempotent: true });
    expect(responseText(res)).toBe('done');
    expect(http.hits).toBe(3);
    expect(noSleep.delays).toEqual([50, 100]); // 0.5 × 100, 0.5 × 200
  });

  it('never retries a call not marked idempotent', async () => {
    failTimes(5);
    const t = createHttpTransport({ retries: 3, sleep: noSleep.sleep });
    await expect(t.request({ method: 'POST', url: http.url, body: 'create order' })).rejects.toBeInstanceOf(PayUpstreamError);
    await expect(t.request({ method: 'POST', url: http.url, body: 'create order', idempotent: false })).rejects.toBeInstanceOf(
      PayUpstreamError,
    );
    expect(http.hits).toBe(2);
    expect(noSleep.delays).toEqual([]);
  });

  it('gives up after `retries` retries and throws the last error', async () => {
    failTimes(100, 502);
    const t = createHttpTransport({ retries: 2, backoffMs: 200, sleep: noSleep.sleep, random: () => 0.999 });
    const e = await rejection(t.request({ method: 'GET', url: http.url, idempotent: true }));
    expect(e).toBeInstanceOf(PayUpstreamError);
    expect(e.httpStatus).toBe(502);
    expect(http.hits).toBe(3);
    expect(noSleep.delays).toEqual([199, 399]);
  });

  it('retries timeouts of idempotent calls, and refused connections', async () => {
    http.handler = (_req, res) => {
      if (http.hits === 1) return; // first attempt hangs
      res.end('second');
    };
    const t = createHttpTransport({ timeoutMs: 150, retries: 1, sleep: noSleep.sleep, random: () => 0 });
    expect(responseText(await t.request({ method: 'GET', url: http.url, idempotent: true }))).toBe('second');
    expect(http.hits).toBe(2);
    const closed = await new TestServer(createServer()).listen();
    const url = closed.url;
    await closed.close();
    noSleep.delays = [];
    await expect(
      createHttpTransport({ retries: 2, sleep: noSleep.sleep, random: () => 0 }).request({ method: 'GET', url, idempotent: true }),
    ).rejects.toBeInstanceOf(PayNetworkError);
    expect(noSleep.delays).toHaveLength(2);
  });

  it('backoffDelay: exponential cap, capped by maxBackoffMs, scaled by jitter in [0, 1)', () => {
    expect([1, 2, 3, 4, 5].map((n) => backoffDelay(n, 200, 3000, () => 0.999999))).toEqual([199, 399, 799, 1599, 2999]);
    expect(backoffDelay(3, 200, 3000, () => 0)).toBe(0);
    expect(backoffDelay(10, 200, 3000, () => 0.5)).toBe(1500);
  });
});

describe('HTTPS only, except loopback', () => {
  it('refuses plain http to any other host before any I/O', async () => {
    // 10.255.255.1 is unroutable: a connection attempt would hang until the 60 s timeout
    const t = createHttpTransport({ timeoutMs: 60_000 });
    const started = Date.now();
    for (const url of [
      'http://10.255.255.1/gateway.do',
      'http://openapi.alipay.com/gateway.do',
      'http://127.0.0.1.nip.io/',
      'ftp://127.0.0.1/',
    ]) {
      const e = await t.request({ method: 'POST', url, idempotent: true }).catch((x: unknown) => x);
      expect(e, url).toBeInstanceOf(PayArgumentError);
      expect((e as Error).message).toMatch(/gateway calls must use HTTPS/);
    }
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('assertSecureUrl: https anywhere, http only to 127.0.0.1, localhost and [::1]; not an absolute URL → PayArgumentError', () => {
    expect(assertSecureUrl('https://api.mch.weixin.qq.com/v3/pay').hostname).toBe('api.mch.weixin.qq.com');
    for (const ok of ['http://127.0.0.1:8080/x', 'http://localhost/x', 'http://[::1]:9/x']) expect(() => assertSecureUrl(ok)).not.toThrow();
    for (const bad of ['http://192.168.1.1/', 'http://example.com', 'ws://127.0.0.1/', 'file:///etc/passwd'])
      expect(() => assertSecureUrl(bad)).toThrow(PayArgumentError);
    expect(() => assertSecureUrl('/relative')).toThrow(/not an absolute URL/);
  });
});

describe('mTLS: an HTTPS server that requires a client certificate', () => {
  const ca = makeCert({ subject: [['CN', 'Test TLS CA']], ca: true, keyUsage: { keyCertSign: true, cRLSign: true } });
  const serverCert = makeCert({
    subject: [['CN', '127.0.0.1']],
    issuer: ca,
    altNames: { ips: ['127.0.0.1'], dns: ['localhost'] },
    extKeyUsage: { serverAuth: true },
    keyUsage: { digitalSignature: true, keyEncipherment: true },
    serialHex: '02',
  });
  const clientCert = makeCert({
    subject: [['CN', 'merchant 1900000109']],
    issuer: ca,
    extKeyUsage: { clientAuth: true },
    keyUsage: { digitalSignature: true },
    serialHex: '03',
  });
  const strangerCa = makeCert({ subject: [['CN', 'Stranger CA']], ca: true });
  const strangerClient = makeCert({ subject: [['CN', 'stranger']], issuer: strangerCa, serialHex: '04' });
  let tls: TestServer;

  beforeAll(async () => {
    tls = await new TestServer(
      createHttpsServer({ key: keyPem(serverCert), cert: serverCert.pem, ca: ca.pem, requestCert: true, rejectUnauthorized: true }),
      'https',
    ).listen();
    tls.handler = (req, res) => {
      const peer = (req.socket as import('node:tls').TLSSocket).getPeerCertificate();
      res.end(`hello ${peer.subject?.CN}`);
    };
  });
  afterAll(async () => {
    await tls.close();
  });

  const url = (): string => `${tls.url}/secapi/pay/refund`;

  it('succeeds with an agent holding the client certificate (per call, and as the transport default)', async () => {
    const agent = new HttpsAgent({ ca: ca.pem, cert: clientCert.pem, key: keyPem(clientCert), keepAlive: false });
    const res = await createHttpTransport().request({ method: 'POST', url: url(), body: '<xml/>', httpsAgent: agent });
    expect(res.status).toBe(200);
    expect(responseText(res)).toBe('hello merchant 1900000109');
    const byDefault = await createHttpTransport({ httpsAgent: agent }).request({ method: 'GET', url: url() });
    expect(responseText(byDefault)).toBe('hello merchant 1900000109');
  });

  it('fails with a PayNetworkError without a client certificate, or with one from another CA (not retried)', async () => {
    const t = createHttpTransport({ sleep: noSleep.sleep });
    const hitsBefore = tls.hits;
    for (const agent of [
      new HttpsAgent({ ca: ca.pem, keepAlive: false }),
      new HttpsAgent({ ca: ca.pem, cert: strangerClient.pem, key: keyPem(strangerClient), keepAlive: false }),
    ]) {
      const e = await rejection(t.request({ method: 'GET', url: url(), httpsAgent: agent, idempotent: true }));
      expect(e).toBeInstanceOf(PayNetworkError);
    }
    expect(tls.hits).toBe(hitsBefore);
  });

  it('fails when the server certificate is not trusted, without retrying', async () => {
    const t = createHttpTransport({ sleep: noSleep.sleep });
    const agent = new HttpsAgent({ cert: clientCert.pem, key: keyPem(clientCert), keepAlive: false }); // no CA: server cert untrusted
    const e = await rejection(t.request({ method: 'GET', url: url(), httpsAgent: agent, idempotent: true }));
    expect(e).toBeInstanceOf(PayNetworkError);
    expect(e.retryable).toBe(false);
    expect(e.hint).toMatch(/TLS failed/);
    expect(noSleep.delays).toEqual([]);
  });
});
