// Every verification branch rejects: notifications, gateway responses, v3 answers and legacy
// signatures, with keys generated here (always runs, no vectors needed). Each failure must be a
// PayError with a precise message, never a TypeError and never a silent pass.
import { generateKeyPairSync } from 'node:crypto';
import {
  aes128CbcEncrypt,
  canonicalString,
  formEncode,
  isPayError,
  PayArgumentError,
  PayDecryptError,
  PayMismatchError,
  PayNotFoundError,
  PayProviderError,
  PayReplayError,
  PayResponseError,
  PaySignatureError,
  rsaSign,
} from '@pay/core';
import { describe, expect, it } from 'vitest';
import {
  AlipayClient,
  AlipayLegacyClient,
  alipayHint,
  extractResponse,
  legacyMd5Sign,
  v3Authorization,
  v3ResponseSignContent,
  verifyGatewayResponse,
  verifyV3Response,
} from '../src/index.js';

const app = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ali = generateKeyPairSync('rsa', { modulusLength: 2048 });
const other = generateKeyPairSync('rsa', { modulusLength: 2048 });
const APP_ID = '2021000000000042';
const SELLER = '2088000000000042';
const client = new AlipayClient({ appId: APP_ID, privateKey: app.privateKey, alipayPublicKey: ali.publicKey, sellerId: SELLER });

function thrown(fn: () => unknown): any {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
}

