// Known-answer tests from ../shared/vectors/alipay (read in place; see its README for the source of each value).
import { generateKeyPairSync } from 'node:crypto';
import { formDecode, formEncode, PayCertificateError, PaySignatureError, parseCertificates, rsaSign } from '@pay/core';
import { expect, it } from 'vitest';
import { describeVectors, readVectorJson, readVectorText } from '../../../test-utils/vectors.js';
import {
  AlipayClient,
  type AlipayConfig,
  aesDecryptText,
  aesEncryptText,
  alipayCertSn,
  alipayRootCertSn,
  extractResponse,
  legacyMd5Sign,
  notifySignContent,
  parseChinaTime,
  signRequestParams,
  verifyGatewayResponse,
} from '../src/index.js';

type NotifyVector = { id: string; key: string; rule: string; params: Record<string, string>; signedContent: string; rawUrl?: string };
type ResponseVector = { id: string; key?: string; keyBase64?: string; raw?: string; signedContent: string; sign?: string };

const v = () => readVectorJson('alipay', 'vectors.json');
const text = (f: string) => readVectorText('alipay', f);
const APP_KEY = () => text('official-app-private-key.pem');

/** A client whose Alipay key (or certificate) is the vector's key. */
function clientFor(key: string, appId: string, extra: Partial<AlipayConfig> = {}): AlipayClient {
  if (key.startsWith('yansongda-')) {
    return new AlipayClient({
      appId,
      privateKey: text('yansongda-alipayAppSecretCert.pem'),
      appCert: text('yansongda-alipayAppPublicCert.crt'),
      alipayPublicCert: text(key),
      alipayRootCert: text('yansongda-alipayRootCert.crt'),
      ...extra,
    });
  }
  return new AlipayClient({ appId, privateKey: APP_KEY(), alipayPublicKey: text(key), ...extra });
}

describeVectors('Alipay notifications (vectors.json notify)', () => {
  it('has the 4 signed notifications', () => {
    expect((v().notify as NotifyVector[]).map((n) => n.id)).toEqual([
      'official-trade-status-sync',
      'official-servicemarket-keep-sign-type',
      'yansongda-notify-plus-in-subject',
      'yansongda-return-url-get',
    ]);
  });

  it('(a) trade_status_sync verifies from the raw form body with sign and sign_type dropped, and only so', () => {
    const n = (v().notify as NotifyVector[])[0] as NotifyVector;
    expect(notifySignContent(n.params, 'payment')).toBe(n.signedContent);
    const client = clientFor(n.key, n.params.app_id as string, { sellerId: n.params.seller_id as string });
    const body = formEncode(n.params);
    const verified = client.verifyNotify(body);
    expect(verified.trade_status).toBe('TRADE_SUCCESS');
    expect(verified.subject).toBe('语雀空间 500人规模');
    expect(client.verifyNotify(Buffer.from(body)).notify_id).toBe(n.params.notify_id);
    expect(client.verifyNotify(n.params).out_trade_no).toBe(n.params.out_trade_no);
    expect(() => client.verifyGatewayMessage(body)).toThrow(PaySignatureError);
  });

  it('(b) servicemarket_order_notify verifies with sign_type kept (gateway rule), and not with the payment rule', () => {
    const n = (v().notify as NotifyVector[])[1] as NotifyVector;
    expect(notifySignContent(n.params, 'gateway')).toBe(n.signedContent);
    const client = clientFor(n.key, n.params.app_id as string);
    const body = formEncode(n.params);
    expect(client.verifyGatewayMessage(body).commodity_order_id).toBe('2019030800000018079639');
    expect(() => client.verifyNotify(body)).toThrow(/does not verify/);
  });

  it('(c) a literal + in subject survives one decode (%2B) and the notify verifies in certificate mode', () => {
    const n = (v().notify as NotifyVector[])[2] as NotifyVector;
    expect(n.params.subject).toBe('yansongda+测试 - 1');
    expect(notifySignContent(n.params, 'payment')).toBe(n.signedContent);
    const client = clientFor(n.key, n.params.app_id as string, { sellerId: n.params.seller_id as string });
    const body = formEncode(n.params);
    expect(body).toContain('subject=yansongda%2B%E6%B5%8B%E8%AF%95+-+1');
    expect(client.verifyNotify(body).subject).toBe('yansongda+测试 - 1');
    // the same body with the plus sent unencoded decodes to a space: it must not verify
    expect(() => client.verifyNotify(body.replace('yansongda%2B', 'yansongda+'))).toThrow(PaySignatureError);
    expect(() => client.verifyGatewayMessage(body)).toThrow(PaySignatureError); // sign_type is not in its content
  });

  it('(d) the return_url GET verifies from the full URL (display only)', () => {
    const n = (v().notify as NotifyVector[])[3] as NotifyVector;
    expect(notifySignContent(n.params, 'payment')).toBe(n.signedContent);
    const client = clientFor(n.key, n.params.app_id as string, { sellerId: n.params.seller_id as string });
    const r = client.verifyReturn(n.rawUrl as string);
    expect(r.total_amount).toBe('0.01');
    expect(formDecode((n.rawUrl as string).split('?')[1] as string)).toEqual(n.params);
    expect(() => client.verifyGatewayMessage(n.rawUrl as string)).toThrow(PaySignatureError);
    expect(
      client.verifyReturn({ method: 'GET', headers: {}, rawBody: Buffer.alloc(0), query: (n.rawUrl as string).split('?')[1] as string })
        .trade_no,
    ).toBe(n.params.trade_no);
  });
});

