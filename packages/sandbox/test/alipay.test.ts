// The Alipay emulator checks requests the way the gateway does and signs what it sends; these tests
// speak to it over loopback sockets with @pay/core primitives only (the sandbox never depends on a
// provider package).
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type Certificate,
  canonicalString,
  formDecode,
  formEncode,
  loadPrivateKey,
  loadPublicKey,
  md5Hex,
  parseCertificates,
  rsaSign,
  rsaVerify,
} from '@pay/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALIPAY_RETRY_MINUTES, type AlipayEmulator, startAlipayEmulator } from '../src/index.js';

let emu: AlipayEmulator;

function china(ms = Date.now()): string {
  return new Date(ms + 8 * 3600_000).toISOString().slice(0, 19).replace('T', ' ');
}

function signed(params: Record<string, string>): Record<string, string> {
  const key = loadPrivateKey(emu.clientConfig.privateKey);
  return { ...params, sign: rsaSign('sha256', key, canonicalString(params, { exclude: ['sign'] })) };
}

function common(method: string, biz: object, overrides: Record<string, string> = {}): Record<string, string> {
  return {
    app_id: emu.clientConfig.appId,
    method,
    charset: 'utf-8',
    sign_type: 'RSA2',
    timestamp: china(),
    version: '1.0',
    biz_content: JSON.stringify(biz),
    ...overrides,
  };
}

async function call(params: Record<string, string>): Promise<{ status: number; text: string; json: Record<string, any> }> {
  const res = await fetch(emu.gatewayUrl, {
    method: 'POST',
    body: formEncode(params),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });
  const text = await res.text();
  let json: Record<string, any> = {};
  try {
    json = JSON.parse(text);
  } catch {
    /* HTML */
  }
  return { status: res.status, text, json };
}

function verifiedMember(text: string, key: string): boolean {
  const start = text.indexOf(`"${key}":`) + key.length + 3;
  const end = text.lastIndexOf(',"sign":"');
  const sign = JSON.parse(text.slice(end + 8, -1)) as string;
  return rsaVerify('sha256', loadPublicKey(emu.clientConfig.alipayPublicKey as string), text.slice(start, end), sign);
}

beforeAll(async () => {
  emu = await startAlipayEmulator({ timeScale: 0.00001 });
});
afterAll(() => emu.close());

describe('Alipay emulator gateway', () => {
  it('answers a correctly signed call with a signed <method>_response', async () => {
    const r = await call(signed(common('alipay.trade.precreate', { out_trade_no: 'S1', total_amount: '1.00', subject: 's' })));
    expect(r.json.alipay_trade_precreate_response.code).toBe('10000');
    expect(verifiedMember(r.text, 'alipay_trade_precreate_response')).toBe(true);
  });

  it('rejects a bad signature, a wrong sign_type, a stale timestamp and an unknown app as Alipay does', async () => {
    const bad = { ...signed(common('alipay.trade.query', { out_trade_no: 'S1' })), sign: rsaSign('sha256', emu.alipayPrivateKey, 'x') };
    const r1 = await call(bad);
    expect(r1.json.alipay_trade_query_response.sub_code).toBe('isv.invalid-signature');
    expect(verifiedMember(r1.text, 'alipay_trade_query_response')).toBe(true);
    const r2 = await call(signed(common('alipay.trade.query', { out_trade_no: 'S1' }, { sign_type: 'RSA' })));
    expect(r2.json.alipay_trade_query_response.sub_code).toBe('isv.invalid-signature-type');
    const r3 = await call(signed(common('alipay.trade.query', { out_trade_no: 'S1' }, { timestamp: china(Date.now() - 3600_000) })));
    expect(r3.json.alipay_trade_query_response.sub_code).toBe('isv.invalid-timestamp');
    const r4 = await call(signed(common('alipay.trade.query', { out_trade_no: 'S1' }, { app_id: '2021000000009999' })));
    expect(r4.json.error_response.sub_code).toBe('isv.invalid-app-id');
    expect(r4.json.sign).toBeUndefined();
  });

  it('injects 5xx and delays', async () => {
    emu.faults.http5xx = 1;
    expect((await call(signed(common('alipay.trade.query', { out_trade_no: 'S1' })))).status).toBe(503);
    emu.faults.delayMs = 120;
    const t0 = Date.now();
    await call(signed(common('alipay.trade.query', { out_trade_no: 'S1' })));
    expect(Date.now() - t0).toBeGreaterThanOrEqual(100);
    emu.faults.delayMs = 0;
  });
});

