import { constants, createHash, createSecretKey, generateKeyPairSync, sign as nodeSign, privateDecrypt, publicEncrypt } from 'node:crypto';
import forge from 'node-forge';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  aes128CbcDecrypt,
  aes128CbcEncrypt,
  aes256EcbDecrypt,
  aes256EcbEncrypt,
  aes256GcmDecrypt,
  aes256GcmEncrypt,
  decodeBase64Strict,
  defaultNonce,
  digestHex,
  ecdsaSign,
  ecdsaVerify,
  fixedClock,
  hmacSha256Hex,
  md5Hex,
  PayArgumentError,
  PayDecryptError,
  randomId,
  randomNonce,
  rsaOaepDecrypt,
  rsaOaepEncrypt,
  rsaPkcs1Decrypt,
  rsaPkcs1Encrypt,
  rsaSign,
  rsaVerify,
  sha1Hex,
  sha256Hex,
  sm3Hex,
  systemClock,
  timingSafeEqualData,
} from '../src/index.js';

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const rsa2 = generateKeyPairSync('rsa', { modulusLength: 2048 });
const p256 = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const p384 = generateKeyPairSync('ec', { namedCurve: 'secp384r1' });
const hex = (h: string): Buffer => Buffer.from(h.replace(/\s+/g, ''), 'hex');

function throwsA<T extends Error>(Type: new (...a: never[]) => T, fn: () => unknown, message?: RegExp): T {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(Type);
    expect((e as Error).message).toMatch(/^@pay\/core: /);
    if (message) expect((e as Error).message).toMatch(message);
    return e as T;
  }
  throw new Error(`expected ${Type.name}, nothing was thrown`);
}

