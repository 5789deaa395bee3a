/**
 * Known answers for core primitives, read in place from the shared vectors
 * (WeChat Pay v2 worked example and SDK tests, Alipay SDK tests, Apple's JWS
 * test data). Each value comes from the provider's document or SDK named in
 * the vectors' README, never from our own code.
 */
import { expect, it } from 'vitest';
import { describeVectors, readVector, readVectorJson, readVectorText } from '../../../test-utils/vectors.js';
import {
  aes128CbcDecrypt,
  aes128CbcEncrypt,
  aes256EcbDecrypt,
  aes256EcbEncrypt,
  aes256GcmDecrypt,
  aes256GcmEncrypt,
  Certificate,
  canonicalString,
  ecdsaVerify,
  formDecode,
  hmacSha256Hex,
  loadPrivateKey,
  loadPublicKey,
  md5Hex,
  PayArgumentError,
  PayDecryptError,
  rsaSign,
  rsaVerify,
  timingSafeEqualData,
} from '../src/index.js';

describeVectors('WeChat Pay v2 signatures (安全规范 worked example)', () => {
  const v = readVectorJson('wechat', 'v2', 'vectors.json').sign;

  it('builds stringA from the parameters in ASCII order', () => {
    expect(canonicalString(v.params)).toBe(v.stringA);
    expect(`${canonicalString(v.params)}&key=${v.key}`).toBe(v.stringSignTemp);
  });

  it('MD5 of stringSignTemp, upper case, is the documented sign', () => {
    expect(md5Hex(v.stringSignTemp).toUpperCase()).toBe(v.MD5);
    expect(timingSafeEqualData(md5Hex(v.stringSignTemp).toUpperCase(), v.MD5)).toBe(true);
  });

  it('HMAC-SHA256 keyed with the API key, upper case, is the documented sign', () => {
    expect(hmacSha256Hex(v.key, v.stringSignTemp).toUpperCase()).toBe(v['HMAC-SHA256']);
  });

  it('a changed field or key gives another sign', () => {
    const changed = `${canonicalString({ ...v.params, body: 'tesT' })}&key=${v.key}`;
    expect(md5Hex(changed).toUpperCase()).not.toBe(v.MD5);
    expect(hmacSha256Hex(`${v.key.slice(0, -1)}b`, v.stringSignTemp).toUpperCase()).not.toBe(v['HMAC-SHA256']);
  });
});

describeVectors('WeChat Pay AES (Java SDK AEAD test, v2 refund req_info, axios plugin)', () => {
  it('AES-256-GCM: the Java SDK sample decrypts, re-encrypts byte for byte, and its must-fail variants fail', () => {
    const g = readVectorJson('wechat', 'java', 'vectors.json').aead_gcm;
    const sealed = Buffer.from(g.ciphertext, 'base64');
    expect(aes256GcmDecrypt(g.key, g.nonce, sealed, g.associated_data).toString('utf8')).toBe(g.plaintext);
    expect(aes256GcmEncrypt(g.key, g.nonce, g.plaintext, g.associated_data).toString('base64')).toBe(g.ciphertext);
    for (const variant of g.must_fail as Array<{ associated_data?: string; nonce?: string }>) {
      expect(() => aes256GcmDecrypt(g.key, variant.nonce ?? g.nonce, sealed, variant.associated_data ?? g.associated_data)).toThrow(
        PayDecryptError,
      );
    }
    const badTag = Buffer.from(sealed);
    badTag[badTag.length - 1] = (badTag[badTag.length - 1] as number) ^ 0x80;
    expect(() => aes256GcmDecrypt(g.key, g.nonce, badTag, g.associated_data)).toThrow(PayDecryptError);
    const badBody = Buffer.from(sealed);
    badBody[0] = (badBody[0] as number) ^ 0x01;
    expect(() => aes256GcmDecrypt(g.key, g.nonce, badBody, g.associated_data)).toThrow(PayDecryptError);
  });

  it('AES-256-GCM: the axios plugin samples (16-byte IV, empty plaintext) decrypt', () => {
    const a = readVectorJson('wechat', 'axios', 'vectors.json').aead_gcm;
    expect(aes256GcmDecrypt(a.key, a.iv, Buffer.from(a.ciphertext, 'base64'), a.aad).toString()).toBe(a.plaintext);
    expect(aes256GcmDecrypt(a.key, a.iv, Buffer.from(a.empty.ciphertext, 'base64'), a.empty.aad).toString()).toBe(a.empty.plaintext);
  });

  it('AES-256-GCM is strict: the Go SDK 16-byte key is refused, not silently run as AES-128', () => {
    const go = readVectorJson('wechat', 'go', 'vectors.json').aead_gcm;
    expect(() => aes256GcmDecrypt(go.key, go.nonce, Buffer.from(go.ciphertext, 'base64'), go.associated_data)).toThrow(PayArgumentError);
  });

  it('AES-256-ECB: refund req_info decrypts with md5(apiKey) to the sample XML, and encrypts back', () => {
    const r = readVectorJson('wechat', 'v2', 'vectors.json').refund_req_info;
    expect(md5Hex(r.api_key)).toBe(r.aes_key_ascii);
    const xml = readVectorText('wechat', 'php', 'refund.notification.req_info.sample.xml');
    expect(aes256EcbDecrypt(r.aes_key_ascii, Buffer.from(r.req_info, 'base64')).toString('utf8')).toBe(xml);
    expect(aes256EcbEncrypt(r.aes_key_ascii, xml).toString('base64')).toBe(r.req_info);
    expect(() => aes256EcbDecrypt(md5Hex('another key'), Buffer.from(r.req_info, 'base64'))).toThrow(PayDecryptError);
  });
});

