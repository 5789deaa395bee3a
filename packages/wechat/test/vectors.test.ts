// Known-answer tests against ../shared/vectors/wechat (read in place; see its README for sources).
import { createCipheriv, createDecipheriv, sign } from 'node:crypto';
import { fixedClock, loadPrivateKey, loadPublicKey, PayConfigError, PayDecryptError, PaySignatureError, parseCertificate } from '@pay/core';
import { expect, it } from 'vitest';
import { describeVectors, readVector, readVectorJson, readVectorText } from '../../../test-utils/vectors.js';
import {
  appPayParams,
  buildV2Xml,
  decryptCertificates,
  decryptResource,
  encryptResource,
  jsapiPayParams,
  parseV2Xml,
  requestSignMessage,
  responseSignMessage,
  signatureHeadersOf,
  signRequest,
  v2NotificationReply,
  v2Sign,
  v2SignString,
  v2VerifySign,
  verifyWechatSignature,
  WechatPayClient,
  WechatPayV2Client,
} from '../src/index.js';
import { flipByte } from './helpers.js';

const lower = (h: Record<string, string>) => Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), v]));

describeVectors('WeChat Pay API v3 known answers', () => {
  const gen = () => readVectorJson('wechat', 'generated', 'vectors.json');
  const java = () => readVectorJson('wechat', 'java', 'vectors.json');
  const merchantKey = () => loadPrivateKey(readVectorText('wechat', 'java', 'merchant_private_key.pem'));

  it('signs the POST request exactly as the generated vector (message, signature, Authorization header)', () => {
    const v = gen().request_post;
    expect(requestSignMessage(v.method, v.url, v.timestamp, v.nonce_str, v.body)).toBe(v.message);
    const auth = signRequest(merchantKey(), {
      method: v.method,
      url: v.url,
      body: v.body,
      timestamp: v.timestamp,
      nonce: v.nonce_str,
      mchid: v.mchid,
      serialNo: v.serial_no,
    });
    expect(auth).toBe(v.authorization);
    expect(auth).toContain(`signature="${v.signature}"`);
  });

  it('signs the GET request (empty body line) exactly as the generated vector', () => {
    const v = gen().request_get;
    const url = '/v3/pay/transactions/out-trade-no/1217752501201407033233368018?mchid=1234567891';
    expect(requestSignMessage('GET', url, '1554208460', '593BEC0C930BF1AFEB40B4A08C8FB242', '')).toBe(v.message);
    const auth = signRequest(merchantKey(), {
      method: 'GET',
      url,
      body: '',
      timestamp: '1554208460',
      nonce: '593BEC0C930BF1AFEB40B4A08C8FB242',
      mchid: '1234567891',
      serialNo: java().merchant_serial,
    });
    expect(auth).toContain(`signature="${v.signature}"`);
  });

  it('the client itself sends the vector Authorization for the vector request (injected clock and nonce)', async () => {
    const v = gen().request_post;
    let sent: Record<string, string> | undefined;
    const client = new WechatPayClient({
      mchid: v.mchid,
      privateKey: readVectorText('wechat', 'java', 'merchant_private_key.pem'),
      merchantCertificate: readVectorText('wechat', 'java', 'merchant_certificate.pem'),
      apiV3Key: java().api_v3_key,
      wechatpayPublicKey: readVectorText('wechat', 'java', 'wechat_pay_public_key.pem'),
      wechatpayPublicKeyId: 'PUB_KEY_ID_0000000000000024101100397200000006',
      clock: fixedClock(Number(v.timestamp) * 1000),
      nonce: () => v.nonce_str,
      transport: {
        request: async (req) => {
          sent = req.headers;
          return { status: 500, headers: {}, body: Buffer.from('{"code":"SYSTEM_ERROR","message":"stop"}') };
        },
      },
      retries: 0,
    });
    await expect(client.request('POST', v.url, { body: v.body })).rejects.toThrow();
    expect(client.merchantSerialNo).toBe(v.serial_no);
    expect(sent?.Authorization).toBe(v.authorization);
    expect(sent?.['Wechatpay-Serial']).toBe('PUB_KEY_ID_0000000000000024101100397200000006');
  });

  it('verifies the wechatpay-go callback signature over the exact body bytes at the vector clock', async () => {
    const go = readVectorJson('wechat', 'go', 'vectors.json').notify;
    const body = readVector('wechat', 'go', 'notify_body.json');
    const cert = parseCertificate(readVector('wechat', 'go', 'notify_wechatpay_cert_D7CE59D1F522D701.pem'));
    expect(cert.serialHex).toBe('D7CE59D1F522D701');
    const headers = signatureHeadersOf(lower(go.headers));
    const opts = { clock: fixedClock(go.clock_unix * 1000), what: 'callback' };
    await expect(verifyWechatSignature(headers, body, () => cert.publicKey, opts)).resolves.toBeUndefined();
    // One byte changed: the signature no longer verifies.
    const tampered = flipByte(body, -5);
    await expect(verifyWechatSignature(headers, tampered, () => cert.publicKey, opts)).rejects.toBeInstanceOf(PaySignatureError);
    // Re-serialised JSON (what a body parser would give back): same data, different bytes.
    const reserialised = JSON.stringify(JSON.parse(body.toString('utf8')), null, 1);
    await expect(verifyWechatSignature(headers, reserialised, () => cert.publicKey, opts)).rejects.toThrow(/re-serialised/);
  });

  it('rejects the go AEAD vector: its 16-byte key is not an AES-256 key, and the client refuses it at construction', () => {
    const v = readVectorJson('wechat', 'go', 'vectors.json');
    const resource = {
      algorithm: 'AEAD_AES_256_GCM',
      ciphertext: v.aead_gcm.ciphertext,
      nonce: v.aead_gcm.nonce,
      associated_data: v.aead_gcm.associated_data,
    };
    expect(() => decryptResource(Buffer.from(v.aead_gcm.key), resource)).toThrow(PayDecryptError);
    expect(
      () =>
        new WechatPayClient({
          mchid: '1234567890',
          privateKey: readVectorText('wechat', 'go', 'test_private_key.pem'),
          merchantSerialNo: 'D7CE59D1F522D701',
          apiV3Key: v.notify.apiv3_key,
          platformCertificates: [readVectorText('wechat', 'go', 'notify_wechatpay_cert_D7CE59D1F522D701.pem')],
        }),
    ).toThrow(/expected exactly 32 bytes, got 16/);
    // The vector itself is sound (AES-128-GCM, as Go picks by key length): checked with raw node:crypto.
    const data = Buffer.from(v.aead_gcm.ciphertext, 'base64');
    const d = createDecipheriv('aes-128-gcm', Buffer.from(v.aead_gcm.key), Buffer.from(v.aead_gcm.nonce));
    d.setAAD(Buffer.from(v.aead_gcm.associated_data));
    d.setAuthTag(data.subarray(data.length - 16));
    expect(Buffer.concat([d.update(data.subarray(0, data.length - 16)), d.final()]).toString()).toBe(v.aead_gcm.plaintext);
  });

  it('decrypts the wechatpay-java AEAD sample and fails (never garbage) on a changed AAD or nonce', () => {
    const v = java().aead_gcm;
    const key = Buffer.from(v.key);
    const resource = { algorithm: 'AEAD_AES_256_GCM', ciphertext: v.ciphertext, nonce: v.nonce, associated_data: v.associated_data };
    expect(decryptResource(key, resource).toString('utf8')).toBe(v.plaintext);
    for (const change of v.must_fail as Array<Record<string, string>>) {
      expect(() => decryptResource(key, { ...resource, ...change })).toThrow(PayDecryptError);
    }
    // Tampered tag (last byte) and tampered ciphertext (first byte).
    const raw = Buffer.from(v.ciphertext, 'base64');
    const badTag = flipByte(raw, -1, 0x80);
    expect(() => decryptResource(key, { ...resource, ciphertext: badTag.toString('base64') })).toThrow(/authentication failed/);
    const badCt = flipByte(raw, 0);
    expect(() => decryptResource(key, { ...resource, ciphertext: badCt.toString('base64') })).toThrow(PayDecryptError);
    expect(() => decryptResource(Buffer.from('a7cde1ZJB1kG2e7VfTs3jQzaWizur8Gc'), resource)).toThrow(PayDecryptError);
  });

  it('decrypts the wechatpay-axios-plugin AEAD vectors (16-byte IV, empty AAD and plaintext)', () => {
    const v = readVectorJson('wechat', 'axios', 'vectors.json').aead_gcm;
    const key = Buffer.from(v.key);
    expect(
      decryptResource(key, { algorithm: 'AEAD_AES_256_GCM', ciphertext: v.ciphertext, nonce: v.iv, associated_data: v.aad }).toString(),
    ).toBe(v.plaintext);
    // The empty plaintext is only a tag: 16 bytes, which our strict check refuses as a resource (WeChat never sends one);
    // check the primitive path instead.
    const enc = createCipheriv('aes-256-gcm', key, Buffer.from(v.iv));
    enc.setAAD(Buffer.from(v.empty.aad));
    enc.final();
    expect(enc.getAuthTag().toString('base64')).toBe(v.empty.ciphertext);
  });

  it('the Java notification resource (16-byte-key sample) fails to decrypt with a 32-byte key instead of returning garbage', () => {
    const n = readVectorJson('wechat', 'java', 'wechat_pay_notification.json');
    expect(() => decryptResource(Buffer.from(java().api_v3_key), n.resource, 'resource')).toThrow(PayDecryptError);
    expect(() => decryptResource(Buffer.from('testMchAPIv3Key0'), n.resource)).toThrow(/needs a 32-byte APIv3 key/);
  });

  it('verifies and decrypts the generated public-key-mode callback (PUB_KEY_ID, 32-byte key) at the vector clock', async () => {
    const v = gen().callback_pubkey_mode;
    const client = new WechatPayClient({
      mchid: '1234567891',
      appid: 'wxd678efh567hg6787',
      privateKey: readVectorText('wechat', 'java', 'merchant_private_key.pem'),
      merchantSerialNo: java().merchant_serial,
      apiV3Key: v.apiv3_key,
      wechatpayPublicKey: readVectorText('wechat', 'java', 'wechat_pay_public_key.pem'),
      wechatpayPublicKeyId: v.headers['Wechatpay-Serial'],
      clock: fixedClock(Number(v.headers['Wechatpay-Timestamp']) * 1000),
    });
    const event = await client.parseNotification({ headers: lower(v.headers), rawBody: Buffer.from(v.body, 'utf8') });
    expect(event.kind).toBe('transaction');
    expect(event.id).toBe('EV-2018022511223320873');
    expect(event.serial).toBe(v.headers['Wechatpay-Serial']);
    expect(event.resource).toEqual(JSON.parse(v.expected_plaintext));
    expect(event.duplicate).toBe(false);
    const again = await client.parseNotification({ headers: lower(v.headers), rawBody: Buffer.from(v.body, 'utf8') });
    expect(again.duplicate).toBe(true);
    // Wrong APIv3 key: verification passes, decryption fails.
    const wrongKey = new WechatPayClient({
      mchid: '1234567891',
      privateKey: readVectorText('wechat', 'java', 'merchant_private_key.pem'),
      merchantSerialNo: java().merchant_serial,
      apiV3Key: 'b7cde1ZJB1kG2e7VfTs3jQzaWizur8Gb',
      wechatpayPublicKey: readVectorText('wechat', 'java', 'wechat_pay_public_key.pem'),
      wechatpayPublicKeyId: v.headers['Wechatpay-Serial'],
      clock: fixedClock(Number(v.headers['Wechatpay-Timestamp']) * 1000),
    });
    await expect(wrongKey.parseNotification({ headers: lower(v.headers), rawBody: Buffer.from(v.body, 'utf8') })).rejects.toBeInstanceOf(
      PayDecryptError,
    );
  });

  it('certificate mode with the Java vector keys: a callback signed by wechat_pay_private_key (serial 440024…) verifies and decrypts with the 32-byte key; after the certificate expired it is refused', async () => {
    const j = java();
    const wxKey = loadPrivateKey(readVectorText('wechat', 'java', 'wechat_pay_private_key.pem'));
    const make = (tsSec: number) => {
      const resource = encryptResource(
        Buffer.from(j.api_v3_key),
        gen().callback_pubkey_mode.expected_plaintext,
        'fdasflkja484',
        'transaction',
      );
      const body = JSON.stringify({
        id: 'EV-JAVA-1',
        create_time: '2023-11-15T06:13:20+08:00',
        resource_type: 'encrypt-resource',
        event_type: 'TRANSACTION.SUCCESS',
        summary: '支付成功',
        resource: { original_type: 'transaction', ...resource },
      });
      const ts = String(tsSec);
      const signature = sign('sha256', responseSignMessage(ts, 'n-java', body), wxKey).toString('base64');
      return {
        headers: {
          'wechatpay-timestamp': ts,
          'wechatpay-nonce': 'n-java',
          'wechatpay-serial': j.wechat_pay_certificate_serial,
          'wechatpay-signature': signature,
        },
        rawBody: Buffer.from(body),
      };
    };
    const client = (atSec: number) =>
      new WechatPayClient({
        mchid: j.merchant_id,
        privateKey: readVectorText('wechat', 'java', 'merchant_private_key.pem'),
        merchantCertificate: readVectorText('wechat', 'java', 'merchant_certificate.pem'),
        apiV3Key: j.api_v3_key,
        platformCertificates: [readVectorText('wechat', 'java', 'wechat_pay_certificate.pem')],
        downloadCertificates: false,
        clock: fixedClock(atSec * 1000),
      });
    const inside = 1_700_000_000; // 2023-11-14, within the certificate's validity (2022-05-10 .. 2025-05-09)
    const ev = await client(inside).parseNotification(make(inside));
    expect(ev.kind).toBe('transaction');
    expect(ev.serial).toBe(j.wechat_pay_certificate_serial);
    expect(ev.resource).toEqual(JSON.parse(gen().callback_pubkey_mode.expected_plaintext));
    const tampered = make(inside);
    await expect(client(inside).parseNotification({ ...tampered, rawBody: flipByte(tampered.rawBody, 20) })).rejects.toBeInstanceOf(
      PaySignatureError,
    );
    const after = 1_760_000_000; // 2025-10: the certificate has expired
    await expect(client(after).parseNotification(make(after))).rejects.toMatchObject({ reason: 'EXPIRED' });
  });

  it('decrypts the certificate-download response to serial 5DEA10EF… and the expected PEM', () => {
    const v = java().certificate_download;
    const body = readVectorJson('wechat', 'java', v.response_file);
    const certs = decryptCertificates(body, Buffer.from(v.key));
    expect(certs).toHaveLength(1);
    expect(certs[0]?.serialHex).toBe(v.expected_serial);
    expect(certs[0]?.der.equals(parseCertificate(readVector('wechat', 'java', v.expected_plaintext_file)).der)).toBe(true);
    // The listed serial must be the certificate's: a relabelled entry is refused.
    const relabelled = { data: [{ ...body.data[0], serial_no: '440024045C4A427599D09BB4E3DE0279F2E813FD' }] };
    expect(() => decryptCertificates(relabelled, Buffer.from(v.key))).toThrow(/listed as serial/);
  });

  it('signs the JSAPI paySign and the APP sign exactly as the generated vectors', () => {
    const j = gen().jsapi_pay.params;
    const params = jsapiPayParams(merchantKey(), {
      appId: j.appId,
      prepayId: j.package.slice('prepay_id='.length),
      timeStamp: j.timeStamp,
      nonceStr: j.nonceStr,
    });
    expect(params).toEqual(j);
    const a = gen().app_pay.params;
    expect(
      appPayParams(merchantKey(), {
        appid: a.appid,
        partnerid: a.partnerid,
        prepayid: a.prepayid,
        timestamp: a.timestamp,
        noncestr: a.noncestr,
      }),
    ).toEqual(a);
  });

  it('client-side APP and JSAPI parameters through the client use the vector signatures for the vector inputs', () => {
    const j = gen().jsapi_pay.params;
    const client = new WechatPayClient({
      mchid: '1234567891',
      appid: j.appId,
      privateKey: readVectorText('wechat', 'java', 'merchant_private_key.pem'),
      merchantSerialNo: java().merchant_serial,
      apiV3Key: java().api_v3_key,
      platformCertificates: [readVectorText('wechat', 'java', 'wechat_pay_certificate.pem')],
      downloadCertificates: false,
      clock: fixedClock(Number(j.timeStamp) * 1000),
      nonce: () => j.nonceStr,
    });
    expect(client.jsapiPayParams('wx201410272009395522657a690389285100')).toEqual(j);
    expect(client.appPayParams('wx201410272009395522657a690389285100')).toEqual(gen().app_pay.params);
    expect(client.keys.certificates()[0]?.serialHex).toBe(java().wechat_pay_certificate_serial);
  });

  it('the Java platform key (certificate and public key) verifies what its private key signs, and the merchant key does not', async () => {
    // A certificate-mode response signed at test time with the vector's WeChat Pay private key, checked at a clock
    // inside the (expired) certificate's validity.
    const wxKey = loadPrivateKey(readVectorText('wechat', 'java', 'wechat_pay_private_key.pem'));
    const { rsaSign } = await import('@pay/core');
    const ts = '1700000000';
    const body = '{"code_url":"weixin://wxpay/bizpayurl?pr=abc"}';
    const signature = rsaSign('sha256', wxKey, `${ts}\nn1\n${body}\n`);
    const cert = parseCertificate(readVector('wechat', 'java', 'wechat_pay_certificate.pem'));
    const headers = { timestamp: ts, nonce: 'n1', signature, serial: cert.serialHex };
    const opts = { clock: fixedClock(1_700_000_000_000), what: 'response' };
    await expect(verifyWechatSignature(headers, body, () => cert.publicKey, opts)).resolves.toBeUndefined();
    const merchantPub = loadPublicKey(readVectorText('wechat', 'java', 'merchant_certificate.pem'));
    await expect(verifyWechatSignature(headers, body, () => merchantPub, opts)).rejects.toBeInstanceOf(PaySignatureError);
  });
});

