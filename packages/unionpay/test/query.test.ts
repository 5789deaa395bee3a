// queryTrans: respCode then origRespCode, the typed state, the follow-up schedule, and
// how gateway errors and transport failures surface.
import {
  fixedClock,
  PayMismatchError,
  PayNotFoundError,
  PayProviderError,
  PayRateLimitError,
  PayResponseError,
  PaySignatureError,
  PayTimeoutError,
  PayUpstreamError,
} from '@pay/core';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { BACK_QUERY_INTERVALS_MS, FRONT_QUERY_INTERVALS_MS, interpretQuery, nextQueryTime, UnionPayClient } from '../src/index.js';
import { type Hierarchy, makeHierarchy, rawResponse } from './helpers/pki.js';
import { configFor, paidFields, signedAnswer } from './helpers/setup.js';
import { recordingTransport } from './helpers/transport.js';

vi.setConfig({ hookTimeout: 30_000, testTimeout: 20_000 });

const NOW = Math.floor(Date.now() / 1000) * 1000;
const Q = { orderId: 'A20260101000001', txnTime: '20260101120000' };

describe('interpretQuery', () => {
  it.each([
    ['00', '00', 'success'],
    ['00', '03', 'processing'],
    ['00', '04', 'processing'],
    ['00', '05', 'processing'],
    ['00', '60', 'failed'],
    ['00', '01', 'failed'],
    ['34', undefined, 'not_found'],
    ['03', undefined, 'processing'],
    ['05', undefined, 'processing'],
    ['11', undefined, 'error'],
    [undefined, undefined, 'error'],
  ])('respCode %s, origRespCode %s → %s', (respCode, orig, state) => {
    expect(interpretQuery(respCode, orig).state).toBe(state);
  });
});

describe('nextQueryTime', () => {
  it('front transactions: 5, 10, 30, 60, 120 minutes apart, then stop', () => {
    expect(FRONT_QUERY_INTERVALS_MS.map((ms) => ms / 60_000)).toEqual([5, 10, 30, 60, 120]);
    expect(nextQueryTime('front', 0, 1000)).toBe(1000 + 5 * 60_000);
    expect(nextQueryTime('front', 4, 0)).toBe(120 * 60_000);
    expect(nextQueryTime('front', 5, 0)).toBeUndefined();
  });

  it('back-channel transactions: at most 6 queries, 1, 2, 4, 8, 16, 32 seconds apart', () => {
    expect(BACK_QUERY_INTERVALS_MS).toEqual([1000, 2000, 4000, 8000, 16000, 32000]);
    expect(nextQueryTime('back', 2, 0)).toBe(4000);
    expect(nextQueryTime('back', 6, 0)).toBeUndefined();
    expect(nextQueryTime('back', -1, 0)).toBeUndefined();
  });
});

