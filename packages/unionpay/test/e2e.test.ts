// End to end over real sockets on 127.0.0.1: the client against the UnionPay emulator of
// @pay/sandbox (which signs with its own generated hierarchy and checks our signatures),
// a merchant backend on node:http receiving the notifications, and ad-hoc servers for
// timeouts, resets and malformed answers.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  createHttpTransport,
  fromNodeRequest,
  isPayError,
  PayCertificateError,
  PayNetworkError,
  PayProviderError,
  PayResponseError,
  PaySignatureError,
  PayTimeoutError,
  PayUpstreamError,
  writeNodeReply,
} from '@pay/core';
import { startUnionPayEmulator, type UnionPayEmulator } from '@pay/sandbox';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type AcpNotification, UnionPayClient } from '../src/index.js';
import { makeCert, makePfx } from './helpers/pki.js';

vi.setConfig({ testTimeout: 20_000, hookTimeout: 30_000 });

const transport = createHttpTransport({ backoffMs: 5, maxBackoffMs: 10, timeoutMs: 3000 });

interface Backend {
  url: string;
  received: AcpNotification[];
  rejected: unknown[];
  /** Status codes to answer before the normal reply, one per request. */
  failFirst: number[];
  server: Server;
}

async function startBackend(client: () => UnionPayClient): Promise<Backend> {
  const b = { received: [], rejected: [], failFirst: [] } as unknown as Backend;
  b.server = createServer(async (req, res) => {
    const incoming = await fromNodeRequest(req);
    const forced = b.failFirst.shift();
    if (forced !== undefined) {
      res.writeHead(forced).end('try later');
      return;
    }
    try {
      b.received.push(client().verifyNotification(incoming));
      writeNodeReply(res, client().notificationReply(true));
    } catch (error) {
      b.rejected.push(error);
      writeNodeReply(res, client().notificationReply(isPayError(error) ? { ok: false, error } : false));
    }
  });
  await new Promise<void>((r) => b.server.listen(0, '127.0.0.1', r));
  b.url = `http://127.0.0.1:${(b.server.address() as AddressInfo).port}/unionpay/notify?src=e2e`;
  return b;
}

async function waitFor(check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
}

let seq = 0;
const orderId = (p = 'E') => `${p}${Date.now()}${String(seq++).padStart(4, '0')}`;

let emu: UnionPayEmulator;
let client: UnionPayClient;
let backend: Backend;

beforeAll(async () => {
  emu = await startUnionPayEmulator({ timeScale: 0.0002 });
  client = new UnionPayClient({ ...emu.clientConfig, transport });
  backend = await startBackend(() => client);
});
afterAll(async () => {
  await emu.close();
  await new Promise((r) => backend.server.close(r));
});

