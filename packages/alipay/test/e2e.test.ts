// End to end over real sockets: the SDK against the @pay/sandbox Alipay emulator on 127.0.0.1
// (which signs with its own key and checks ours), a merchant notify server, and ad-hoc servers
// for timeouts and 5xx. Nothing here leaves the machine.
import { generateKeyPairSync } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  createHttpTransport,
  fromNodeRequest,
  PayNotFoundError,
  PayProviderError,
  PayResponseError,
  PaySignatureError,
  PayTimeoutError,
  PayUpstreamError,
  writeNodeReply,
} from '@pay/core';
import { type AlipayEmulator, startAlipayEmulator } from '@pay/sandbox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AlipayClient, AlipayLegacyClient, AlipayProvider, type AlipayTradeNotification } from '../src/index.js';

const fastTransport = createHttpTransport({ timeoutMs: 2000, retries: 2, backoffMs: 1, maxBackoffMs: 2 });

let emu: AlipayEmulator;
let client: AlipayClient;
let merchant: Server;
let notifyUrl: string;
const received: AlipayTradeNotification[] = [];
const rejected: string[] = [];
let legacyReceived: Array<Record<string, string | undefined>> = [];
let legacy: AlipayLegacyClient;

async function listen(server: Server): Promise<string> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function until(cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

beforeAll(async () => {
  emu = await startAlipayEmulator({ timeScale: 0.00001 });
  client = new AlipayClient({ ...emu.clientConfig, transport: fastTransport });
  legacy = new AlipayLegacyClient({ ...emu.legacyConfig, transport: fastTransport });
  merchant = createServer(async (req, res) => {
    const incoming = await fromNodeRequest(req);
    if (req.url?.startsWith('/legacy')) {
      try {
        legacyReceived.push(await legacy.verifyNotify(incoming));
        writeNodeReply(res, legacy.notifyReply(true));
      } catch (e) {
        rejected.push(String((e as Error).message));
        writeNodeReply(res, legacy.notifyReply(false));
      }
      return;
    }
    try {
      received.push(client.verifyNotify(incoming));
      writeNodeReply(res, client.notifyReply(true));
    } catch (e) {
      rejected.push(String((e as Error).message));
      writeNodeReply(res, client.notifyReply(false));
    }
  });
  notifyUrl = `${await listen(merchant)}/alipay/notify`;
});

afterAll(async () => {
  await emu.close();
  merchant.closeAllConnections();
  await new Promise((r) => merchant.close(r));
});

describe('OpenAPI gateway calls against the emulator', () => {
  it('precreate → pay → verified notification acknowledged with success → query → refund (idempotent) → refund query', async () => {
    const pre = await client.precreate({
      out_trade_no: 'E2E-QR-1',
      amount: 8888,
      subject: '二维码 a+b',
      notify_url: notifyUrl,
      passback_params: 'k%3Dv',
    });
    expect(pre.qr_code).toMatch(/^https:\/\/qr\.alipay\.com\//);
    emu.pay('E2E-QR-1');
    await until(() => received.some((n) => n.out_trade_no === 'E2E-QR-1'));
    await emu.notifier.idle();
    const n = received.find((x) => x.out_trade_no === 'E2E-QR-1') as AlipayTradeNotification;
    expect(n.trade_status).toBe('TRADE_SUCCESS');
    expect(n.total_amount).toBe('88.88');
    expect(n.passback_params).toBe('k%3Dv');
    expect(emu.notifier.log.filter((a) => a.url === notifyUrl).at(-1)?.acknowledged).toBe(true);

    const q = await client.query({ out_trade_no: 'E2E-QR-1' });
    expect(q.trade_status).toBe('TRADE_SUCCESS');
    expect(q.total_amount).toBe('88.88');

    const r1 = await client.refund({ out_trade_no: 'E2E-QR-1', amount: 1000, out_request_no: 'R1', refund_reason: '退货' });
    expect(r1.fund_change).toBe('Y');
    expect(r1.refund_fee).toBe('10.00');
    const r2 = await client.refund({ out_trade_no: 'E2E-QR-1', amount: 1000, out_request_no: 'R1' });
    expect(r2.fund_change).toBe('N');
    const rq = await client.refundQuery({ out_trade_no: 'E2E-QR-1', out_request_no: 'R1' });
    expect(rq.refund_status).toBe('REFUND_SUCCESS');
    await until(() => received.some((x) => x.out_trade_no === 'E2E-QR-1' && x.out_biz_no === 'R1'));
    const none = await client.refundQuery({ out_trade_no: 'E2E-QR-1', out_request_no: 'NOPE' });
    expect(none.refund_status).toBeUndefined();
  });

  it('a retried refund with another amount is a verified business error with sub_code and hint', async () => {
    const err = await client.refund({ out_trade_no: 'E2E-QR-1', amount: 999, out_request_no: 'R1' }).catch((e) => e);
    expect(err).toBeInstanceOf(PayProviderError);
    expect(err.providerSubCode).toBe('ACQ.REFUND_AMT_NOT_EQUAL_TOTAL');
    expect(err.hint).toMatch(/same refund_amount/);
  });

  it('close, cancel, create, barcode pay, bill URL and a generic exec', async () => {
    await client.precreate({ out_trade_no: 'E2E-CLOSE', amount: 1, subject: 'x' });
    await client.close({ out_trade_no: 'E2E-CLOSE' });
    expect(emu.trades.get('E2E-CLOSE')?.trade_status).toBe('TRADE_CLOSED');
    const again = await client.precreate({ out_trade_no: 'E2E-CLOSE', amount: 1, subject: 'x' }).catch((e) => e);
    expect(again.providerSubCode).toBe('ACQ.TRADE_HAS_CLOSE');

    const missing = await client.close({ out_trade_no: 'E2E-NONE' }).catch((e) => e);
    expect(missing).toBeInstanceOf(PayNotFoundError);
    expect(missing.providerSubCode).toBe('ACQ.TRADE_NOT_EXIST');
    expect(missing.hint).toMatch(/no such trade/);

    const paid = await client.pay({ out_trade_no: 'E2E-BAR', amount: 250, subject: '条码', auth_code: '286648048691290423' });
    expect(paid.trade_status).toBe('TRADE_SUCCESS');
    const cancel = await client.cancel({ out_trade_no: 'E2E-BAR' });
    expect(cancel.action).toBe('refund');
    const bad = await client.pay({ out_trade_no: 'E2E-BAR2', amount: 250, subject: '条码', auth_code: '123' }).catch((e) => e);
    expect(bad.providerSubCode).toBe('ACQ.PAYMENT_AUTH_CODE_INVALID');

    const created = await client.create({ out_trade_no: 'E2E-JSAPI', amount: 100, subject: '小程序', buyer_id: '2088102146225135' });
    expect(created.trade_no).toMatch(/^\d+$/);

    const bill = await client.billDownloadUrl({ bill_type: 'trade', bill_date: '2024-01-01' });
    expect(bill.bill_download_url).toContain('/bill/2024-01-01');

    const unknown = await client.exec('alipay.nonexistent.method', { a: 1 }).catch((e) => e);
    expect(unknown).toBeInstanceOf(PayProviderError);
    expect(unknown.providerSubCode).toBe('isv.invalid-method');
  });

  it('APP pay: the order string is accepted by the emulated Alipay app; paying it sends the notification', async () => {
    const orderString = client.appPay({ out_trade_no: 'E2E-APP', amount: 1, subject: '测试 a+b/c', notify_url: notifyUrl });
    const trade = emu.submitOrderString(orderString);
    expect(trade.total_amount).toBe('0.01');
    const tampered = orderString.replace('0.01', '0.02');
    expect(() => emu.submitOrderString(tampered)).toThrow(/isv.invalid-signature/);
    emu.pay('E2E-APP');
    await until(() => received.some((n) => n.out_trade_no === 'E2E-APP'));
  });

  it('page pay GET URL and WAP POST form reach the cashier over a real socket', async () => {
    const page = client.pagePay({
      out_trade_no: 'E2E-PAGE',
      amount: 12345,
      subject: '网页 <b>&"',
      notify_url: notifyUrl,
      return_url: 'https://shop.example/return',
    });
    const res = await fetch(page.url);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('123.45');
    expect(page.form).toContain('网页 &lt;b&gt;&amp;\\&quot;'); // JSON-escaped, then HTML-escaped
    const wap = client.wapPay({ out_trade_no: 'E2E-WAP', amount: 1, subject: 'wap', quit_url: 'https://shop.example/quit' });
    const fields = new URLSearchParams();
    for (const m of wap.form.matchAll(/name="([^"]+)" value="([^"]*)"/g)) {
      fields.set(
        m[1] as string,
        (m[2] as string)
          .replace(/&quot;/g, '"')
          .replace(/&lt;/g, '<')
          .replace(/&gt;/g, '>')
          .replace(/&#39;/g, "'")
          .replace(/&amp;/g, '&'),
      );
    }
    const action = (/action="([^"]+)"/.exec(wap.form) as RegExpExecArray)[1] as string;
    const post = await fetch(action.replace(/&amp;/g, '&'), {
      method: 'POST',
      body: fields,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(post.status).toBe(200);
    expect(emu.trades.get('E2E-WAP')?.method).toBe('alipay.trade.wap.pay');
  });

  it('AES content encryption both ways (encrypt_type=AES)', async () => {
    const aes = new AlipayClient({ ...emu.clientConfig, encryptKey: emu.encryptKey, transport: fastTransport });
    const r = await aes.precreate({ out_trade_no: 'E2E-AES', amount: 1, subject: '加密' });
    expect(r.out_trade_no).toBe('E2E-AES');
    const wrong = new AlipayClient({ ...emu.clientConfig, encryptKey: Buffer.alloc(16, 7).toString('base64'), transport: fastTransport });
    const err = await wrong.query({ out_trade_no: 'E2E-AES' }).catch((e) => e);
    expect(err.providerSubCode).toBe('isv.decryption-error');
  });
});

describe('gateway errors and faults', () => {
  it('a wrong private key: the gateway answers a signed isv.invalid-signature, mapped with a hint', async () => {
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const wrong = new AlipayClient({ ...emu.clientConfig, privateKey: other, transport: fastTransport });
    const err = await wrong.query({ out_trade_no: 'E2E-QR-1' }).catch((e) => e);
    expect(err).toBeInstanceOf(PayProviderError);
    expect(err.providerSubCode).toBe('isv.invalid-signature');
    expect(err.hint).toMatch(/privateKey does not match the app public key/);
  });

  it('an unknown app id: the unsigned error_response is not trusted, but its code and hint are reported', async () => {
    const wrong = new AlipayClient({ ...emu.clientConfig, appId: '2021999999999999', transport: fastTransport });
    const err = await wrong.query({ out_trade_no: 'E2E-QR-1' }).catch((e) => e);
    expect(err).toBeInstanceOf(PaySignatureError);
    expect(err.reason).toBe('UNSIGNED_RESPONSE');
    expect(err.providerSubCode).toBe('isv.invalid-app-id');
    expect(err.detail).toMatch(/hint: the app_id is unknown/);
  });

  it('a bad or missing response signature is an error, never a warning', async () => {
    emu.faults.badSign = 1;
    await expect(client.query({ out_trade_no: 'E2E-QR-1' })).rejects.toMatchObject({ reason: 'BAD_SIGNATURE' });
    emu.faults.unsigned = 1;
    await expect(client.query({ out_trade_no: 'E2E-QR-1' })).rejects.toMatchObject({ reason: 'UNSIGNED_RESPONSE' });
    expect((await client.query({ out_trade_no: 'E2E-QR-1' })).code).toBe('10000');
  });

  it('HTTP 5xx: a create is not retried (PayUpstreamError), a query is retried and succeeds', async () => {
    emu.faults.http5xx = 1;
    const err = await client.precreate({ out_trade_no: 'E2E-5XX', amount: 1, subject: 'x' }).catch((e) => e);
    expect(err).toBeInstanceOf(PayUpstreamError);
    expect(err.httpStatus).toBe(503);
    emu.faults.http5xx = 1;
    expect((await client.query({ out_trade_no: 'E2E-QR-1' })).trade_status).toBe('TRADE_SUCCESS');
    expect(emu.calls.slice(-2).map((c) => c.result)).toEqual(['HTTP 503', 'OK']);
  });

  it('a slow gateway times out (PayTimeoutError)', async () => {
    const slow = new AlipayClient({ ...emu.clientConfig, timeoutMs: 100, transport: createHttpTransport({ retries: 0 }) });
    emu.faults.delayMs = 400;
    try {
      await expect(slow.query({ out_trade_no: 'E2E-QR-1' })).rejects.toBeInstanceOf(PayTimeoutError);
    } finally {
      emu.faults.delayMs = 0;
    }
  });

  it('permission and system errors carry actionable hints', async () => {
    emu.faults.noPrivilege = 1;
    const denied = await client.query({ out_trade_no: 'E2E-QR-1' }).catch((e) => e);
    expect(denied.providerSubCode).toBe('isv.insufficient-isv-permissions');
    expect(denied.hint).toMatch(/not enabled for this app_id/);
    emu.faults.systemError = 1;
    const sys = await client.precreate({ out_trade_no: 'E2E-SYS', amount: 1, subject: 'x' }).catch((e) => e);
    expect(sys.providerSubCode).toBe('ACQ.SYSTEM_ERROR');
    expect(sys.retryable).toBe(true);
    expect(sys.hint).toMatch(/same out_trade_no/);
  });

  it('ad-hoc servers: one that never answers times out; one that answers 502 HTML is an upstream error; one that answers HTML 200 is a bad response', async () => {
    const hang = createServer(() => {});
    const bad = createServer((req, res) => {
      res.writeHead(req.url?.includes('five') ? 502 : 200, { 'content-type': 'text/html' });
      res.end('<html>proxy</html>');
    });
    const hangUrl = await listen(hang);
    const badUrl = await listen(bad);
    try {
      const c1 = new AlipayClient({
        ...emu.clientConfig,
        gateway: `${hangUrl}/gateway.do`,
        timeoutMs: 150,
        transport: createHttpTransport({ retries: 0 }),
      });
      await expect(c1.query({ out_trade_no: 'X' })).rejects.toBeInstanceOf(PayTimeoutError);
      const c2 = new AlipayClient({
        ...emu.clientConfig,
        gateway: `${badUrl}/five/gateway.do`,
        transport: createHttpTransport({ retries: 0 }),
      });
      await expect(c2.close({ out_trade_no: 'X' })).rejects.toBeInstanceOf(PayUpstreamError);
      const c3 = new AlipayClient({ ...emu.clientConfig, gateway: `${badUrl}/gateway.do`, transport: fastTransport });
      const err = await c3.query({ out_trade_no: 'X' }).catch((e) => e);
      expect(err).toBeInstanceOf(PayResponseError);
      expect(err.hint).toMatch(/HTML/);
    } finally {
      hang.closeAllConnections();
      bad.closeAllConnections();
      await Promise.all([new Promise((r) => hang.close(r)), new Promise((r) => bad.close(r))]);
    }
  });
});

describe('notification delivery faults', () => {
  it('a tampered notification is answered with failure, and Alipay retries until the genuine one is acknowledged', async () => {
    await client.precreate({ out_trade_no: 'E2E-TAMPER', amount: 500, subject: 'x', notify_url: notifyUrl });
    emu.notifier.faults.tamper = 1;
    const before = rejected.length;
    emu.pay('E2E-TAMPER');
    await emu.notifier.idle();
    expect(rejected.length).toBeGreaterThan(before);
    expect(rejected.at(-1)).toMatch(/does not verify/);
    expect(received.some((n) => n.out_trade_no === 'E2E-TAMPER')).toBe(false);
    const attempts = emu.notifier.log.filter((a) => a.fault === 'tampered');
    expect(attempts.length).toBeGreaterThan(1);
    expect(attempts.every((a) => !a.acknowledged && a.body === 'failure')).toBe(true);
  });

  it('a duplicated notification carries the same notify_id', async () => {
    await client.precreate({ out_trade_no: 'E2E-DUP', amount: 500, subject: 'x', notify_url: notifyUrl });
    emu.notifier.faults.duplicate = 1;
    emu.pay('E2E-DUP');
    await emu.notifier.idle();
    const dups = received.filter((n) => n.out_trade_no === 'E2E-DUP');
    expect(dups).toHaveLength(2);
    expect(dups[0]?.notify_id).toBe(dups[1]?.notify_id);
  });
});

describe('OpenAPI v3 against the emulator', () => {
  it('signs Authorization and verifies the signed answer', async () => {
    const r = await client.v3<{ trade_status: string; total_amount: string }>('POST', '/v3/alipay/trade/query', {
      body: { out_trade_no: 'E2E-QR-1' },
    });
    expect(r.status).toBe(200);
    expect(r.data.trade_status).toBe('TRADE_SUCCESS');
    expect(r.traceId).toBeTruthy();
  });

  it('maps a signed 4xx, rejects a bad signature and an unsigned answer, and sees our wrong key rejected', async () => {
    await expect(client.v3('POST', '/v3/alipay/trade/query', { body: { out_trade_no: 'E2E-NONE' } })).rejects.toBeInstanceOf(
      PayNotFoundError,
    );
    emu.faults.badSign = 1;
    await expect(client.v3('POST', '/v3/alipay/trade/query', { body: { out_trade_no: 'E2E-QR-1' } })).rejects.toMatchObject({
      reason: 'BAD_SIGNATURE',
    });
    emu.faults.unsigned = 1;
    await expect(client.v3('POST', '/v3/alipay/trade/query', { body: { out_trade_no: 'E2E-QR-1' } })).rejects.toMatchObject({
      reason: 'UNSIGNED_RESPONSE',
    });
    const wrong = new AlipayClient({
      ...emu.clientConfig,
      privateKey: generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey,
      transport: fastTransport,
    });
    const err = await wrong.v3('POST', '/v3/alipay/trade/query', { body: { out_trade_no: 'E2E-QR-1' } }).catch((e) => e);
    expect(err).toBeInstanceOf(PayProviderError);
    expect(err.httpStatus).toBe(401);
    expect(err.providerCode).toBe('invalid-signature');
  });
});

describe('legacy mapi services against the emulator', () => {
  it('create_direct_pay_by_user: MD5-signed URL accepted; the MD5 notification verified with notify_verify through the transport', async () => {
    legacyReceived = [];
    const url = `${notifyUrl.replace('/alipay/notify', '/legacy/notify')}`;
    const order = legacy.directPay({ out_trade_no: 'E2E-L1', amount: 100, subject: '即时到帐', notify_url: url });
    expect(order.params.sign_type).toBe('MD5');
    const res = await fetch(order.url);
    expect(await res.text()).toContain('1.00');
    emu.pay('E2E-L1');
    await until(() => legacyReceived.length === 1);
    expect(legacyReceived[0]?.trade_status).toBe('TRADE_SUCCESS');
    expect(emu.calls.some((c) => c.method === 'notify_verify' && c.result === 'OK')).toBe(true);
  });

  it('trade_create_by_buyer: the double interface statuses arrive in turn', async () => {
    legacyReceived = [];
    const url = `${notifyUrl.replace('/alipay/notify', '/legacy/notify')}`;
    const order = legacy.tradeCreateByBuyer({
      out_trade_no: 'E2E-L2',
      subject: '双接口',
      price: 1000,
      quantity: 2,
      logistics_type: 'EXPRESS',
      logistics_fee: 500,
      logistics_payment: 'BUYER_PAY',
      notify_url: url,
    });
    const form = await fetch(order.url);
    expect(await form.text()).toContain('25.00');
    emu.pay('E2E-L2');
    await until(() => legacyReceived.length === 1);
    emu.pay('E2E-L2', { status: 'WAIT_BUYER_CONFIRM_GOODS' });
    await until(() => legacyReceived.length === 2);
    emu.pay('E2E-L2', { status: 'TRADE_FINISHED' });
    await until(() => legacyReceived.length === 3);
    expect(legacyReceived.map((n) => n.trade_status)).toEqual(['WAIT_SELLER_SEND_GOODS', 'WAIT_BUYER_CONFIRM_GOODS', 'TRADE_FINISHED']);
  });

  it('a correctly signed notification whose notify_id Alipay never issued is rejected by notify_verify', async () => {
    const params = {
      notify_id: 'forged-1',
      notify_type: 'trade_status_sync',
      notify_time: '2024-01-01 00:00:00',
      out_trade_no: 'E2E-L1',
      trade_no: '1',
      trade_status: 'TRADE_SUCCESS',
      total_fee: '1.00',
      seller_id: emu.legacyConfig.partner,
    };
    const body = new URLSearchParams(legacy.signParams(params)).toString();
    await expect(legacy.verifyNotify(body)).rejects.toMatchObject({ reason: 'NOTIFY_ID_REJECTED' });
  });
});

describe('ledger adapter against the emulator', () => {
  it('creates on every channel, parses the notification, queries, refunds and closes', async () => {
    const provider = new AlipayProvider(client, { notifyUrl, returnUrl: 'https://shop.example/return' });
    expect(provider.identity).toEqual({ appId: emu.clientConfig.appId, merchantId: emu.clientConfig.sellerId });
    const base = { amount: 300, currency: 'CNY', subject: '统一' };
    const app = await provider.createPayment({ ...base, channel: 'app', outTradeNo: 'AD-APP' });
    expect(String(app.data.orderString)).toContain('method=alipay.trade.app.pay');
    const page = await provider.createPayment({ ...base, channel: 'page', outTradeNo: 'AD-PAGE' });
    expect(String(page.data.url)).toContain('return_url=');
    expect(String((await provider.createPayment({ ...base, channel: 'wap', outTradeNo: 'AD-WAP' })).data.form)).toContain('<form');
    const qr = await provider.createPayment({ ...base, channel: 'qr', outTradeNo: 'AD-QR', attach: 'order-7' });
    expect(String(qr.data.qrCode)).toMatch(/^https:/);
    const bar = await provider.createPayment({
      ...base,
      channel: 'barcode',
      outTradeNo: 'AD-BAR',
      payer: { authCode: '286648048691290423' },
    });
    expect(bar.providerRef).toMatch(/^\d+$/);
    await expect(provider.createPayment({ ...base, channel: 'h5', outTradeNo: 'AD-X' })).rejects.toThrow(/channel/);
    await expect(provider.createPayment({ ...base, currency: 'USD', channel: 'qr', outTradeNo: 'AD-X' })).rejects.toThrow(/CNY/);

    const ref = { outTradeNo: 'AD-QR', amount: 300, currency: 'CNY', channel: 'qr', createdAt: Date.now() };
    expect((await provider.queryPayment(ref)).state).toBe('pending');
    expect((await provider.queryPayment({ ...ref, outTradeNo: 'AD-NONE' })).state).toBe('not_found');

    const params = emu.pay('AD-QR') as Record<string, string>;
    const incoming = { method: 'POST', headers: {}, rawBody: Buffer.from(emu.signNotification(params)), query: '' };
    const event = await provider.parseNotification(incoming);
    expect(event).toMatchObject({
      provider: 'alipay',
      kind: 'paid',
      outTradeNo: 'AD-QR',
      amount: 300,
      appId: emu.clientConfig.appId,
      merchantId: emu.clientConfig.sellerId,
    });
    expect(event.eventId).toBe(params.notify_id);
    const paid = await provider.queryPayment(ref);
    expect(paid).toMatchObject({ state: 'paid', amount: 300 });

    const refund = await provider.refund({ payment: ref, refundId: 'AD-R1', amount: 100 });
    expect(refund.state).toBe('succeeded');
    const retry = await provider.refund({ payment: ref, refundId: 'AD-R1', amount: 100 });
    expect(retry.state).toBe('succeeded');
    expect(emu.trades.get('AD-QR')?.refundedFen).toBe(100);

    expect((await fetch(String(page.data.url))).status).toBe(200); // the buyer opens the page: the trade exists
    await provider.closePayment({ ...ref, outTradeNo: 'AD-PAGE' });
    expect(emu.trades.get('AD-PAGE')?.trade_status).toBe('TRADE_CLOSED');
    await provider.closePayment({ ...ref, outTradeNo: 'AD-NEVER-OPENED' });
    expect(provider.notificationReply({ ok: true }).body).toBe('success');
    expect(provider.notificationReply({ ok: false, error: new PaySignatureError('x') }).body).not.toBe('success');
  });
});
