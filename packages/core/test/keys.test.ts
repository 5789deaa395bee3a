import { createSecretKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import forge from 'node-forge';
import { describe, expect, it } from 'vitest';
import {
  loadPkcs12,
  loadPrivateKey,
  loadPublicKey,
  PayConfigError,
  parsePemBlocks,
  payFailure,
  publicKeyOf,
  rsaSign,
  rsaVerify,
  samePublicKey,
} from '../src/index.js';
import { keyPairOf, makeCert, makePkcs12, toPem } from './helpers/pki.js';

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const other = generateKeyPairSync('rsa', { modulusLength: 2048 });

const pem = {
  pkcs1: rsa.privateKey.export({ format: 'pem', type: 'pkcs1' }).toString(),
  pkcs8: rsa.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
  sec1: ec.privateKey.export({ format: 'pem', type: 'sec1' }).toString(),
  ecPkcs8: ec.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
  encPkcs8: rsa.privateKey.export({ format: 'pem', type: 'pkcs8', cipher: 'aes-256-cbc', passphrase: 'open sesame' }).toString(),
  legacyEnc: rsa.privateKey.export({ format: 'pem', type: 'pkcs1', cipher: 'aes-128-cbc', passphrase: 'open sesame' }).toString(),
  spki: rsa.publicKey.export({ format: 'pem', type: 'spki' }).toString(),
  rsaPublic: rsa.publicKey.export({ format: 'pem', type: 'pkcs1' }).toString(),
  ecSpki: ec.publicKey.export({ format: 'pem', type: 'spki' }).toString(),
};
const der = {
  pkcs1: rsa.privateKey.export({ format: 'der', type: 'pkcs1' }),
  pkcs8: rsa.privateKey.export({ format: 'der', type: 'pkcs8' }),
  sec1: ec.privateKey.export({ format: 'der', type: 'sec1' }),
  encPkcs8: rsa.privateKey.export({ format: 'der', type: 'pkcs8', cipher: 'aes-256-cbc', passphrase: 'pw' }),
  spki: rsa.publicKey.export({ format: 'der', type: 'spki' }),
  rsaPublic: rsa.publicKey.export({ format: 'der', type: 'pkcs1' }),
};
const cert = makeCert({ subject: [['CN', 'keys test']], keys: keyPairOf(rsa.privateKey, rsa.publicKey) });

/** Base64 body of a PEM, on one line (as the providers' consoles hand keys out). */
const oneLine = (text: string): string => text.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, '');
/** Base64 wrapped at 64 columns without PEM armour. */
const wrapped = (text: string): string => oneLine(text).replace(/(.{64})/g, '$1\n');
/** As written in a `.env` file: one quoted line with literal `\n` escapes. */
const envEscaped = (text: string): string => `"${text.trim().replace(/\n/g, '\\n')}"`;

const sameAs = (key: KeyObject, expected: KeyObject): boolean => samePublicKey(key, expected);

/** Runs `fn`, expecting a PayConfigError; returns it. */
function configError(fn: () => unknown): PayConfigError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(PayConfigError);
    const err = e as PayConfigError;
    expect(err.message.startsWith('@pay/core: ')).toBe(true);
    return err;
  }
  throw new Error('expected a PayConfigError, nothing was thrown');
}

/** No 40-character piece of any key's base64 may appear in a message or err_detail. */
function assertNoKeyMaterial(err: PayConfigError): void {
  const secrets = [oneLine(pem.pkcs8), oneLine(pem.pkcs1), oneLine(pem.sec1), der.encPkcs8.toString('base64')];
  for (const text of [err.message, err.detail, payFailure(err).err_detail]) {
    for (const s of secrets) for (let i = 0; i + 40 <= s.length; i += 40) expect(text).not.toContain(s.slice(i, i + 40));
  }
}