describe('notification verification rejects', () => {
  const params = {
    notify_id: '2024010100222000000000000001',
    notify_type: 'trade_status_sync',
    notify_time: '2024-01-01 12:00:00',
    app_id: APP_ID,
    seller_id: SELLER,
    trade_no: '2024010122001400000000000001',
    out_trade_no: 'N1',
    trade_status: 'TRADE_SUCCESS',
    total_amount: '88.88',
    subject: 'a+b c%2Bd',
    buyer_id: '2088102000000001',
    charset: 'utf-8',
    sign_type: 'RSA2',
  };
  const sign = (p: Record<string, string>, key = ali.privateKey) =>
    rsaSign('sha256', key, canonicalString(p, { exclude: ['sign', 'sign_type'] }));
  const body = (p: Record<string, string>, key = ali.privateKey) => formEncode({ ...p, sign: sign(p, key) });

  it('accepts the genuine one from a string, bytes, a decoded object and an incoming request', () => {
    const b = body(params);
    expect(client.verifyNotify(b).subject).toBe('a+b c%2Bd');
    expect(client.verifyNotify(Buffer.from(b)).out_trade_no).toBe('N1');
    expect(client.verifyNotify({ ...params, sign: sign(params) }).total_amount).toBe('88.88');
    expect(client.verifyNotify({ method: 'POST', headers: {}, rawBody: Buffer.from(b), query: '' }).notify_id).toBe(params.notify_id);
  });

  it('a tampered value', () => {
    const b = body(params).replace('total_amount=88.88', 'total_amount=0.01');
    expect(thrown(() => client.verifyNotify(b))).toMatchObject({ reason: 'BAD_SIGNATURE' });
  });

  it('+ sent for a literal plus decodes to a space and fails; a second decode of %2B would too', () => {
    const b = body(params);
    expect(thrown(() => client.verifyNotify(b.replace('a%2Bb', 'a+b')))).toBeInstanceOf(PaySignatureError);
    // the value "c%2Bd" arrives as c%252Bd: decoded once it is c%2Bd (verifies); decoded twice it would be c+d
    expect(b).toContain('c%252Bd');
    const decodedTwice = { ...params, subject: 'a+b c+d', sign: sign(params) };
    expect(thrown(() => client.verifyNotify(decodedTwice))).toBeInstanceOf(PaySignatureError);
  });

  it('a dropped field and a duplicated field', () => {
    const b = body(params);
    expect(thrown(() => client.verifyNotify(b.replace(/&buyer_id=\d+/, '')))).toBeInstanceOf(PaySignatureError);
    const dup = thrown(() => client.verifyNotify(`${b}&total_amount=0.01`));
    expect(dup).toBeInstanceOf(PayArgumentError);
    expect(dup.message).toMatch(/appears more than once/);
    expect(thrown(() => client.verifyNotify({ ...params, sign: sign(params), total_amount: ['1', '2'] } as never))).toBeInstanceOf(
      PayArgumentError,
    );
  });

  it('the wrong key, and the app key used as if it were Alipay', () => {
    expect(thrown(() => client.verifyNotify(body(params, other.privateKey)))).toMatchObject({ reason: 'BAD_SIGNATURE' });
    expect(thrown(() => client.verifyNotify(body(params, app.privateKey)))).toMatchObject({ reason: 'BAD_SIGNATURE' });
  });

  it('a missing or empty sign, and a sign_type other than the configured one', () => {
    expect(thrown(() => client.verifyNotify(formEncode(params)))).toMatchObject({ reason: 'MISSING_SIGNATURE' });
    expect(thrown(() => client.verifyNotify(formEncode({ ...params, sign: '' })))).toMatchObject({ reason: 'MISSING_SIGNATURE' });
    const rsa1 = { ...params, sign_type: 'RSA' };
    const e = thrown(() =>
      client.verifyNotify(
        formEncode({ ...rsa1, sign: rsaSign('sha1', ali.privateKey, canonicalString(rsa1, { exclude: ['sign', 'sign_type'] })) }),
      ),
    );
    expect(e).toMatchObject({ reason: 'SIGN_TYPE_MISMATCH' });
    expect(e.message).toMatch(/never from the message/);
  });

  it('a genuine signature for another app_id or seller_id, or none', () => {
    const otherApp = { ...params, app_id: '2021000000000099' };
    expect(thrown(() => client.verifyNotify(body(otherApp)))).toBeInstanceOf(PayMismatchError);
    const otherSeller = { ...params, seller_id: '2088000000000099' };
    const e = thrown(() => client.verifyNotify(body(otherSeller)));
    expect(e).toBeInstanceOf(PayMismatchError);
    expect(e.message).toMatch(/expected seller_id 2088000000000042, found 2088000000000099/);
    const { app_id: _a, ...noApp } = params;
    expect(thrown(() => client.verifyNotify(body(noApp)))).toBeInstanceOf(PayMismatchError);
  });

  it('a gbk charset, a missing notify_id, malformed encoding, and garbage never crash', () => {
    expect(thrown(() => client.verifyNotify(body({ ...params, charset: 'gbk' })))).toBeInstanceOf(PayArgumentError);
    const { notify_id: _n, ...noId } = params;
    expect(thrown(() => client.verifyNotify(body(noId)))).toBeInstanceOf(PayResponseError);
    expect(thrown(() => client.verifyNotify(`${body(params)}&x=%E0%A4%A`))).toBeInstanceOf(PayArgumentError);
    for (const junk of ['', '=', '&&&', 'sign', 'sign=%', '{"json":true}', Buffer.from([0xff, 0xfe]), {}, { sign: 'x' }]) {
      expect(isPayError(thrown(() => client.verifyNotify(junk as never)))).toBe(true);
    }
  });

  it('return_url and gateway messages use the same checks', () => {
    const ret = {
      app_id: APP_ID,
      seller_id: SELLER,
      out_trade_no: 'N1',
      trade_no: '1',
      total_amount: '1.00',
      method: 'alipay.trade.page.pay.return',
      sign_type: 'RSA2',
    };
    const q = body(ret);
    expect(client.verifyReturn(`https://shop.example/return?${q}`).out_trade_no).toBe('N1');
    expect(thrown(() => client.verifyReturn(q.replace('1.00', '9.00')))).toBeInstanceOf(PaySignatureError);
    const msg = { app_id: APP_ID, notify_type: 'servicemarket_order_notify', sign_type: 'RSA2', order: '7' };
    const signed = formEncode({ ...msg, sign: rsaSign('sha256', ali.privateKey, canonicalString(msg, { exclude: ['sign'] })) });
    expect(client.verifyGatewayMessage(signed).order).toBe('7');
    expect(thrown(() => client.verifyGatewayMessage(signed.replace('order=7', 'order=8')))).toBeInstanceOf(PaySignatureError);
    expect(
      thrown(() =>
        client.verifyGatewayMessage(
          formEncode({
            ...msg,
            app_id: '2021000000000099',
            sign: rsaSign('sha256', ali.privateKey, canonicalString({ ...msg, app_id: '2021000000000099' }, { exclude: ['sign'] })),
          }),
        ),
      ),
    ).toBeInstanceOf(PayMismatchError);
  });
});

