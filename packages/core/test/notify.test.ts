/**
 * Notification I/O over real sockets (node:http on 127.0.0.1) and Web Requests:
 * raw bytes are kept exactly, size limits hold, parsed bodies are refused.
 */
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  fromNodeRequest,
  fromParts,
  fromWebRequest,
  type IncomingNotification,
  type NotificationReply,
  PayArgumentError,
  type PayError,
  textReply,
  toWebResponse,
  writeNodeReply,
} from '../src/index.js';

// GBK bytes of 测试 (not valid UTF-8), a NUL, CRLF and a lone 0xFF
const nonUtf8 = Buffer.from([0xb2, 0xe2, 0xca, 0xd4, 0x00, 0x0d, 0x0a, 0xff, 0x26, 0x3d, 0x2b]);

let server: Server;
let port: number;
let onRequest: (req: IncomingMessage, res: ServerResponse) => Promise<void>;
const seen: Array<IncomingNotification | Error> = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    onRequest(req, res).catch((e: unknown) => {
      res.writeHead(500);
      res.end(String(e));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

/** The handler most tests use: read the notification, answer like a provider expects (or 413/400 on a PayError). */
function standardHandler(options: { maxBytes?: number; consumeFirst?: boolean } = {}) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (options.consumeFirst) for await (const _ of req) void _;
    let reply: NotificationReply;
    try {
      const incoming = await fromNodeRequest(req, options.maxBytes === undefined ? {} : { maxBytes: options.maxBytes });
      seen.push(incoming);
      reply = { status: 200, headers: { 'content-type': 'text/plain', 'x-reply': 'yes' }, body: 'success' };
    } catch (e) {
      seen.push(e as Error);
      reply = textReply(/larger than/.test((e as Error).message) ? 413 : 400, (e as Error).message);
    }
    writeNodeReply(res, reply);
  };
}

interface ClientResult {
  status: number;
  headers: IncomingMessage['headers'];
  body: string;
}

/** Sends a request with a raw client, in several chunks, optionally without content-length. */
function send(options: {
  method?: string;
  path?: string;
  headers?: Record<string, string | string[]>;
  chunks?: Buffer[];
  chunked?: boolean;
}): Promise<ClientResult> {
  return new Promise((resolve, reject) => {
    const chunks = options.chunks ?? [];
    const total = chunks.reduce((n, c) => n + c.length, 0);
    const headers: Record<string, string | string[] | number> = { ...(options.headers ?? {}) };
    if (!options.chunked && chunks.length > 0) headers['content-length'] = total;
    const req = httpRequest(
      { host: '127.0.0.1', port, method: options.method ?? 'POST', path: options.path ?? '/notify', headers },
      (res) => {
        const out: Buffer[] = [];
        res.on('data', (c: Buffer) => out.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(out).toString() }));
      },
    );
    req.on('error', reject);
    for (const c of chunks) req.write(c);
    req.end();
  });
}

const last = (): IncomingNotification | Error => seen[seen.length - 1] as IncomingNotification | Error;