describe('digests: standard known answers', () => {
  it('MD5 (RFC 1321 test suite)', () => {
    expect(md5Hex('')).toBe('d41d8cd98f00b204e9800998ecf8427e');
    expect(md5Hex('abc')).toBe('900150983cd24fb0d6963f7d28e17f72');
    expect(md5Hex('message digest')).toBe('f96b697d7cb7938d525a2f31aaf161d0');
    expect(md5Hex(Buffer.from('abc'))).toBe('900150983cd24fb0d6963f7d28e17f72');
  });

  it('SHA-1 and SHA-256 (FIPS 180 "abc" and the empty string)', () => {
    expect(sha1Hex('abc')).toBe('a9993e364706816aba3e25717850c26c9cd0d89d');
    expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(sha256Hex('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });

  it('SM3 (GB/T 32905-2016 examples 1 and 2)', () => {
    expect(sm3Hex('abc')).toBe('66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0');
    expect(sm3Hex('abcd'.repeat(16))).toBe('debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732');
  });

  it('digestHex names the same algorithms, and text is hashed as UTF-8', () => {
    expect(digestHex('md5', 'abc')).toBe(md5Hex('abc'));
    expect(digestHex('sha1', 'abc')).toBe(sha1Hex('abc'));
    expect(digestHex('sha256', 'abc')).toBe(sha256Hex('abc'));
    expect(digestHex('sm3', 'abc')).toBe(sm3Hex('abc'));
    expect(md5Hex('测试')).toBe(createHash('md5').update(Buffer.from('e6b58be8af95', 'hex')).digest('hex'));
  });

  it('HMAC-SHA256 (RFC 4231 test cases 1 and 2)', () => {
    expect(hmacSha256Hex(Buffer.alloc(20, 0x0b), 'Hi There')).toBe('b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7');
    expect(hmacSha256Hex('Jefe', 'what do ya want for nothing?')).toBe('5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843');
  });
});

describe('RSA PKCS#1 v1.5 signatures', () => {
  for (const hash of ['sha1', 'sha256'] as const) {
    it(`${hash}: deterministic, equal to node:crypto's, verifies, and rejects every change`, () => {
      const data = 'app_id=2021&biz_content={"subject":"测试 a+b"}&sign_type=RSA2';
      const sig = rsaSign(hash, rsa.privateKey, data);
      expect(sig).toBe(nodeSign(hash, Buffer.from(data), rsa.privateKey).toString('base64'));
      expect(rsaSign(hash, rsa.privateKey, Buffer.from(data))).toBe(sig);
      expect(Buffer.from(sig, 'base64')).toHaveLength(256);
      expect(rsaVerify(hash, rsa.publicKey, data, sig)).toBe(true);
      expect(rsaVerify(hash, rsa.publicKey, Buffer.from(data), Buffer.from(sig, 'base64'))).toBe(true);
      expect(rsaVerify(hash, rsa.publicKey, `${data} `, sig)).toBe(false);
      expect(rsaVerify(hash, rsa2.publicKey, data, sig)).toBe(false);
      expect(rsaVerify(hash === 'sha1' ? 'sha256' : 'sha1', rsa.publicKey, data, sig)).toBe(false);
      const flipped = Buffer.from(sig, 'base64');
      flipped[100] = (flipped[100] as number) ^ 1;
      expect(rsaVerify(hash, rsa.publicKey, data, flipped.toString('base64'))).toBe(false);
    });
  }

  it('answers false, never throws, for an empty, malformed, truncated or non-base64 signature', () => {
    const sig = rsaSign('sha256', rsa.privateKey, 'x');
    for (const bad of [
      '',
      '   ',
      'not base64!',
      sig.slice(0, 100),
      `${sig}AAAA`,
      `${sig.slice(0, 10)}!${sig.slice(11)}`,
      `${sig.slice(0, -4)}A===`,
      new Uint8Array(0),
      new Uint8Array(256),
    ]) {
      expect(rsaVerify('sha256', rsa.publicKey, 'x', bad)).toBe(false);
    }
    expect(rsaVerify('sha256', p256.publicKey, 'x', sig)).toBe(false);
  });

  it('accepts a signature with surrounding blanks, and the URL-safe spelling of the same bytes', () => {
    const sig = rsaSign('sha256', rsa.privateKey, 'x');
    expect(rsaVerify('sha256', rsa.publicKey, 'x', ` ${sig}\n`)).toBe(true);
    expect(rsaVerify('sha256', rsa.publicKey, 'x', sig.replace(/\+/g, '-').replace(/\//g, '_'))).toBe(true);
  });

  it('rejects a public key or an EC key for signing with a PayArgumentError', () => {
    throwsA(PayArgumentError, () => rsaSign('sha256', rsa.publicKey, 'x'), /expected an RSA private KeyObject.*got a public rsa KeyObject/);
    throwsA(PayArgumentError, () => rsaSign('sha256', createSecretKey(Buffer.alloc(16)), 'x'), /got a secret KeyObject/);
  });

  it('decodeBase64Strict accepts standard base64 only', () => {
    expect(decodeBase64Strict('YWJj')).toEqual(Buffer.from('abc'));
    expect(decodeBase64Strict(' YWI= ')).toEqual(Buffer.from('ab'));
    expect(decodeBase64Strict('YW')).toBeUndefined();
    expect(decodeBase64Strict('YW-_')).toBeUndefined();
    expect(decodeBase64Strict('Y W J j')).toBeUndefined();
  });
});

describe('RSA encryption', () => {
  it('RSA-OAEP (SHA-1): round trip, randomised, readable by node:crypto with oaepHash sha1', () => {
    const c1 = rsaOaepEncrypt(rsa.publicKey, '张三 13800138000');
    const c2 = rsaOaepEncrypt(rsa.publicKey, '张三 13800138000');
    expect(c1).not.toBe(c2);
    expect(rsaOaepDecrypt(rsa.privateKey, c1).toString('utf8')).toBe('张三 13800138000');
    expect(rsaOaepDecrypt(rsa.privateKey, Buffer.from(c2, 'base64')).toString('utf8')).toBe('张三 13800138000');
    const raw = privateDecrypt(
      { key: rsa.privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' },
      Buffer.from(c1, 'base64'),
    );
    expect(raw.toString('utf8')).toBe('张三 13800138000');
    const fromNode = publicEncrypt({ key: rsa.publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' }, Buffer.from('x'));
    expect(rsaOaepDecrypt(rsa.privateKey, fromNode).toString()).toBe('x');
  });

  it('RSA-OAEP fails with PayDecryptError on a wrong key or damaged ciphertext, PayArgumentError on too much data', () => {
    const c = rsaOaepEncrypt(rsa.publicKey, 'secret');
    throwsA(PayDecryptError, () => rsaOaepDecrypt(rsa2.privateKey, c), /RSA-OAEP decryption failed/);
    const damaged = Buffer.from(c, 'base64');
    damaged[10] = (damaged[10] as number) ^ 0xff;
    throwsA(PayDecryptError, () => rsaOaepDecrypt(rsa.privateKey, damaged));
    throwsA(PayDecryptError, () => rsaOaepDecrypt(rsa.privateKey, 'AAAA'));
    // PKCS#1 v1.5 ciphertext is not OAEP
    throwsA(PayDecryptError, () => rsaOaepDecrypt(rsa.privateKey, rsaPkcs1Encrypt(rsa.publicKey, 'secret')));
    throwsA(PayArgumentError, () => rsaOaepEncrypt(rsa.publicKey, 'x'.repeat(215)), /could not encrypt 215 bytes/);
    expect(rsaOaepDecrypt(rsa.privateKey, rsaOaepEncrypt(rsa.publicKey, 'x'.repeat(214))).length).toBe(214);
    throwsA(PayArgumentError, () => rsaOaepEncrypt(p256.publicKey, 'x'), /ec KeyObject/);
  });

  it('PKCS#1 v1.5 decryption goes through node-forge and reads node:crypto and forge ciphertexts', () => {
    const c = rsaPkcs1Encrypt(rsa.publicKey, '6216261000000000018');
    expect(rsaPkcs1Decrypt(rsa.privateKey, c).toString()).toBe('6216261000000000018');
    expect(rsaPkcs1Decrypt(rsa.privateKey, Buffer.from(c, 'base64')).toString()).toBe('6216261000000000018'); // cached key path
    const forgePublic = forge.pki.publicKeyFromPem(rsa.publicKey.export({ format: 'pem', type: 'spki' }).toString());
    const byForge = Buffer.from(forgePublic.encrypt(forge.util.encodeUtf8('卡号'), 'RSAES-PKCS1-V1_5'), 'binary');
    expect(rsaPkcs1Decrypt(rsa.privateKey, byForge).toString('utf8')).toBe('卡号');
  });

  it('PKCS#1 v1.5: wrong key, damaged ciphertext → PayDecryptError; EC key → PayArgumentError; too much data → PayArgumentError', () => {
    const c = rsaPkcs1Encrypt(rsa.publicKey, 'card');
    throwsA(PayDecryptError, () => rsaPkcs1Decrypt(rsa2.privateKey, c), /PKCS#1 v1.5 decryption failed/);
    throwsA(PayDecryptError, () => rsaPkcs1Decrypt(rsa.privateKey, c.slice(0, 40)));
    throwsA(PayArgumentError, () => rsaPkcs1Decrypt(p256.privateKey, c), /expected an RSA private KeyObject/);
    throwsA(PayArgumentError, () => rsaPkcs1Encrypt(rsa.publicKey, 'x'.repeat(246)), /could not encrypt 246 bytes/);
  });
});

describe('ECDSA P-256 (ES256)', () => {
  it('signs in DER and IEEE P1363 and verifies each in its own encoding only', () => {
    const der = ecdsaSign(p256.privateKey, 'header.payload');
    const p1363 = ecdsaSign(p256.privateKey, 'header.payload', 'ieee-p1363');
    expect(der[0]).toBe(0x30);
    expect(p1363).toHaveLength(64);
    expect(ecdsaVerify(p256.publicKey, 'header.payload', der)).toBe(true);
    expect(ecdsaVerify(p256.publicKey, Buffer.from('header.payload'), p1363, 'ieee-p1363')).toBe(true);
    expect(ecdsaVerify(p256.publicKey, 'header.payload', p1363, 'der')).toBe(false);
    expect(ecdsaVerify(p256.publicKey, 'header.payload', der, 'ieee-p1363')).toBe(false);
  });

  it('answers false for changed data, another key, empty or garbage signatures and non-EC keys', () => {
    const sig = ecdsaSign(p256.privateKey, 'data', 'ieee-p1363');
    const other = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    expect(ecdsaVerify(p256.publicKey, 'datA', sig, 'ieee-p1363')).toBe(false);
    expect(ecdsaVerify(other.publicKey, 'data', sig, 'ieee-p1363')).toBe(false);
    expect(ecdsaVerify(p256.publicKey, 'data', new Uint8Array(0), 'ieee-p1363')).toBe(false);
    expect(ecdsaVerify(p256.publicKey, 'data', new Uint8Array(64), 'ieee-p1363')).toBe(false);
    expect(ecdsaVerify(p256.publicKey, 'data', Buffer.from('3000', 'hex'))).toBe(false);
    expect(ecdsaVerify(rsa.publicKey, 'data', sig, 'ieee-p1363')).toBe(false);
  });

  it('refuses to sign with an RSA key or another curve (it would silently make a different signature)', () => {
    throwsA(
      PayArgumentError,
      () => ecdsaSign(rsa.privateKey, 'x'),
      /expected a P-256 \(prime256v1\) EC private KeyObject, got a private rsa KeyObject/,
    );
    throwsA(PayArgumentError, () => ecdsaSign(p384.privateKey, 'x'), /secp384r1/);
    throwsA(PayArgumentError, () => ecdsaSign(p256.publicKey, 'x'), /got a public ec KeyObject/);
  });
});

describe('AES', () => {
  it('AES-256-GCM: GCM spec test cases 13 and 14 (zero key, zero IV)', () => {
    const key = Buffer.alloc(32);
    const iv = Buffer.alloc(12);
    expect(aes256GcmEncrypt(key, iv, Buffer.alloc(0)).toString('hex')).toBe('530f8afbc74536b9a963b4f1c4cb738b');
    expect(aes256GcmEncrypt(key, iv, Buffer.alloc(16)).toString('hex')).toBe(
      'cea7403d4d606b6e074ec5d3baf39d18d0d1c8a799996bf0265b98b5d48ab919',
    );
    expect(aes256GcmDecrypt(key, iv, hex('cea7403d4d606b6e074ec5d3baf39d18d0d1c8a799996bf0265b98b5d48ab919'))).toEqual(Buffer.alloc(16));
  });

  it('AES-256-GCM: text key and nonce as WeChat Pay uses them; any change to ciphertext, tag, nonce, AAD or key fails', () => {
    const key = '0123456789abcdef0123456789abcdef';
    const sealed = aes256GcmEncrypt(key, 'uluk4a9R25RW', '{"amount":{"total":1}}', 'transaction');
    expect(aes256GcmDecrypt(key, 'uluk4a9R25RW', sealed, 'transaction').toString()).toBe('{"amount":{"total":1}}');
    const tamper = (i: number): Buffer => {
      const b = Buffer.from(sealed);
      b[i] = (b[i] as number) ^ 1;
      return b;
    };
    throwsA(PayDecryptError, () => aes256GcmDecrypt(key, 'uluk4a9R25RW', tamper(0), 'transaction'), /authentication failed/);
    throwsA(PayDecryptError, () => aes256GcmDecrypt(key, 'uluk4a9R25RW', tamper(sealed.length - 1), 'transaction'));
    throwsA(PayDecryptError, () => aes256GcmDecrypt(key, 'uluk4a9R25RX', sealed, 'transaction'));
    throwsA(PayDecryptError, () => aes256GcmDecrypt(key, 'uluk4a9R25RW', sealed, 'transactioN'));
    throwsA(PayDecryptError, () => aes256GcmDecrypt(key, 'uluk4a9R25RW', sealed));
    throwsA(PayDecryptError, () => aes256GcmDecrypt('0123456789abcdef0123456789abcdeF', 'uluk4a9R25RW', sealed, 'transaction'));
    throwsA(
      PayDecryptError,
      () => aes256GcmDecrypt(key, 'uluk4a9R25RW', sealed.subarray(0, 15), 'transaction'),
      /shorter than its 16-byte tag/,
    );
    throwsA(PayDecryptError, () => aes256GcmDecrypt(key, 'uluk4a9R25RW', sealed.subarray(0, sealed.length - 1), 'transaction'));
  });

  it('AES-256-GCM: a key that is not 32 bytes or an empty nonce is a PayArgumentError', () => {
    throwsA(PayArgumentError, () => aes256GcmDecrypt('testAPIv3Key0000', 'n', Buffer.alloc(20)), /expected a 32-byte key, got 16 bytes/);
    throwsA(PayArgumentError, () => aes256GcmEncrypt(Buffer.alloc(31), 'n', 'x'), /got 31 bytes/);
    throwsA(PayArgumentError, () => aes256GcmEncrypt(Buffer.alloc(32), '', 'x'), /empty/);
    throwsA(PayArgumentError, () => aes256GcmEncrypt(undefined as never, 'n', 'x'), /got undefined/);
  });

  it('AES-128-CBC: NIST SP 800-38A F.2.1 first block, PKCS#7 padding, zero IV by default', () => {
    const key = hex('2b7e151628aed2a6abf7158809cf4f3c');
    const iv = hex('000102030405060708090a0b0c0d0e0f');
    const c = aes128CbcEncrypt(key, hex('6bc1bee22e409f96e93d7e117393172a'), iv);
    expect(c.subarray(0, 16).toString('hex')).toBe('7649abac8119b246cee98e9b12e9197d');
    expect(c).toHaveLength(32); // a full block of padding
    expect(aes128CbcDecrypt(key, c, iv).toString('hex')).toBe('6bc1bee22e409f96e93d7e117393172a');
    const z = aes128CbcEncrypt(key, 'hello');
    expect(aes128CbcDecrypt(key, z).toString()).toBe('hello');
    expect(aes128CbcDecrypt(key, z, Buffer.alloc(16)).toString()).toBe('hello');
  });

  it('AES-128-CBC: wrong key (bad padding) → PayDecryptError; bad key or IV length → PayArgumentError', () => {
    const key = hex('2b7e151628aed2a6abf7158809cf4f3c');
    const c = aes128CbcEncrypt(key, 'hello world');
    throwsA(PayDecryptError, () => aes128CbcDecrypt(hex('2b7e151628aed2a6abf7158809cf4f3d'), c), /AES-128-CBC: decryption failed/);
    throwsA(PayDecryptError, () => aes128CbcDecrypt(key, c.subarray(0, 15)));
    throwsA(PayArgumentError, () => aes128CbcDecrypt(Buffer.alloc(32), c), /expected a 16-byte key, got 32 bytes/);
    throwsA(PayArgumentError, () => aes128CbcEncrypt(key, 'x', Buffer.alloc(12)), /expected a 16-byte IV, got 12 bytes/);
    throwsA(PayArgumentError, () => aes128CbcDecrypt(key, c, Buffer.alloc(8)), /16-byte IV/);
  });

  it('AES-256-ECB: NIST SP 800-38A F.1.5 first block, PKCS#7 round trip, failures', () => {
    const key = hex('603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4');
    const c = aes256EcbEncrypt(key, hex('6bc1bee22e409f96e93d7e117393172a'));
    expect(c.subarray(0, 16).toString('hex')).toBe('f3eed1bdb5d2a03c064b5a7e3db181f8');
    expect(aes256EcbDecrypt(key, c).toString('hex')).toBe('6bc1bee22e409f96e93d7e117393172a');
    const text = aes256EcbEncrypt('d96eb16afdd491fa1e705096edbc2205', '<root>退款</root>');
    expect(aes256EcbDecrypt('d96eb16afdd491fa1e705096edbc2205', text).toString()).toBe('<root>退款</root>');
    throwsA(PayDecryptError, () => aes256EcbDecrypt('d96eb16afdd491fa1e705096edbc2206', text), /AES-256-ECB: decryption failed/);
    throwsA(PayDecryptError, () => aes256EcbDecrypt(key, c.subarray(0, 20)));
    throwsA(PayArgumentError, () => aes256EcbDecrypt('short', c), /expected a 32-byte key, got 5 bytes/);
  });
});

describe('constant-time comparison', () => {
  it('compares strings and bytes exactly', () => {
    expect(timingSafeEqualData('9A0A8659F005D6984697E2CA0A9CF3B7', '9A0A8659F005D6984697E2CA0A9CF3B7')).toBe(true);
    expect(timingSafeEqualData('9A0A8659F005D6984697E2CA0A9CF3B7', '9A0A8659F005D6984697E2CA0A9CF3B8')).toBe(false);
    expect(timingSafeEqualData('abc', 'abcd')).toBe(false);
    expect(timingSafeEqualData('', '')).toBe(true);
    expect(timingSafeEqualData('', 'a')).toBe(false);
    expect(timingSafeEqualData('测试', Buffer.from('测试'))).toBe(true);
    expect(timingSafeEqualData(new Uint8Array([1, 2]), new Uint8Array([1, 3]))).toBe(false);
    expect(timingSafeEqualData('a', 'A')).toBe(false);
  });
});

describe('secure nonces, ids and clocks', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('randomNonce: 32 alphanumerics by default, any positive length, no repeats', () => {
    expect(randomNonce()).toMatch(/^[A-Za-z0-9]{32}$/);
    expect(defaultNonce()).toMatch(/^[A-Za-z0-9]{32}$/);
    for (const n of [1, 16, 31, 64, 200]) expect(randomNonce(n)).toMatch(new RegExp(`^[A-Za-z0-9]{${n}}$`));
    const seen = new Set(Array.from({ length: 2000 }, () => randomNonce(16)));
    expect(seen.size).toBe(2000);
  });

  it('randomNonce uses every character of the alphabet (no modulo gaps)', () => {
    const counts = new Map<string, number>();
    for (const ch of randomNonce(62 * 400)) counts.set(ch, (counts.get(ch) ?? 0) + 1);
    expect(counts.size).toBe(62);
    for (const c of counts.values()) expect(c).toBeGreaterThan(250); // expectation 400 each
  });

  it('never calls Math.random', () => {
    const spy = vi.spyOn(Math, 'random').mockImplementation(() => {
      throw new Error('Math.random must not be used');
    });
    expect(randomNonce()).toHaveLength(32);
    expect(randomId()).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(spy).not.toHaveBeenCalled();
  });

  it('rejects a nonce length that is not a positive integer', () => {
    for (const n of [0, -1, 1.5, Number.NaN]) throwsA(PayArgumentError, () => randomNonce(n), /expected a positive integer length/);
  });

  it('systemClock follows Date.now; fixedClock stands still at a number or a Date', () => {
    const before = Date.now();
    const now = systemClock();
    expect(now).toBeGreaterThanOrEqual(before);
    expect(now).toBeLessThanOrEqual(Date.now());
    expect(fixedClock(1624523846000)()).toBe(1624523846000);
    expect(fixedClock(new Date('2024-01-01T00:00:00Z'))()).toBe(Date.UTC(2024, 0, 1));
  });
});