describe('gateway response verification rejects', () => {
  const M = 'alipay.trade.query';
  const K = 'alipay_trade_query_response';
  const signed = (text: string, key = ali.privateKey, extra = '') => `{"${K}":${text},"sign":"${rsaSign('sha256', key, text)}"${extra}}`;
  const ok = '{"code":"10000","msg":"Success","out_trade_no":"a}\\"{b","nested":{"x":[1,{"y":"}]"}]},"trade_status":"TRADE_SUCCESS"}';

  it('extracts the exact raw text with braces and escaped quotes inside strings', () => {
    const raw = signed(ok);
    expect(extractResponse(raw, M).text).toBe(ok);
    expect(verifyGatewayResponse(client.config, raw, M).data.out_trade_no).toBe('a}"{b');
  });

  it('a tampered value, the wrong key, and a signature over a re-serialised body', () => {
    expect(thrown(() => verifyGatewayResponse(client.config, signed(ok).replace('TRADE_SUCCESS', 'TRADE_CLOSED'), M))).toMatchObject({
      reason: 'BAD_SIGNATURE',
    });
    expect(thrown(() => verifyGatewayResponse(client.config, signed(ok, other.privateKey), M))).toMatchObject({ reason: 'BAD_SIGNATURE' });
    const spaced = ok.replace('"code":"10000"', '"code": "10000"');
    const raw = `{"${K}":${spaced},"sign":"${rsaSign('sha256', ali.privateKey, ok)}"}`;
    expect(thrown(() => verifyGatewayResponse(client.config, raw, M))).toBeInstanceOf(PaySignatureError);
  });

  it('a response with no sign, even a successful one', () => {
    const e = thrown(() => verifyGatewayResponse(client.config, `{"${K}":${ok}}`, M));
    expect(e).toMatchObject({ reason: 'UNSIGNED_RESPONSE' });
    expect(e.message).toMatch(/cannot be trusted/);
    expect(thrown(() => verifyGatewayResponse(client.config, `{"${K}":${ok},"sign":""}`, M))).toMatchObject({
      reason: 'UNSIGNED_RESPONSE',
    });
  });

  it('a signed error_response is verified, then thrown with code, sub_code, sub_msg and hint', () => {
    const err = '{"code":"40002","msg":"Invalid Arguments","sub_code":"isv.invalid-signature","sub_msg":"验签出错"}';
    const raw = `{"error_response":${err},"sign":"${rsaSign('sha256', ali.privateKey, err)}"}`;
    const e = thrown(() => verifyGatewayResponse(client.config, raw, M));
    expect(e).toBeInstanceOf(PayProviderError);
    expect(e).toMatchObject({
      providerCode: '40002',
      providerSubCode: 'isv.invalid-signature',
      providerMessage: '验签出错',
      provider: 'alipay',
    });
    expect(e.detail).toMatch(/hint: Alipay could not verify the request signature/);
    const forged = raw.replace('40002', '40004');
    expect(thrown(() => verifyGatewayResponse(client.config, forged, M))).toBeInstanceOf(PaySignatureError);
  });

  it('a verified ACQ.TRADE_NOT_EXIST is a PayNotFoundError', () => {
    const nf = '{"code":"40004","msg":"Business Failed","sub_code":"ACQ.TRADE_NOT_EXIST","sub_msg":"交易不存在"}';
    expect(thrown(() => verifyGatewayResponse(client.config, signed(nf), M))).toBeInstanceOf(PayNotFoundError);
  });

  it('duplicated members, malformed text, HTML, and answers for another method', () => {
    const dup = `{"${K}":{"code":"40004"},"${K}":${ok},"sign":"${rsaSign('sha256', ali.privateKey, ok)}"}`;
    expect(thrown(() => verifyGatewayResponse(client.config, dup, M)).message).toMatch(/appears twice/);
    const raw = signed(ok);
    for (const bad of [
      raw.slice(0, -1),
      `${raw}x`,
      '[]',
      '',
      '"x"',
      `{"${K}":${ok},"sign":123}`,
      `{"${K}":17,"sign":"x"}`,
      '{"a":{"b":"unterminated}}',
    ]) {
      expect(
        thrown(() => verifyGatewayResponse(client.config, bad, M)),
        bad.slice(0, 30),
      ).toBeInstanceOf(PayResponseError);
    }
    expect(thrown(() => verifyGatewayResponse(client.config, '<html>502 Bad Gateway</html>', M)).hint).toMatch(/HTML/);
    expect(thrown(() => verifyGatewayResponse(client.config, raw, 'alipay.trade.close')).message).toMatch(
      /expected "alipay_trade_close_response" or "error_response"/,
    );
  });

  it('never throws anything but a PayError on any truncation of a valid answer', () => {
    const raw = signed(ok);
    for (let i = 0; i < raw.length; i += 7) {
      try {
        verifyGatewayResponse(client.config, raw.slice(0, i), M);
        throw new Error(`accepted a truncation at ${i}`);
      } catch (e) {
        expect(isPayError(e), `at ${i}: ${String(e)}`).toBe(true);
      }
    }
  });

  it('AES: an encrypted answer without encryptKey, with the wrong key, or damaged', () => {
    const key = Buffer.alloc(16, 1);
    const cipher = JSON.stringify(aes128CbcEncrypt(key, ok).toString('base64'));
    const raw = signed(cipher);
    expect(thrown(() => verifyGatewayResponse(client.config, raw, M))).toBeInstanceOf(PayDecryptError);
    const withKey = new AlipayClient({
      appId: APP_ID,
      privateKey: app.privateKey,
      alipayPublicKey: ali.publicKey,
      encryptKey: key.toString('base64'),
    });
    expect(verifyGatewayResponse(withKey.config, raw, M).data.trade_status).toBe('TRADE_SUCCESS');
    const wrongKey = new AlipayClient({
      appId: APP_ID,
      privateKey: app.privateKey,
      alipayPublicKey: ali.publicKey,
      encryptKey: Buffer.alloc(16, 2).toString('base64'),
    });
    expect(thrown(() => verifyGatewayResponse(wrongKey.config, raw, M))).toBeInstanceOf(PayDecryptError);
    expect(thrown(() => verifyGatewayResponse(withKey.config, signed('"AAAA"'), M))).toBeInstanceOf(PayDecryptError);
  });
});

