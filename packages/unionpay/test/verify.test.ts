// Verification of UnionPay-signed messages against a hierarchy generated at test time
// (root → middle → leaf with the CN format 041@…@中国银联股份有限公司@…), with a negative
// test for every branch.
import { createHash, createSign } from 'node:crypto';
import { isPayError, PayCertificateError, PayConfigError, PaySignatureError } from '@pay/core';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { UnionPayClient } from '../src/index.js';
import { gatewaySign, type Hierarchy, makeCert, makeHierarchy, rawResponse, referenceSigningString, type TestCert } from './helpers/pki.js';
import { configFor, paidFields, signedAnswer } from './helpers/setup.js';

vi.setConfig({ hookTimeout: 30_000, testTimeout: 20_000 });

const DAY = 86_400_000;
let h: Hierarchy;
let client: UnionPayClient;

beforeAll(() => {
  h = makeHierarchy();
  client = new UnionPayClient(configFor(h));
});

function reasonOf(fn: () => unknown): { error: unknown; reason: string | undefined } {
  try {
    fn();
  } catch (error) {
    expect(isPayError(error)).toBe(true);
    expect((error as Error).message.startsWith('@pay/unionpay: ')).toBe(true);
    expect((error as { detail: string }).detail).not.toContain('BEGIN CERTIFICATE');
    return { error, reason: (error as { reason?: string }).reason };
  }
  throw new Error('expected a rejection');
}

