// API v2 (XML): parsing limits, signatures and sign types, notifications, and end to end over HTTPS
// against the emulator's v2 port, which requires the merchant certificate (apiclient_cert.p12) for refunds.
import {
  aes256EcbEncrypt,
  md5Hex,
  PayConfigError,
  PayDecryptError,
  PayMismatchError,
  PayNotFoundError,
  PayProviderError,
  PayResponseError,
  PaySignatureError,
  PayStateError,
  PayUpstreamError,
} from '@pay/core';
import { startWechatPayEmulator, type WechatPayEmulator } from '@pay/sandbox';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildV2Xml, parseV2Xml, type V2PaymentNotification, v2Sign, WechatPayV2Client, type WechatPayV2Config } from '../src/index.js';
import { type NotifyServer, startNotifyServer, waitFor } from './helpers.js';

// Emulators generate RSA keys and certificates on start: allow for a busy 2-core machine.
vi.setConfig({ testTimeout: 30_000, hookTimeout: 60_000 });

const KEY = '192006250b4c09247ec02edce69f6a2d';
const base: WechatPayV2Config = { appid: 'wxd930ea5d5a258f4f', mchid: '10000100', apiKey: KEY };

describe('v2 XML parsing', () => {
  it('keeps every value a string (numbers, leading zeros, booleans), keeps CDATA exactly, decodes the XML entities', () => {
    const x = parseV2Xml(
      '<xml><total_fee>1</total_fee><code>007</code><flag>true</flag><a><![CDATA[ x&amp;<b> ]]></a><e>a&amp;b&lt;</e><empty></empty></xml>',
    );
    expect(x).toEqual({ total_fee: '1', code: '007', flag: 'true', a: ' x&amp;<b> ', e: 'a&b<', empty: '' });
  });

  it('refuses DOCTYPE and entity declarations (XXE, billion laughs) before parsing', () => {
    const xxe = '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><xml><a>&xxe;</a></xml>';
    const laughs = '<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]><xml><a>&lol2;</a></xml>';
    for (const doc of [xxe, laughs, '<!doctype xml><xml><a>1</a></xml>']) {
      const e = (() => {
        try {
          parseV2Xml(doc);
        } catch (err) {
          return err as PayResponseError;
        }
      })();
      expect(e).toBeInstanceOf(PayResponseError);
      expect(e?.reason).toBe('XML_DOCTYPE');
    }
  });

  it('refuses oversize, malformed, nested, repeated, misrooted and prototype-polluting documents with PayResponseError', () => {
    const bad = [
      `<xml><a>${'x'.repeat(300 * 1024)}</a></xml>`,
      '<xml><a>1</b></xml>',
      '<xml><a>1</a>',
      'not xml at all',
      '',
      '<xml><a><b>1</b></a></xml>',
      '<xml><a>1</a><a>2</a></xml>',
      '<root><a>1</a></root>',
      '<xml><a>1</a></xml><xml><a>2</a></xml>',
      '<xml><__proto__>1</__proto__></xml>',
      '<xml>text<a>1</a></xml>',
    ];
    for (const doc of bad) expect(() => parseV2Xml(doc), doc.slice(0, 40)).toThrow(PayResponseError);
    expect(() => parseV2Xml('<xml><a>12345</a></xml>', { maxBytes: 10 })).toThrow(/at most 10 bytes/);
  });

  it('writes CDATA, splitting "]]>" so that it round-trips, and refuses invalid element names', () => {
    const xml = buildV2Xml({ a: 'x]]>y', n: 1, skip: undefined });
    expect(xml).toBe('<xml><a><![CDATA[x]]]]><![CDATA[>y]]></a><n><![CDATA[1]]></n></xml>');
    expect(parseV2Xml(xml)).toEqual({ a: 'x]]>y', n: '1' });
    expect(() => buildV2Xml({ 'a b': '1' })).toThrow(/not a valid element name/);
  });
});