describe('OpenAPI v3 signing and verification', () => {
  it('builds the Authorization header over auth, method, path, body and the app auth token', () => {
    const { authorization, signContent } = v3Authorization(client.config, {
      method: 'POST',
      pathWithQuery: '/v3/alipay/trade/query',
      body: '{"out_trade_no":"A"}',
      nonce: 'n1',
      timestamp: 1700000000000,
    });
    expect(signContent).toBe(`app_id=${APP_ID},nonce=n1,timestamp=1700000000000\nPOST\n/v3/alipay/trade/query\n{"out_trade_no":"A"}\n`);
    expect(authorization).toMatch(
      new RegExp(`^ALIPAY-SHA256withRSA app_id=${APP_ID},nonce=n1,timestamp=1700000000000,sign=[A-Za-z0-9+/=]+$`),
    );
    const sign = authorization.slice(authorization.indexOf(',sign=') + 6);
    expect(sign).toBe(rsaSign('sha256', app.privateKey, signContent));
    const withToken = v3Authorization(client.config, {
      method: 'GET',
      pathWithQuery: '/v3/x?a=1',
      body: '',
      nonce: 'n',
      timestamp: 1,
      appAuthToken: 'tok',
    });
    expect(withToken.signContent).toBe(`app_id=${APP_ID},nonce=n,timestamp=1\nGET\n/v3/x?a=1\n\ntok\n`);
  });

  const now = 1_700_000_000_000;
  const fixed = new AlipayClient({ appId: APP_ID, privateKey: app.privateKey, alipayPublicKey: ali.publicKey, clock: () => now });
  const headers = (body: string, ts = String(now), key = ali.privateKey) => ({
    'alipay-timestamp': ts,
    'alipay-nonce': 'abc',
    'alipay-signature': rsaSign('sha256', key, v3ResponseSignContent(ts, 'abc', body)),
  });

  it('accepts a signed answer in the window and rejects tampering, the wrong key, a stale or future timestamp, no signature', () => {
    const body = '{"trade_status":"TRADE_SUCCESS"}';
    expect(verifyV3Response<{ trade_status: string }>(fixed.config, 'q', 200, headers(body), body).data.trade_status).toBe('TRADE_SUCCESS');
    expect(thrown(() => verifyV3Response(fixed.config, 'q', 200, headers(body), body.replace('SUCCESS', 'CLOSED')))).toMatchObject({
      reason: 'BAD_SIGNATURE',
    });
    expect(thrown(() => verifyV3Response(fixed.config, 'q', 200, headers(body, String(now), other.privateKey), body))).toMatchObject({
      reason: 'BAD_SIGNATURE',
    });
    expect(thrown(() => verifyV3Response(fixed.config, 'q', 200, headers(body, String(now - 301_000)), body))).toBeInstanceOf(
      PayReplayError,
    );
    expect(thrown(() => verifyV3Response(fixed.config, 'q', 200, headers(body, String(now + 301_000)), body))).toBeInstanceOf(
      PayReplayError,
    );
    expect(thrown(() => verifyV3Response(fixed.config, 'q', 200, headers(body, '17e11'), body))).toBeInstanceOf(PayReplayError);
    expect(thrown(() => verifyV3Response(fixed.config, 'q', 200, {}, body))).toMatchObject({ reason: 'UNSIGNED_RESPONSE' });
    const err = '{"code":"TRADE_NOT_EXIST","message":"交易不存在"}';
    expect(thrown(() => verifyV3Response(fixed.config, 'q', 400, headers(err), err))).toBeInstanceOf(PayNotFoundError);
    expect(thrown(() => verifyV3Response(fixed.config, 'q', 400, {}, err))).toBeInstanceOf(PaySignatureError);
    expect(thrown(() => verifyV3Response(fixed.config, 'q', 200, headers('<html>'), '<html>'))).toBeInstanceOf(PayResponseError);
  });
});

