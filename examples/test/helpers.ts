// Shared set-up of the framework examples' end-to-end tests: the Alipay and WeChat Pay
// emulators (a form-encoded and a JSON callback), a ledger over them, and one scenario
// every framework must pass over real sockets on 127.0.0.1.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AlipayClient, AlipayProvider } from '@pay/alipay';
import { createPayments, MemoryPaymentStore, type Payments } from '@pay/core';
import { type AlipayEmulator, startAlipayEmulator, startWechatPayEmulator, type WechatPayEmulator } from '@pay/sandbox';
import { WechatPayClient, WechatPayProvider } from '@pay/wechat';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

export interface Fixture {
  alipay: AlipayEmulator;
  wechat: WechatPayEmulator;
  payments: Payments;
  paid: string[];
  close(): Promise<void>;
}

export async function startFixture(): Promise<Fixture> {
  const [alipay, wechat] = await Promise.all([startAlipayEmulator({ timeScale: 0.00001 }), startWechatPayEmulator({ v2: false })]);
  const paid: string[] = [];
  const payments = createPayments({
    providers: {
      alipay: new AlipayProvider(new AlipayClient(alipay.clientConfig)),
      wechat: new WechatPayProvider(new WechatPayClient(wechat.clientConfig)),
    },
    store: new MemoryPaymentStore(),
    hooks: { onPaid: (record) => void paid.push(record.id) },
  });
  return { alipay, wechat, payments, paid, close: async () => void (await Promise.all([alipay.close(), wechat.close()])) };
}

/** Serves a Web `Request` handler on node:http, the way @hono/node-server or Next.js do. */
export async function serveWebHandler(handler: (request: Request) => Promise<Response>): Promise<Server> {
  const server = createServer(async (req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const headers = new Headers();
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(', ') : v);
    const body = chunks.length ? Buffer.concat(chunks) : undefined;
    const request = new Request(`http://${req.headers.host}${req.url}`, {
      method: req.method ?? 'GET',
      headers,
      ...(body ? { body } : {}),
    });
    const response = await handler(request);
    res.writeHead(response.status, Object.fromEntries(response.headers));
    res.end(Buffer.from(await response.arrayBuffer()));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return server;
}

export function baseUrlOf(server: Server): string {
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function post(base: string, path: string, body?: unknown): Promise<any> {
  const res = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: body ? { 'content-type': 'application/json' } : {},
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return res.json();
}

/**
 * The scenario: an Alipay QR payment (form-encoded callback) and a WeChat Pay native payment
 * (JSON callback) are settled by their notifications through the framework; a tampered
 * Alipay callback is refused and the record is recovered by confirm's active query.
 */
export async function runScenario(base: string, fx: Fixture): Promise<void> {
  const ali = await post(base, '/api/payments', { provider: 'alipay', channel: 'qr', amount: 1234, subject: '框架示例' });
  expect(ali).toMatchObject({ result_code: 0, data: { client: { qrCode: expect.any(String) } } });
  fx.alipay.pay(ali.data.outTradeNo);
  await fx.alipay.notifier.idle();
  expect(fx.alipay.notifier.log.at(-1)).toMatchObject({ status: 200, body: 'success', acknowledged: true });
  expect(await post(base, `/api/payments/${ali.id}/confirm`)).toMatchObject({
    result_code: 0,
    data: { source: 'store', record: { state: 'paid' } },
  });

  const wx = await post(base, '/api/payments', { provider: 'wechat', channel: 'native', amount: 880, subject: '框架示例' });
  expect(wx).toMatchObject({ result_code: 0, data: { client: { code_url: expect.stringMatching(/^weixin:\/\//) } } });
  fx.wechat.pay(wx.data.outTradeNo);
  await fx.wechat.notifier.idle();
  expect(fx.wechat.notifier.log.at(-1)).toMatchObject({ acknowledged: true });
  expect(await post(base, `/api/payments/${wx.id}/confirm`)).toMatchObject({
    result_code: 0,
    data: { source: 'store', record: { state: 'paid' } },
  });

  const tampered = await post(base, '/api/payments', { provider: 'alipay', channel: 'qr', amount: 500, subject: '篡改' });
  fx.alipay.notifier.faults.tamper = 1;
  const before = fx.alipay.notifier.log.length;
  fx.alipay.pay(tampered.data.outTradeNo);
  await fx.alipay.notifier.idle();
  const attempts = fx.alipay.notifier.log.slice(before);
  expect(attempts.length).toBeGreaterThan(1);
  expect(attempts.every((a) => a.fault === 'tampered' && !a.acknowledged)).toBe(true);
  expect(await post(base, `/api/payments/${tampered.id}/confirm`)).toMatchObject({
    result_code: 0,
    data: { source: 'provider', record: { state: 'paid' } },
  });

  expect(fx.paid).toEqual([ali.id, wx.id, tampered.id]);
}

/** A running app: its base URL and how to stop it. */
export interface RunningApp {
  url: string;
  close(): Promise<void>;
}

/** Closes a node:http server and its open connections. */
export function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((r) => server.close(() => r()));
}

/**
 * Registers the scenario for one framework: `start` gets the ledger and a function that
 * returns the app's public URL (known once it listens) and returns the running app.
 */
export function describeFramework(title: string, start: (payments: Payments, publicUrl: () => string) => Promise<RunningApp>): void {
  vi.setConfig({ testTimeout: 30_000, hookTimeout: 60_000 });
  let fx: Fixture;
  let app: RunningApp;
  beforeAll(async () => {
    fx = await startFixture();
    let base = '';
    app = await start(fx.payments, () => base);
    base = app.url;
  });
  afterAll(async () => {
    await app.close();
    await fx.close();
  });
  describe(title, () => {
    it('keeps raw bodies: form and JSON callbacks verify, a tampered one is refused and recovered by confirm', async () => {
      await runScenario(app.url, fx);
    });
  });
}