describe('payments against the emulator', () => {
  it('app: tn → not found before paying → pay → verified notification acknowledged with 200 → query success', async () => {
    const id = orderId('A');
    const { tn, txnTime } = await client.appConsume({ orderId: id, txnAmt: 8888, backUrl: backend.url, reqReserved: '{shop=1&cart=2}' });
    expect(tn).toMatch(/^\d{21}$/);
    expect((await client.query({ orderId: id, txnTime })).state).toBe('not_found');
    emu.pay(id, { accNo: '6216261000000000018' });
    await waitFor(() => backend.received.some((n) => n.orderId === id));
    const n = backend.received.find((x) => x.orderId === id) as AcpNotification;
    expect(n).toMatchObject({ txnType: '01', respCode: '00', txnAmt: 8888, reqReserved: '{shop=1&cart=2}', merId: client.merId });
    expect(client.decryptData(n.fields.accNo as string)).toBe('6216261000000000018');
    await emu.notifier.idle();
    expect(emu.notifier.log.filter((a) => a.acknowledged && a.url === backend.url).length).toBeGreaterThan(0);
    const q = await client.query({ orderId: id, txnTime });
    expect(q).toMatchObject({ state: 'success', origRespCode: '00', txnAmt: 8888, queryId: n.queryId });
  });

  it('processing and failed payments are reported by the query', async () => {
    const p = orderId('P');
    const a = await client.appConsume({ orderId: p, txnAmt: 100, backUrl: backend.url });
    emu.pay(p, { result: 'processing' });
    const q = await client.query({ orderId: p, txnTime: a.txnTime });
    expect(q).toMatchObject({ state: 'processing', origRespCode: '05' });
    expect(q.nextQueryAt).toBeGreaterThan(Date.now());
    const f = orderId('F');
    const b = await client.appConsume({ orderId: f, txnAmt: 100, backUrl: backend.url });
    emu.pay(f, { result: 'failed', respCode: '64' });
    expect(await client.query({ orderId: f, txnTime: b.txnTime })).toMatchObject({ state: 'failed', origRespCode: '64' });
  });

  it('refund (partial, then the rest), over-refund refused, duplicate orderId refused; refund notifications verified', async () => {
    const id = orderId('A');
    const { txnTime } = await client.appConsume({ orderId: id, txnAmt: 1000, backUrl: backend.url });
    const paid = emu.pay(id);
    const r1 = await client.refund({ orderId: orderId('R'), txnAmt: 300, origQryId: paid.queryId as string, backUrl: backend.url });
    expect(r1).toMatchObject({ state: 'accepted', respCode: '00' });
    expect(r1.nextQueryAt).toBeGreaterThan(Date.now());
    await waitFor(() => backend.received.some((n) => n.orderId === r1.orderId));
    const rn = backend.received.find((n) => n.orderId === r1.orderId) as AcpNotification;
    expect(rn).toMatchObject({ txnType: '04', origQryId: paid.queryId, txnAmt: 300, respCode: '00' });
    expect((await client.query({ orderId: r1.orderId, txnTime: r1.txnTime })).state).toBe('success');
    const over = await client
      .refund({ orderId: orderId('R'), txnAmt: 701, origQryId: paid.queryId as string, backUrl: backend.url })
      .catch((e) => e);
    expect(over).toBeInstanceOf(PayProviderError);
    expect(over).toMatchObject({ providerCode: '36' });
    const dup = await client
      .refund({ orderId: r1.orderId, txnAmt: 1, origQryId: paid.queryId as string, backUrl: backend.url })
      .catch((e) => e);
    expect(dup).toMatchObject({ providerCode: '12' });
    expect(
      (await client.refund({ orderId: orderId('R'), txnAmt: 700, origQryId: paid.queryId as string, backUrl: backend.url })).state,
    ).toBe('accepted');
    expect(txnTime).toMatch(/^\d{14}$/);
  });

  it('consume undo: full amount only', async () => {
    const id = orderId('A');
    await client.appConsume({ orderId: id, txnAmt: 500, backUrl: backend.url });
    const paid = emu.pay(id);
    await expect(
      client.consumeUndo({ orderId: orderId('U'), txnAmt: 499, origQryId: paid.queryId as string, backUrl: backend.url }),
    ).rejects.toMatchObject({
      providerCode: '36',
    });
    const u = await client.consumeUndo({ orderId: orderId('U'), txnAmt: 500, origQryId: paid.queryId as string, backUrl: backend.url });
    await waitFor(() => backend.received.some((n) => n.orderId === u.orderId && n.txnType === '31'));
  });

  it('pre-authorisation: authorise → complete (≤115%) → undo the completion; another one released by a pre-authorisation undo', async () => {
    const id = orderId('H');
    await client.appPreAuth({ orderId: id, txnAmt: 1000, backUrl: backend.url });
    const auth = emu.pay(id);
    await expect(
      client.preAuthComplete({ orderId: orderId('C'), txnAmt: 1151, origQryId: auth.queryId as string, backUrl: backend.url }),
    ).rejects.toMatchObject({
      providerCode: '36',
    });
    const done = await client.preAuthComplete({
      orderId: orderId('C'),
      txnAmt: 1150,
      origQryId: auth.queryId as string,
      backUrl: backend.url,
    });
    const undo = await client.preAuthCompleteUndo({
      orderId: orderId('V'),
      txnAmt: 1150,
      origQryId: done.queryId as string,
      backUrl: backend.url,
    });
    expect(undo.state).toBe('accepted');
    const id2 = orderId('H');
    await client.appPreAuth({ orderId: id2, txnAmt: 200, backUrl: backend.url });
    const auth2 = emu.pay(id2);
    await expect(
      client.preAuthUndo({ orderId: orderId('X'), txnAmt: 100, origQryId: auth2.queryId as string, backUrl: backend.url }),
    ).rejects.toThrow(PayProviderError);
    expect(
      (await client.preAuthUndo({ orderId: orderId('X'), txnAmt: 200, origQryId: auth2.queryId as string, backUrl: backend.url })).state,
    ).toBe('accepted');
    await waitFor(() => backend.received.some((n) => n.txnType === '32') && backend.received.some((n) => n.txnType === '33'));
  });

  it('web: the browser posts the form to the gateway, pays, and comes back with a verifiable front return', async () => {
    const id = orderId('W');
    const form = client.frontConsume({ orderId: id, txnAmt: 1234, backUrl: backend.url, frontUrl: 'https://shop.example/return' });
    const page = await fetch(form.action, { method: 'POST', body: new URLSearchParams(form.fields as Record<string, string>) });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain(id);
    emu.pay(id);
    const back = emu.frontReturn(id);
    expect(back.url).toBe('https://shop.example/return');
    expect(client.verifyFrontReturn(back.body)).toMatchObject({ orderId: id, respCode: '00', txnAmt: 1234 });
  });

  it('file download: the day’s transactions, base64 + zlib inflated', async () => {
    const id = orderId('A');
    await client.appConsume({ orderId: id, txnAmt: 77, backUrl: backend.url });
    const paid = emu.pay(id);
    const file = await client.downloadFile({ settleDate: paid.settleDate as string });
    expect(file.content.toString('utf8')).toContain(`${id}|${paid.queryId}|77`);
    await expect(client.downloadFile({ settleDate: paid.settleDate === '0101' ? '0102' : '0101' })).rejects.toMatchObject({
      providerCode: '98',
    });
  });
});