describeVectors('Alipay gateway responses (vectors.json response)', () => {
  it('official file upload: the raw text of alipay_open_file_upload_response is extracted and verifies', () => {
    const r = (v().response as ResponseVector[])[0] as ResponseVector;
    const raw = r.raw as string;
    expect(extractResponse(raw, 'alipay.open.file.upload').text).toBe(r.signedContent);
    const client = clientFor(r.key as string, '2021000122671080');
    const res = verifyGatewayResponse(client.config, raw, 'alipay.open.file.upload');
    expect(res.data.file_id).toBe('CAxAToWB1JsAAAAAAAAAAAAADgSLAQBr');
    expect(res.signedText).toBe(r.signedContent);
    expect(() => verifyGatewayResponse(client.config, raw.replace('CAxAToWB', 'CAxAToWC'), 'alipay.open.file.upload')).toThrow(
      PaySignatureError,
    );
  });

  it('gopay trade response: verifies with the inline key in any member order and spacing', () => {
    const r = (v().response as ResponseVector[])[1] as ResponseVector;
    const client = new AlipayClient({ appId: '2021000122671080', privateKey: APP_KEY(), alipayPublicKey: r.keyBase64 as string });
    const bodies = [
      `{"alipay_trade_pay_response":${r.signedContent},"sign":"${r.sign}"}`,
      `{"sign":"${r.sign}","alipay_trade_pay_response":${r.signedContent}}`,
      ` {\n  "alipay_trade_pay_response" : ${r.signedContent} ,\n  "sign" : "${r.sign}"\n}\n`,
    ];
    for (const raw of bodies) {
      const res = verifyGatewayResponse(client.config, raw, 'alipay.trade.pay');
      expect(res.signedText).toBe(r.signedContent);
      expect(res.data.trade_no).toBe('2019082922001432790585537960');
    }
  });

  it('yansongda transfer response: certificate mode picks the key by alipay_cert_sn and rejects a forged SN', () => {
    const r = (v().response as ResponseVector[])[2] as ResponseVector;
    const client = clientFor(r.key as string, '9021000122682882');
    const sn = alipayCertSn(parseCertificates(text(r.key as string))[0] as never);
    expect(sn).toBe('6f1e366a31d9575cd546914add04f4af');
    const raw = `{"alipay_fund_trans_uni_transfer_response":${r.signedContent},"alipay_cert_sn":"${sn}","sign":"${r.sign}"}`;
    expect(verifyGatewayResponse(client.config, raw, 'alipay.fund.trans.uni.transfer').data.status).toBe('SUCCESS');
    const forged = raw.replace(sn, '00000000000000000000000000000000');
    expect(() => verifyGatewayResponse(client.config, forged, 'alipay.fund.trans.uni.transfer')).toThrow(PayCertificateError);
  });
});

describeVectors('Alipay request signatures and certificates (vectors.json requestSign, certSn)', () => {
  it('yansongda cert-mode alipay.trade.query: the same RSA2 signature byte for byte, from params and from the client', () => {
    const e = (v().requestSign as Array<Record<string, any>>)[0] as Record<string, any>;
    const client = clientFor('yansongda-alipayPublicCert.crt', e.params.app_id, { clock: () => parseChinaTime(e.params.timestamp) });
    expect(signRequestParams(e.params, client.config.privateKey, 'sha256').sign).toBe(e.sign);
    const signed = client.sign('alipay.trade.query', e.params.biz_content, {
      notify_url: e.params.notify_url,
      return_url: e.params.return_url,
      extra: { format: 'JSON' },
    });
    expect(signed.params.app_cert_sn).toBe(e.params.app_cert_sn);
    expect(signed.params.alipay_root_cert_sn).toBe(e.params.alipay_root_cert_sn);
    expect(signed.sign).toBe(e.sign);
  });

  it('computes all 9 certificate SNs, including the root SN over the RSA-signed roots only', () => {
    const list = v().certSn as Array<{ file: string; kind: string; sn: string }>;
    expect(list).toHaveLength(9);
    for (const entry of list) {
      const certs = parseCertificates(text(entry.file));
      const sn = entry.kind.startsWith('alipay_root_cert_sn') ? alipayRootCertSn(certs) : alipayCertSn(certs[0] as never);
      expect(sn, entry.file).toBe(entry.sn);
    }
    expect(alipayRootCertSn(parseCertificates(text('official-alipayRootCert.crt')))).toBe(
      '687b59193f3f462dd5336e5abf83c5d8_02941eef3187dddf3d3b83462e1dfcf6',
    );
  });

  it('certificate mode computes app_cert_sn and alipay_root_cert_sn at construction (official files)', () => {
    // the official app certificate belongs to another private key: the mismatch is caught at construction
    expect(
      () =>
        new AlipayClient({
          appId: '2021001161683774',
          privateKey: APP_KEY(),
          appCert: text('official-appCertPublicKey_2021001161683774.crt'),
          alipayPublicCert: text('official-alipayCertPublicKey_RSA2.crt'),
          alipayRootCert: text('official-alipayRootCert.crt'),
        }),
    ).toThrow(/appCert: the certificate does not belong to privateKey/);
  });
});

