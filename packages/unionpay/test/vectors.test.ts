// Known-answer tests against the shared UnionPay vectors (read in place, never copied):
// yansongda/pay's three requests signed with current/acp_test_sign.pfx, the three raw
// UnionPay test-gateway responses and one front return, all signed by UnionPay.
import { createHash, createSign } from 'node:crypto';
import { fixedClock, PayCertificateError, PayConfigError, PaySignatureError, parseCertificate } from '@pay/core';
import { beforeAll, expect, it } from 'vitest';
import { describeVectors, readVector, readVectorJson, readVectorText } from '../../../test-utils/vectors.js';
import { parseGatewayResponse, UnionPayClient, type UnionPayConfig } from '../src/index.js';
import { formBody, referenceSigningString } from './helpers/pki.js';
import { recordingTransport } from './helpers/transport.js';

interface Samples {
  vectors: Record<'testQuery' | 'testCancel' | 'testRefund', { response_body: string; expected_request_body: string }> & {
    returnCallback: { params: Record<string, string> };
  };
}

const BEFORE_EXPIRY = fixedClock(Date.parse('2024-01-05T08:00:00Z')); // signPubKeyCert valid 2020-07-31 … 2025-07-31
const TODAY = fixedClock(Date.parse('2026-11-26T00:00:00Z'));
const MER_ID = '777290058167151';