describe('Alipay emulator notifications', () => {
  it('signs trade notifications (RSA2, sign and sign_type excluded) and retries on the scaled schedule until success', async () => {
    const bodies: string[] = [];
    const merchant = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        bodies.push(Buffer.concat(chunks).toString('utf8'));
        res.end(bodies.length < 3 ? 'fail' : 'success');
      });
    });
    await new Promise<void>((r) => merchant.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(merchant.address() as AddressInfo).port}/notify`;
    try {
      await call(signed(common('alipay.trade.precreate', { out_trade_no: 'S2', total_amount: '2.50', subject: 's' }, { notify_url: url })));
      emu.pay('S2');
      await emu.notifier.idle();
      expect(bodies).toHaveLength(3);
      const p = formDecode(bodies[0] as string);
      expect(p).toMatchObject({
        out_trade_no: 'S2',
        total_amount: '2.50',
        trade_status: 'TRADE_SUCCESS',
        app_id: emu.clientConfig.appId,
        seller_id: emu.clientConfig.sellerId,
      });
      expect(
        rsaVerify(
          'sha256',
          loadPublicKey(emu.clientConfig.alipayPublicKey as string),
          canonicalString(p, { exclude: ['sign', 'sign_type'] }),
          p.sign as string,
        ),
      ).toBe(true);
      const attempts = emu.notifier.log.filter((a) => a.url === url);
      expect(attempts.map((a) => a.acknowledged)).toEqual([false, false, true]);
      expect(ALIPAY_RETRY_MINUTES.slice(0, 5)).toEqual([1, 3, 5, 10, 15]);
    } finally {
      merchant.closeAllConnections();
      await new Promise((r) => merchant.close(r));
    }
  });

  it('legacy: accepts an MD5-signed create_direct_pay_by_user and answers notify_verify', async () => {
    const params = {
      service: 'create_direct_pay_by_user',
      partner: emu.legacyConfig.partner,
      _input_charset: 'utf-8',
      out_trade_no: 'S3',
      subject: 'l',
      total_fee: '3.00',
      payment_type: '1',
    };
    const sign = md5Hex(canonicalString(params) + emu.legacyConfig.md5Key);
    const ok = await fetch(`${emu.gatewayUrl}?${formEncode({ ...params, sign, sign_type: 'MD5' })}`);
    expect(await ok.text()).toContain('3.00');
    const bad = await fetch(`${emu.gatewayUrl}?${formEncode({ ...params, sign: '0'.repeat(32), sign_type: 'MD5' })}`);
    expect(await bad.text()).toContain('ILLEGAL_SIGN');
    const verify = await fetch(
      `${emu.gatewayUrl}?${formEncode({ service: 'notify_verify', partner: emu.legacyConfig.partner, notify_id: 'never-issued' })}`,
    );
    expect(await verify.text()).toBe('false');
  });

  it('v3: rejects a request whose Authorization does not verify, with a signed 401', async () => {
    const res = await fetch(`${emu.url}/v3/alipay/trade/query`, {
      method: 'POST',
      body: '{"out_trade_no":"S1"}',
      headers: { authorization: `ALIPAY-SHA256withRSA app_id=${emu.clientConfig.appId},nonce=n,timestamp=${Date.now()},sign=AAAA` },
    });
    expect(res.status).toBe(401);
    const body = await res.text();
    const content = `${res.headers.get('alipay-timestamp')}\n${res.headers.get('alipay-nonce')}\n${body}\n`;
    expect(
      rsaVerify(
        'sha256',
        loadPublicKey(emu.clientConfig.alipayPublicKey as string),
        content,
        res.headers.get('alipay-signature') as string,
      ),
    ).toBe(true);
    expect(JSON.parse(body).code).toBe('invalid-signature');
  });
});

describe('Alipay emulator in certificate mode', () => {
  it('requires app_cert_sn and alipay_root_cert_sn, answers with alipay_cert_sn, and rotates its certificate', async () => {
    const certEmu = await startAlipayEmulator({ mode: 'cert' });
    try {
      const cfg = certEmu.clientConfig;
      expect(cfg.alipayPublicKey).toBeUndefined();
      const [appCert, aliCert, root] = [cfg.appCert, cfg.alipayPublicCert, cfg.alipayRootCert].map(
        (p) => parseCertificates(p as string)[0] as Certificate,
      ) as [Certificate, Certificate, Certificate];
      const snOf = (c: Certificate) => md5Hex(c.issuerName({ order: 'reverse' }) + c.serialDecimal);
      expect(aliCert.isIssuedBy(root)).toBe(true);
      const key = loadPrivateKey(cfg.privateKey);
      const send = async (extra: Record<string, string>) => {
        const p = {
          app_id: cfg.appId,
          method: 'alipay.trade.precreate',
          charset: 'utf-8',
          sign_type: 'RSA2',
          timestamp: china(),
          version: '1.0',
          biz_content: '{"out_trade_no":"C1","total_amount":"1.00","subject":"c"}',
          ...extra,
        };
        const res = await fetch(certEmu.gatewayUrl, {
          method: 'POST',
          body: formEncode({ ...p, sign: rsaSign('sha256', key, canonicalString(p, { exclude: ['sign'] })) }),
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
        });
        return JSON.parse(await res.text()) as Record<string, any>;
      };
      expect((await send({})).alipay_trade_precreate_response.sub_code).toBe('isv.invalid-app-cert-sn');
      const ok = await send({ app_cert_sn: snOf(appCert), alipay_root_cert_sn: snOf(root) });
      expect(ok.alipay_trade_precreate_response.code).toBe('10000');
      expect(ok.alipay_cert_sn).toBe(snOf(aliCert));
      const next = certEmu.rotateCertificate();
      expect(next.sn).not.toBe(snOf(aliCert));
      expect(certEmu.alipayCertSn).toBe(next.sn);
      expect((await send({ app_cert_sn: snOf(appCert), alipay_root_cert_sn: snOf(root) })).alipay_cert_sn).toBe(next.sn);
    } finally {
      await certEmu.close();
    }
  });
});