describe('gateway faults', () => {
  it('an HTTP 5xx: a query is retried (idempotent), an app consume is not', async () => {
    const id = orderId('A');
    const { txnTime } = await client.appConsume({ orderId: id, txnAmt: 1, backUrl: backend.url });
    emu.faults.http5xx = 1;
    expect((await client.query({ orderId: id, txnTime })).state).toBe('not_found');
    expect(emu.faults.http5xx).toBe(0);
    emu.faults.http5xx = 1;
    const before = emu.requests.length;
    const e = await client.appConsume({ orderId: orderId('A'), txnAmt: 1, backUrl: backend.url }).catch((x) => x);
    expect(e).toBeInstanceOf(PayUpstreamError);
    expect(e.message).toMatch(/^@pay\/unionpay: appConsume: .*503/);
    expect(emu.requests.length).toBe(before);
  });

  it('a slow gateway times out', async () => {
    const slow = new UnionPayClient({ ...emu.clientConfig, transport, timeoutMs: 100 });
    emu.faults.delayMs = 400;
    try {
      await expect(slow.appConsume({ orderId: orderId('A'), txnAmt: 1, backUrl: backend.url })).rejects.toThrow(PayTimeoutError);
    } finally {
      emu.faults.delayMs = 0;
    }
  });

  it('answers signed with an expired, self-signed, foreign-CA or test-CN certificate are refused', async () => {
    const q = async () => client.appConsume({ orderId: orderId('A'), txnAmt: 1, backUrl: backend.url }).catch((e) => e);
    const expected = { expired: 'EXPIRED', 'self-signed': 'UNTRUSTED', 'other-ca': 'UNTRUSTED', 'test-cn': 'WRONG_CN' } as const;
    try {
      for (const [fault, reason] of Object.entries(expected)) {
        emu.faults.certificate = fault as keyof typeof expected;
        const e = await q();
        expect(e, fault).toBeInstanceOf(PayCertificateError);
        expect(e.reason, fault).toBe(reason);
      }
    } finally {
      emu.faults.certificate = 'valid';
    }
    expect((await q()).tn).toBeDefined();
  });

  it('a rotated UnionPay certificate is checked once, then cached', async () => {
    const fresh = new UnionPayClient({ ...emu.clientConfig, transport });
    await fresh.appConsume({ orderId: orderId('A'), txnAmt: 1, backUrl: backend.url });
    emu.faults.rotateCertificate();
    await fresh.appConsume({ orderId: orderId('A'), txnAmt: 1, backUrl: backend.url });
    await fresh.appConsume({ orderId: orderId('A'), txnAmt: 1, backUrl: backend.url });
    expect(fresh.certificateCacheStats()).toEqual({ size: 2, hits: 1, chainChecks: 2 });
  });

  it('an unsigned answer and a business error', async () => {
    emu.faults.unsigned = 1;
    const e = await client.appConsume({ orderId: orderId('A'), txnAmt: 1, backUrl: backend.url }).catch((x) => x);
    expect(e).toBeInstanceOf(PaySignatureError);
    expect(e.reason).toBe('MISSING_SIGNATURE');
    emu.faults.nextRespCode = { respCode: '31', respMsg: '商户状态不正确' };
    await expect(client.appConsume({ orderId: orderId('A'), txnAmt: 1, backUrl: backend.url })).rejects.toMatchObject({
      providerCode: '31',
      providerMessage: '商户状态不正确',
    });
  });

  it('the gateway checks our signature: a certificate it does not know is answered with respCode 11', async () => {
    const unknown = makeCert({ cn: '041@Z2014-11-11@777290058110048:SIGN@00000009' });
    const stranger = new UnionPayClient({
      ...emu.clientConfig,
      signCert: { pfx: makePfx(unknown, [], '000000'), password: '000000' },
      transport,
    });
    const e = await stranger.appConsume({ orderId: orderId('A'), txnAmt: 1, backUrl: backend.url }).catch((x) => x);
    expect(e).toBeInstanceOf(PayProviderError);
    expect(e).toMatchObject({ providerCode: '11' });
    expect(e.hint).toMatch(/certId/);
  });
});

