// Everything is validated at construction, with errors naming the setting.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PayConfigError } from '@pay/core';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { endpointsFor, UnionPayClient, type UnionPayConfig } from '../src/index.js';
import { type Hierarchy, makeCert, makeHierarchy, makePfx } from './helpers/pki.js';
import { configFor } from './helpers/setup.js';

vi.setConfig({ hookTimeout: 30_000, testTimeout: 20_000 });

let h: Hierarchy;
beforeAll(() => {
  h = makeHierarchy();
});

function configError(config: UnionPayConfig): PayConfigError {
  try {
    new UnionPayClient(config);
  } catch (e) {
    expect(e).toBeInstanceOf(PayConfigError);
    expect((e as Error).message.startsWith('@pay/unionpay: ')).toBe(true);
    return e as PayConfigError;
  }
  throw new Error('expected a configuration error');
}

describe('construction', () => {
  it('a complete configuration: certId is the decimal serial of the .pfx certificate', () => {
    const c = new UnionPayClient(configFor(h));
    expect(c.certId).toBe(h.merchant.certId);
    expect(c.signCertExpiresAt).toBe(h.merchant.cert.notAfter);
    expect(c.version).toBe('5.1.0');
    expect(c.signMethod).toBe('01');
  });

  it('reads the .pfx and certificates from file paths, PEM text, DER bytes or base64 DER', () => {
    const dir = mkdtempSync(join(tmpdir(), 'unionpay-'));
    writeFileSync(join(dir, 'sign.pfx'), h.merchantPfx);
    writeFileSync(join(dir, 'root.cer'), h.root.pem);
    writeFileSync(join(dir, 'middle.cer'), h.middle.cert.der);
    const c = new UnionPayClient(
      configFor(h, {
        signCert: { pfx: join(dir, 'sign.pfx'), password: '000000' },
        rootCert: join(dir, 'root.cer'),
        middleCert: join(dir, 'middle.cer'),
        encryptCert: h.enc.cert.der.toString('base64'),
      }),
    );
    expect(c.certId).toBe(h.merchant.certId);
    expect(c.encryptCertId).toBe(h.enc.certId);
    expect(configError(configFor(h, { rootCert: join(dir, 'missing.cer') })).message).toMatch(/rootCert: could not read the file/);
  });

  it.each<[string, Partial<UnionPayConfig>, RegExp]>([
    ['merId', { merId: '12345' }, /merId: expected the 15-character merchant number/],
    ['environment', { environment: 'staging' as never }, /environment: expected 'test', 'production' or \{ baseUrl \}/],
    ['baseUrl http', { environment: { baseUrl: 'http://gateway.example.com' } }, /environment\.baseUrl: expected https/],
    ['version', { version: '6.0.0' as never }, /version/],
    ['signMethod', { signMethod: '02' as never }, /signMethod/],
    ['no signCert', { signCert: undefined }, /signCert: signMethod 01 signs with the merchant \.pfx/],
    ['no root', { rootCert: undefined }, /rootCert and middleCert/],
    ['no middle', { middleCert: undefined }, /rootCert and middleCert/],
    ['neither', { rootCert: undefined, middleCert: undefined }, /5\.1\.0 verifies signPubKeyCert through UnionPay's root and middle/],
    [
      'garbage root',
      { rootCert: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----' },
      /rootCert: expected an X\.509 certificate/,
    ],
    ['leaf as root', { rootCert: 'LEAF' }, /rootCert: expected UnionPay's self-signed root CA/],
    ['other middle', { middleCert: 'OTHER' }, /is not issued by rootCert/],
    ['relaxed CN in production', { strictCn: false, environment: 'production' }, /strictCn: false .* only with environment 'test'/],
    ['relaxed CN against a base URL', { strictCn: false, environment: { baseUrl: 'http://127.0.0.1:1' } }, /strictCn/],
    ['5.0.0 without verifyCerts', { version: '5.0.0' }, /verifyCerts: 5\.0\.0 verifies/],
    ['cache size', { certCacheSize: 0 }, /certCacheSize/],
    ['timeout', { timeoutMs: -1 }, /timeoutMs/],
    ['empty pfx', { signCert: { pfx: Buffer.alloc(0), password: '000000' } }, /signCert\.pfx/],
    ['secureKey empty', { secureKey: '' }, /secureKey/],
  ])('%s', (_name, patch, message) => {
    const resolved = { ...patch } as Record<string, unknown>;
    if (resolved.rootCert === 'LEAF') resolved.rootCert = h.leaf.pem;
    if (resolved.middleCert === 'OTHER') resolved.middleCert = makeCert({ cn: 'test OCA1', ca: true }).pem;
    expect(configError(configFor(h, resolved as Partial<UnionPayConfig>)).message).toMatch(message);
  });

  it('a .pfx without chain certificates is enough; a wrong password is refused with a hint', () => {
    const alone = makePfx(h.merchant, [], '000000');
    expect(new UnionPayClient(configFor(h, { signCert: { pfx: alone, password: '000000' } })).certId).toBe(h.merchant.certId);
    const e = configError(configFor(h, { signCert: { pfx: makePfx(h.merchant, [], 'secret'), password: '000000' } }));
    expect(e.message).toMatch(/signCert\.pfx/);
    expect(e.hint).toMatch(/000000/);
  });
});

describe('endpoints', () => {
  it('test, production and a base URL (the emulator)', () => {
    expect(endpointsFor('test')).toEqual({
      frontTransReq: 'https://gateway.test.95516.com/gateway/api/frontTransReq.do',
      backTransReq: 'https://gateway.test.95516.com/gateway/api/backTransReq.do',
      appTransReq: 'https://gateway.test.95516.com/gateway/api/appTransReq.do',
      queryTrans: 'https://gateway.test.95516.com/gateway/api/queryTrans.do',
      fileTransfer: 'https://filedownload.test.95516.com/',
    });
    expect(endpointsFor('production').appTransReq).toBe('https://gateway.95516.com/gateway/api/appTransReq.do');
    expect(endpointsFor('production').fileTransfer).toBe('https://filedownload.95516.com/');
    expect(endpointsFor({ baseUrl: 'http://127.0.0.1:8080/' })).toMatchObject({
      queryTrans: 'http://127.0.0.1:8080/gateway/api/queryTrans.do',
      fileTransfer: 'http://127.0.0.1:8080/',
    });
  });
});
