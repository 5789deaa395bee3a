// Configuration is validated once, at construction, with errors that name the setting, what was
// expected and what was found; orders are validated before anything is signed.
import { generateKeyPairSync } from 'node:crypto';
import { formDecode, PayArgumentError, PayConfigError } from '@pay/core';
import { describe, expect, it } from 'vitest';
import { ALIPAY_GATEWAYS, AlipayClient, type AlipayConfig, chinaTime, parseChinaTime } from '../src/index.js';

const app = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ali = generateKeyPairSync('rsa', { modulusLength: 2048 });
const pem = (k: typeof app) => ({
  privateKey: k.privateKey.export({ format: 'pem', type: 'pkcs1' }).toString(),
  publicKey: k.publicKey.export({ format: 'pem', type: 'spki' }).toString(),
});
const base: AlipayConfig = { appId: '2021000000000042', privateKey: pem(app).privateKey, alipayPublicKey: pem(ali).publicKey };

function configError(config: Partial<AlipayConfig> & Record<string, unknown>): PayConfigError {
  try {
    new AlipayClient(config as AlipayConfig);
  } catch (e) {
    expect(e).toBeInstanceOf(PayConfigError);
    return e as PayConfigError;
  }
  throw new Error('expected a PayConfigError');
}

describe('AlipayClient configuration', () => {
  it('accepts PEM, bare base64 and KeyObjects, and resolves the gateways', () => {
    const bare = pem(ali).publicKey.replace(/-----[A-Z ]+-----|\s/g, '');
    const c = new AlipayClient({ ...base, alipayPublicKey: bare, gateway: 'sandbox' });
    expect(c.config.gateway).toBe(ALIPAY_GATEWAYS.sandbox.gateway);
    expect(c.config.endpoint).toBe(ALIPAY_GATEWAYS.sandbox.endpoint);
    expect(new AlipayClient({ ...base, privateKey: app.privateKey }).config.gateway).toBe('https://openapi.alipay.com/gateway.do');
    expect(new AlipayClient({ ...base, gateway: 'http://127.0.0.1:9/gateway.do' }).config.endpoint).toBe('http://127.0.0.1:9');
    expect(c.signType).toBe('RSA2');
  });

  it('rejects a missing, malformed or PID-looking appId', () => {
    expect(configError({ ...base, appId: '' }).message).toMatch(/appId: expected the app id/);
    expect(configError({ ...base, appId: 'my-app' }).message).toMatch(/appId: expected the app id in digits/);
    const pid = configError({ ...base, appId: '2088123412341234' });
    expect(pid.message).toMatch(/looks like a PID/);
    expect(pid.hint).toMatch(/sellerId/);
  });

  it("detects the app's own public key given as alipayPublicKey", () => {
    const e = configError({ ...base, alipayPublicKey: pem(app).publicKey });
    expect(e.message).toBe("@pay/alipay: alipayPublicKey looks like the app's own public key (应用公钥), the public half of privateKey");
    expect(e.hint).toMatch(/支付宝公钥/);
  });

  it('rejects both modes, neither mode, and an incomplete certificate mode', () => {
    expect(configError({ ...base, appCert: 'x' }).message).toMatch(/got both/);
    const { alipayPublicKey: _k, ...noKey } = base;
    expect(configError(noKey).message).toMatch(/got neither/);
    expect(configError({ ...noKey, alipayPublicCert: 'x', alipayRootCert: 'y' }).message).toMatch(/appCert is missing/);
    expect(configError({ ...noKey, appCert: 'x', alipayRootCert: 'y' }).message).toMatch(/alipayPublicCert is missing/);
    expect(configError({ ...noKey, appCert: 'x', alipayPublicCert: 'y' }).message).toMatch(/alipayRootCert is missing/);
    expect(configError({ ...noKey, appCert: 'not a certificate', alipayPublicCert: 'y', alipayRootCert: 'z' }).message).toMatch(
      /appCert: expected a certificate/,
    );
  });

  it('rejects bad keys: nothing, a public key as privateKey, a private key as alipayPublicKey, a short key for RSA2, EC keys', () => {
    expect(configError({ ...base, privateKey: '' }).message).toMatch(/privateKey/);
    expect(configError({ ...base, privateKey: pem(app).publicKey }).message).toMatch(/public key or certificate, not the private key/);
    expect(configError({ ...base, alipayPublicKey: pem(ali).privateKey }).message).toMatch(/private key/);
    const short = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey;
    expect(configError({ ...base, privateKey: short }).message).toMatch(/RSA2 needs a 2048-bit key, got 1024 bits/);
    expect(new AlipayClient({ ...base, privateKey: short, signType: 'RSA' }).config.hash).toBe('sha1');
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    expect(configError({ ...base, privateKey: ec }).message).toMatch(/expected an RSA private key, got ec/);
  });

  it('rejects a bad signType, encryptKey, sellerId, gateway, endpoint and timeout', () => {
    expect(configError({ ...base, signType: 'MD5' as never }).message).toMatch(/signType: expected 'RSA2' or 'RSA', got "MD5"/);
    expect(configError({ ...base, encryptKey: 'abc' }).message).toMatch(/encryptKey: .*16 bytes.*got 2 bytes/);
    expect(configError({ ...base, encryptKey: '!!!' }).message).toMatch(/not base64/);
    expect(configError({ ...base, sellerId: '2021000000000042' }).message).toMatch(/sellerId: expected the merchant PID/);
    expect(configError({ ...base, gateway: 'http://openapi.example.com/gateway.do' }).message).toMatch(/gateway: expected/);
    expect(configError({ ...base, endpoint: 'ftp://x' }).message).toMatch(/endpoint/);
    expect(configError({ ...base, timeoutMs: 0 }).message).toMatch(/timeoutMs/);
  });
});