describe('notification delivery', () => {
  it('retries on failure replies (UnionPay counts only 200/302), then stops after the acknowledgement', async () => {
    const id = orderId('A');
    await client.appConsume({ orderId: id, txnAmt: 5, backUrl: backend.url });
    backend.failFirst.push(500, 404);
    const start = emu.notifier.log.length;
    emu.pay(id);
    await waitFor(() => backend.received.some((n) => n.orderId === id));
    await emu.notifier.idle();
    const attempts = emu.notifier.log.slice(start).filter((a) => a.url === backend.url);
    expect(attempts.map((a) => a.status)).toEqual([500, 404, 200]);
  });

  it('a tampered notification is refused (400) on every one of its five deliveries; a duplicate verifies twice with the same queryId', async () => {
    const id = orderId('A');
    await client.appConsume({ orderId: id, txnAmt: 5, backUrl: backend.url });
    const rejectedBefore = backend.rejected.length;
    const start = emu.notifier.log.length;
    emu.notifier.faults.tamper = 1;
    emu.pay(id);
    await emu.notifier.idle();
    const attempts = emu.notifier.log.slice(start);
    expect(attempts).toHaveLength(5);
    expect(attempts.every((a) => a.status === 400 && !a.acknowledged)).toBe(true);
    expect(backend.rejected.length - rejectedBefore).toBe(5);
    expect(backend.received.some((n) => n.orderId === id)).toBe(false);

    const id2 = orderId('A');
    await client.appConsume({ orderId: id2, txnAmt: 6, backUrl: backend.url });
    emu.notifier.faults.duplicate = 1;
    emu.pay(id2);
    await emu.notifier.idle();
    const copies = backend.received.filter((n) => n.orderId === id2);
    expect(copies).toHaveLength(2);
    expect(copies[0]?.queryId).toBe(copies[1]?.queryId);
  });
});