describe('legacy mapi signatures', () => {
  const md5Key = 'abcdefghijklmnopqrstuvwxyz012345';
  const noNetwork = { request: () => Promise.reject(new Error('notify_verify must not be reached')) };
  const legacy = new AlipayLegacyClient({ partner: '2088000000000042', md5Key, transport: noNetwork });
  const n = {
    notify_id: 'x1',
    notify_type: 'trade_status_sync',
    out_trade_no: 'L1',
    trade_no: '1',
    trade_status: 'TRADE_SUCCESS',
    total_fee: '1.00',
    seller_id: '2088000000000042',
  };

  it('signs MD5 over the sorted content without sign and sign_type', () => {
    const signed = legacy.signParams(n);
    expect(signed.sign).toBe(legacyMd5Sign(n, md5Key));
    expect(signed.sign_type).toBe('MD5');
    expect(legacy.verifySignature(signed)).toBe(true);
    expect(legacy.verifySignature({ ...signed, total_fee: '9.00' })).toBe(false);
  });

  it('rejects a wrong MD5, a foreign sign_type, a missing sign and another seller before asking the gateway', async () => {
    const signed = legacy.signParams(n);
    await expect(legacy.verifyNotify(formEncode({ ...signed, total_fee: '9.00' }))).rejects.toMatchObject({ reason: 'BAD_SIGNATURE' });
    await expect(legacy.verifyNotify(formEncode({ ...signed, sign_type: 'RSA' }))).rejects.toMatchObject({ reason: 'SIGN_TYPE_MISMATCH' });
    await expect(legacy.verifyNotify(formEncode(n))).rejects.toMatchObject({ reason: 'MISSING_SIGNATURE' });
    const other = legacy.signParams({ ...n, seller_id: '2088000000000099' });
    await expect(legacy.verifyNotify(formEncode(other))).rejects.toBeInstanceOf(PayMismatchError);
  });

  it('RSA legacy signing verifies with the Alipay key only', () => {
    const partnerKey = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const rsa = new AlipayLegacyClient({
      partner: '2088000000000042',
      signType: 'RSA',
      privateKey: partnerKey.privateKey,
      alipayPublicKey: ali.publicKey,
      transport: noNetwork,
    });
    const fromAlipay = {
      ...n,
      sign: rsaSign('sha1', ali.privateKey, canonicalString(n, { exclude: ['sign', 'sign_type'] })),
      sign_type: 'RSA',
    };
    expect(rsa.verifySignature(fromAlipay)).toBe(true);
    expect(rsa.verifySignature(rsa.signParams(n))).toBe(false);
  });

  it('validates its configuration', () => {
    expect(() => new AlipayLegacyClient({ partner: '123', md5Key })).toThrow(/partner: expected the PID/);
    expect(() => new AlipayLegacyClient({ partner: '2088000000000042', md5Key: 'short' })).toThrow(
      /md5Key: expected the 32-character MD5 key, got 5 characters/,
    );
    expect(() => new AlipayLegacyClient({ partner: '2088000000000042', md5Key, gateway: 'http://mapi.example.com/gateway.do' })).toThrow(
      /https/,
    );
  });
});

describe('error hints', () => {
  it('has an actionable hint for each common code', () => {
    expect(alipayHint('isv.invalid-signature')).toMatch(/privateKey/);
    expect(alipayHint('isv.invalid-app-id')).toMatch(/app_id is unknown/);
    expect(alipayHint('isv.missing-signature-key')).toMatch(/upload/);
    expect(alipayHint('ACQ.TRADE_HAS_SUCCESS')).toMatch(/already paid/);
    expect(alipayHint('ACQ.TRADE_NOT_EXIST')).toMatch(/no such trade/);
    expect(alipayHint('ACQ.SYSTEM_ERROR')).toMatch(/retry later with the same out_trade_no/);
    expect(alipayHint('ACQ.HAS_NO_PRIVILEGE')).toMatch(/not enabled for this app_id/);
    expect(alipayHint('isv.insufficient-isv-permissions')).toMatch(/not enabled for this app_id/);
    expect(alipayHint('something.else')).toBeUndefined();
  });
});