describe('5.1.0 / signMethod 01: signPubKeyCert chained root → middle → leaf', () => {
  it('accepts a message signed by the UnionPay leaf (strict CN)', () => {
    const fields = client.verifyResponse(signedAnswer(h, paidFields()));
    expect(fields.orderId).toBe('A20260101000001');
    expect(fields.signPubKeyCert).toBe(h.leaf.crlfPem);
  });

  it('rejects a changed field', () => {
    const body = signedAnswer(h, paidFields()).replace('txnAmt=8888', 'txnAmt=1');
    const { error, reason } = reasonOf(() => client.verifyResponse(body));
    expect(error).toBeInstanceOf(PaySignatureError);
    expect(reason).toBe('BAD_SIGNATURE');
  });

  it('rejects an added field and a removed field', () => {
    const signed = gatewaySign(paidFields(), h.leaf);
    expect(reasonOf(() => client.verifyResponse(rawResponse({ ...signed, extra: 'x' }))).reason).toBe('BAD_SIGNATURE');
    const { traceNo: _dropped, ...rest } = signed;
    expect(reasonOf(() => client.verifyResponse(rawResponse(rest))).reason).toBe('BAD_SIGNATURE');
  });

  it('rejects signPubKeyCert with its CRLF turned into LF (the certificate text is part of the signed string)', () => {
    const body = signedAnswer(h, paidFields()).replace(/\r\n/g, '\n');
    expect(reasonOf(() => client.verifyResponse(body)).reason).toBe('BAD_SIGNATURE');
  });

  it('rejects the response text once URL-decoded (every "+" of certificate and signature becomes a space)', () => {
    const body = signedAnswer(h, paidFields());
    expect(body).toMatch(/\+/);
    const decoded = decodeURIComponent(body.replace(/\+/g, ' '));
    const { error } = reasonOf(() => client.verifyResponse(decoded));
    expect(error).toBeInstanceOf(PayCertificateError);
    // with the certificate text left intact, the decoded signature alone is enough to fail
    const sigOnly = body.replace(/signature=(.*)$/, (_m, sig: string) => `signature=${sig.replace(/\+/g, ' ')}`);
    expect(sigOnly).not.toBe(body);
    expect(reasonOf(() => client.verifyResponse(sigOnly)).reason).toBe('BAD_SIGNATURE');
  });

  it('rejects a valid signature under a self-signed certificate with the right CN', () => {
    const selfSigned = makeCert({ cn: '041@8310000000083040@中国银联股份有限公司@00016495' });
    const { error, reason } = reasonOf(() => client.verifyResponse(signedAnswer(h, paidFields(), selfSigned)));
    expect(error).toBeInstanceOf(PayCertificateError);
    expect(reason).toBe('UNTRUSTED');
  });

  it('rejects a leaf with the right CN signed by another CA', () => {
    const otherRoot = makeCert({ cn: 'test CS CA', ca: true });
    const otherMiddle = makeCert({ cn: 'test OCA1', ca: true, issuer: otherRoot });
    const leaf = makeCert({ cn: '041@8310000000083040@中国银联股份有限公司@00016495', issuer: otherMiddle });
    expect(reasonOf(() => client.verifyResponse(signedAnswer(h, paidFields(), leaf))).reason).toBe('UNTRUSTED');
  });

  it('rejects a leaf issued directly by the root (it must come through the middle certificate)', () => {
    const leaf = makeCert({ cn: '041@8310000000083040@中国银联股份有限公司@00016495', issuer: h.root });
    const { error, reason } = reasonOf(() => client.verifyResponse(signedAnswer(h, paidFields(), leaf)));
    expect(reason).toBe('UNTRUSTED');
    expect((error as Error).message).toMatch(/middle/);
  });

  it('rejects a CA certificate used as signPubKeyCert', () => {
    const ca = makeCert({ cn: '041@8310000000083040@中国银联股份有限公司@00016495', issuer: h.middle, ca: true });
    expect(reasonOf(() => client.verifyResponse(signedAnswer(h, paidFields(), ca))).reason).toBe('UNTRUSTED');
  });

  it('rejects the test CN 00040000:SIGN in strict mode, accepts it when relaxed in the test environment', () => {
    const testCn = makeCert({ cn: '041@8310000000083040@00040000:SIGN@00000006', issuer: h.middle });
    const body = signedAnswer(h, paidFields(), testCn);
    const { error, reason } = reasonOf(() => client.verifyResponse(body));
    expect(reason).toBe('WRONG_CN');
    expect((error as PayCertificateError).hint).toMatch(/strictCn: false/);
    const relaxed = new UnionPayClient(configFor(h, { strictCn: false }));
    expect(relaxed.verifyResponse(body).respCode).toBe('00');
    expect(() => new UnionPayClient(configFor(h, { strictCn: false, environment: 'production' }))).toThrow(PayConfigError);
  });

  it('rejects other CNs, even relaxed: another owner, or no @-parts at all', () => {
    const relaxed = new UnionPayClient(configFor(h, { strictCn: false }));
    for (const cn of ['041@8310000000083040@某某支付公司@00016495', '中国银联股份有限公司', '041@中国银联股份有限公司']) {
      const cert = makeCert({ cn, issuer: h.middle, keyPair: { privateKey: h.leaf.key, publicKey: h.leaf.publicKey } });
      expect(reasonOf(() => relaxed.verifyResponse(signedAnswer(h, paidFields(), cert))).reason).toBe('WRONG_CN');
    }
  });

  it('rejects an expired leaf and a leaf not yet valid', () => {
    const keyPair = { privateKey: h.leaf.key, publicKey: h.leaf.publicKey };
    const cn = '041@8310000000083040@中国银联股份有限公司@00016495';
    const expired = makeCert({ cn, issuer: h.middle, keyPair, notBefore: Date.now() - 400 * DAY, notAfter: Date.now() - DAY });
    expect(reasonOf(() => client.verifyResponse(signedAnswer(h, paidFields(), expired))).reason).toBe('EXPIRED');
    const future = makeCert({ cn, issuer: h.middle, keyPair, notBefore: Date.now() + DAY, notAfter: Date.now() + 400 * DAY });
    expect(reasonOf(() => client.verifyResponse(signedAnswer(h, paidFields(), future))).reason).toBe('NOT_YET_VALID');
  });

  it('checks validity at the injected clock, never at "now"', () => {
    const past = new UnionPayClient(configFor(h, { clock: () => Date.now() - 2 * DAY }));
    expect(reasonOf(() => past.verifyResponse(signedAnswer(h, paidFields()))).reason).toBe('NOT_YET_VALID');
    const future = new UnionPayClient(configFor(h, { clock: () => Date.now() + 2 * 365 * DAY }));
    expect(reasonOf(() => future.verifyResponse(signedAnswer(h, paidFields()))).reason).toBe('EXPIRED');
  });

  it('rejects a signature made with another key than the certificate’s', () => {
    const impostor: TestCert = { ...h.leaf, key: h.merchant.key };
    const body = rawResponse(gatewaySign(paidFields(), impostor, h.leaf.crlfPem));
    expect(reasonOf(() => client.verifyResponse(body)).reason).toBe('BAD_SIGNATURE');
  });

  it('rejects a missing or empty signature, a missing, damaged or doubled signPubKeyCert', () => {
    const signed = gatewaySign(paidFields(), h.leaf);
    const { signature: _s, ...noSig } = signed;
    expect(reasonOf(() => client.verifyResponse(rawResponse(noSig))).reason).toBe('MISSING_SIGNATURE');
    expect(reasonOf(() => client.verifyResponse(rawResponse({ ...signed, signature: '' }))).reason).toBe('MISSING_SIGNATURE');
    const { signPubKeyCert: _c, ...noCert } = signed;
    expect(reasonOf(() => client.verifyResponse(rawResponse(noCert))).reason).toBe('MISSING_CERT');
    const damaged = { ...signed, signPubKeyCert: signed.signPubKeyCert?.replace('MII', 'XYZ') as string };
    expect(reasonOf(() => client.verifyResponse(rawResponse(damaged))).reason).toBe('CERT_PARSE');
    expect(reasonOf(() => client.verifyResponse(rawResponse({ ...signed, signPubKeyCert: 'not a certificate' }))).reason).toBe(
      'CERT_PARSE',
    );
    const doubled = rawResponse(gatewaySign(paidFields(), h.leaf, `${h.leaf.crlfPem}\r\n${h.middle.crlfPem}`));
    expect(reasonOf(() => client.verifyResponse(doubled)).reason).toBe('CERT_PARSE');
  });

  it('takes signMethod and version from the configuration: a message claiming otherwise is rejected', () => {
    expect(reasonOf(() => client.verifyResponse(signedAnswer(h, paidFields({ signMethod: '11' })))).reason).toBe('WRONG_SIGN_METHOD');
    expect(reasonOf(() => client.verifyResponse(signedAnswer(h, paidFields({ version: '5.0.0' })))).reason).toBe('WRONG_VERSION');
    const { signMethod: _m, ...noMethod } = paidFields();
    expect(reasonOf(() => client.verifyResponse(signedAnswer(h, noMethod))).reason).toBe('WRONG_SIGN_METHOD');
  });

  it('verifies over every received field, empty values included (as UnionPay SDKs do)', () => {
    const body = signedAnswer(h, paidFields({ reqReserved: '' }));
    expect(client.verifyResponse(body).reqReserved).toBe('');
    const without = body.replace('&reqReserved=', '');
    expect(reasonOf(() => client.verifyResponse(without)).reason).toBe('BAD_SIGNATURE');
  });

  it('caches verified certificates by their exact text: the chain is checked once', () => {
    const c = new UnionPayClient(configFor(h));
    const body = signedAnswer(h, paidFields());
    for (let i = 0; i < 50; i++) c.verifyResponse(body);
    expect(c.certificateCacheStats()).toEqual({ size: 1, hits: 49, chainChecks: 1 });
    // failures are not cached: an untrusted certificate is checked (and refused) every time
    const selfSigned = makeCert({
      cn: '041@1@中国银联股份有限公司@1',
      keyPair: { privateKey: h.merchant.key, publicKey: h.merchant.publicKey },
    });
    const bad = signedAnswer(h, paidFields(), selfSigned);
    expect(() => c.verifyResponse(bad)).toThrow(PayCertificateError);
    expect(() => c.verifyResponse(bad)).toThrow(PayCertificateError);
    expect(c.certificateCacheStats()).toMatchObject({ size: 1, chainChecks: 3 });
  });

  it('the cache is bounded and per client', () => {
    const c = new UnionPayClient(configFor(h, { certCacheSize: 2 }));
    const keyPair = { privateKey: h.leaf.key, publicKey: h.leaf.publicKey };
    for (let i = 0; i < 3; i++) {
      const leaf = makeCert({ cn: `041@8310000000083040@中国银联股份有限公司@0000000${i}`, issuer: h.middle, keyPair });
      c.verifyResponse(signedAnswer(h, paidFields(), leaf));
    }
    expect(c.certificateCacheStats()).toMatchObject({ size: 2, chainChecks: 3 });
    expect(new UnionPayClient(configFor(h)).certificateCacheStats().size).toBe(0);
  });

  it('never throws anything but a PayError on garbage', () => {
    const inputs = [
      '',
      '&',
      '=',
      'a',
      'a=1&&b=2',
      'signature=abc',
      `signature=${'A'.repeat(344)}&signMethod=01&version=5.1.0`,
      'x={',
      '\u0000=\u0000',
    ];
    for (const text of inputs) {
      try {
        client.verifyResponse(text);
        throw new Error(`accepted ${JSON.stringify(text)}`);
      } catch (e) {
        expect(isPayError(e), `${JSON.stringify(text)}: ${String(e)}`).toBe(true);
      }
    }
    expect(() => client.verifyResponse(Buffer.from([0xff, 0xfe, 0x3d]))).toThrow(/UTF-8/);
  });
});

