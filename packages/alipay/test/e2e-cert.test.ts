// Certificate mode end to end against the emulator (generated root, Alipay and app certificates):
// app_cert_sn / alipay_root_cert_sn on requests, alipay_cert_sn / alipay-sn on answers, and a
// certificate rotation that a client keeping both certificates survives.
import { createHttpTransport, PayCertificateError, PaySignatureError } from '@pay/core';
import { type AlipayEmulator, startAlipayEmulator } from '@pay/sandbox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AlipayClient } from '../src/index.js';

const transport = createHttpTransport({ retries: 0, timeoutMs: 2000 });
let emu: AlipayEmulator;

beforeAll(async () => {
  emu = await startAlipayEmulator({ mode: 'cert', timeScale: 0.00001 });
});
afterAll(() => emu.close());

describe('certificate mode against the emulator', () => {
  it('calls succeed with the SNs computed at construction; answers are checked by alipay_cert_sn', async () => {
    const client = new AlipayClient({ ...emu.clientConfig, transport });
    expect(client.config.mode).toBe('cert');
    expect(client.config.alipayKeys[0]?.sn).toBe(emu.alipayCertSn);
    await client.precreate({ out_trade_no: 'C-1', amount: 100, subject: '证书' });
    expect((await client.query({ out_trade_no: 'C-1' })).trade_status).toBe('WAIT_BUYER_PAY');
    expect((await client.v3('POST', '/v3/alipay/trade/query', { body: { out_trade_no: 'C-1' } })).status).toBe(200);
  });

  it('after Alipay rotates its certificate: the old-only client refuses the unknown SN; a client with both works, notifications included', async () => {
    const oldCert = emu.clientConfig.alipayPublicCert as string;
    const before = new AlipayClient({ ...emu.clientConfig, transport });
    const next = emu.rotateCertificate();
    const e = await before.query({ out_trade_no: 'C-1' }).catch((x) => x);
    expect(e).toBeInstanceOf(PayCertificateError);
    expect(e.reason).toBe('UNKNOWN_CERT_SN');
    expect(e.message).toContain(next.sn);
    expect(e.hint).toMatch(/add it to alipayPublicCert/);
    await expect(before.v3('POST', '/v3/alipay/trade/query', { body: { out_trade_no: 'C-1' } })).rejects.toBeInstanceOf(
      PayCertificateError,
    );

    const both = new AlipayClient({ ...emu.clientConfig, alipayPublicCert: [next.pem, oldCert], transport });
    expect((await both.query({ out_trade_no: 'C-1' })).out_trade_no).toBe('C-1');
    const params = emu.pay('C-1');
    expect(params).toBeUndefined(); // no notify_url on this order: build one by hand, signed with the new key
    const body = emu.signNotification({
      notify_id: 'n-rot',
      notify_type: 'trade_status_sync',
      notify_time: '2024-01-01 00:00:00',
      app_id: emu.clientConfig.appId,
      seller_id: emu.clientConfig.sellerId,
      out_trade_no: 'C-1',
      trade_no: '1',
      trade_status: 'TRADE_SUCCESS',
      total_amount: '1.00',
      sign_type: 'RSA2',
    });
    expect(both.verifyNotify(body).notify_id).toBe('n-rot');
    expect(() => before.verifyNotify(body)).toThrow(PaySignatureError);
  });
});