function notice(fields: Record<string, string>, type: 'MD5' | 'HMAC-SHA256' = 'MD5', key = KEY): Record<string, string> {
  const f = {
    return_code: 'SUCCESS',
    appid: base.appid,
    mch_id: base.mchid,
    nonce_str: 'n1',
    result_code: 'SUCCESS',
    out_trade_no: 'A1',
    transaction_id: '4200',
    total_fee: '100',
    ...fields,
  };
  return { ...f, sign: v2Sign(f, key, type) };
}

describe('v2 payment notifications', () => {
  const md5 = new WechatPayV2Client(base);
  const hmac = new WechatPayV2Client({ ...base, signType: 'HMAC-SHA256' });

  it('verifies with the configured sign type and returns the fields as strings', () => {
    const n: V2PaymentNotification = md5.parsePaymentNotification(buildV2Xml(notice({})));
    expect(n).toMatchObject({ out_trade_no: 'A1', total_fee: '100', result_code: 'SUCCESS' });
    expect(
      hmac.parsePaymentNotification({ rawBody: Buffer.from(buildV2Xml(notice({ sign_type: 'HMAC-SHA256' }, 'HMAC-SHA256'))) }).out_trade_no,
    ).toBe('A1');
  });

  it('rejects a changed field, a missing sign, a lower-case sign, a wrong key', () => {
    const good = notice({});
    expect(() => md5.parsePaymentNotification(buildV2Xml({ ...good, total_fee: '1' }))).toThrow(PaySignatureError);
    const { sign, ...unsigned } = good;
    expect(() => md5.parsePaymentNotification(buildV2Xml(unsigned))).toThrow(/expected a sign field/);
    expect(() => md5.parsePaymentNotification(buildV2Xml({ ...good, sign: (sign as string).toLowerCase() }))).toThrow(PaySignatureError);
    expect(() => md5.parsePaymentNotification(buildV2Xml(notice({}, 'MD5', 'ffffffffffffffffffffffffffffffff')))).toThrow(
      PaySignatureError,
    );
  });

  it('the sign type comes from configuration: a notification naming another sign_type is refused, and an MD5 sign never passes an HMAC client', () => {
    const claimsHmac = notice({ sign_type: 'HMAC-SHA256' }, 'HMAC-SHA256');
    const e = (() => {
      try {
        md5.parsePaymentNotification(buildV2Xml(claimsHmac));
      } catch (err) {
        return err as PaySignatureError;
      }
    })();
    expect(e).toBeInstanceOf(PaySignatureError);
    expect(e?.reason).toBe('WRONG_SIGN_TYPE');
    expect(() => hmac.parsePaymentNotification(buildV2Xml(notice({}, 'MD5')))).toThrow(/HMAC-SHA256 sign does not verify/);
    expect(() => hmac.parsePaymentNotification(buildV2Xml(notice({ sign_type: 'MD5' }, 'MD5')))).toThrow(/expected sign_type HMAC-SHA256/);
  });

  it('refuses another merchant, FAIL notices, XML with a DOCTYPE and non-XML input', () => {
    expect(() => md5.parsePaymentNotification(buildV2Xml(notice({ mch_id: '99999' })))).toThrow(PayMismatchError);
    expect(() => md5.parsePaymentNotification(buildV2Xml(notice({ appid: 'wxother' })))).toThrow(PayMismatchError);
    expect(() => md5.parsePaymentNotification(buildV2Xml({ return_code: 'FAIL', return_msg: 'x' }))).toThrow(PayResponseError);
    expect(() => md5.parsePaymentNotification(`<!DOCTYPE x [<!ENTITY e "1">]>${buildV2Xml(notice({}))}`)).toThrow(/DOCTYPE/);
    expect(() => md5.parsePaymentNotification({} as never)).toThrow(/raw XML body/);
  });

  it('refund notifications: decrypts req_info for this merchant only; damaged req_info is PayDecryptError', () => {
    const info = buildV2Xml({ out_refund_no: 'R1', refund_status: 'SUCCESS', refund_fee: '10' }).replace(/^<xml>|<\/xml>$/g, '');
    const reqInfo = aes256EcbEncrypt(md5Hex(KEY), `<root>${info}</root>`).toString('base64');
    const body = buildV2Xml({ return_code: 'SUCCESS', appid: base.appid, mch_id: base.mchid, nonce_str: 'n', req_info: reqInfo });
    expect(md5.parseRefundNotification(body).info).toEqual({ out_refund_no: 'R1', refund_status: 'SUCCESS', refund_fee: '10' });
    expect(() => md5.parseRefundNotification(body.replace(base.mchid, '99999'))).toThrow(PayMismatchError);
    expect(() => md5.decryptReqInfo('not base64!')).toThrow(PayDecryptError);
    expect(() => md5.decryptReqInfo(Buffer.alloc(32, 1).toString('base64'))).toThrow(PayDecryptError);
  });

  it('notification replies are the documented XML', () => {
    expect(md5.notificationReply(true).body).toBe(
      '<xml><return_code><![CDATA[SUCCESS]]></return_code><return_msg><![CDATA[OK]]></return_msg></xml>',
    );
    expect(md5.notificationReply(false, '签名失败').body).toContain('<return_code><![CDATA[FAIL]]></return_code>');
  });
});

