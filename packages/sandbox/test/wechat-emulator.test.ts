// The WeChat Pay emulator checked from the outside with raw HTTP and node:crypto (no provider package):
// it authenticates requests like WeChat Pay, signs every answer, encrypts /v3/certificates, and delivers
// signed, encrypted callbacks on the retry schedule.
import { createDecipheriv, createPrivateKey, createPublicKey, sign, verify } from 'node:crypto';
import { createServer, request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import { canonicalString, md5Hex } from '@pay/core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startWechatPayEmulator, WECHATPAY_RETRY_SCHEDULE_SECONDS, type WechatPayEmulator } from '../src/index.js';

vi.setConfig({ testTimeout: 30_000, hookTimeout: 60_000 });

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

function call(
  emu: WechatPayEmulator,
  method: string,
  path: string,
  body = '',
  opts: { key?: string; ts?: number; nonce?: string; serial?: string; noAuth?: boolean } = {},
): Promise<Answer> {
  const ts = String(opts.ts ?? Math.floor(Date.now() / 1000));
  const nonce = opts.nonce ?? Math.random().toString(36).slice(2);
  const key = createPrivateKey(opts.key ?? emu.clientConfig.privateKey);
  const signature = sign('sha256', Buffer.from(`${method}\n${path}\n${ts}\n${nonce}\n${body}\n`), key).toString('base64');
  const headers: Record<string, string> = {
    Authorization: `WECHATPAY2-SHA256-RSA2048 mchid="${emu.clientConfig.mchid}",nonce_str="${nonce}",signature="${signature}",timestamp="${ts}",serial_no="${emu.clientConfig.merchantSerialNo}"`,
    Accept: 'application/json',
  };
  if (opts.noAuth) delete headers.Authorization;
  if (body) headers['Content-Type'] = 'application/json';
  if (opts.serial) headers['Wechatpay-Serial'] = opts.serial;
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${emu.url}${path}`, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: Object.fromEntries(Object.entries(res.headers).map(([k, v]) => [k, String(v)])),
          body: Buffer.concat(chunks),
        }),
      );
    });
    req.on('error', reject);
    req.end(body);
  });
}

function verifies(a: Answer, key: ReturnType<typeof createPublicKey>): boolean {
  const msg = Buffer.concat([
    Buffer.from(`${a.headers['wechatpay-timestamp']}\n${a.headers['wechatpay-nonce']}\n`),
    a.body,
    Buffer.from('\n'),
  ]);
  return verify('sha256', msg, key, Buffer.from(a.headers['wechatpay-signature'] ?? '', 'base64'));
}

function gcmOpen(key: string, r: { ciphertext: string; nonce: string; associated_data: string }): string {
  const data = Buffer.from(r.ciphertext, 'base64');
  const d = createDecipheriv('aes-256-gcm', Buffer.from(key), Buffer.from(r.nonce));
  d.setAAD(Buffer.from(r.associated_data));
  d.setAuthTag(data.subarray(data.length - 16));
  return Buffer.concat([d.update(data.subarray(0, data.length - 16)), d.final()]).toString('utf8');
}

describe('WeChat Pay emulator (v3, certificate mode)', () => {
  let emu: WechatPayEmulator;
  let platformKey: ReturnType<typeof createPublicKey>;
  beforeAll(async () => {
    emu = await startWechatPayEmulator({ timeScale: 0.00001 });
    platformKey = createPublicKey(emu.platformCertificatePem);
  });
  afterAll(async () => emu?.close());

  it('serves /v3/certificates encrypted with the APIv3 key (AAD "certificate"), signed by the listed certificate', async () => {
    const a = await call(emu, 'GET', '/v3/certificates');
    expect(a.status).toBe(200);
    expect(a.headers['wechatpay-serial']).toBe(emu.platformSerial);
    expect(verifies(a, platformKey)).toBe(true);
    const { data } = JSON.parse(a.body.toString());
    expect(data[0].serial_no).toBe(emu.platformSerial);
    expect(data[0].encrypt_certificate.associated_data).toBe('certificate');
    expect(gcmOpen(emu.clientConfig.apiV3Key, data[0].encrypt_certificate)).toBe(emu.platformCertificatePem);
  });

  it('authenticates requests like WeChat Pay: wrong key, stale timestamp, replayed nonce, no Authorization → signed 401 SIGN_ERROR', async () => {
    const other = await startWechatPayEmulator({ mchid: '1900000003', v2: false });
    try {
      const cases = [
        await call(emu, 'GET', '/v3/certificates', '', { key: other.clientConfig.privateKey }),
        await call(emu, 'GET', '/v3/certificates', '', { ts: Math.floor(Date.now() / 1000) - 301 }),
      ];
      expect((await call(emu, 'GET', '/v3/certificates', '', { nonce: 'same-nonce' })).status).toBe(200);
      cases.push(await call(emu, 'GET', '/v3/certificates', '', { nonce: 'same-nonce' }));
      cases.push(await call(emu, 'GET', '/v3/certificates', '', { noAuth: true }));
      for (const a of cases) {
        expect(a.status).toBe(401);
        expect(JSON.parse(a.body.toString()).code).toBe('SIGN_ERROR');
        expect(verifies(a, platformKey)).toBe(true);
      }
    } finally {
      await other.close();
    }
  });

  it('keeps orders: prepay, idempotent repeat, query, 404 ORDER_NOT_EXIST, close with a signed 204', async () => {
    const body = JSON.stringify({
      appid: emu.clientConfig.appid,
      mchid: emu.clientConfig.mchid,
      description: 't',
      out_trade_no: 'EMU0000001',
      notify_url: 'http://127.0.0.1:1/n',
      amount: { total: 5 },
    });
    const a = await call(emu, 'POST', '/v3/pay/transactions/native', body);
    expect(a.status).toBe(200);
    expect(JSON.parse(a.body.toString()).code_url).toMatch(/^weixin:/);
    expect((await call(emu, 'POST', '/v3/pay/transactions/native', body)).body.toString()).toBe(a.body.toString());
    const q = await call(emu, 'GET', `/v3/pay/transactions/out-trade-no/EMU0000001?mchid=${emu.clientConfig.mchid}`);
    expect(JSON.parse(q.body.toString()).trade_state).toBe('NOTPAY');
    const nf = await call(emu, 'GET', `/v3/pay/transactions/out-trade-no/NOPE000001?mchid=${emu.clientConfig.mchid}`);
    expect([nf.status, JSON.parse(nf.body.toString()).code]).toEqual([404, 'ORDER_NOT_EXIST']);
    const c = await call(
      emu,
      'POST',
      '/v3/pay/transactions/out-trade-no/EMU0000001/close',
      JSON.stringify({ mchid: emu.clientConfig.mchid }),
    );
    expect(c.status).toBe(204);
    expect(c.body.length).toBe(0);
    expect(verifies(c, platformKey)).toBe(true);
  });

  it('pay() delivers a signed TRANSACTION.SUCCESS whose resource decrypts with the APIv3 key, retrying until acknowledged', async () => {
    const got: Array<{ headers: Record<string, string | string[] | undefined>; body: string }> = [];
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        got.push({ headers: req.headers, body: Buffer.concat(chunks).toString() });
        res.writeHead(got.length < 3 ? 500 : 204);
        res.end(got.length < 3 ? '{"code":"FAIL","message":"busy"}' : '');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/notify`;
      const body = JSON.stringify({
        appid: emu.clientConfig.appid,
        mchid: emu.clientConfig.mchid,
        description: 't',
        out_trade_no: 'EMU0000002',
        notify_url: url,
        amount: { total: 7 },
      });
      await call(emu, 'POST', '/v3/pay/transactions/native', body);
      emu.pay('EMU0000002');
      await emu.notifier.idle();
      expect(got).toHaveLength(3);
      expect(new Set(got.map((g) => g.body)).size).toBe(1);
      const { headers, body: raw } = got[0] as (typeof got)[0];
      const msg = `${headers['wechatpay-timestamp']}\n${headers['wechatpay-nonce']}\n${raw}\n`;
      expect(verify('sha256', Buffer.from(msg), platformKey, Buffer.from(String(headers['wechatpay-signature']), 'base64'))).toBe(true);
      const envelope = JSON.parse(raw);
      expect(envelope).toMatchObject({
        event_type: 'TRANSACTION.SUCCESS',
        resource_type: 'encrypt-resource',
        resource: { algorithm: 'AEAD_AES_256_GCM', associated_data: 'transaction' },
      });
      expect(JSON.parse(gcmOpen(emu.clientConfig.apiV3Key, envelope.resource))).toMatchObject({
        out_trade_no: 'EMU0000002',
        trade_state: 'SUCCESS',
        amount: { total: 7 },
      });
    } finally {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it('faults: 5xx, 429; rotation signs with a new listed certificate', async () => {
    emu.faults.serverErrors = 1;
    expect((await call(emu, 'GET', '/v3/certificates')).status).toBe(500);
    emu.faults.rateLimited = 1;
    const limited = await call(emu, 'GET', '/v3/certificates');
    expect([limited.status, JSON.parse(limited.body.toString()).code]).toEqual([429, 'FREQUENCY_LIMITED']);
    const old = emu.platformSerial;
    const fresh = await emu.rotatePlatformCertificate();
    const a = await call(emu, 'GET', '/v3/certificates');
    expect(a.headers['wechatpay-serial']).toBe(fresh);
    expect(JSON.parse(a.body.toString()).data.map((d: { serial_no: string }) => d.serial_no)).toEqual([old, fresh]);
    expect(verifies(a, createPublicKey(emu.platformCertificatePem))).toBe(true);
  });

  it('uses WeChat Pay’s retry schedule scaled by timeScale', () => {
    expect(WECHATPAY_RETRY_SCHEDULE_SECONDS.slice(0, 4)).toEqual([15, 15, 30, 180]);
    expect(WECHATPAY_RETRY_SCHEDULE_SECONDS.reduce((a, b) => a + b, 0)).toBe(86_400 + 240);
  });
});