describeVectors('RSA PKCS#1 v1.5 known answers (WeChat Pay Java/Go SDKs, Alipay SDKs)', () => {
  it('SHA256withRSA of "message" with the WeChat Java merchant key matches, and not with the platform key', () => {
    const s = readVectorJson('wechat', 'java', 'vectors.json').sign_sha256_rsa;
    const key = loadPrivateKey(readVectorText('wechat', 'java', s.key));
    expect(rsaSign('sha256', key, s.message)).toBe(s.signature_b64);
    expect(
      rsaVerify('sha256', loadPublicKey(readVectorText('wechat', 'java', 'merchant_certificate.pem')), s.message, s.signature_b64),
    ).toBe(true);
    expect(rsaVerify('sha256', loadPublicKey(readVectorText('wechat', 'java', s.must_not_verify_with)), s.message, s.signature_b64)).toBe(
      false,
    );
  });

  it('SHA256withRSA of "source" with the WeChat Go test key (PKCS#8) matches', () => {
    const s = readVectorJson('wechat', 'go', 'vectors.json').sign_sha256_rsa;
    expect(rsaSign('sha256', loadPrivateKey(readVectorText('wechat', 'go', s.key)), s.message)).toBe(s.signature_b64);
  });

  it('Alipay request signature (yansongda cert-mode trade.query): canonical string + RSA2 over a PKCS#1 key, byte for byte', () => {
    const r = readVectorJson('alipay', 'vectors.json').requestSign[0];
    const content = canonicalString(r.params, { exclude: ['sign'] });
    expect(content.startsWith('alipay_root_cert_sn=687b59193f3f462dd5336e5abf83c5d8_02941eef3187dddf3d3b83462e1dfcf6&app_cert_sn=')).toBe(
      true,
    );
    expect(rsaSign('sha256', loadPrivateKey(readVectorText('alipay', r.privateKey)), content)).toBe(r.sign);
  });

  it('Alipay sdkExecute app pay: RSA2 (SHA-256) and RSA (SHA-1) signatures match and verify with the app public key', () => {
    const entries = readVectorJson('alipay', 'derived-sdkexec-app-pay.json') as Array<Record<string, string>>;
    for (const e of entries) {
      const hash = e.signType === 'RSA2' ? 'sha256' : 'sha1';
      const privateKey = loadPrivateKey(readVectorText('alipay', e.privateKeyFile as string));
      expect(rsaSign(hash, privateKey, e.signContent as string), e.signType).toBe(e.sign);
      const publicKey = loadPublicKey(readVectorText('alipay', e.publicKeyFile as string));
      expect(rsaVerify(hash, publicKey, e.signContent as string, e.sign as string)).toBe(true);
      expect(rsaVerify(hash === 'sha1' ? 'sha256' : 'sha1', publicKey, e.signContent as string, e.sign as string)).toBe(false);
      // the signed order string carries the same signature once form-decoded
      expect(formDecode(e.orderString as string).sign).toBe(e.sign);
    }
  });

  it('Alipay gateway responses verify over their exact signed text (PEM, one-line base64 key, certificate)', () => {
    const responses = readVectorJson('alipay', 'vectors.json').response as Array<Record<string, string>>;
    for (const r of responses) {
      const key = r.keyBase64 ? loadPublicKey(r.keyBase64) : loadPublicKey(readVector('alipay', r.key as string));
      const sign = r.sign ?? JSON.parse(r.raw as string).sign;
      expect(rsaVerify('sha256', key, r.signedContent as string, sign), r.id).toBe(true);
      expect(rsaVerify('sha256', key, (r.signedContent as string).replace('10000', '10001'), sign), r.id).toBe(false);
    }
  });

  it('Alipay notifications: the canonical string of the decoded parameters is the signed content and verifies', () => {
    const notes = readVectorJson('alipay', 'vectors.json').notify as Array<{
      id: string;
      key: string;
      rule: string;
      params: Record<string, string>;
      signedContent: string;
    }>;
    for (const n of notes) {
      const exclude = n.rule.startsWith('drop sign and sign_type') ? ['sign', 'sign_type'] : ['sign'];
      expect(canonicalString(n.params, { exclude }), n.id).toBe(n.signedContent);
      const key = loadPublicKey(readVector('alipay', n.key));
      expect(rsaVerify('sha256', key, n.signedContent, n.params.sign as string), n.id).toBe(true);
      expect(rsaVerify('sha256', key, canonicalString({ ...n.params, total_amount: '100.00' }, { exclude }), n.params.sign as string)).toBe(
        false,
      );
    }
  });

  it('Alipay return_url: the raw query decoded once (+ as space, %2B as plus) rebuilds the signed content', () => {
    const n = readVectorJson('alipay', 'vectors.json').notify.find((x: { id: string }) => x.id === 'yansongda-return-url-get');
    const query = (n.rawUrl as string).slice((n.rawUrl as string).indexOf('?') + 1);
    const params = formDecode(query);
    expect(params.timestamp).toBe('2023-12-21 14:48:44');
    expect(params.sign).toContain('+');
    expect(canonicalString(params, { exclude: ['sign', 'sign_type'] })).toBe(n.signedContent);
    expect(rsaVerify('sha256', loadPublicKey(readVector('alipay', n.key)), n.signedContent, params.sign as string)).toBe(true);
  });

  it('Alipay legacy MD5: md5(signContent + key)', () => {
    const m = readVectorJson('alipay', 'vectors.json').md5Legacy[0];
    expect(md5Hex(m.signContent + m.key)).toBe(m.sign);
  });
});