describe('UnionPayClient.query', () => {
  let h: Hierarchy;
  beforeAll(() => {
    h = makeHierarchy();
  });

  function clientAnswering(body: string | ((n: number) => string), status = 200) {
    let n = 0;
    const rec = recordingTransport(() => ({ status, body: typeof body === 'string' ? body : body(n++) }));
    return { rec, client: new UnionPayClient(configFor(h, { transport: rec.transport, clock: fixedClock(NOW) })) };
  }
  const answer = (over: Record<string, string>) => signedAnswer(h, paidFields({ respMsg: '成功[0000000]', ...over }));

  it('00/00: success with the amount in fen and no further query', async () => {
    const { client, rec } = clientAnswering(answer({ origRespCode: '00', origRespMsg: '成功[0000000]' }));
    const r = await client.query(Q);
    expect(r).toMatchObject({
      state: 'success',
      origRespCode: '00',
      txnAmt: 8888,
      queryId: '792601011200001234567',
      nextQueryAt: undefined,
    });
    expect(rec.fields()).toMatchObject({
      txnType: '00',
      txnSubType: '00',
      bizType: '000000',
      orderId: Q.orderId,
      txnTime: Q.txnTime,
      accessType: '0',
    });
    expect(rec.requests[0]).toMatchObject({ method: 'POST', idempotent: true });
    expect(rec.requests[0]?.headers?.['content-type']).toMatch(/^application\/x-www-form-urlencoded/);
  });

  it('00/05: processing, ask again on the schedule', async () => {
    const { client } = clientAnswering(answer({ origRespCode: '05' }));
    expect(await client.query(Q)).toMatchObject({ state: 'processing', nextQueryAt: NOW + 10 * 60_000 });
    expect((await client.query(Q, { schedule: 'back', queriesMade: 0 })).nextQueryAt).toBe(NOW + 2000);
    expect((await client.query(Q, { queriesMade: 4 })).nextQueryAt).toBeUndefined();
  });

  it('00/60: failed; 34: not found (ask again later); 03: the query itself is still processing', async () => {
    expect((await clientAnswering(answer({ origRespCode: '60' })).client.query(Q)).state).toBe('failed');
    const nf = await clientAnswering(answer({ respCode: '34', respMsg: '查无此交易' })).client.query(Q);
    expect(nf).toMatchObject({ state: 'not_found', respCode: '34' });
    expect(nf.nextQueryAt).toBeGreaterThan(NOW);
    expect((await clientAnswering(answer({ respCode: '03' })).client.query(Q)).state).toBe('processing');
  });

  it('respCode 00 without origRespCode is a malformed answer', async () => {
    await expect(clientAnswering(answer({})).client.query(Q)).rejects.toThrow(PayResponseError);
  });

  it('a failed query raises typed errors with the provider code, message and a hint', async () => {
    const e11 = await clientAnswering(answer({ respCode: '11', respMsg: '验证签名失败' }))
      .client.query(Q)
      .catch((e) => e);
    expect(e11).toBeInstanceOf(PayProviderError);
    expect(e11).toMatchObject({ providerCode: '11', providerMessage: '验证签名失败', provider: 'unionpay' });
    expect(e11.message).toMatch(/^@pay\/unionpay: query: UnionPay answered respCode 11 \(signature verification failed\)/);
    expect(e11.hint).toMatch(/certId/);
    await expect(clientAnswering(answer({ respCode: '37' })).client.query(Q)).rejects.toThrow(PayRateLimitError);
    const e06 = await clientAnswering(answer({ respCode: '06' }))
      .client.query(Q)
      .catch((e) => e);
    expect(e06.retryable).toBe(true);
  });

  it('an unsigned answer is refused, but its (unverified) code is reported', async () => {
    const body = rawResponse(paidFields({ respCode: '11', respMsg: '验证签名失败' }));
    const e = await clientAnswering(body)
      .client.query(Q)
      .catch((x) => x);
    expect(e).toBeInstanceOf(PaySignatureError);
    expect(e).toMatchObject({ reason: 'MISSING_SIGNATURE', providerCode: '11' });
    expect(e.message).toMatch(/unverified respCode 11/);
  });

  it('an answer about another order or merchant is refused', async () => {
    await expect(clientAnswering(answer({ origRespCode: '00', orderId: 'B20260101000001' })).client.query(Q)).rejects.toThrow(
      PayMismatchError,
    );
    await expect(clientAnswering(answer({ origRespCode: '00', merId: '777290058110049' })).client.query(Q)).rejects.toThrow(/merId/);
  });

  it('non-200 answers, empty and URL-encoded bodies are PayErrors with the package prefix', async () => {
    await expect(clientAnswering('not found', 404).client.query(Q)).rejects.toThrow(/expected HTTP 200 from the gateway, got 404/);
    await expect(clientAnswering('').client.query(Q)).rejects.toThrow(PayResponseError);
    const encoded = new URLSearchParams(Object.entries(Object.fromEntries(new URLSearchParams(answer({ origRespCode: '00' }))))).toString();
    await expect(clientAnswering(encoded).client.query(Q)).rejects.toThrow(/^@pay\/unionpay: /);
  });

  it('transport failures keep their class and get the package prefix', async () => {
    for (const [error, cls] of [
      [new PayTimeoutError('@pay/core: transport: POST gateway.test.95516.com timed out after 10 ms'), PayTimeoutError],
      [new PayUpstreamError('@pay/core: transport: POST gateway.test.95516.com answered HTTP 502', { httpStatus: 502 }), PayUpstreamError],
    ] as const) {
      const client = new UnionPayClient(
        configFor(h, {
          transport: {
            request: async () => {
              throw error;
            },
          },
        }),
      );
      const e = await client.query(Q).catch((x) => x);
      expect(e).toBeInstanceOf(cls);
      expect(e.message).toMatch(/^@pay\/unionpay: query: /);
      expect(e.cause).toBe(error);
    }
  });

  it('file download: base64 + zlib inflated; 98 is not found; damaged content is a PayResponseError', async () => {
    const { deflateSync } = await import('node:zlib');
    const content = Buffer.from('INN…reconciliation…\n'.repeat(100));
    const ok = signedAnswer(h, {
      ...paidFields({ txnType: '76', txnSubType: '01', bizType: '000000', respMsg: '成功[0000000]' }),
      fileName: 'INN26010188ZM_777290058110048',
      fileContent: deflateSync(content).toString('base64'),
    });
    const { client, rec } = clientAnswering(ok);
    const r = await client.downloadFile({ settleDate: '0101' });
    expect(r.content.equals(content)).toBe(true);
    expect(r.fileName).toBe('INN26010188ZM_777290058110048');
    expect(r.fields.fileContent).toBeUndefined();
    expect(rec.requests[0]?.url).toBe('https://filedownload.test.95516.com/');
    expect(rec.fields()).toMatchObject({ txnType: '76', txnSubType: '01', bizType: '000000', settleDate: '0101', fileType: '00' });
    await expect(
      clientAnswering(answer({ txnType: '76', respCode: '98', respMsg: '文件不存在' })).client.downloadFile({ settleDate: '0101' }),
    ).rejects.toThrow(PayNotFoundError);
    const damaged = signedAnswer(h, { ...paidFields({ txnType: '76' }), fileContent: 'bm90IHpsaWI=' });
    await expect(clientAnswering(damaged).client.downloadFile({ settleDate: '0101' })).rejects.toThrow(/not base64 of zlib-deflated data/);
  });
});