describe('loadPrivateKey accepts every form users paste', () => {
  const cases: Array<[string, Parameters<typeof loadPrivateKey>[0], KeyObject, string?]> = [
    ['PEM PKCS#1 (BEGIN RSA PRIVATE KEY)', pem.pkcs1, rsa.publicKey],
    ['PEM PKCS#8 (BEGIN PRIVATE KEY)', pem.pkcs8, rsa.publicKey],
    ['PEM SEC1 (BEGIN EC PRIVATE KEY)', pem.sec1, ec.publicKey],
    ['PEM PKCS#8 EC', pem.ecPkcs8, ec.publicKey],
    ['PEM with CRLF line breaks', pem.pkcs8.replace(/\n/g, '\r\n'), rsa.publicKey],
    [
      'PEM with its body on one line',
      `-----BEGIN RSA PRIVATE KEY-----\n${oneLine(pem.pkcs1)}\n-----END RSA PRIVATE KEY-----`,
      rsa.publicKey,
    ],
    ['PEM with surrounding blank lines and spaces', `\n\n  ${pem.pkcs8}  \n`, rsa.publicKey],
    ['bare one-line base64 PKCS#8', oneLine(pem.pkcs8), rsa.publicKey],
    ['bare one-line base64 PKCS#1', oneLine(pem.pkcs1), rsa.publicKey],
    ['bare base64 with line breaks', wrapped(pem.pkcs8), rsa.publicKey],
    ['bare base64 SEC1', oneLine(pem.sec1), ec.publicKey],
    ['literal \\n escapes from an env file', envEscaped(pem.pkcs1), rsa.publicKey],
    ['literal \\r\\n escapes', pem.pkcs8.trim().replace(/\n/g, '\\r\\n'), rsa.publicKey],
    ['Buffer DER PKCS#8', der.pkcs8, rsa.publicKey],
    ['Buffer DER PKCS#1', der.pkcs1, rsa.publicKey],
    ['Buffer DER SEC1', der.sec1, ec.publicKey],
    ['plain Uint8Array DER', new Uint8Array(der.pkcs8), rsa.publicKey],
    ['Buffer holding PEM text', Buffer.from(pem.pkcs1), rsa.publicKey],
    ['Buffer holding base64 text', Buffer.from(oneLine(pem.pkcs8)), rsa.publicKey],
    ['encrypted PKCS#8 PEM with its passphrase', pem.encPkcs8, rsa.publicKey, 'open sesame'],
    ['legacy OpenSSL-encrypted PKCS#1 PEM (Proc-Type) with its passphrase', pem.legacyEnc, rsa.publicKey, 'open sesame'],
    ['encrypted PKCS#8 DER with its passphrase', der.encPkcs8, rsa.publicKey, 'pw'],
  ];
  for (const [name, input, expected, passphrase] of cases) {
    it(name, () => {
      const key = loadPrivateKey(input, passphrase === undefined ? {} : { passphrase });
      expect(key.type).toBe('private');
      expect(sameAs(key, expected)).toBe(true);
    });
  }

  it('returns a private KeyObject as is', () => {
    expect(loadPrivateKey(rsa.privateKey)).toBe(rsa.privateKey);
  });

  it('loads a key that signs what the matching public key verifies', () => {
    const key = loadPrivateKey(oneLine(pem.pkcs1));
    expect(rsaVerify('sha256', loadPublicKey(oneLine(pem.spki)), 'a=1', rsaSign('sha256', key, 'a=1'))).toBe(true);
  });
});

describe('loadPublicKey accepts every form users paste', () => {
  const cases: Array<[string, Parameters<typeof loadPublicKey>[0], KeyObject]> = [
    ['PEM SPKI (BEGIN PUBLIC KEY)', pem.spki, rsa.publicKey],
    ['PEM PKCS#1 (BEGIN RSA PUBLIC KEY)', pem.rsaPublic, rsa.publicKey],
    ['PEM EC SPKI', pem.ecSpki, ec.publicKey],
    ['PEM certificate (its key is used)', cert.pem, rsa.publicKey],
    ['DER certificate', cert.der, rsa.publicKey],
    ['bare one-line base64 certificate', cert.der.toString('base64'), rsa.publicKey],
    ['bare one-line base64 SPKI (Alipay console form)', oneLine(pem.spki), rsa.publicKey],
    ['bare base64 SPKI with line breaks', wrapped(pem.spki), rsa.publicKey],
    ['bare base64 PKCS#1 public key', der.rsaPublic.toString('base64'), rsa.publicKey],
    ['literal \\n escapes from an env file', envEscaped(pem.spki), rsa.publicKey],
    ['Buffer DER SPKI', der.spki, rsa.publicKey],
    ['Buffer DER PKCS#1', der.rsaPublic, rsa.publicKey],
    ['plain Uint8Array DER', new Uint8Array(der.spki), rsa.publicKey],
    ['Buffer holding PEM text', Buffer.from(pem.spki), rsa.publicKey],
    ['a PEM bundle: the first public block is used', `${pem.spki}\n${toPem('CERTIFICATE', cert.der)}`, rsa.publicKey],
  ];
  for (const [name, input, expected] of cases) {
    it(name, () => {
      const key = loadPublicKey(input);
      expect(key.type).toBe('public');
      expect(key.equals(expected)).toBe(true);
    });
  }

  it('returns a public KeyObject as is', () => {
    expect(loadPublicKey(rsa.publicKey)).toBe(rsa.publicKey);
  });
});

