// Sensitive information: accNo / customerInfo encrypted with the encryption certificate
// (RSA PKCS#1 v1.5) and sent with encryptCertId; accNo returned by UnionPay decrypted with
// the merchant key.
import { constants, privateDecrypt, publicEncrypt } from 'node:crypto';
import { PayArgumentError, PayConfigError, PayDecryptError, rsaPkcs1Decrypt } from '@pay/core';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { buildCustomerInfo, UnionPayClient } from '../src/index.js';
import { type Hierarchy, makeHierarchy } from './helpers/pki.js';
import { configFor } from './helpers/setup.js';

vi.setConfig({ hookTimeout: 30_000, testTimeout: 20_000 });

let h: Hierarchy;
let client: UnionPayClient;
beforeAll(() => {
  h = makeHierarchy();
  client = new UnionPayClient(configFor(h));
});

describe('encryption with the encryption certificate', () => {
  it('encryptData: RSA PKCS#1 v1.5 under the encryption certificate, randomised, decryptable by its key', () => {
    const a = client.encryptData('6216261000000000018');
    const b = client.encryptData('6216261000000000018');
    expect(a).not.toBe(b);
    expect(Buffer.from(a, 'base64')).toHaveLength(256);
    expect(rsaPkcs1Decrypt(h.enc.key, a).toString()).toBe('6216261000000000018');
    expect(() => rsaPkcs1Decrypt(h.merchant.key, a)).toThrow(PayDecryptError);
  });

  it('sensitiveFields: encrypted accNo and customerInfo with encryptCertId', () => {
    const f = client.sensitiveFields({
      accNo: '6216261000000000018',
      customerInfo: {
        phoneNo: '13552535506',
        cvn2: '123',
        expired: '2912',
        certifTp: '01',
        certifId: '341126197709218366',
        customerNm: '全渠道',
      },
    });
    expect(f.encryptCertId).toBe(h.enc.certId);
    expect(client.encryptCertId).toBe(h.enc.certId);
    expect(rsaPkcs1Decrypt(h.enc.key, f.accNo as string).toString()).toBe('6216261000000000018');
    const info = Buffer.from(f.customerInfo as string, 'base64').toString('utf8');
    const m = /^\{certifTp=01&certifId=341126197709218366&customerNm=全渠道&encryptedInfo=([A-Za-z0-9+/=]+)\}$/.exec(info);
    expect(m, info).not.toBeNull();
    expect(rsaPkcs1Decrypt(h.enc.key, m?.[1] as string).toString()).toBe('phoneNo=13552535506&cvn2=123&expired=2912');
  });

  it('buildCustomerInfo without a key keeps everything in clear text; refuses PINs, unknown sub-fields and separators', () => {
    expect(Buffer.from(buildCustomerInfo({ phoneNo: '13552535506', smsCode: '111111' }), 'base64').toString()).toBe(
      '{phoneNo=13552535506&smsCode=111111}',
    );
    expect(() => buildCustomerInfo({ pin: '123456' } as never)).toThrow(/PIN blocks are not supported/);
    expect(() => buildCustomerInfo({ nickname: 'x' } as never)).toThrow(/unknown sub-field/);
    expect(() => buildCustomerInfo({ customerNm: 'a&b' })).toThrow(PayArgumentError);
    expect(() => buildCustomerInfo({})).toThrow(/at least one/);
  });

  it('without an encryption certificate, encrypting is a configuration error', () => {
    const plain = new UnionPayClient(configFor(h, { encryptCert: undefined }));
    expect(() => plain.encryptData('1')).toThrow(PayConfigError);
    expect(() => plain.sensitiveFields({ accNo: '1' })).toThrow(/encryptCert/);
    expect(() => client.encryptData('')).toThrow(PayArgumentError);
  });
});

describe('decryption with the merchant key', () => {
  it('decrypts an accNo encrypted for the merchant certificate (PKCS#1 v1.5, through node-forge)', () => {
    const c = publicEncrypt(
      { key: h.merchant.publicKey, padding: constants.RSA_PKCS1_PADDING },
      Buffer.from('6216***********0018'),
    ).toString('base64');
    expect(client.decryptData(c)).toBe('6216***********0018');
  });

  it('refuses ciphertext for another key, damaged ciphertext, and a client without a .pfx', () => {
    const forEnc = publicEncrypt({ key: h.enc.publicKey, padding: constants.RSA_PKCS1_PADDING }, Buffer.from('x')).toString('base64');
    const e = (() => {
      try {
        client.decryptData(forEnc);
      } catch (x) {
        return x as PayDecryptError;
      }
    })();
    expect(e).toBeInstanceOf(PayDecryptError);
    expect(e?.message).toMatch(/^@pay\/unionpay: accNo: does not decrypt with the merchant key/);
    expect(() => client.decryptData('AAAA')).toThrow(PayDecryptError);
    expect(() => client.decryptData('')).toThrow(PayDecryptError);
    const keyless = new UnionPayClient({ merId: '777290058110048', environment: 'test', signMethod: '11', secureKey: 'k' });
    expect(() => keyless.decryptData(forEnc)).toThrow(PayConfigError);
    // sanity: the OAEP padding is not what UnionPay uses
    expect(() => privateDecrypt({ key: h.enc.key, padding: constants.RSA_PKCS1_OAEP_PADDING }, Buffer.from(forEnc, 'base64'))).toThrow();
  });
});