describe('v2 configuration and answers (injected transport)', () => {
  it('refuses a key that is not 32 characters, an unknown sign type and a .p12 with the wrong password', async () => {
    expect(() => new WechatPayV2Client({ ...base, apiKey: 'short' })).toThrow(/32-character API v2 key/);
    expect(() => new WechatPayV2Client({ ...base, signType: 'SHA1' as never })).toThrow(/MD5 or HMAC-SHA256/);
    const emu = await startWechatPayEmulator({ v2: true });
    try {
      const e = (() => {
        try {
          new WechatPayV2Client({ ...emu.v2ClientConfig, pkcs12Password: 'wrong' });
        } catch (err) {
          return err as PayConfigError;
        }
      })();
      expect(e).toBeInstanceOf(PayConfigError);
      expect(e?.message).toMatch(/^@pay\/wechat: v2: pkcs12: /);
      expect(e?.hint).toMatch(/password/);
    } finally {
      await emu.close();
    }
  });

  it('refuses answers whose sign does not verify or whose sign_type differs; maps err_code', async () => {
    const answer = (fields: Record<string, string>) => ({
      request: async () => ({ status: 200, headers: {}, body: Buffer.from(buildV2Xml(fields)) }),
    });
    const ok = {
      return_code: 'SUCCESS',
      appid: base.appid,
      mch_id: base.mchid,
      nonce_str: 'x',
      result_code: 'SUCCESS',
      trade_state: 'SUCCESS',
    };
    const signed = { ...ok, sign: v2Sign(ok, KEY, 'MD5') };
    await expect(new WechatPayV2Client({ ...base, transport: answer(signed) }).orderQuery({ out_trade_no: 'A1' })).resolves.toMatchObject({
      trade_state: 'SUCCESS',
    });
    await expect(
      new WechatPayV2Client({ ...base, transport: answer({ ...signed, trade_state: 'NOTPAY' }) }).orderQuery({ out_trade_no: 'A1' }),
    ).rejects.toBeInstanceOf(PaySignatureError);
    await expect(
      new WechatPayV2Client({ ...base, transport: answer({ ...signed, sign_type: 'HMAC-SHA256' }) }).orderQuery({ out_trade_no: 'A1' }),
    ).rejects.toThrow(/sign_type/);
    await expect(new WechatPayV2Client({ ...base, transport: answer(ok) }).orderQuery({ out_trade_no: 'A1' })).rejects.toThrow(
      /expected a sign field/,
    );
    const notExist = { ...ok, result_code: 'FAIL', err_code: 'ORDERNOTEXIST', err_code_des: '此交易订单号不存在' };
    const e = await new WechatPayV2Client({ ...base, transport: answer({ ...notExist, sign: v2Sign(notExist, KEY, 'MD5') }) })
      .orderQuery({ out_trade_no: 'A1' })
      .catch((x) => x);
    expect(e).toBeInstanceOf(PayNotFoundError);
    expect(e.providerCode).toBe('ORDERNOTEXIST');
    await expect(
      new WechatPayV2Client({ ...base, transport: answer({ return_code: 'FAIL', return_msg: '签名错误' }) }).orderQuery({
        out_trade_no: 'A1',
      }),
    ).rejects.toMatchObject({
      hint: expect.stringMatching(/apiKey/),
    });
    const xxe = {
      request: async () => ({
        status: 200,
        headers: {},
        body: Buffer.from('<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><xml><a>&e;</a></xml>'),
      }),
    };
    await expect(new WechatPayV2Client({ ...base, transport: xxe }).orderQuery({ out_trade_no: 'A1' })).rejects.toThrow(/DOCTYPE/);
  });
});