describeVectors('WeChat Pay API v2 known answers', () => {
  const v2 = () => readVectorJson('wechat', 'v2', 'vectors.json');

  it('builds stringSignTemp and the MD5 and HMAC-SHA256 signs of the 安全规范 example', () => {
    const { params, key, stringSignTemp, MD5, 'HMAC-SHA256': HMAC } = v2().sign;
    expect(v2SignString(params, key)).toBe(stringSignTemp);
    expect(v2Sign(params, key, 'MD5')).toBe(MD5);
    expect(v2Sign(params, key, 'HMAC-SHA256')).toBe(HMAC);
    expect(v2VerifySign({ ...params, sign: MD5 }, key, 'MD5')).toBe(true);
    expect(v2VerifySign({ ...params, sign: HMAC }, key, 'HMAC-SHA256')).toBe(true);
    // Wrong sign type: the MD5 sign does not pass as HMAC-SHA256 and vice versa.
    expect(v2VerifySign({ ...params, sign: MD5 }, key, 'HMAC-SHA256')).toBe(false);
    expect(v2VerifySign({ ...params, sign: HMAC }, key, 'MD5')).toBe(false);
    // The documented form is upper-case hex; no v2 API allows another case.
    expect(v2VerifySign({ ...params, sign: MD5.toLowerCase() }, key, 'MD5')).toBe(false);
  });

  it('decrypts the refund req_info (AES-256-ECB, key = md5(apiKey)) into the sample fields', () => {
    const v = v2().refund_req_info;
    const client = new WechatPayV2Client({ appid: 'wx2421b1c4370ec43b', mchid: '10000100', apiKey: v.api_key });
    const expected = parseV2Xml(readVectorText('wechat', 'php', 'refund.notification.req_info.sample.xml'), { root: 'root' });
    expect(client.decryptReqInfo(v.req_info)).toEqual(expected);
    expect(expected.refund_recv_accout).toBe('支付用户零钱');
    const wrong = new WechatPayV2Client({ appid: 'wx2421b1c4370ec43b', mchid: '10000100', apiKey: '092006250b4c09247ec02edce69f6a2d' });
    expect(() => wrong.decryptReqInfo(v.req_info)).toThrow(PayDecryptError);
  });

  it('writes the success and fail notification replies byte for byte', () => {
    const v = v2().notify_reply;
    expect(v2NotificationReply(true).body).toBe(v.success);
    expect(v2NotificationReply(false, '签名失败').body).toBe(v.fail);
    expect(buildV2Xml({ return_code: 'SUCCESS', return_msg: 'OK' })).toBe(v.success);
  });

  it('parses the official v2 XML samples with every value as a string (CDATA and plain)', () => {
    const notice = parseV2Xml(readVector('wechat', 'php', 'paysuccess.notification.sample.xml'));
    expect(notice.total_fee).toBe('1');
    expect(notice.attach).toBe('支付测试');
    expect(notice.transaction_id).toBe('1004400740201409030005092168');
    const order = parseV2Xml(readVector('wechat', 'php', 'unifiedorder.sample.xml'));
    expect(order.total_fee).toBe('1');
    expect(order.out_trade_no).toBe('1415659990');
    expect(order.detail).toContain('"goods_id":"iphone6s_16G"');
  });

  it('a v3 client refuses the v2 key in place of the APIv3 key, with a hint', () => {
    const base = {
      mchid: '1234567891',
      privateKey: readVectorText('wechat', 'java', 'merchant_private_key.pem'),
      merchantSerialNo: readVectorJson('wechat', 'java', 'vectors.json').merchant_serial,
      platformCertificates: [readVectorText('wechat', 'java', 'wechat_pay_certificate.pem')],
    };
    const e = (() => {
      try {
        new WechatPayClient({ ...base, apiKey: v2().sign.key } as never);
      } catch (err) {
        return err as PayConfigError;
      }
      return undefined;
    })();
    expect(e).toBeInstanceOf(PayConfigError);
    expect(e?.hint).toMatch(/API v2 key/);
    expect(() => new WechatPayClient({ ...base, apiV3Key: v2().sign.key, apiKey: v2().sign.key } as never)).toThrow(
      /same as the API v2 apiKey/,
    );
  });
});
