// The ledger adapter (core's PaymentProvider) against the emulator: unified camelCase types in fen.
import {
  type IncomingNotification,
  PayArgumentError,
  PayMismatchError,
  type PaymentEvent,
  type PaymentRef,
  PaySignatureError,
} from '@pay/core';
import { startWechatPayEmulator, type WechatPayEmulator } from '@pay/sandbox';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { toWechatTime, tradeStateToPaymentState, WechatPayClient, WechatPayProvider } from '../src/index.js';
import { type NotifyServer, startNotifyServer, waitFor } from './helpers.js';

// Emulators generate RSA keys and certificates on start: allow for a busy 2-core machine.
vi.setConfig({ testTimeout: 30_000, hookTimeout: 60_000 });

const lower = (h: Record<string, string>) => Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), v]));

describe('WechatPayProvider (direct mode)', () => {
  let emu: WechatPayEmulator;
  let notify: NotifyServer;
  let provider: WechatPayProvider;
  const events: PaymentEvent[] = [];

  beforeAll(async () => {
    emu = await startWechatPayEmulator({ mode: 'publicKey', v2: false, extraAppids: ['wxmini00000000001', 'wxapp000000000001'] });
    provider = new WechatPayProvider(new WechatPayClient(emu.clientConfig), {
      appids: { miniprogram: 'wxmini00000000001', app: 'wxapp000000000001' },
    });
    notify = await startNotifyServer(async (incoming: IncomingNotification) => {
      try {
        events.push(await provider.parseNotification(incoming));
        return provider.notificationReply({ ok: true });
      } catch (e) {
        return provider.notificationReply({ ok: false, error: e as never });
      }
    });
  }, 60_000);
  afterAll(async () => {
    await notify?.close();
    await emu?.close();
  });

  const input = (outTradeNo: string, channel: string, extra: Record<string, unknown> = {}) => ({
    channel,
    outTradeNo,
    amount: 1999,
    currency: 'CNY',
    subject: '会员月卡',
    notifyUrl: `${notify.url}/pay/wechat`,
    ...extra,
  });
  const ref = (outTradeNo: string, channel = 'native'): PaymentRef => ({
    outTradeNo,
    amount: 1999,
    currency: 'CNY',
    channel,
    createdAt: Date.now(),
  });

  it('names itself, its channels and its identity (no single appid when channels use several)', () => {
    expect(provider.name).toBe('wechat');
    expect(provider.channels).toEqual(['app', 'jsapi', 'miniprogram', 'native', 'h5']);
    expect(provider.identity).toEqual({ merchantId: emu.clientConfig.mchid });
  });

  it('creates payments for every channel and returns what the client needs', async () => {
    const app = await provider.createPayment(input('ADP_APP_01', 'app'));
    expect(app.data).toMatchObject({ appid: 'wxapp000000000001', partnerid: emu.clientConfig.mchid, package: 'Sign=WXPay' });
    expect(app.providerRef).toBe(app.data.prepayid);
    const jsapi = await provider.createPayment(input('ADP_JSAPI1', 'jsapi', { payer: { openid: 'o-1' } }));
    expect(jsapi.data).toMatchObject({ appId: emu.clientConfig.appid, signType: 'RSA', package: expect.stringMatching(/^prepay_id=/) });
    const mini = await provider.createPayment(
      input('ADP_MINI01', 'miniprogram', { payer: { openid: 'o-2' }, expiresAt: Date.now() + 600_000 }),
    );
    expect(mini.data.appId).toBe('wxmini00000000001');
    expect(mini.providerData).toEqual({ appid: 'wxmini00000000001' });
    const native = await provider.createPayment(input('ADP_NATIV1', 'native', { attach: 'a=1' }));
    expect(native.data.code_url).toMatch(/^weixin:\/\//);
    const h5 = await provider.createPayment(input('ADP_H5_001', 'h5', { clientIp: '203.0.113.9' }));
    expect(h5.data.h5_url).toMatch(/^https:\/\//);
  });

  it('refuses bad input before any call: channel, amount, currency, openid, client IP, notify URL', async () => {
    const bad: Array<[Record<string, unknown>, RegExp]> = [
      [input('ADP_BAD_01', 'alipay'), /expected channel/],
      [input('ADP_BAD_02', 'native', { amount: 19.99 }), /positive integer number of fen/],
      [input('ADP_BAD_03', 'native', { amount: 0 }), /positive integer/],
      [input('ADP_BAD_04', 'native', { currency: 'USD' }), /CNY/],
      [input('ADP_BAD_05', 'jsapi'), /payer\.openid/],
      [input('ADP_BAD_06', 'h5'), /clientIp/],
      [input('ADP_BAD_07', 'native', { notifyUrl: undefined }), /notifyUrl/],
    ];
    for (const [i, message] of bad) {
      const e = await provider.createPayment(i as never).catch((x) => x);
      expect(e).toBeInstanceOf(PayArgumentError);
      expect(e.message).toMatch(/^@pay\/wechat: /);
      expect(e.message).toMatch(message);
    }
  });

  it('turns a verified TRANSACTION.SUCCESS into a unified paid event in fen, with the notification id', async () => {
    await provider.createPayment(input('ADP_PAY_01', 'native'));
    const o = emu.pay('ADP_PAY_01');
    await emu.notifier.idle();
    const ev = events.find((e) => e.outTradeNo === 'ADP_PAY_01');
    expect(ev).toMatchObject({
      provider: 'wechat',
      kind: 'paid',
      outTradeNo: 'ADP_PAY_01',
      providerTradeNo: o.transaction_id,
      amount: 1999,
      currency: 'CNY',
      appId: emu.clientConfig.appid,
      merchantId: emu.clientConfig.mchid,
    });
    expect(ev?.eventId).toMatch(/^[0-9a-f-]{36}$/);
    expect(typeof ev?.occurredAt).toBe('number');
    expect(emu.notifier.log.at(-1)?.status).toBe(204);
  });

  it('reports the amount WeChat Pay says (a mismatch is visible to the ledger) and refuses a foreign appid', async () => {
    await provider.createPayment(input('ADP_PAY_02', 'native'));
    emu.pay('ADP_PAY_02', { amount: 1 });
    await emu.notifier.idle();
    expect(events.find((e) => e.outTradeNo === 'ADP_PAY_02')?.amount).toBe(1);
    const n = emu.notification('TRANSACTION.SUCCESS', {
      mchid: emu.clientConfig.mchid,
      appid: 'wxforeign00000001',
      out_trade_no: 'X',
      trade_state: 'SUCCESS',
      amount: { total: 1 },
    });
    await expect(
      provider.parseNotification({ method: 'POST', headers: lower(n.headers), rawBody: Buffer.from(n.body), query: '' }),
    ).rejects.toBeInstanceOf(PayMismatchError);
  });

  it('a tampered notification is answered 401 with {"code":"FAIL"} and produces no event', async () => {
    await provider.createPayment(input('ADP_TAMP01', 'native'));
    emu.notifier.faults.tamper = 1;
    emu.notifier.faults.delayMs = 0;
    emu.pay('ADP_TAMP01');
    await waitFor(() => emu.notifier.log.some((l) => l.fault === 'tampered'), 5000, 'tampered delivery');
    const attempt = emu.notifier.log.find((l) => l.fault === 'tampered');
    expect(attempt?.status).toBe(401);
    expect(JSON.parse(attempt?.body ?? '{}')).toMatchObject({ code: 'FAIL' });
    expect(events.some((e) => e.outTradeNo === 'ADP_TAMP01')).toBe(false);
    expect(provider.notificationReply({ ok: false, error: new PaySignatureError('x') }).status).toBe(401);
    emu.notifier.stop();
  });

  it('queries: pending, paid, closed, not_found; refund; refunded state; close', async () => {
    await provider.createPayment(input('ADP_Q_0001', 'native'));
    expect((await provider.queryPayment(ref('ADP_Q_0001'))).state).toBe('pending');
    emu.pay('ADP_Q_0001', { deliver: false });
    const paid = await provider.queryPayment(ref('ADP_Q_0001'));
    expect(paid).toMatchObject({
      state: 'paid',
      amount: 1999,
      currency: 'CNY',
      merchantId: emu.clientConfig.mchid,
      appId: emu.clientConfig.appid,
    });
    expect(typeof paid.paidAt).toBe('number');
    expect((await provider.queryPayment(ref('ADP_NONE01'))).state).toBe('not_found');
    const r = await provider.refund({ payment: ref('ADP_Q_0001'), refundId: 'ADP_RF_001', amount: 500, reason: '7天无理由' });
    expect(r).toMatchObject({ state: 'processing', refundId: 'ADP_RF_001', amount: 500 });
    expect(r.providerRefundId).toBeTruthy();
    const again = await provider.refund({ payment: ref('ADP_Q_0001'), refundId: 'ADP_RF_001', amount: 500 });
    expect(again.providerRefundId).toBe(r.providerRefundId);
    await waitFor(() => emu.refundOf('ADP_RF_001')?.status === 'SUCCESS', 5000, 'refund success');
    expect((await provider.queryPayment(ref('ADP_Q_0001'))).state).toBe('refunded');
    await expect(provider.refund({ payment: ref('ADP_Q_0001'), refundId: 'ADP_RF_002', amount: 1.5 })).rejects.toThrow(
      /integer number of fen/,
    );
    await provider.createPayment(input('ADP_C_0001', 'native'));
    await provider.closePayment(ref('ADP_C_0001'));
    expect((await provider.queryPayment(ref('ADP_C_0001'))).state).toBe('closed');
  });

  it('refund callbacks become refunded / refund_failed events', async () => {
    const base = {
      mchid: emu.clientConfig.mchid,
      out_trade_no: 'ADP_Q_0001',
      transaction_id: '42',
      out_refund_no: 'ADP_RF_001',
      refund_id: '50',
      amount: { total: 1999, refund: 500 },
    };
    for (const [event, kind] of [
      ['REFUND.SUCCESS', 'refunded'],
      ['REFUND.CLOSED', 'refund_failed'],
    ] as const) {
      const n = emu.notification(event, { ...base, refund_status: event.slice(7) });
      const ev = await provider.parseNotification({ method: 'POST', headers: lower(n.headers), rawBody: Buffer.from(n.body), query: '' });
      expect(ev).toMatchObject({
        kind,
        refund: { refundId: 'ADP_RF_001', providerRefundId: '50', amount: 500 },
        amount: 1999,
        eventId: n.id,
      });
    }
  });
});

describe('WechatPayProvider (partner mode)', () => {
  let emu: WechatPayEmulator;
  beforeAll(async () => {
    emu = await startWechatPayEmulator({
      v2: false,
      mode: 'publicKey',
      mchid: '1230000109',
      partner: { subMchid: '1900000109', subAppid: 'wxsubapp000000001' },
    });
  }, 60_000);
  afterAll(async () => emu?.close());

  it('creates a JSAPI payment for the sub-merchant, keeps sub_mchid for later calls, and queries it', async () => {
    const provider = new WechatPayProvider(new WechatPayClient(emu.clientConfig), { notifyUrl: 'http://127.0.0.1:1/n' });
    expect(provider.identity).toEqual({ merchantId: '1230000109' });
    const created = await provider.createPayment({
      channel: 'jsapi',
      outTradeNo: 'ADP_SP_001',
      amount: 100,
      currency: 'CNY',
      subject: 'x',
      payer: { subOpenid: 'o-sub' },
    });
    expect(created.providerData).toEqual({ appid: 'wxsubapp000000001', sub_mchid: '1900000109' });
    expect(created.data.appId).toBe('wxsubapp000000001');
    const ref: PaymentRef = {
      outTradeNo: 'ADP_SP_001',
      amount: 100,
      currency: 'CNY',
      channel: 'jsapi',
      createdAt: Date.now(),
      providerData: created.providerData as Record<string, string>,
    };
    expect((await provider.queryPayment(ref)).state).toBe('pending');
    await provider.closePayment(ref);
    expect((await provider.queryPayment(ref)).state).toBe('closed');
  });
});

describe('adapter helpers', () => {
  it('formats times in China Standard Time and maps every trade_state', () => {
    expect(toWechatTime(0)).toBe('1970-01-01T08:00:00+08:00');
    expect(toWechatTime(Date.UTC(2024, 11, 31, 16, 30, 5))).toBe('2025-01-01T00:30:05+08:00');
    expect(
      ['SUCCESS', 'REFUND', 'NOTPAY', 'USERPAYING', 'CLOSED', 'REVOKED', 'PAYERROR', 'SOMETHING_NEW'].map(tradeStateToPaymentState),
    ).toEqual(['paid', 'refunded', 'pending', 'pending', 'closed', 'closed', 'failed', 'pending']);
  });
});