describe('v2 end to end against the emulator (HTTPS, mTLS refund)', () => {
  let emu: WechatPayEmulator;
  let notify: NotifyServer;
  let md5: WechatPayV2Client;
  let hmac: WechatPayV2Client;
  const payments: V2PaymentNotification[] = [];
  const refunds: Array<Record<string, string | undefined>> = [];

  beforeAll(async () => {
    emu = await startWechatPayEmulator({ mode: 'publicKey' });
    md5 = new WechatPayV2Client(emu.v2ClientConfig);
    hmac = new WechatPayV2Client({ ...emu.v2ClientConfig, signType: 'HMAC-SHA256' });
    notify = await startNotifyServer((incoming) => {
      const text = incoming.rawBody.toString('utf8');
      if (text.includes('<req_info>')) {
        refunds.push(md5.parseRefundNotification(incoming).info);
        return md5.notificationReply(true);
      }
      const client = text.includes('HMAC-SHA256') ? hmac : md5;
      payments.push(client.parsePaymentNotification(incoming));
      return client.notificationReply(true);
    });
  });
  afterAll(async () => {
    await notify?.close();
    await emu?.close();
  });

  const order = (no: string, trade_type: 'APP' | 'JSAPI' | 'NATIVE' | 'MWEB', extra: Record<string, string> = {}) => ({
    trade_type,
    body: 'Sandbox tea',
    out_trade_no: no,
    total_fee: 100,
    spbill_create_ip: '203.0.113.7',
    notify_url: `${notify.url}/v2/notify`,
    ...extra,
  });

  it('unifiedorder for JSAPI (MD5 and HMAC-SHA256), APP, NATIVE and MWEB, with client parameters', async () => {
    const jsapi = await md5.unifiedOrder(order('V2JSAPI001', 'JSAPI', { openid: 'o-v2' }));
    const p = md5.jsapiPayParams(jsapi.prepay_id as string);
    const { paySign, ...signedFields } = p;
    expect(p.signType).toBe('MD5');
    expect(paySign).toBe(v2Sign(signedFields, emu.v2ClientConfig.apiKey, 'MD5'));
    const hj = await hmac.unifiedOrder(order('V2JSAPI002', 'JSAPI', { openid: 'o-v2' }));
    const hp = hmac.jsapiPayParams(hj.prepay_id as string);
    const { paySign: hs, ...hf } = hp;
    expect(hp.signType).toBe('HMAC-SHA256');
    expect(hs).toBe(v2Sign(hf, emu.v2ClientConfig.apiKey, 'HMAC-SHA256'));
    const app = await md5.unifiedOrder(order('V2APP00001', 'APP'));
    const a = md5.appPayParams(app.prepay_id as string);
    const { sign, ...af } = a;
    expect(a.package).toBe('Sign=WXPay');
    expect(sign).toBe(v2Sign(af, emu.v2ClientConfig.apiKey, 'MD5'));
    expect((await md5.unifiedOrder(order('V2NATIVE01', 'NATIVE', { product_id: 'p1' }))).code_url).toMatch(/^weixin:\/\//);
    expect((await md5.unifiedOrder(order('V2MWEB0001', 'MWEB', { scene_info: '{"h5_info":{"type":"Wap"}}' }))).mweb_url).toMatch(
      /^https:\/\//,
    );
    await expect(md5.unifiedOrder(order('V2JSAPI003', 'JSAPI'))).rejects.toThrow(/expected openid/);
    await expect(md5.unifiedOrder({ ...order('V2BAD00001', 'NATIVE'), total_fee: 1.5 })).rejects.toThrow(/integer number of fen/);
  });

  it('pay → signed XML notification verified and acknowledged; orderquery; closeorder ORDERPAID / ORDERNOTEXIST', async () => {
    expect((await md5.orderQuery({ out_trade_no: 'V2JSAPI001' })).trade_state).toBe('NOTPAY');
    emu.pay('V2JSAPI001');
    emu.pay('V2JSAPI002');
    await emu.notifier.idle();
    expect(payments.map((p) => p.out_trade_no).sort()).toEqual(['V2JSAPI001', 'V2JSAPI002']);
    expect(emu.notifier.log.filter((l) => l.url.endsWith('/v2/notify')).every((l) => l.acknowledged)).toBe(true);
    const q = await md5.orderQuery({ out_trade_no: 'V2JSAPI001' });
    expect(q).toMatchObject({ trade_state: 'SUCCESS', total_fee: '100' });
    await expect(md5.closeOrder('V2JSAPI001')).rejects.toBeInstanceOf(PayStateError);
    await expect(md5.orderQuery({ out_trade_no: 'V2NOPE0001' })).rejects.toBeInstanceOf(PayNotFoundError);
    await expect(md5.closeOrder('V2APP00001')).resolves.toMatchObject({ result_code: 'SUCCESS' });
  });

  it('refund goes over mTLS with apiclient_cert.p12; the refund notification req_info decrypts', async () => {
    const r = await md5.refund({
      out_trade_no: 'V2JSAPI001',
      out_refund_no: 'V2REFUND01',
      total_fee: 100,
      refund_fee: 40,
      notify_url: `${notify.url}/v2/refund`,
    });
    expect(r).toMatchObject({ result_code: 'SUCCESS', refund_fee: '40', out_refund_no: 'V2REFUND01' });
    await waitFor(() => refunds.length > 0, 5000, 'v2 refund notification');
    expect(refunds[0]).toMatchObject({ out_refund_no: 'V2REFUND01', refund_status: 'SUCCESS', refund_fee: '40' });
    const rq = await md5.refundQuery({ out_refund_no: 'V2REFUND01' });
    expect(rq).toMatchObject({ refund_count: '1', out_refund_no_0: 'V2REFUND01', refund_status_0: 'SUCCESS' });
    await expect(md5.refundQuery({ out_refund_no: 'V2NOREF001' })).rejects.toBeInstanceOf(PayNotFoundError);
  });

  it('refund without a client certificate: refused locally without pkcs12, and by the server with another certificate', async () => {
    const { pkcs12, ...noCert } = emu.v2ClientConfig;
    expect(pkcs12.length).toBeGreaterThan(0);
    await expect(
      new WechatPayV2Client(noCert).refund({ out_trade_no: 'V2JSAPI001', out_refund_no: 'V2REFUND02', total_fee: 100, refund_fee: 1 }),
    ).rejects.toBeInstanceOf(PayConfigError);
    const stranger = await startWechatPayEmulator({ mchid: '1900000002' });
    try {
      // A certificate the emulator's CA did not issue (another merchant's), presented over TLS.
      const wrongCert = new WechatPayV2Client({
        ...emu.v2ClientConfig,
        pkcs12: stranger.v2ClientConfig.pkcs12,
        pkcs12Password: '1900000002',
      });
      const e = await wrongCert
        .refund({ out_trade_no: 'V2JSAPI001', out_refund_no: 'V2REFUND03', total_fee: 100, refund_fee: 1 })
        .catch((x) => x);
      expect(e).toBeInstanceOf(PayProviderError);
      expect(e.providerMessage).toMatch(/证书/);
    } finally {
      await stranger.close();
    }
  });

  it('a wrong API key is refused by the server (签名错误 → hint); a 5xx is PayUpstreamError', async () => {
    const wrong = new WechatPayV2Client({ ...emu.v2ClientConfig, apiKey: 'ffffffffffffffffffffffffffffffff' });
    const e = await wrong.orderQuery({ out_trade_no: 'V2JSAPI001' }).catch((x) => x);
    expect(e).toBeInstanceOf(PayProviderError);
    expect(e.hint).toMatch(/apiKey/);
    emu.faults.serverErrors = 1;
    await expect(md5.orderQuery({ out_trade_no: 'V2JSAPI001' })).rejects.toBeInstanceOf(PayUpstreamError);
  });
});