describe('5.0.0: verify certificate looked up by certId, SHA-1', () => {
  function sign500(fields: Record<string, string>, signer: TestCert): string {
    const out = { ...fields, version: '5.0.0', certId: signer.certId };
    const digest = createHash('sha1').update(referenceSigningString(out)).digest('hex');
    return rawResponse({ ...out, signature: createSign('RSA-SHA1').update(digest).sign(signer.key, 'base64') });
  }

  it('verifies with the configured verify certificate, rejects unknown or missing certIds and expired certificates', () => {
    const c = new UnionPayClient(configFor(h, { version: '5.0.0', verifyCerts: [h.leaf.pem] }));
    expect(c.verifyResponse(sign500(paidFields(), h.leaf)).respCode).toBe('00');
    expect(reasonOf(() => c.verifyResponse(sign500(paidFields(), h.enc))).reason).toBe('UNKNOWN_CERT_ID');
    const noCertId = sign500(paidFields(), h.leaf).replace(/certId=\d+&/, '');
    expect(reasonOf(() => c.verifyResponse(noCertId)).reason).toBe('UNKNOWN_CERT_ID');
    expect(reasonOf(() => c.verifyResponse(sign500(paidFields(), h.leaf).replace('txnAmt=8888', 'txnAmt=8889'))).reason).toBe(
      'BAD_SIGNATURE',
    );
    const late = new UnionPayClient(configFor(h, { version: '5.0.0', verifyCerts: [h.leaf.pem], clock: () => Date.now() + 3 * 365 * DAY }));
    expect(reasonOf(() => late.verifyResponse(sign500(paidFields(), h.leaf))).reason).toBe('EXPIRED');
    // a 5.1.0 message (SHA-256 with signPubKeyCert) does not pass a 5.0.0 client
    expect(reasonOf(() => c.verifyResponse(signedAnswer(h, paidFields()))).reason).toBe('WRONG_VERSION');
  });
});