describeVectors('UnionPay ACP known answers (yansongda/pay samples)', () => {
  let samples: Samples;
  let base: UnionPayConfig;
  beforeAll(() => {
    samples = readVectorJson<Samples>('unionpay', 'samples-yansongda.json');
    base = {
      merId: MER_ID,
      environment: 'test',
      signCert: { pfx: readVector('unionpay', 'current', 'acp_test_sign.pfx'), password: '000000' },
      rootCert: readVector('unionpay', 'current', 'acp_test_root.cer'),
      middleCert: readVectorText('unionpay', 'current', 'acp_test_middle.cer'),
      clock: BEFORE_EXPIRY,
    };
  });

  function clientAnswering(body: string, clock = BEFORE_EXPIRY) {
    const rec = recordingTransport(() => ({ body }));
    return { rec, client: new UnionPayClient({ ...base, clock, transport: rec.transport }) };
  }

  function expectSameRequest(sent: Record<string, string>, expectedBody: string): void {
    const expected = Object.fromEntries(new URLSearchParams(expectedBody));
    expect(sent.signature).toBe(expected.signature); // byte for byte
    expect(sent).toEqual(expected); // and exactly the same fields
  }

  it('certId of current/acp_test_sign.pfx is 69903319369 and it expires 2026-11-26 02:31:47 UTC', () => {
    const { client } = clientAnswering('');
    expect(client.certId).toBe('69903319369');
    expect(new Date(client.signCertExpiresAt as number).toISOString()).toBe('2026-11-26T02:31:47.000Z');
  });

  it('query (testQuery): request signature reproduced byte for byte; the raw response verifies through root → middle → signPubKeyCert', async () => {
    const v = samples.vectors.testQuery;
    const { rec, client } = clientAnswering(v.response_body);
    const r = await client.query({ orderId: 'pay20240105145046', txnTime: '20240105145046' });
    expectSameRequest(rec.fields(), v.expected_request_body);
    expect(rec.requests[0]?.url).toBe('https://gateway.test.95516.com/gateway/api/queryTrans.do');
    expect(r.state).toBe('success');
    expect(r.origRespCode).toBe('00');
    expect(r.queryId).toBe('442401051450467846498');
    expect(r.txnAmt).toBe(1);
    expect(r.fields.respMsg).toBe('成功[0000000]');
    expect(r.fields.signPubKeyCert).toContain('\r\n');
    expect(client.certificateCacheStats()).toMatchObject({ size: 1, chainChecks: 1 });
  });

  it('consume undo (testCancel): request signature reproduced; response verified', async () => {
    const v = samples.vectors.testCancel;
    const { rec, client } = clientAnswering(v.response_body);
    const r = await client.consumeUndo({
      orderId: 'cancelpay20240105164725',
      txnTime: '20240105164725',
      txnAmt: 1,
      origQryId: '652401051647252574008',
      backUrl: 'https://yansongda.cn/unipay/notify',
      bizType: '000000',
    });
    expectSameRequest(rec.fields(), v.expected_request_body);
    expect(rec.requests[0]?.url).toBe('https://gateway.test.95516.com/gateway/api/backTransReq.do');
    expect(r).toMatchObject({ state: 'accepted', respCode: '00', queryId: '652401051647252421528' });
  });

  it('refund (testRefund): request signature reproduced; response verified', async () => {
    const v = samples.vectors.testRefund;
    const { rec, client } = clientAnswering(v.response_body);
    const r = await client.refund({
      orderId: 'refundpay20240105165842',
      txnTime: '20240105165842',
      txnAmt: 1,
      origQryId: '052401051658427862748',
      backUrl: 'https://yansongda.cn/unipay/notify',
      bizType: '000000',
    });
    expectSameRequest(rec.fields(), v.expected_request_body);
    expect(r).toMatchObject({ state: 'accepted', queryId: '052401051658427863998' });
  });

  it('the request signature also equals an independent node:crypto computation (SHA-256 hex, then SHA256withRSA)', () => {
    const { client } = clientAnswering('');
    const signed = client.sign({ version: '5.1.0', encoding: 'utf-8', txnType: '00', merId: MER_ID, blank: '  ', padded: ' x ' });
    expect(signed.blank).toBeUndefined();
    expect(signed.padded).toBe('x');
    expect(signed.certId).toBe('69903319369');
    const key = (client as unknown as { config: { privateKey: import('node:crypto').KeyObject } }).config.privateKey;
    const digest = createHash('sha256').update(referenceSigningString(signed)).digest('hex');
    expect(signed.signature).toBe(createSign('RSA-SHA256').update(digest).sign(key, 'base64'));
  });

  it('the front return (frontUrl) verifies over its POST fields', () => {
    const params = samples.vectors.returnCallback.params;
    const { client } = clientAnswering('', fixedClock(Date.parse('2022-09-08T05:30:00Z')));
    const n = client.verifyFrontReturn({
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      rawBody: Buffer.from(formBody(params)),
      query: '',
    });
    expect(n).toMatchObject({
      orderId: 'yansongda20220908132206',
      queryId: '782209081322060674028',
      txnAmt: 1,
      respCode: '00',
      txnType: '01',
    });
    expect(client.decryptData(n.fields.accNo as string)).toBe('6216***********0018');
  });

  it('accNo in the query response decrypts with the merchant key (RSA PKCS#1 v1.5)', () => {
    const { client } = clientAnswering('');
    const fields = parseGatewayResponse(samples.vectors.testQuery.response_body);
    expect(client.decryptData(fields.accNo as string)).toBe('6216***********0018');
  });

  it('all four UnionPay-signed messages are rejected at today’s clock: signPubKeyCert expired 2025-07-31', () => {
    const { client } = clientAnswering('', TODAY);
    for (const name of ['testQuery', 'testCancel', 'testRefund'] as const) {
      const e = catchError(() => client.verifyResponse(samples.vectors[name].response_body));
      expect(e).toBeInstanceOf(PayCertificateError);
      expect(e).toMatchObject({ reason: 'EXPIRED' });
      expect((e as Error).message).toMatch(/^@pay\/unionpay: .*expired at 2025-07-31/);
    }
    const e = catchError(() => client.verifyFrontReturn(formBody(samples.vectors.returnCallback.params)));
    expect(e).toMatchObject({ reason: 'EXPIRED' });
  });

  it('a certificate cached while valid is still rejected once the clock passes its expiry', () => {
    let now = Date.parse('2025-07-30T00:00:00Z');
    const { client } = clientAnswering('', () => now);
    const body = samples.vectors.testQuery.response_body;
    client.verifyResponse(body);
    now = Date.parse('2025-08-01T00:00:00Z');
    expect(() => client.verifyResponse(body)).toThrow(expect.objectContaining({ reason: 'EXPIRED' }));
    expect(client.certificateCacheStats()).toMatchObject({ chainChecks: 1, hits: 1 });
  });

  it('rejects the vector response with a changed field, with CRLF→LF in signPubKeyCert, and once URL-decoded', () => {
    const { client } = clientAnswering('');
    const body = samples.vectors.testQuery.response_body;
    expect(client.verifyResponse(body).respCode).toBe('00');
    const tampered = body.replace('settleAmt=1&', 'settleAmt=2&');
    expect(() => client.verifyResponse(tampered)).toThrow(expect.objectContaining({ reason: 'BAD_SIGNATURE' }));
    const lf = body.replace(/\r\n/g, '\n');
    const e = catchError(() => client.verifyResponse(lf));
    expect(e).toBeInstanceOf(PaySignatureError);
    expect(e).toMatchObject({ reason: 'BAD_SIGNATURE' });
    // URL-decoding turns every "+" of the certificate and signature into a space
    const decoded = decodeURIComponent(body.replace(/\+/g, ' '));
    expect(() => client.verifyResponse(decoded)).toThrow(PayCertificateError);
    const viaSearchParams = new URLSearchParams(body);
    expect(viaSearchParams.get('signature')).not.toBe(parseGatewayResponse(body).signature);
  });

  it('5.0.0: the SHA-1 variant with the 2015 test .pfx (certId 40220995861346480087409489142384722381) matches an independent computation', () => {
    const client = new UnionPayClient({
      merId: '700000000000001',
      environment: 'test',
      version: '5.0.0',
      signCert: { pfx: readVector('unionpay', 'php-sdk-v500-2015', 'acp_test_sign.pfx'), password: '000000' },
      verifyCerts: [readVectorText('unionpay', 'php-sdk-v500-2015', 'acp_test_verify_sign.cer')],
      clock: fixedClock(Date.parse('2016-06-01T00:00:00Z')),
    });
    expect(client.certId).toBe('40220995861346480087409489142384722381');
    const signed = client.sign({ version: '5.0.0', encoding: 'utf-8', txnType: '00', orderId: '20160601000001' });
    const key = (client as unknown as { config: { privateKey: import('node:crypto').KeyObject } }).config.privateKey;
    const digest = createHash('sha1').update(referenceSigningString(signed)).digest('hex');
    expect(signed.signature).toBe(createSign('RSA-SHA1').update(digest).sign(key, 'base64'));
  });

  it('certIds of the other official test files (decimal serials), including the legacy RC2-40 .pfx', () => {
    const cases: Array<[string, string]> = [
      ['ruby-sdk-2019', '69629715588'],
      ['php-sdk-2017', '68759663125'],
    ];
    for (const [dir, certId] of cases) {
      const c = new UnionPayClient({ ...base, signCert: { pfx: readVector('unionpay', dir, 'acp_test_sign.pfx'), password: '000000' } });
      expect(c.certId).toBe(certId);
    }
    const enc = new UnionPayClient({ ...base, encryptCert: readVectorText('unionpay', 'ruby-sdk-2019', 'acp_test_enc.cer') });
    expect(enc.encryptCertId).toBe('69026275926');
    expect(parseCertificate(readVectorText('unionpay', 'php-sdk-2017', 'acp_test_enc.cer')).serialDecimal).toBe('68759622183');
  });

  it('the production root and middle chain together; mixing test and production certificates is a configuration error', () => {
    const prod = {
      rootCert: readVector('unionpay', 'prod-chain', 'acp_prod_root.cer'),
      middleCert: readVector('unionpay', 'prod-chain', 'acp_prod_middle.cer'),
    };
    expect(() => new UnionPayClient({ ...base, environment: 'production', ...prod })).not.toThrow();
    const mixed = catchError(() => new UnionPayClient({ ...base, middleCert: prod.middleCert }));
    expect(mixed).toBeInstanceOf(PayConfigError);
    expect((mixed as PayConfigError).message).toMatch(/^@pay\/unionpay: middleCert .* is not issued by rootCert/);
    const swapped = catchError(
      () => new UnionPayClient({ ...base, rootCert: base.middleCert as Uint8Array, middleCert: base.rootCert as Uint8Array }),
    );
    expect((swapped as Error).message).toMatch(/swapped|root CA/);
  });

  it('a wrong .pfx password is a configuration error that names the setting and hints at 000000', () => {
    const e = catchError(
      () => new UnionPayClient({ ...base, signCert: { pfx: readVector('unionpay', 'current', 'acp_test_sign.pfx'), password: 'nope' } }),
    );
    expect(e).toBeInstanceOf(PayConfigError);
    expect((e as PayConfigError).message).toMatch(/^@pay\/unionpay: signCert\.pfx/);
    expect((e as PayConfigError).hint).toMatch(/000000/);
  });
});

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected an error');
}