describe('key loaders reject bad input with a PayConfigError naming what was expected', () => {
  const half = (text: string): string => text.slice(0, Math.floor(text.length / 2));
  const damage = (b64: string): string => {
    // change bytes inside the modulus/private exponent area and break the structure
    const mid = Math.floor(b64.length / 2);
    return `${b64.slice(0, 8)}AAAA${b64.slice(12, mid)}${b64.slice(mid + 40)}`;
  };
  const privateCases: Array<[string, unknown, RegExp, string?]> = [
    ['a public PEM', pem.spki, /expected a private key.*got PEM PUBLIC KEY \(a public key or certificate, not the private key\)/],
    ['a certificate PEM', cert.pem, /expected a private key.*got PEM CERTIFICATE/],
    ['bare base64 of a public key', oneLine(pem.spki), /expected a private key.*got a public key or certificate/],
    ['DER of a certificate', cert.der, /expected a private key.*got a public key or certificate/],
    ['a public KeyObject', rsa.publicKey, /expected a private key.*got a public KeyObject/],
    ['a secret KeyObject', createSecretKey(Buffer.alloc(32)), /expected a private key.*got a secret KeyObject/],
    [
      'a truncated PEM (END line kept)',
      `-----BEGIN PRIVATE KEY-----\n${half(oneLine(pem.pkcs8))}\n-----END PRIVATE KEY-----`,
      /PEM PRIVATE KEY could not be parsed \(truncated or damaged\?\)/,
    ],
    ['a PEM cut short (no END line)', half(pem.pkcs8), /got a PEM PRIVATE KEY block without its matching END line \(truncated\?\)/],
    ['truncated bare base64', half(oneLine(pem.pkcs1)), /could not be parsed as PKCS#8, PKCS#1 or SEC1 \(truncated or damaged\?\)/],
    ['truncated DER', der.pkcs8.subarray(0, 300), /300 bytes of DER could not be parsed/],
    ['damaged base64', damage(oneLine(pem.pkcs8)), /could not be parsed/],
    ['an encrypted PKCS#8 PEM without passphrase', pem.encPkcs8, /ENCRYPTED PRIVATE KEY is encrypted and no passphrase was given/],
    ['a legacy encrypted PEM without passphrase', pem.legacyEnc, /RSA PRIVATE KEY is encrypted and no passphrase was given/],
    ['an encrypted PKCS#8 PEM with a wrong passphrase', pem.encPkcs8, /could not be decrypted \(wrong passphrase\?\)/, 'wrong'],
    ['an encrypted PKCS#8 DER without passphrase', der.encPkcs8, /encrypted PKCS#8 key and no passphrase was given/],
    ['an empty string', '', /expected a private key.*got nothing/],
    ['blanks', '  \n ', /got nothing/],
    ['undefined', undefined, /got nothing/],
    ['null', null, /got nothing/],
    ['a number', 42, /got a number/],
    ['a plain object', { key: pem.pkcs8 }, /got an object \(Object\)/],
    ['words', 'my-private-key', /got text that is neither PEM nor base64/],
  ];
  for (const [name, input, message, passphrase] of privateCases) {
    it(`loadPrivateKey: ${name}`, () => {
      const err = configError(() =>
        loadPrivateKey(input as string, passphrase === undefined ? { label: 'privateKey' } : { label: 'privateKey', passphrase }),
      );
      expect(err.message).toMatch(/^@pay\/core: privateKey: expected a private key/);
      expect(err.message).toMatch(message);
      assertNoKeyMaterial(err);
    });
  }

  const publicCases: Array<[string, unknown, RegExp]> = [
    ['a private PEM (PKCS#8)', pem.pkcs8, /got PEM PRIVATE KEY \(a private key: never configure it where a public key belongs\)/],
    ['a private PEM (PKCS#1)', pem.pkcs1, /got PEM RSA PRIVATE KEY \(a private key/],
    ['bare base64 of a PKCS#1 private key', oneLine(pem.pkcs1), /got a private key \(never configure it where a public key belongs\)/],
    ['bare base64 of a PKCS#8 private key', oneLine(pem.pkcs8), /got a private key/],
    ['DER of a SEC1 private key', der.sec1, /got a private key/],
    ['DER of an encrypted private key', der.encPkcs8, /got a private key/],
    ['a private key labelled RSA PUBLIC KEY', toPem('RSA PUBLIC KEY', der.pkcs1), /got a private key/],
    ['a private KeyObject', rsa.privateKey, /got a private KeyObject \(never configure a private key where a public key belongs\)/],
    [
      'a truncated PEM',
      `-----BEGIN PUBLIC KEY-----\n${half(oneLine(pem.spki))}\n-----END PUBLIC KEY-----`,
      /PEM PUBLIC KEY could not be parsed \(truncated or damaged\?\)/,
    ],
    ['a PEM cut short', half(pem.spki), /PEM PUBLIC KEY block without its matching END line/],
    ['truncated bare base64', half(oneLine(pem.spki)), /could not be parsed as SPKI, PKCS#1 or a certificate \(truncated or damaged\?\)/],
    ['a truncated certificate', cert.der.subarray(0, 200), /200 bytes of DER could not be parsed as SPKI, PKCS#1 or a certificate/],
    ['damaged base64', damage(oneLine(pem.spki)), /could not be parsed/],
    ['an empty string', '', /got nothing/],
    ['a number', 7, /got a number/],
    ['an array', [pem.spki], /got an array/],
    ['words', 'alipay public key', /neither PEM nor base64/],
  ];
  for (const [name, input, message] of publicCases) {
    it(`loadPublicKey: ${name}`, () => {
      const err = configError(() => loadPublicKey(input as string, { label: 'alipayPublicKey' }));
      expect(err.message).toMatch(/^@pay\/core: alipayPublicKey: expected a public key/);
      expect(err.message).toMatch(message);
      assertNoKeyMaterial(err);
    });
  }

  it('uses "key" when no label is given', () => {
    expect(configError(() => loadPublicKey('')).message).toMatch(/^@pay\/core: key: expected a public key/);
  });
});

describe('parsePemBlocks, publicKeyOf, samePublicKey', () => {
  it('splits a bundle into blocks in order and flags legacy encrypted PEMs', () => {
    const blocks = parsePemBlocks(`${pem.spki}junk between\n${cert.pem}${pem.legacyEnc}`);
    expect(blocks.map((b) => b.label)).toEqual(['PUBLIC KEY', 'CERTIFICATE', 'RSA PRIVATE KEY']);
    expect(blocks[0]?.der.equals(der.spki)).toBe(true);
    expect(blocks[1]?.der.equals(cert.der)).toBe(true);
    expect(blocks[2]?.encrypted).toBe(true);
    expect(blocks[0]?.encrypted).toBeUndefined();
    expect(parsePemBlocks('no pem here')).toEqual([]);
  });

  it('derives the public half and compares keys of either type', () => {
    expect(publicKeyOf(rsa.privateKey).equals(rsa.publicKey)).toBe(true);
    expect(samePublicKey(rsa.privateKey, rsa.publicKey)).toBe(true);
    expect(samePublicKey(rsa.publicKey, rsa.privateKey)).toBe(true);
    expect(samePublicKey(rsa.privateKey, other.privateKey)).toBe(false);
    expect(samePublicKey(rsa.publicKey, ec.publicKey)).toBe(false);
  });
});

describe('loadPkcs12 with files generated by node-forge', () => {
  const root = makeCert({
    subject: [
      ['C', 'CN'],
      ['O', 'Test'],
      ['CN', 'Test Root'],
    ],
    ca: true,
    serialHex: '0a',
  });
  const leaf = makeCert({
    subject: [
      ['C', 'CN'],
      ['O', 'Test'],
      ['CN', 'merchant 1900000001'],
    ],
    issuer: root,
    serialHex: '1046f2b1d3',
  });
  for (const algorithm of ['3des', 'aes128', 'aes256'] as const) {
    it(`opens a ${algorithm} file: key, certificate (serial hex and decimal) and chain`, () => {
      const p12 = loadPkcs12(makePkcs12(leaf, 'secret', algorithm, [root]), 'secret');
      expect(samePublicKey(p12.privateKey, leaf.keys.publicKey)).toBe(true);
      expect(p12.privateKey.type).toBe('private');
      expect(p12.certificate.serialHex).toBe('1046F2B1D3');
      expect(p12.certificate.serialDecimal).toBe(String(0x1046f2b1d3));
      expect(p12.certificate.commonName).toBe('merchant 1900000001');
      expect(p12.chain.map((c) => c.commonName)).toEqual(['Test Root']);
      expect(rsaVerify('sha256', p12.certificate.publicKey, 'x', rsaSign('sha256', p12.privateKey, 'x'))).toBe(true);
    });
  }

  it('accepts the file as base64 text (with line breaks) and as a plain Uint8Array', () => {
    const file = makePkcs12(leaf, '000000', '3des');
    expect(loadPkcs12(file.toString('base64').replace(/(.{76})/g, '$1\n'), '000000').certificate.serialHex).toBe('1046F2B1D3');
    expect(loadPkcs12(new Uint8Array(file), '000000').chain).toEqual([]);
  });

  it('rejects a wrong password with a hint about the password', () => {
    const err = configError(() => loadPkcs12(makePkcs12(leaf, 'right', 'aes256'), 'wrong', { label: 'merchantPfx' }));
    expect(err.message).toMatch(/^@pay\/core: merchantPfx: could not open the PKCS#12 file/);
    expect(err.hint).toMatch(/password is wrong/);
    expect(err.cause).toBeDefined();
  });

  it('rejects damaged and truncated files, text that is not a file, and wrong argument types', () => {
    const file = makePkcs12(leaf, 'pw', '3des');
    const damaged = Buffer.from(file);
    for (let i = 200; i < 260; i++) damaged[i] = (damaged[i] as number) ^ 0x5a;
    expect(configError(() => loadPkcs12(damaged, 'pw')).message).toMatch(/could not open the PKCS#12 file/);
    expect(configError(() => loadPkcs12(file.subarray(0, file.length / 2), 'pw')).message).toMatch(/could not open the PKCS#12 file/);
    expect(configError(() => loadPkcs12(Buffer.from('hello'), 'pw')).message).toMatch(
      /expected the bytes of a PKCS#12 \(\.p12\/\.pfx\) file, got 5 bytes that are not DER/,
    );
    expect(configError(() => loadPkcs12(pem.pkcs8, 'pw')).message).toMatch(/could not open the PKCS#12 file|not DER/);
    expect(configError(() => loadPkcs12(undefined as never, 'pw')).message).toMatch(/got a undefined|got an? undefined/);
    expect(configError(() => loadPkcs12(file, undefined as never)).message).toMatch(/expected the PKCS#12 password as a string/);
  });

  it('rejects a file without a private key, and one whose key matches none of its certificates', () => {
    const certOnly = Buffer.from(
      forge.asn1.toDer(forge.pkcs12.toPkcs12Asn1(null, [leaf.forgeCert], 'pw', { algorithm: '3des' })).getBytes(),
      'binary',
    );
    expect(configError(() => loadPkcs12(certOnly, 'pw')).message).toMatch(/holds no private key/);
    const mismatched = Buffer.from(
      forge.asn1.toDer(forge.pkcs12.toPkcs12Asn1(root.keys.forgePrivate, [leaf.forgeCert], 'pw', { algorithm: '3des' })).getBytes(),
      'binary',
    );
    expect(configError(() => loadPkcs12(mismatched, 'pw')).message).toMatch(/holds no certificate for its private key/);
  });
});