describe('fromNodeRequest with a real node:http server', () => {
  it('keeps the raw body byte for byte (non-UTF-8, NUL, CRLF) across chunks, with method, lower-case headers and raw query', async () => {
    onRequest = standardHandler();
    const res = await send({
      path: '/notify?charset=GBK&sign=a%2Bb+c&empty',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded; charset=GBK', 'Wechatpay-Signature': 'abc', 'X-Twice': ['1', '2'] },
      chunks: [nonUtf8.subarray(0, 3), nonUtf8.subarray(3, 8), nonUtf8.subarray(8)],
    });
    expect(res.status).toBe(200);
    expect(res.body).toBe('success');
    expect(res.headers['x-reply']).toBe('yes');
    const n = last() as IncomingNotification;
    expect(n.rawBody.equals(nonUtf8)).toBe(true);
    expect(n.method).toBe('POST');
    expect(n.query).toBe('charset=GBK&sign=a%2Bb+c&empty');
    expect(n.headers['wechatpay-signature']).toBe('abc');
    expect(n.headers['content-type']).toBe('application/x-www-form-urlencoded; charset=GBK');
    expect(n.headers['x-twice']).toBe('1, 2');
    expect(Object.keys(n.headers).every((k) => k === k.toLowerCase())).toBe(true);
  });

  it('reads a chunked body (no content-length) and an empty GET', async () => {
    onRequest = standardHandler();
    await send({ chunked: true, chunks: [Buffer.from('a=1&'), Buffer.from('b=2')] });
    expect((last() as IncomingNotification).rawBody.toString()).toBe('a=1&b=2');
    await send({ method: 'get', path: '/return?out_trade_no=1' });
    const n = last() as IncomingNotification;
    expect(n.method).toBe('GET');
    expect(n.rawBody).toHaveLength(0);
    expect(n.query).toBe('out_trade_no=1');
  });

  it('refuses a body over maxBytes (declared or streamed) and the server can still answer 413', async () => {
    onRequest = standardHandler({ maxBytes: 100 });
    const declared = await send({ chunks: [Buffer.alloc(1000, 0x61)] });
    expect(declared.status).toBe(413);
    expect(declared.body).toBe('@pay/core: notification body is larger than 100 bytes');
    expect(last()).toBeInstanceOf(PayArgumentError);
    const streamed = await send({ chunked: true, chunks: [Buffer.alloc(60, 0x61), Buffer.alloc(60, 0x62), Buffer.alloc(5000, 0x63)] });
    expect(streamed.status).toBe(413);
    const exact = await send({ chunks: [Buffer.alloc(100, 0x61)] });
    expect(exact.status).toBe(200);
  });

  it('says so when a body parser already consumed the body', async () => {
    onRequest = standardHandler({ consumeFirst: true });
    const res = await send({ chunks: [Buffer.from('a=1')] });
    expect(res.status).toBe(400);
    expect(res.body).toMatch(/the notification body was already read \(a body parser/);
  });

  it('turns an aborted upload into a PayArgumentError, not a crash', async () => {
    let settled: (v: unknown) => void = () => {};
    const outcome = new Promise((resolve) => {
      settled = resolve;
    });
    onRequest = async (req) => {
      try {
        await fromNodeRequest(req);
        settled('read');
      } catch (e) {
        settled(e);
      }
    };
    const req = httpRequest({ host: '127.0.0.1', port, method: 'POST', path: '/', headers: { 'content-length': 1000 } });
    req.on('error', () => {});
    req.write(Buffer.alloc(10));
    setTimeout(() => req.destroy(), 50);
    const e = await outcome;
    expect(e).toBeInstanceOf(PayArgumentError);
    expect((e as Error).message).toMatch(/could not read the notification body/);
  });
});

describe('fromWebRequest', () => {
  it('keeps the raw bytes, method, headers and raw query of a Web Request', async () => {
    const req = new Request('https://shop.example/notify/wechat?x=%2B+y', {
      method: 'post',
      headers: { 'Content-Type': 'application/json', 'Wechatpay-Timestamp': '1624523846' },
      body: nonUtf8,
    });
    const n = await fromWebRequest(req);
    expect(n.rawBody.equals(nonUtf8)).toBe(true);
    expect(n.method).toBe('POST');
    expect(n.query).toBe('x=%2B+y');
    expect(n.headers['wechatpay-timestamp']).toBe('1624523846');
    expect(n.headers['content-type']).toBe('application/json');
  });

  it('reads a streamed body and a bodiless GET', async () => {
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(new Uint8Array([1, 2]));
        c.enqueue(new Uint8Array([3]));
        c.close();
      },
    });
    const n = await fromWebRequest(new Request('http://127.0.0.1/n', { method: 'POST', body: stream, duplex: 'half' } as RequestInit));
    expect([...n.rawBody]).toEqual([1, 2, 3]);
    const g = await fromWebRequest(new Request('http://127.0.0.1/return'));
    expect(g.rawBody).toHaveLength(0);
    expect(g.query).toBe('');
  });

  it('refuses a body over maxBytes, declared or streamed without a length, and one already read', async () => {
    await expect(fromWebRequest(new Request('http://h/', { method: 'POST', body: 'x'.repeat(200) }), { maxBytes: 100 })).rejects.toThrow(
      /larger than 100 bytes/,
    );
    let pulled = 0;
    const endless = new ReadableStream<Uint8Array>({
      pull(c) {
        pulled++;
        c.enqueue(new Uint8Array(64));
      },
    });
    await expect(
      fromWebRequest(new Request('http://h/', { method: 'POST', body: endless, duplex: 'half' } as RequestInit), { maxBytes: 1000 }),
    ).rejects.toBeInstanceOf(PayArgumentError);
    expect(pulled).toBeLessThan(40);
    const used = new Request('http://h/', { method: 'POST', body: '{"a":1}' });
    await used.json();
    await expect(fromWebRequest(used)).rejects.toThrow(/already read/);
  });
});