describeVectors('Alipay AES and legacy MD5 (vectors.json aes, md5Legacy)', () => {
  it('decrypts and re-encrypts the gopay AES-128-CBC sample exactly', () => {
    const a = (v().aes as Array<Record<string, string>>)[0] as Record<string, string>;
    const key = Buffer.from(a.key as string, 'base64');
    expect(aesDecryptText(key, a.ciphertext as string, 'aes')).toBe(a.plaintext);
    expect(aesEncryptText(key, a.plaintext as string)).toBe(a.ciphertext);
  });

  it('verifies an AES-encrypted response over the quoted string, then decrypts the sample', () => {
    const a = (v().aes as Array<Record<string, string>>)[0] as Record<string, string>;
    const gateway = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const client = new AlipayClient({
      appId: '2021000122671080',
      privateKey: APP_KEY(),
      alipayPublicKey: gateway.publicKey,
      encryptKey: a.key as string,
    });
    const quoted = JSON.stringify(a.ciphertext);
    const raw = `{"alipay_user_info_share_response":${quoted},"sign":"${rsaSign('sha256', gateway.privateKey, quoted)}"}`;
    const res = verifyGatewayResponse(client.config, raw, 'alipay.user.info.share');
    expect(res.signedText).toBe(quoted);
    expect(res.data).toEqual(JSON.parse(a.plaintext as string));
    // a signature over the unquoted ciphertext is not what Alipay signs
    const unquoted = `{"alipay_user_info_share_response":${quoted},"sign":"${rsaSign('sha256', gateway.privateKey, a.ciphertext as string)}"}`;
    expect(() => verifyGatewayResponse(client.config, unquoted, 'alipay.user.info.share')).toThrow(PaySignatureError);
  });

  it("rejects the official app public key given as alipayPublicKey (the app's own key)", () => {
    expect(
      () => new AlipayClient({ appId: '2021000122671080', privateKey: APP_KEY(), alipayPublicKey: text('official-app-public-key.pem') }),
    ).toThrow(/alipayPublicKey looks like the app's own public key/);
  });

  it('signs the chloerei MD5 sample: md5(content + key)', () => {
    const m = (v().md5Legacy as Array<Record<string, string>>)[0] as Record<string, string>;
    expect(legacyMd5Sign({ service: 'test', partner: '123' }, m.key as string)).toBe(m.sign);
  });
});

describeVectors('Alipay APP pay order strings (derived-sdkexec-app-pay.json)', () => {
  const entries = () => readVectorJson<Array<Record<string, any>>>('alipay', 'derived-sdkexec-app-pay.json');

  it('reproduces signContent and sign byte for byte for RSA2 and RSA, with an order string that decodes to the same parameters', () => {
    expect(entries()).toHaveLength(2);
    for (const e of entries()) {
      const client = new AlipayClient({
        appId: e.app_id,
        privateKey: text(e.privateKeyFile),
        alipayPublicKey: text('official-alipay-public-key.pem'),
        signType: e.signType,
        clock: () => parseChinaTime(e.inputs.timestamp),
      });
      const biz = e.inputs.bizContent;
      const order = { out_trade_no: biz.out_trade_no, amount: 1, subject: biz.subject, notify_url: e.inputs.notify_url };
      const signed = client.appPaySigned(order);
      expect(signed.signContent, e.signType).toBe(e.signContent);
      expect(signed.sign, e.signType).toBe(e.sign);
      const orderString = client.appPay(order);
      expect(formDecode(orderString)).toEqual(formDecode(e.orderString));
      expect(orderString).toBe(e.orderString);
    }
  });
});