describe('5.0.0 against the emulator', () => {
  it('SHA-1 signatures both ways, UnionPay verify certificate found by certId', async () => {
    const emu500 = await startUnionPayEmulator({ version: '5.0.0', hierarchy: emu.hierarchy });
    try {
      const c = new UnionPayClient({ ...emu500.clientConfig, transport });
      expect(c.version).toBe('5.0.0');
      const id = orderId('A');
      const { txnTime } = await c.appConsume({ orderId: id, txnAmt: 10, backUrl: backend.url });
      emu500.pay(id, { notify: false });
      const q = await c.query({ orderId: id, txnTime });
      expect(q.state).toBe('success');
      expect(q.fields.certId).toBe(emu.hierarchy.signing.certId);
      expect(q.fields.signPubKeyCert).toBeUndefined();
      expect(c.verifyNotification(emu500.notificationBody(id)).orderId).toBe(id);
      // a 5.1.0 client refuses the 5.0.0 notification: the version comes from the configuration
      expect(() => client.verifyNotification(emu500.notificationBody(id))).toThrow(expect.objectContaining({ reason: 'WRONG_VERSION' }));
    } finally {
      await emu500.close();
    }
  });
});

describe('ad-hoc servers: timeouts, resets and malformed answers', () => {
  async function server(handler: Parameters<typeof createServer>[1]): Promise<{ url: string; close: () => Promise<void> }> {
    const s = createServer(handler);
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    return {
      url: `http://127.0.0.1:${(s.address() as AddressInfo).port}`,
      close: () =>
        new Promise((r) => {
          s.closeAllConnections();
          s.close(() => r());
        }),
    };
  }
  const clientAt = (url: string, timeoutMs = 2000) =>
    new UnionPayClient({ ...emu.clientConfig, environment: { baseUrl: url }, transport: createHttpTransport({ retries: 0, timeoutMs }) });

  it('no answer at all → PayTimeoutError', async () => {
    const s = await server(() => {});
    try {
      const e = await clientAt(s.url, 150)
        .query({ orderId: 'A2026010100001', txnTime: '20260101000000' })
        .catch((x) => x);
      expect(e).toBeInstanceOf(PayTimeoutError);
      expect(e.message).toMatch(/^@pay\/unionpay: query: /);
    } finally {
      await s.close();
    }
  });

  it('connection reset → PayNetworkError', async () => {
    const s = await server((req) => req.socket.destroy());
    try {
      await expect(clientAt(s.url).query({ orderId: 'A2026010100001', txnTime: '20260101000000' })).rejects.toThrow(PayNetworkError);
    } finally {
      await s.close();
    }
  });

  it('an HTML error page, or a URL-encoded copy of a genuinely signed answer → refused', async () => {
    const signed = emu.signResponse({
      version: '5.1.0',
      encoding: 'utf-8',
      merId: client.merId,
      txnType: '00',
      respCode: '34',
      respMsg: '查无此交易',
      orderId: 'A2026010100001',
    });
    let body = '<html><body>502 Bad Gateway</body></html>';
    const s = await server((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(body));
    try {
      const c = clientAt(s.url);
      await expect(c.query({ orderId: 'A2026010100001', txnTime: '20260101000000' })).rejects.toThrow(PayResponseError);
      body = signed;
      expect((await c.query({ orderId: 'A2026010100001', txnTime: '20260101000000' })).state).toBe('not_found');
      body = new URLSearchParams(
        Object.fromEntries(signed.split('&').map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)])),
      ).toString();
      const e = await c.query({ orderId: 'A2026010100001', txnTime: '20260101000000' }).catch((x) => x);
      expect(isPayError(e)).toBe(true);
      expect(e).not.toBeInstanceOf(TypeError);
    } finally {
      await s.close();
    }
  });
});