describe('fromParts', () => {
  it('builds a notification from what a framework already read (string, Buffer, Uint8Array, ArrayBuffer)', () => {
    const a = fromParts({
      rawBody: 'a=1&b=%2B',
      url: '/notify?x=1',
      headers: { 'Content-Type': 'x', 'X-List': ['a', 'b'], 'X-Undef': undefined },
    });
    expect(a.method).toBe('POST');
    expect(a.rawBody.toString()).toBe('a=1&b=%2B');
    expect(a.query).toBe('x=1');
    expect(a.headers).toStrictEqual({ 'content-type': 'x', 'x-list': 'a, b' });
    expect(fromParts({ rawBody: nonUtf8 }).rawBody.equals(nonUtf8)).toBe(true);
    expect(fromParts({ rawBody: new Uint8Array(nonUtf8) }).rawBody.equals(nonUtf8)).toBe(true);
    const ab = new Uint8Array(nonUtf8).buffer;
    expect(fromParts({ rawBody: ab }).rawBody.equals(nonUtf8)).toBe(true);
    expect(fromParts({ method: 'get', query: 'raw=1', url: '/x?ignored=1' })).toStrictEqual({
      method: 'GET',
      headers: {},
      rawBody: Buffer.alloc(0),
      query: 'raw=1',
    });
  });

  it('copies the bytes (later changes to the caller buffer do not alter the notification)', () => {
    const mine = Buffer.from('sign=x');
    const n = fromParts({ rawBody: mine });
    mine[0] = 0x53;
    expect(n.rawBody.toString()).toBe('sign=x');
  });

  it('rejects a parsed object body with a clear message (and null, arrays)', () => {
    for (const parsed of [{ out_trade_no: '1', sign: 'x' }, null, [1]]) {
      try {
        fromParts({ rawBody: parsed as never });
        throw new Error('not thrown');
      } catch (e) {
        expect(e).toBeInstanceOf(PayArgumentError);
        expect((e as PayError).message).toMatch(
          /^@pay\/core: rawBody must be the raw string or bytes of the body, got (a parsed object|null|an array); a parsed and re-serialised body no longer matches its signature/,
        );
        expect((e as PayError).hint).toMatch(/express\.raw/);
      }
    }
  });
});

describe('replies', () => {
  it('toWebResponse carries status, headers and body; 204 has no body', async () => {
    const r = toWebResponse({
      status: 200,
      headers: { 'content-type': 'application/xml' },
      body: '<xml><return_code><![CDATA[SUCCESS]]></return_code></xml>',
    });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('application/xml');
    expect(await r.text()).toBe('<xml><return_code><![CDATA[SUCCESS]]></return_code></xml>');
    const empty = toWebResponse({ status: 204, headers: {}, body: '' });
    expect(empty.status).toBe(204);
    expect(empty.body).toBeNull();
  });

  it('textReply is plain UTF-8 text (Alipay answers the literal success)', () => {
    expect(textReply(200, 'success')).toStrictEqual({
      status: 200,
      headers: { 'content-type': 'text/plain; charset=utf-8' },
      body: 'success',
    });
  });

  it('writeNodeReply writes status, headers and body to a real socket', async () => {
    onRequest = async (_req, res) =>
      writeNodeReply(res, { status: 202, headers: { 'content-type': 'application/json', 'x-a': 'b' }, body: '{"code":"SUCCESS"}' });
    const res = await send({ chunks: [Buffer.from('x')] });
    expect(res.status).toBe(202);
    expect(res.headers['x-a']).toBe('b');
    expect(res.headers['content-type']).toBe('application/json');
    expect(res.body).toBe('{"code":"SUCCESS"}');
  });
});