describeVectors('AES-128-CBC known answer (Alipay open data, gopay test)', () => {
  it('decrypts with the base64 key and a zero IV, and encrypts back byte for byte', () => {
    const a = readVectorJson('alipay', 'vectors.json').aes[0];
    const key = Buffer.from(a.key, 'base64');
    expect(aes128CbcDecrypt(key, Buffer.from(a.ciphertext, 'base64')).toString('utf8')).toBe(a.plaintext);
    expect(aes128CbcEncrypt(key, a.plaintext).toString('base64')).toBe(a.ciphertext);
    const wrong = Buffer.from(key);
    wrong[0] = (wrong[0] as number) ^ 1;
    expect(() => aes128CbcDecrypt(wrong, Buffer.from(a.ciphertext, 'base64'))).toThrow(PayDecryptError);
  });
});

describeVectors('ECDSA P-256 known answer (Apple JWS test data, IEEE P1363 signatures)', () => {
  for (const name of ['transactionInfo', 'renewalInfo', 'testNotification']) {
    it(`${name}: the ES256 signature verifies with the x5c leaf key; DER re-encoding verifies as der; a changed payload fails`, () => {
      const jws = readVectorText('iap', 'mock_signed_data', name).trim();
      const [h, p, s] = jws.split('.') as [string, string, string];
      const header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8'));
      const leaf = new Certificate(Buffer.from(header.x5c[0], 'base64'));
      const sig = Buffer.from(s, 'base64url');
      expect(header.alg).toBe('ES256');
      expect(sig).toHaveLength(64);
      expect(ecdsaVerify(leaf.publicKey, `${h}.${p}`, sig, 'ieee-p1363')).toBe(true);
      expect(ecdsaVerify(leaf.publicKey, `${h}.${p}`, p1363ToDer(sig), 'der')).toBe(true);
      expect(ecdsaVerify(leaf.publicKey, `${h}.${p}`, sig, 'der')).toBe(false);
      expect(ecdsaVerify(leaf.publicKey, `${h}.${p}x`, sig, 'ieee-p1363')).toBe(false);
    });
  }
});

/** Re-encodes a raw r||s signature as an ASN.1 DER ECDSA-Sig-Value. */
function p1363ToDer(sig: Buffer): Buffer {
  const int = (b: Buffer): Buffer => {
    let v = b;
    while (v.length > 1 && v[0] === 0 && (v[1] as number) < 0x80) v = v.subarray(1);
    if ((v[0] as number) >= 0x80) v = Buffer.concat([Buffer.from([0]), v]);
    return Buffer.concat([Buffer.from([0x02, v.length]), v]);
  };
  const body = Buffer.concat([int(sig.subarray(0, 32)), int(sig.subarray(32))]);
  return Buffer.concat([Buffer.from([0x30, body.length]), body]);
}