describe('WeChat Pay emulator (public-key mode and v2)', () => {
  it('public-key mode: answers are signed with PUB_KEY_ID and /v3/certificates is a signed 404', async () => {
    const emu = await startWechatPayEmulator({ mode: 'publicKey', v2: false });
    try {
      const a = await call(emu, 'GET', '/v3/certificates');
      expect(a.status).toBe(404);
      expect(a.headers['wechatpay-serial']).toBe(emu.publicKeyId);
      expect(verifies(a, createPublicKey(emu.publicKeyPem))).toBe(true);
      expect(emu.clientConfig).toMatchObject({ wechatpayPublicKeyId: emu.publicKeyId, wechatpayPublicKey: emu.publicKeyPem });
    } finally {
      await emu.close();
    }
  });

  it('v2: the refund endpoint requires the merchant certificate over TLS', async () => {
    const emu = await startWechatPayEmulator();
    try {
      const post = (cert: boolean) =>
        new Promise<string>((resolve, reject) => {
          const req = httpsRequest(
            `${emu.v2Url}/secapi/pay/refund`,
            {
              method: 'POST',
              ca: emu.v2ClientConfig.ca,
              ...(cert ? { pfx: emu.v2ClientConfig.pkcs12, passphrase: emu.v2ClientConfig.mchid } : {}),
            },
            (res) => {
              const chunks: Buffer[] = [];
              res.on('data', (c: Buffer) => chunks.push(c));
              res.on('end', () => resolve(Buffer.concat(chunks).toString()));
            },
          );
          req.on('error', reject);
          const c = emu.v2ClientConfig;
          const fields: Record<string, string> = {
            appid: c.appid,
            mch_id: c.mchid,
            nonce_str: 'n1',
            out_trade_no: 'NOPE000001',
            out_refund_no: 'R1',
            total_fee: '1',
            refund_fee: '1',
            sign_type: 'MD5',
          };
          const v2sign = md5Hex(`${canonicalString(fields)}&key=${c.apiKey}`).toUpperCase();
          req.end(
            `<xml>${Object.entries({ ...fields, sign: v2sign })
              .map(([k, v]) => `<${k}><![CDATA[${v}]]></${k}>`)
              .join('')}</xml>`,
          );
        });
      const without = await post(false);
      expect(without).toContain('<return_code><![CDATA[FAIL]]></return_code>');
      expect(without).toContain('证书');
      const withCert = await post(true); // past the certificate check: now the order is looked up
      expect(withCert).toContain('<err_code><![CDATA[ORDERNOTEXIST]]></err_code>');
    } finally {
      await emu.close();
    }
  });
});