describe('orders are validated before signing', () => {
  const clock = () => parseChinaTime('2024-01-02 03:04:05');
  const c = new AlipayClient({ ...base, clock });
  const order = { out_trade_no: 'A1', amount: 8888, subject: '会员' };

  it('emits fen as an exact yuan string and keeps biz_content key order', () => {
    const p = formDecode(
      c.appPay({
        ...order,
        biz: { extend_params: { sys_service_provider_id: '2088' } },
        timeout_express: '30m',
        time_expire: Date.UTC(2024, 0, 1, 20),
      }),
    );
    expect(p.biz_content).toBe(
      '{"out_trade_no":"A1","total_amount":"88.88","subject":"会员","product_code":"QUICK_MSECURITY_PAY","timeout_express":"30m","time_expire":"2024-01-02 04:00:00","extend_params":{"sys_service_provider_id":"2088"}}',
    );
    expect(p.timestamp).toBe('2024-01-02 03:04:05');
    expect(formDecode(c.appPay({ ...order, amount: 1 })).biz_content).toContain('"total_amount":"0.01"');
  });

  it('rejects yuan floats, total_amount, bad numbers, and fields given twice', () => {
    const e = (() => {
      try {
        c.appPay({ ...order, amount: 88.88 });
      } catch (err) {
        return err as PayArgumentError;
      }
    })();
    expect(e).toBeInstanceOf(PayArgumentError);
    expect(e?.hint).toMatch(/8888/);
    expect(() => c.appPay({ ...order, total_amount: '88.88' } as never)).toThrow(/not total_amount/);
    expect(() => c.appPay({ ...order, amount: 0 })).toThrow(PayArgumentError);
    expect(() => c.appPay({ ...order, amount: 10_000_000_001 })).toThrow(/limit/);
    expect(() => c.appPay({ ...order, out_trade_no: 'has space' })).toThrow(/out_trade_no/);
    expect(() => c.appPay({ ...order, subject: '' })).toThrow(/subject/);
    expect(() => c.appPay({ ...order, timeout_express: '30 minutes' })).toThrow(/timeout_express/);
    expect(() => c.appPay({ ...order, time_expire: '2024/01/01' })).toThrow(/China time/);
    expect(() => c.appPay({ ...order, biz: { subject: 'x' } })).toThrow(/biz.subject repeats/);
    expect(() => c.sign('not a method', {})).toThrow(/OpenAPI method/);
    expect(() => c.sign('alipay.trade.query', {}, { extra: { app_id: '1' } })).toThrow(/set by the client/);
    expect(() => c.sign('alipay.trade.query', {}, { encrypt: true })).toThrow(/no encryptKey/);
  });

  it('China time is UTC+8 both ways', () => {
    expect(chinaTime(Date.UTC(2023, 11, 31, 16, 0, 0))).toBe('2024-01-01 00:00:00');
    expect(parseChinaTime('2024-01-01 00:00:00')).toBe(Date.UTC(2023, 11, 31, 16));
    expect(() => parseChinaTime('2024-01-01T00:00:00Z')).toThrow(PayArgumentError);
  });
});
