// Field rules: every violation is a PayArgumentError naming the field, raised
// before anything is signed or sent.
import { PayArgumentError } from '@pay/core';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import {
  assertCallbackUrl,
  assertCurrencyCode,
  assertOrderId,
  assertQueryId,
  assertReqReserved,
  assertSettleDate,
  assertTxnTime,
  formatTxnTime,
  fromTxnAmt,
  parseTxnTime,
  toTxnAmt,
  UnionPayClient,
} from '../src/index.js';
import { type Hierarchy, makeHierarchy } from './helpers/pki.js';
import { configFor } from './helpers/setup.js';
import { recordingTransport } from './helpers/transport.js';

vi.setConfig({ hookTimeout: 30_000, testTimeout: 20_000 });

describe('rules', () => {
  it('orderId: 8–32 letters or digits', () => {
    for (const ok of ['12345678', 'A'.repeat(32), 'pay20240105145046']) expect(() => assertOrderId(ok)).not.toThrow();
    for (const bad of ['1234567', 'A'.repeat(33), 'order-0001', 'order_0001', '订单12345678', 12345678, undefined]) {
      expect(() => assertOrderId(bad)).toThrow(PayArgumentError);
    }
    expect(() => assertOrderId('bad-id')).toThrow(/^@pay\/unionpay: orderId: expected 8–32 letters or digits .*got "bad-id"/);
  });

  it('txnTime: YYYYMMDDhhmmss, a real date and time', () => {
    expect(() => assertTxnTime('20240229235959')).not.toThrow();
    for (const bad of [
      '20230229000000',
      '20240230000000',
      '20241301000000',
      '20240101240000',
      '20240101006000',
      '2024010100000',
      '2024-01-01 00:00',
      20240101000000,
    ]) {
      expect(() => assertTxnTime(bad), String(bad)).toThrow(/txnTime: expected YYYYMMDDhhmmss in Beijing time/);
    }
  });

  it('txnTime is Beijing time (UTC+8), both ways', () => {
    expect(formatTxnTime(Date.UTC(2024, 0, 5, 6, 50, 46))).toBe('20240105145046');
    expect(formatTxnTime(Date.UTC(2023, 11, 31, 16, 0, 0))).toBe('20240101000000');
    expect(parseTxnTime('20240105145046')).toBe(Date.UTC(2024, 0, 5, 6, 50, 46));
  });

  it('txnAmt: integer fen, positive, at most 12 digits', () => {
    expect(toTxnAmt(1)).toBe('1');
    expect(toTxnAmt(999_999_999_999)).toBe('999999999999');
    for (const bad of [0, -1, 1.5, 88.88, '100', Number.NaN, 1e12]) expect(() => toTxnAmt(bad), String(bad)).toThrow(PayArgumentError);
    expect(() => toTxnAmt(88.88)).toThrow(/^@pay\/unionpay: txnAmt: expected a positive integer number of fen/);
    expect(fromTxnAmt('8888')).toBe(8888);
    expect(() => fromTxnAmt('88.88')).toThrow(PayArgumentError);
  });

  it('currencyCode 156 only; reqReserved at most 1024 bytes; settleDate MMDD; queryId; URLs', () => {
    expect(() => assertCurrencyCode('156')).not.toThrow();
    expect(() => assertCurrencyCode('840')).toThrow(/currencyCode: expected "156"/);
    expect(() => assertReqReserved('x'.repeat(1024))).not.toThrow();
    expect(() => assertReqReserved('x'.repeat(1025))).toThrow(/at most 1024 bytes, got 1025/);
    expect(() => assertReqReserved('银'.repeat(342))).toThrow(/got 1026/);
    expect(() => assertSettleDate('0119')).not.toThrow();
    for (const bad of ['119', '1319', '0100', '01-19']) expect(() => assertSettleDate(bad)).toThrow(/settleDate/);
    expect(() => assertQueryId('652401051647252574008')).not.toThrow();
    expect(() => assertQueryId('6524010516472525740081')).toThrow(/origQryId/);
    expect(() => assertCallbackUrl('https://shop.example/notify?x=1', 'backUrl')).not.toThrow();
    for (const bad of ['/notify', 'ftp://x/y', 'javascript:alert(1)'])
      expect(() => assertCallbackUrl(bad, 'backUrl')).toThrow(/backUrl: expected an absolute http\(s\) URL/);
  });
});

describe('the client enforces the rules before sending anything', () => {
  let h: Hierarchy;
  beforeAll(() => {
    h = makeHierarchy();
  });

  it('each bad field is refused with a PayArgumentError and the transport is never called', async () => {
    const rec = recordingTransport(() => ({ body: '' }));
    const client = new UnionPayClient(configFor(h, { transport: rec.transport }));
    const good = { orderId: 'A2026010100001', txnAmt: 100, backUrl: 'https://shop.example/notify' };
    const bad: Array<[Record<string, unknown>, RegExp]> = [
      [{ orderId: 'A-1' }, /orderId/],
      [{ txnAmt: 1.5 }, /txnAmt/],
      [{ txnAmt: 0 }, /txnAmt/],
      [{ currencyCode: '840' }, /currencyCode/],
      [{ txnTime: '20241301000000' }, /txnTime/],
      [{ payTimeout: 'tomorrow' }, /payTimeout/],
      [{ reqReserved: 'x'.repeat(2000) }, /reqReserved/],
      [{ backUrl: 'notify' }, /backUrl/],
      [{ bizType: '201' }, /bizType/],
      [{ extra: { signature: 'x' } }, /extra\.signature: this field is set by the client/],
      [{ extra: { txnAmt: '1' } }, /extra\.txnAmt/],
      [{ extra: { riskRateInfo: { a: 1 } } }, /extra\.riskRateInfo: expected a string or a number/],
    ];
    for (const [patch, message] of bad) {
      await expect(client.appConsume({ ...good, ...patch } as never), JSON.stringify(patch)).rejects.toThrow(message);
    }
    await expect(client.refund({ ...good, origQryId: 'not-a-query-id' })).rejects.toThrow(/origQryId/);
    await expect(client.query({ orderId: 'A2026010100001', txnTime: '2024' })).rejects.toThrow(/txnTime/);
    await expect(client.downloadFile({ settleDate: '1332' })).rejects.toThrow(/settleDate/);
    await expect(client.downloadFile({ settleDate: '0119', fileType: 'zip' })).rejects.toThrow(/fileType/);
    expect(() => client.frontConsume({ ...good, frontUrl: 'https://shop.example/return', channelType: '09' as '07' })).toThrow(
      /channelType/,
    );
    expect(() => client.frontConsume({ ...good, frontUrl: 'return' })).toThrow(/frontUrl/);
    await expect(client.appConsume(null as never)).rejects.toThrow(PayArgumentError);
    expect(rec.requests).toHaveLength(0);
  });
});