describe('signMethod 11 / 12: secure key, constant-time comparison', () => {
  const secureKey = 'the-secure-key-from-the-portal';
  const reference = (fields: Record<string, string>, algorithm: 'sha256' | 'sm3'): string => {
    const d = (s: string) => createHash(algorithm).update(s, 'utf8').digest('hex');
    return d(`${referenceSigningString(fields)}&${d(secureKey)}`);
  };

  for (const [method, algorithm] of [
    ['11', 'sha256'],
    ['12', 'sm3'],
  ] as const) {
    it(`signMethod ${method} (${algorithm}): signs and verifies as an independent computation says`, () => {
      const c = new UnionPayClient({ merId: '777290058110048', environment: 'test', signMethod: method, secureKey });
      const signed = c.sign({ version: '5.1.0', encoding: 'utf-8', txnType: '00', orderId: 'A20260101000001', certId: 'dropped' });
      expect(signed.certId).toBeUndefined();
      expect(signed.signMethod).toBe(method);
      expect(signed.signature).toBe(reference(signed, algorithm));
      const fields = paidFields({ signMethod: method });
      const good = rawResponse({ ...fields, signature: reference(fields, algorithm) });
      expect(c.verifyResponse(good).respCode).toBe('00');
      expect(reasonOf(() => c.verifyResponse(good.replace('txnAmt=8888', 'txnAmt=1'))).reason).toBe('BAD_SIGNATURE');
      const upper = rawResponse({ ...fields, signature: reference(fields, algorithm).toUpperCase() });
      expect(reasonOf(() => c.verifyResponse(upper)).reason).toBe('BAD_SIGNATURE');
      const other = new UnionPayClient({ merId: '777290058110048', environment: 'test', signMethod: method, secureKey: 'another key' });
      expect(reasonOf(() => other.verifyResponse(good)).reason).toBe('BAD_SIGNATURE');
      expect(reasonOf(() => c.verifyResponse(signedAnswer(h, paidFields()))).reason).toBe('WRONG_SIGN_METHOD');
    });
  }

  it('signMethod 11/12 need a secure key and version 5.1.0', () => {
    expect(() => new UnionPayClient({ merId: '777290058110048', environment: 'test', signMethod: '11' })).toThrow(/secureKey/);
    expect(
      () => new UnionPayClient({ merId: '777290058110048', environment: 'test', signMethod: '12', secureKey, version: '5.0.0' }),
    ).toThrow(/5\.1\.0/);
  });
});
