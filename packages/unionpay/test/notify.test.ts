// Back notifications and front returns: form-encoded POST bodies, verified over the
// POST fields only; the reply UnionPay expects.
import { fromParts, type IncomingNotification, PayArgumentError, PayCertificateError, PaySignatureError } from '@pay/core';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { UnionPayClient } from '../src/index.js';
import { formBody, gatewaySign, type Hierarchy, makeHierarchy } from './helpers/pki.js';
import { configFor, paidFields } from './helpers/setup.js';

vi.setConfig({ hookTimeout: 30_000, testTimeout: 20_000 });

let h: Hierarchy;
let client: UnionPayClient;
let signed: Record<string, string>;

beforeAll(() => {
  h = makeHierarchy();
  client = new UnionPayClient(configFor(h));
  signed = gatewaySign(paidFields({ reqReserved: '{a=1&b=2}' }), h.leaf);
});

function incoming(body: string, over: Partial<IncomingNotification> = {}): IncomingNotification {
  return {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded;charset=UTF-8' },
    rawBody: Buffer.from(body, 'utf8'),
    query: '',
    ...over,
  };
}

describe('verifyNotification', () => {
  it('verifies a form-encoded notification and exposes typed fields (amount in fen)', () => {
    const n = client.verifyNotification(incoming(formBody(signed)));
    expect(n).toMatchObject({
      txnType: '01',
      orderId: 'A20260101000001',
      merId: '777290058110048',
      respCode: '00',
      queryId: '792601011200001234567',
      txnAmt: 8888,
      currencyCode: '156',
      reqReserved: '{a=1&b=2}',
      settleDate: '0101',
    });
    expect(n.fields.signPubKeyCert).toBe(h.leaf.crlfPem);
  });

  it('accepts the raw body as a string, as bytes, or through fromParts (framework raw body)', () => {
    const body = formBody(signed);
    expect(client.verifyNotification(body).orderId).toBe('A20260101000001');
    expect(client.verifyNotification(Buffer.from(body)).orderId).toBe('A20260101000001');
    const viaParts = fromParts({
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      rawBody: body,
      url: '/notify',
    });
    expect(client.verifyNotification(viaParts).orderId).toBe('A20260101000001');
  });

  it('verifies front returns the same way', () => {
    expect(client.verifyFrontReturn(incoming(formBody(signed))).respCode).toBe('00');
    expect(() => client.verifyFrontReturn(formBody({ ...signed, txnAmt: '1' }))).toThrow(
      /^@pay\/unionpay: front return: the signature does not verify/,
    );
  });

  it('rejects a changed field, an empty or missing signature', () => {
    expect(() => client.verifyNotification(formBody({ ...signed, txnAmt: '1' }))).toThrow(PaySignatureError);
    expect(() => client.verifyNotification(formBody({ ...signed, signature: '' }))).toThrow(/found an empty one/);
    const { signature: _s, ...rest } = signed;
    expect(() => client.verifyNotification(formBody(rest))).toThrow(/expected a signature field, found none/);
  });

  it('never reads the query string: fields moved from the body to the query do not verify', () => {
    const { txnAmt, ...rest } = signed;
    const n = incoming(formBody(rest), { query: `txnAmt=${txnAmt}` });
    expect(() => client.verifyNotification(n)).toThrow(PaySignatureError);
    const { signature, ...unsigned } = signed;
    expect(() =>
      client.verifyNotification(incoming(formBody(unsigned), { query: `signature=${encodeURIComponent(signature as string)}` })),
    ).toThrow(/expected a signature field, found none/);
  });

  it('never reads the query string: query parameters mixed in cannot change a verified field', () => {
    const n = client.verifyNotification(incoming(formBody(signed), { query: 'txnAmt=1&orderId=EVIL00000001&respCode=00' }));
    expect(n.txnAmt).toBe(8888);
    expect(n.orderId).toBe('A20260101000001');
    expect(Object.keys(n.fields)).not.toContain('EVIL00000001');
  });

  it('rejects a GET (fields in the query string only), a non-form content type, a duplicated field and a malformed body', () => {
    expect(() => client.verifyNotification(incoming('', { method: 'GET', query: formBody(signed) }))).toThrow(
      /expected a POST with form fields, got GET/,
    );
    expect(() => client.verifyNotification(incoming(JSON.stringify(signed), { headers: { 'content-type': 'application/json' } }))).toThrow(
      /content-type application\/x-www-form-urlencoded/,
    );
    expect(() => client.verifyNotification(`${formBody(signed)}&txnAmt=1`)).toThrow(PayArgumentError);
    expect(() => client.verifyNotification(`${formBody(signed)}&x=%ZZ`)).toThrow(/percent-encoding/);
    expect(() => client.verifyNotification('')).toThrow(/empty body/);
    expect(() => client.verifyNotification({} as never)).toThrow(PayArgumentError);
  });

  it('a notification decoded twice (e.g. by a framework and again) no longer verifies', () => {
    const once = formBody(signed);
    const twice = formBody(Object.fromEntries(new URLSearchParams(decodeURIComponent(once))));
    expect(() => client.verifyNotification(twice)).toThrow(/signature|certificate|signPubKeyCert/);
  });

  it('rejects an untrusted certificate in a notification (signed with a merchant certificate of the same chain)', () => {
    const forged = gatewaySign(paidFields(), h.merchant);
    expect(() => client.verifyNotification(formBody(forged))).toThrow(PayCertificateError);
    expect(() => client.verifyNotification(formBody(forged))).toThrow(/expected the CN to name 中国银联股份有限公司/);
  });
});

describe('notificationReply', () => {
  it('answers HTTP 200 when handled, 400 for a message that did not verify, 500 otherwise', () => {
    expect(client.notificationReply(true)).toMatchObject({ status: 200, body: 'ok' });
    expect(client.notificationReply({ ok: true }).status).toBe(200);
    expect(client.notificationReply(false).status).toBe(500);
    expect(client.notificationReply({ ok: false, error: new PaySignatureError('x') }).status).toBe(400);
    expect(client.notificationReply({ ok: false, error: new PayCertificateError('x') }).status).toBe(400);
  });
});
