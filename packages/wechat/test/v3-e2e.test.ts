// API v3 end to end over real sockets against the @pay/sandbox WeChat Pay emulator (127.0.0.1),
// which checks our request signatures and signs its answers and callbacks with its own keys.
import { generateKeyPairSync } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import {
  createHttpTransport,
  loadPublicKey,
  PayCertificateError,
  PayConfigError,
  PayMismatchError,
  PayNotFoundError,
  PayProviderError,
  PayRateLimitError,
  PayReplayError,
  PaySignatureError,
  PayStateError,
  PayTimeoutError,
  PayUpstreamError,
  rsaOaepEncrypt,
  rsaVerify,
} from '@pay/core';
import { startWechatPayEmulator, type WechatPayEmulator } from '@pay/sandbox';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type WechatNotification, WechatPayClient } from '../src/index.js';
import { type NotifyServer, startNotifyServer, waitFor } from './helpers.js';

// Emulators generate RSA keys and certificates on start: allow for a busy 2-core machine.
vi.setConfig({ testTimeout: 30_000, hookTimeout: 60_000 });

const noSleep = async () => {};

describe('API v3 against the emulator (platform-certificate mode)', () => {
  let emu: WechatPayEmulator;
  let notify: NotifyServer;
  let client: WechatPayClient;
  const events: WechatNotification[] = [];
  const failures: unknown[] = [];

  beforeAll(async () => {
    emu = await startWechatPayEmulator({ mode: 'certificate', extraAppids: ['wxminiprogram0001'], timeScale: 0.00001 });
    client = new WechatPayClient({ ...emu.clientConfig, sleep: noSleep });
    notify = await startNotifyServer(async (incoming) => {
      try {
        events.push(await client.parseNotification(incoming));
        return client.notificationReply(true);
      } catch (e) {
        failures.push(e);
        return client.notificationReply(false, e);
      }
    });
  });
  afterAll(async () => {
    await notify?.close();
    await emu?.close();
  });

  const order = (no: string, extra: Record<string, unknown> = {}) => ({
    description: 'Sandbox tea',
    out_trade_no: no,
    notify_url: `${notify.url}/wechat/notify`,
    amount: { total: 888 },
    ...extra,
  });

  it('downloads, decrypts and caches the platform certificates before the first call, then sends Wechatpay-Serial', async () => {
    const res = await client.prepay('native', order('NATIVE0001'));
    expect(res.code_url).toMatch(/^weixin:\/\/wxpay\/bizpayurl\?pr=/);
    expect(client.keys.certificates().map((c) => c.serialHex)).toEqual([emu.platformSerial]);
    expect(emu.calls.filter((c) => c.path === '/v3/certificates')).toHaveLength(1);
    await client.queryByOutTradeNo('NATIVE0001');
    expect(emu.calls.filter((c) => c.path === '/v3/certificates')).toHaveLength(1);
  });

  it('prepays JSAPI, APP and H5 and signs client parameters the merchant key verifies', async () => {
    const merchantPub = loadPublicKey(emu.merchantCertificatePem);
    const jsapi = await client.prepay('jsapi', order('JSAPI00001', { payer: { openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o' } }));
    const p = client.jsapiPayParams(jsapi.prepay_id as string);
    expect(p.package).toBe(`prepay_id=${jsapi.prepay_id}`);
    expect(p.signType).toBe('RSA');
    expect(rsaVerify('sha256', merchantPub, `${p.appId}\n${p.timeStamp}\n${p.nonceStr}\n${p.package}\n`, p.paySign)).toBe(true);
    const mini = client.jsapiPayParams(jsapi.prepay_id as string, { appId: 'wxminiprogram0001' });
    expect(mini.appId).toBe('wxminiprogram0001');
    const app = await client.prepay('app', order('APP0000001'));
    const a = client.appPayParams(app.prepay_id as string);
    expect(a).toMatchObject({ appid: emu.clientConfig.appid, partnerid: emu.clientConfig.mchid, package: 'Sign=WXPay' });
    expect(rsaVerify('sha256', merchantPub, `${a.appid}\n${a.timestamp}\n${a.noncestr}\n${a.prepayid}\n`, a.sign)).toBe(true);
    const h5 = await client.prepay('h5', order('H500000001', { scene_info: { payer_client_ip: '203.0.113.7', h5_info: { type: 'Wap' } } }));
    expect(h5.h5_url).toMatch(/^https:\/\/wx\.tenpay\.com\//);
  });

  it('repeating a prepay with the same body returns the same prepay_id; a different body is OUT_TRADE_NO_USED', async () => {
    const a = await client.prepay('app', order('APP0000002'));
    const b = await client.prepay('app', order('APP0000002'));
    expect(b.prepay_id).toBe(a.prepay_id);
    const e = await client.prepay('app', order('APP0000002', { amount: { total: 1 } })).catch((x) => x);
    expect(e).toBeInstanceOf(PayProviderError);
    expect(e.providerCode).toBe('OUT_TRADE_NO_USED');
    expect(e.message).toMatch(/^@pay\/wechat: POST \/v3\/pay\/transactions\/app: WeChat Pay answered HTTP 403 OUT_TRADE_NO_USED/);
  });

  it('checks arguments before sending: integer fen, openid for JSAPI, client IP for H5', async () => {
    await expect(client.prepay('native', order('BADAMT0001', { amount: { total: 8.88 } }))).rejects.toThrow(/integer number of fen/);
    await expect(client.prepay('jsapi', order('NOOPENID01'))).rejects.toThrow(/payer\.openid/);
    await expect(client.prepay('h5', order('NOIP000001'))).rejects.toThrow(/payer_client_ip/);
    await expect(client.prepay('bogus' as never, order('BOGUS00001'))).rejects.toThrow(/trade type/);
  });

  it('a paid order: the signed, encrypted callback arrives, verifies, decrypts and is acknowledged with 204; queries agree', async () => {
    const res = await client.prepay('jsapi', order('PAID000001', { payer: { openid: 'o-payer' }, attach: 'cart=7' }));
    expect(res.prepay_id).toBeTruthy();
    expect((await client.queryByOutTradeNo('PAID000001')).trade_state).toBe('NOTPAY');
    expect((await client.confirmPayment('PAID000001')).paid).toBe(false);
    const o = emu.pay('PAID000001');
    await emu.notifier.idle();
    const event = events.find((e) => e.kind === 'transaction' && e.resource.out_trade_no === 'PAID000001');
    expect(event?.kind).toBe('transaction');
    if (event?.kind !== 'transaction') throw new Error('no event');
    expect(event.resource).toMatchObject({
      trade_state: 'SUCCESS',
      attach: 'cart=7',
      amount: { total: 888, currency: 'CNY' },
      transaction_id: o.transaction_id,
    });
    expect(event.serial).toBe(emu.platformSerial);
    expect(emu.notifier.log.at(-1)).toMatchObject({ status: 204, acknowledged: true });
    const byId = await client.queryByTransactionId(o.transaction_id as string);
    expect(byId.out_trade_no).toBe('PAID000001');
    const confirmed = await client.confirmPayment('PAID000001', { amount: 888, appid: emu.clientConfig.appid });
    expect(confirmed).toMatchObject({ paid: true, state: 'SUCCESS' });
    await expect(client.confirmPayment('PAID000001', { amount: 1 })).rejects.toBeInstanceOf(PayMismatchError);
  });

  it('confirmPayment answers from the authoritative query when the callback was dropped', async () => {
    await client.prepay('native', order('DROP000001'));
    emu.notifier.faults.drop = 1;
    emu.pay('DROP000001');
    await emu.notifier.idle();
    expect(events.some((e) => e.kind === 'transaction' && e.resource.out_trade_no === 'DROP000001')).toBe(false);
    expect((await client.confirmPayment('DROP000001', { amount: 888 })).paid).toBe(true);
  });

  it('a tampered callback is refused with 401 {"code":"FAIL"} and retried; duplicates carry the same id', async () => {
    await client.prepay('native', order('TAMPER0001'));
    emu.notifier.faults.tamper = 1;
    const before = failures.length;
    emu.pay('TAMPER0001');
    await emu.notifier.idle();
    expect(failures.length).toBeGreaterThan(before);
    expect(failures.at(-1)).toBeInstanceOf(PaySignatureError);
    const tamperedAttempts = emu.notifier.log.filter((l) => l.fault === 'tampered');
    expect(tamperedAttempts[0]).toMatchObject({ status: 401, acknowledged: false });
    expect(tamperedAttempts[0]?.body).toMatch(/"code":"FAIL"/);
    expect(tamperedAttempts.length).toBeGreaterThan(1); // WeChat retries on non-2xx

    await client.prepay('native', order('DUPLIC0001'));
    emu.notifier.faults.duplicate = 1;
    emu.pay('DUPLIC0001');
    await emu.notifier.idle();
    const dup = events.filter((e) => e.kind === 'transaction' && e.resource.out_trade_no === 'DUPLIC0001');
    expect(dup).toHaveLength(2);
    expect(dup[0]?.id).toBe(dup[1]?.id);
    expect(dup.map((d) => d.duplicate).sort()).toEqual([false, true]);
  });

  it('closes an unpaid order (204, verified) and maps ORDERPAID / ORDER_NOT_EXIST', async () => {
    await client.prepay('native', order('CLOSE00001'));
    await expect(client.closeOrder('CLOSE00001')).resolves.toBeUndefined();
    expect((await client.queryByOutTradeNo('CLOSE00001')).trade_state).toBe('CLOSED');
    await expect(client.closeOrder('PAID000001')).rejects.toBeInstanceOf(PayStateError);
    const nf = await client.queryByOutTradeNo('NOSUCHORDER1').catch((e) => e);
    expect(nf).toBeInstanceOf(PayNotFoundError);
    expect(nf.providerCode).toBe('ORDER_NOT_EXIST');
  });

  it('refunds (PROCESSING, then the REFUND.SUCCESS callback), is idempotent by out_refund_no, and queries the refund', async () => {
    const refundNotify = `${notify.url}/wechat/refund`;
    const r = await client.refund({
      out_trade_no: 'PAID000001',
      out_refund_no: 'REFUND0001',
      amount: { refund: 300, total: 888, currency: 'CNY' },
      notify_url: refundNotify,
    });
    expect(r).toMatchObject({ status: 'PROCESSING', amount: { refund: 300, total: 888 } });
    const again = await client.refund({
      out_trade_no: 'PAID000001',
      out_refund_no: 'REFUND0001',
      amount: { refund: 300, total: 888, currency: 'CNY' },
      notify_url: refundNotify,
    });
    expect(again.refund_id).toBe(r.refund_id);
    await waitFor(() => events.some((e) => e.kind === 'refund' && e.resource.out_refund_no === 'REFUND0001'), 5000, 'refund callback');
    const ev = events.find((e) => e.kind === 'refund' && e.resource.out_refund_no === 'REFUND0001');
    expect(ev).toMatchObject({ event_type: 'REFUND.SUCCESS', resource: { refund_status: 'SUCCESS', amount: { refund: 300 } } });
    expect((await client.queryRefund('REFUND0001')).status).toBe('SUCCESS');
    await expect(client.queryRefund('NOREFUND01')).rejects.toBeInstanceOf(PayNotFoundError);
    const over = await client
      .refund({ out_trade_no: 'PAID000001', out_refund_no: 'REFUND0002', amount: { refund: 600, total: 888, currency: 'CNY' } })
      .catch((e) => e);
    expect(over).toBeInstanceOf(PayProviderError);
    expect(over.providerCode).toBe('INVALID_REQUEST');
    await expect(
      client.refund({ out_trade_no: 'PAID000001', out_refund_no: 'REFUND0003', amount: { refund: 1, total: 888.5, currency: 'CNY' } }),
    ).rejects.toThrow(/integer/);
  });

  it('REFUND.ABNORMAL arrives as a typed refund event', async () => {
    emu.faults.refundAbnormal = 1;
    await client.refund({
      out_trade_no: 'PAID000001',
      out_refund_no: 'REFUND0004',
      amount: { refund: 10, total: 888, currency: 'CNY' },
      notify_url: `${notify.url}/r`,
    });
    await waitFor(
      () => events.some((e) => e.kind === 'refund' && e.resource.out_refund_no === 'REFUND0004'),
      5000,
      'abnormal refund callback',
    );
    expect(events.find((e) => e.kind === 'refund' && e.resource.out_refund_no === 'REFUND0004')?.event_type).toBe('REFUND.ABNORMAL');
  });

  it('downloads trade and fund-flow bills (plain and gzip) with the SHA-1 check, and refuses a tampered file', async () => {
    const today = new Date(Date.now() + 8 * 3600_000).toISOString().slice(0, 10);
    const info = await client.tradeBill({ bill_date: today });
    expect(info.hash_type).toBe('SHA1');
    const text = (await client.downloadBill(info)).toString('utf8');
    expect(text).toContain('PAID000001');
    const gz = await client.tradeBill({ bill_date: today, tar_type: 'GZIP' });
    expect((await client.downloadBill(gz)).toString('utf8')).toBe(text);
    const fund = await client.fundFlowBill({ bill_date: today, tar_type: 'GZIP' });
    expect((await client.downloadBill(fund)).toString('utf8')).toContain('记账时间');
    emu.faults.tamperBill = 1;
    await expect(client.downloadBill(await client.tradeBill({ bill_date: today }))).rejects.toBeInstanceOf(PayMismatchError);
    emu.faults.tamperBill = 1;
    await expect(client.downloadBill(await client.tradeBill({ bill_date: today, tar_type: 'GZIP' }))).rejects.toThrow(/SHA-1/);
    const future = await client.tradeBill({ bill_date: '2999-01-01' }).catch((e) => e);
    expect(future.providerCode).toBe('NO_STATEMENT_EXIST');
    await expect(client.downloadBill({ ...info, download_url: 'https://evil.example.com/v3/billdownload/file?token=x' })).rejects.toThrow(
      /refusing to send credentials/,
    );
    expect(gunzipSync).toBeTypeOf('function');
  });

  it('retries 5xx and 429 with a fresh signature each time; gives up with PayUpstreamError carrying SYSTEM_ERROR', async () => {
    emu.faults.serverErrors = 2;
    await expect(client.queryByOutTradeNo('PAID000001')).resolves.toMatchObject({ trade_state: expect.any(String) });
    emu.faults.serverErrors = 3;
    const e = await client.queryByOutTradeNo('PAID000001').catch((x) => x);
    expect(e).toBeInstanceOf(PayUpstreamError);
    expect(e.providerCode).toBe('SYSTEM_ERROR');
    expect(e.message).toMatch(/^@pay\/wechat: GET \/v3\/pay\/transactions\/out-trade-no\//);
    emu.faults.rateLimited = 3;
    await expect(client.queryByOutTradeNo('PAID000001')).rejects.toBeInstanceOf(PayRateLimitError);
    emu.faults.rateLimited = 1;
    await expect(client.queryByOutTradeNo('PAID000001')).resolves.toBeTruthy();
  });

  it('times out (PayTimeoutError) when the server is slow', async () => {
    const slow = new WechatPayClient({ ...emu.clientConfig, transport: createHttpTransport({ timeoutMs: 50, retries: 0 }), retries: 0 });
    emu.faults.delayMs = 300;
    const answered = emu.calls.length;
    try {
      await expect(slow.queryByOutTradeNo('PAID000001')).rejects.toBeInstanceOf(PayTimeoutError);
    } finally {
      emu.faults.delayMs = 0;
    }
    // The emulator still answers the abandoned request later; let it finish before the next test's faults.
    await waitFor(() => emu.calls.length > answered, 5000, 'the abandoned request');
  });

  it('rejects answers that do not verify: bad signature, stale timestamp, SIGNTEST probe', async () => {
    emu.faults.badResponseSignature = 1;
    await expect(client.queryByOutTradeNo('PAID000001')).rejects.toBeInstanceOf(PaySignatureError);
    emu.faults.staleResponses = 1;
    await expect(client.queryByOutTradeNo('PAID000001')).rejects.toBeInstanceOf(PayReplayError);
    emu.faults.probeSignature = 1;
    const probe = await client.queryByOutTradeNo('PAID000001').catch((e) => e);
    expect(probe).toBeInstanceOf(PaySignatureError);
    expect(probe.reason).toBe('SIGNTEST');
    // An error answer that does not verify is a verification failure, not the error it claims.
    emu.faults.badResponseSignature = 1;
    const forged = await client.queryByOutTradeNo('NOSUCHORDER2').catch((e) => e);
    expect(forged).toBeInstanceOf(PaySignatureError);
    expect(forged.message).toMatch(/claimed ORDER_NOT_EXIST/);
  });

  it('WeChat Pay rejects a request signed with the wrong key (SIGN_ERROR, with a hint)', async () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const wrong = new WechatPayClient({ ...emu.clientConfig, privateKey, retries: 0 });
    const e = await wrong.queryByOutTradeNo('PAID000001').catch((x) => x);
    expect(e).toBeInstanceOf(PayProviderError);
    expect(e.providerCode).toBe('SIGN_ERROR');
    expect(e.hint).toMatch(/privateKey/);
  });

  it('rotation: an answer signed by a new certificate triggers one rate-limited download, then verifies', async () => {
    const other = await startWechatPayEmulator({ v2: false });
    try {
      const c = new WechatPayClient(other.clientConfig);
      await c.prepay('native', { description: 'x', out_trade_no: 'ROTATE0001', notify_url: 'http://127.0.0.1:1/n', amount: { total: 1 } });
      const downloads = () => other.calls.filter((x) => x.path === '/v3/certificates').length;
      const before = downloads();
      const fresh = await other.rotatePlatformCertificate();
      await expect(c.queryByOutTradeNo('ROTATE0001')).resolves.toBeTruthy();
      expect(downloads()).toBe(before + 1);
      expect(c.keys.certificates().map((x) => x.serialHex)).toContain(fresh);
      // A second rotation right away: the serial is unknown and the refresh is rate-limited.
      await other.rotatePlatformCertificate();
      const e = await c.queryByOutTradeNo('ROTATE0001').catch((x) => x);
      expect(e).toBeInstanceOf(PayCertificateError);
      expect(e.message).toMatch(/not downloading again/);
      expect(downloads()).toBe(before + 1);
    } finally {
      await other.close();
    }
  });

  it('an expired platform certificate is refused (PayCertificateError EXPIRED)', async () => {
    const other = await startWechatPayEmulator({ v2: false });
    try {
      const c = new WechatPayClient({ ...other.clientConfig, unknownSerialRefreshIntervalMs: 0 });
      await c.prepay('native', { description: 'x', out_trade_no: 'EXPIRE0001', notify_url: 'http://127.0.0.1:1/n', amount: { total: 1 } });
      await other.expirePlatformCertificate();
      const e = await c.queryByOutTradeNo('EXPIRE0001').catch((x) => x);
      expect(e).toBeInstanceOf(PayCertificateError);
      expect(e.reason).toBe('EXPIRED');
    } finally {
      await other.close();
    }
  });

  it('sensitive fields: RSA-OAEP for the platform certificate with its serial; decryption with the merchant key', async () => {
    const { ciphertext, serial } = await client.encryptSensitive('张三');
    expect(client.keys.certificates().some((c) => c.serialHex === serial)).toBe(true);
    expect(emu.decryptSensitive(ciphertext, serial)).toBe('张三');
    const forMerchant = rsaOaepEncrypt(loadPublicKey(emu.merchantCertificatePem), '13800138000');
    expect(client.decryptSensitive(forMerchant)).toBe('13800138000');
    await expect(Promise.resolve().then(() => client.decryptSensitive(ciphertext))).rejects.toThrow(/^@pay\/wechat: decryptSensitive:/);
  });

  it('sends the Wechatpay-Serial of a generic request and rejects a path without a leading slash', async () => {
    const res = await client.request<{ trade_state: string }>('GET', '/v3/pay/transactions/out-trade-no/PAID000001', {
      query: { mchid: emu.clientConfig.mchid },
      idempotent: true,
    });
    expect(res.status).toBe(200);
    expect(res.data?.trade_state).toBeTruthy();
    await expect(client.request('GET', 'v3/x')).rejects.toThrow(/starting with \//);
  });
});

describe('API v3 in WeChat Pay public-key mode and during migration', () => {
  let emu: WechatPayEmulator;
  beforeAll(async () => {
    emu = await startWechatPayEmulator({ mode: 'publicKey', v2: false });
  });
  afterAll(async () => emu?.close());

  it('works with only the public key: no certificate endpoint is ever called, answers carry PUB_KEY_ID', async () => {
    const client = new WechatPayClient(emu.clientConfig);
    expect(emu.clientConfig.wechatpayPublicKeyId).toMatch(/^PUB_KEY_ID_/);
    await client.prepay('native', {
      description: 'x',
      out_trade_no: 'PUBKEY0001',
      notify_url: 'http://127.0.0.1:1/n',
      amount: { total: 5 },
    });
    expect((await client.queryByOutTradeNo('PUBKEY0001')).trade_state).toBe('NOTPAY');
    expect(emu.calls.some((c) => c.path === '/v3/certificates')).toBe(false);
    await expect(client.downloadCertificates()).rejects.toBeInstanceOf(PayConfigError);
    const { serial, ciphertext } = await client.encryptSensitive('secret');
    expect(serial).toBe(emu.publicKeyId);
    expect(emu.decryptSensitive(ciphertext, serial)).toBe('secret');
  });

  it('a callback signed by the public key verifies; one claiming an unknown PUB_KEY_ID does not', async () => {
    const client = new WechatPayClient(emu.clientConfig);
    const n = emu.notification('TRANSACTION.SUCCESS', {
      mchid: emu.clientConfig.mchid,
      appid: emu.clientConfig.appid,
      out_trade_no: 'PUBKEY0002',
      trade_state: 'SUCCESS',
      amount: { total: 5 },
    });
    const headers = Object.fromEntries(Object.entries(n.headers).map(([k, v]) => [k.toLowerCase(), v]));
    const ev = await client.parseNotification({ headers, rawBody: Buffer.from(n.body) });
    expect(ev.serial).toBe(emu.publicKeyId);
    await expect(
      client.parseNotification({
        headers: { ...headers, 'wechatpay-serial': 'PUB_KEY_ID_0000000000000000000000000000000009' },
        rawBody: Buffer.from(n.body),
      }),
    ).rejects.toBeInstanceOf(PayCertificateError);
  });

  it('the public-key-only emulator answers /v3/certificates with a signed 404, mapped to PayNotFoundError', async () => {
    const client = new WechatPayClient({ ...emu.clientConfig, downloadCertificates: true });
    await expect(client.downloadCertificates()).rejects.toBeInstanceOf(PayNotFoundError);
  });

  it('migration: with both, the key is chosen by Wechatpay-Serial (certificate answers and public-key callbacks)', async () => {
    const both = await startWechatPayEmulator({ mode: 'both', v2: false });
    try {
      expect(both.clientConfig.downloadCertificates).toBe(true);
      const client = new WechatPayClient(both.clientConfig);
      // The client asks for the public key (Wechatpay-Serial = PUB_KEY_ID) ...
      await client.prepay('native', {
        description: 'x',
        out_trade_no: 'MIGRATE001',
        notify_url: 'http://127.0.0.1:1/n',
        amount: { total: 5 },
      });
      // ... and an answer signed with the platform certificate also verifies (key by serial).
      const certOnly = await client.request<{ trade_state: string }>('GET', '/v3/pay/transactions/out-trade-no/MIGRATE001', {
        query: { mchid: both.clientConfig.mchid },
        wechatpaySerial: both.platformSerial,
      });
      expect(certOnly.headers['wechatpay-serial']).toBe(both.platformSerial);
      both.signer = 'certificate';
      const n1 = both.notification('TRANSACTION.SUCCESS', {
        mchid: both.clientConfig.mchid,
        appid: both.clientConfig.appid,
        out_trade_no: 'MIGRATE001',
        trade_state: 'SUCCESS',
      });
      both.signer = 'publicKey';
      const n2 = both.notification('TRANSACTION.SUCCESS', {
        mchid: both.clientConfig.mchid,
        appid: both.clientConfig.appid,
        out_trade_no: 'MIGRATE001',
        trade_state: 'SUCCESS',
      });
      const lower = (h: Record<string, string>) => Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), v]));
      expect((await client.parseNotification({ headers: lower(n1.headers), rawBody: Buffer.from(n1.body) })).serial).toBe(
        both.platformSerial,
      );
      expect((await client.parseNotification({ headers: lower(n2.headers), rawBody: Buffer.from(n2.body) })).serial).toBe(both.publicKeyId);
    } finally {
      await both.close();
    }
  });
});

describe('API v3 partner (service-provider) mode', () => {
  let emu: WechatPayEmulator;
  let client: WechatPayClient;
  beforeAll(async () => {
    emu = await startWechatPayEmulator({
      v2: false,
      mchid: '1230000109',
      partner: { subMchid: '1900000109', subAppid: 'wxsubapp000000001', moreSubMchids: ['1900000110'] },
    });
    client = new WechatPayClient(emu.clientConfig);
  });
  afterAll(async () => emu?.close());

  it('prepays, queries, closes and refunds through the /v3/pay/partner/… endpoints with sp_/sub_ ids', async () => {
    const notifyUrl = 'http://127.0.0.1:1/n';
    const res = await client.prepay('jsapi', {
      description: 'x',
      out_trade_no: 'PARTNER001',
      notify_url: notifyUrl,
      amount: { total: 100 },
      payer: { sub_openid: 'o-sub' },
    });
    expect(emu.calls.at(-1)?.path).toBe('/v3/pay/partner/transactions/jsapi');
    const p = client.jsapiPayParams(res.prepay_id as string);
    expect(p.appId).toBe('wxsubapp000000001');
    const t = await client.queryByOutTradeNo('PARTNER001');
    expect(t).toMatchObject({ sp_mchid: '1230000109', sub_mchid: '1900000109', trade_state: 'NOTPAY' });
    emu.pay('PARTNER001', { subMchid: '1900000109', deliver: false });
    const r = await client.refund({
      out_trade_no: 'PARTNER001',
      out_refund_no: 'PREFUND001',
      amount: { refund: 100, total: 100, currency: 'CNY' },
    });
    expect(r.status).toBe('PROCESSING');
    expect((await client.queryRefund('PREFUND001')).out_refund_no).toBe('PREFUND001');
    await client.prepay('native', {
      description: 'x',
      out_trade_no: 'PARTNER002',
      notify_url: notifyUrl,
      amount: { total: 1 },
      sub_mchid: '1900000110',
    });
    await expect(client.queryByOutTradeNo('PARTNER002')).rejects.toBeInstanceOf(PayNotFoundError); // default sub-merchant
    await client.closeOrder('PARTNER002', { sub_mchid: '1900000110' });
    expect((await client.queryByOutTradeNo('PARTNER002', { sub_mchid: '1900000110' })).trade_state).toBe('CLOSED');
    const noAuth = await client
      .prepay('native', {
        description: 'x',
        out_trade_no: 'PARTNER003',
        notify_url: notifyUrl,
        amount: { total: 1 },
        sub_mchid: '1999999999',
      })
      .catch((e) => e);
    expect(noAuth.providerCode).toBe('NO_AUTH');
  });

  it('a partner callback (sp_mchid / sub_mchid) verifies and a callback for another service provider is refused', async () => {
    const lower = (h: Record<string, string>) => Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), v]));
    const ok = emu.notification('TRANSACTION.SUCCESS', {
      sp_mchid: '1230000109',
      sub_mchid: '1900000109',
      sp_appid: emu.clientConfig.appid,
      out_trade_no: 'PARTNER001',
      trade_state: 'SUCCESS',
    });
    expect((await client.parseNotification({ headers: lower(ok.headers), rawBody: Buffer.from(ok.body) })).kind).toBe('transaction');
    const other = emu.notification('TRANSACTION.SUCCESS', {
      sp_mchid: '1999999999',
      sub_mchid: '1900000109',
      out_trade_no: 'PARTNER001',
      trade_state: 'SUCCESS',
    });
    await expect(client.parseNotification({ headers: lower(other.headers), rawBody: Buffer.from(other.body) })).rejects.toBeInstanceOf(
      PayMismatchError,
    );
  });
});

describe('edge cases with an ad-hoc node:http server', () => {
  it('a 2xx answer without signature headers is refused, not trusted', async () => {
    const emu = await startWechatPayEmulator({ mode: 'publicKey', v2: false });
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"trade_state":"SUCCESS","out_trade_no":"X"}');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const { port } = server.address() as AddressInfo;
      const client = new WechatPayClient({ ...emu.clientConfig, baseUrl: `http://127.0.0.1:${port}` });
      const e = await client.queryByOutTradeNo('X').catch((x) => x);
      expect(e).toBeInstanceOf(PaySignatureError);
      expect(e.reason).toBe('MISSING_SIGNATURE');
    } finally {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await emu.close();
    }
  });

  it('a connection refused is a PayNetworkError after the retries, with the package prefix', async () => {
    const emu = await startWechatPayEmulator({ mode: 'publicKey', v2: false });
    await emu.close();
    const client = new WechatPayClient({ ...emu.clientConfig, sleep: noSleep });
    const e = await client.queryByOutTradeNo('X').catch((x) => x);
    expect(e.code).toBe('ERR_PAY_NETWORK');
    expect(e.message).toMatch(/^@pay\/wechat: GET /);
  });
});
