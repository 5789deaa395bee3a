// API v3 verification, decryption and configuration: every branch rejects, with keys generated here
// (public-key mode needs no certificate) and, for platform certificates, the emulator's generated ones.
import { generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import {
  Certificate,
  PayArgumentError,
  PayCertificateError,
  PayConfigError,
  PayDecryptError,
  PayError,
  PayMismatchError,
  PayReplayError,
  PayResponseError,
  PaySignatureError,
  parseCertificate,
} from '@pay/core';
import { startWechatPayEmulator } from '@pay/sandbox';
import { describe, expect, it, vi } from 'vitest';
import {
  decryptResource,
  encryptResource,
  PlatformKeyStore,
  responseSignMessage,
  signatureHeadersOf,
  verifyWechatSignature,
  WechatPayClient,
  type WechatPayConfig,
  wechatNotificationReply,
} from '../src/index.js';
import { flipByte } from './helpers.js';

// Emulators generate RSA keys and certificates on start: allow for a busy 2-core machine.
vi.setConfig({ testTimeout: 30_000, hookTimeout: 60_000 });

const wechat = generateKeyPairSync('rsa', { modulusLength: 2048 });
const merchant = generateKeyPairSync('rsa', { modulusLength: 2048 });
const other = generateKeyPairSync('rsa', { modulusLength: 2048 });
const PUB_ID = 'PUB_KEY_ID_0100000000000000000000000000000001';
const APIV3 = 'abcdefghijklmnopqrstuvwxyz012345';
const NOW = 1_750_000_000_000;
const nowSec = String(NOW / 1000);
const clock = () => NOW;

function config(extra: Partial<WechatPayConfig> = {}): WechatPayConfig {
  return {
    mchid: '1900000001',
    appid: 'wx0000000000000001',
    privateKey: merchant.privateKey,
    merchantSerialNo: '1DDE55AD98ED71D6EDD4A4A16996DE7B47773A8C',
    apiV3Key: APIV3,
    wechatpayPublicKey: wechat.publicKey,
    wechatpayPublicKeyId: PUB_ID,
    clock,
    transport: { request: async () => ({ status: 599, headers: {}, body: Buffer.alloc(0) }) },
    ...extra,
  };
}

function signedHeaders(
  body: string | Buffer,
  opts: { ts?: string; nonce?: string; key?: KeyObject; serial?: string } = {},
): Record<string, string> {
  const ts = opts.ts ?? nowSec;
  const nonce = opts.nonce ?? 'nonce-1';
  return {
    'wechatpay-timestamp': ts,
    'wechatpay-nonce': nonce,
    'wechatpay-serial': opts.serial ?? PUB_ID,
    'wechatpay-signature': sign('sha256', responseSignMessage(ts, nonce, body), opts.key ?? wechat.privateKey).toString('base64'),
  };
}

function callback(resource: object, opts: { event?: string; key?: string; aad?: string; id?: string } = {}): string {
  return JSON.stringify({
    id: opts.id ?? 'EV-1',
    create_time: '2025-06-15T12:00:00+08:00',
    resource_type: 'encrypt-resource',
    event_type: opts.event ?? 'TRANSACTION.SUCCESS',
    summary: '支付成功',
    resource: {
      original_type: 'transaction',
      ...encryptResource(Buffer.from(opts.key ?? APIV3), JSON.stringify(resource), 'abcdefghijkl', opts.aad ?? 'transaction'),
    },
  });
}

const paid = {
  mchid: '1900000001',
  appid: 'wx0000000000000001',
  out_trade_no: 'A1',
  transaction_id: '42',
  trade_state: 'SUCCESS',
  amount: { total: 100, currency: 'CNY' },
};

describe('verifyWechatSignature: every branch', () => {
  const body = '{"a":1}';
  const opts = { clock, what: 'test' };
  const key = () => wechat.publicKey;

  it('accepts a good signature, and the ±300 s edges', async () => {
    await expect(verifyWechatSignature(signatureHeadersOf(signedHeaders(body)), body, key, opts)).resolves.toBeUndefined();
    for (const ts of [String(NOW / 1000 - 300), String(NOW / 1000 + 300)]) {
      await expect(verifyWechatSignature(signatureHeadersOf(signedHeaders(body, { ts })), body, key, opts)).resolves.toBeUndefined();
    }
  });

  it('rejects a stale (-301 s) and a future (+301 s) timestamp, and a malformed one', async () => {
    for (const ts of [String(NOW / 1000 - 301), String(NOW / 1000 + 301), '17500x', '']) {
      const e = await verifyWechatSignature(signatureHeadersOf(signedHeaders(body, { ts })), body, key, opts).catch((x) => x);
      expect(e, ts).toBeInstanceOf(ts === '' ? PaySignatureError : PayReplayError);
      expect(e.message).toMatch(/^@pay\/wechat: test: /);
    }
  });

  it('rejects missing or empty headers, naming them', async () => {
    for (const name of ['wechatpay-timestamp', 'wechatpay-nonce', 'wechatpay-signature', 'wechatpay-serial']) {
      const h = signedHeaders(body);
      delete h[name];
      const e = await verifyWechatSignature(signatureHeadersOf(h), body, key, opts).catch((x) => x);
      expect(e).toBeInstanceOf(PaySignatureError);
      expect(e.reason).toBe('MISSING_SIGNATURE');
      const empty = { ...signedHeaders(body), [name]: '' };
      await expect(verifyWechatSignature(signatureHeadersOf(empty), body, key, opts)).rejects.toBeInstanceOf(PaySignatureError);
    }
  });

  it('rejects a changed byte, a re-serialised body, another key, a garbage signature, and another signature type', async () => {
    const h = signatureHeadersOf(signedHeaders(body));
    await expect(verifyWechatSignature(h, '{"a":2}', key, opts)).rejects.toBeInstanceOf(PaySignatureError);
    await expect(verifyWechatSignature(h, '{ "a": 1 }', key, opts)).rejects.toThrow(/re-serialised/);
    await expect(verifyWechatSignature(h, body, () => other.publicKey, opts)).rejects.toBeInstanceOf(PaySignatureError);
    await expect(verifyWechatSignature({ ...h, signature: '!!not base64!!' }, body, key, opts)).rejects.toBeInstanceOf(PaySignatureError);
    await expect(verifyWechatSignature({ ...h, signatureType: 'WECHATPAY2-SM2-WITH-SM3' }, body, key, opts)).rejects.toThrow(
      /Signature-Type/,
    );
  });

  it('a WECHATPAY/SIGNTEST/ probe fails verification with its own reason (no crash, no skip)', async () => {
    const h = signatureHeadersOf(signedHeaders(body));
    const e = await verifyWechatSignature({ ...h, signature: `WECHATPAY/SIGNTEST/${h.signature?.slice(19)}` }, body, key, opts).catch(
      (x) => x,
    );
    expect(e).toBeInstanceOf(PaySignatureError);
    expect(e.reason).toBe('SIGNTEST');
  });
});

describe('callbacks: verify, then decrypt (public-key mode, generated keys)', () => {
  const client = () => new WechatPayClient(config());
  const incoming = (raw: string, headers = signedHeaders(raw)) => ({ headers, rawBody: Buffer.from(raw) });

  it('decrypts a verified TRANSACTION.SUCCESS into a typed event', async () => {
    const raw = callback(paid);
    const ev = await client().parseNotification(incoming(raw));
    expect(ev).toMatchObject({ kind: 'transaction', id: 'EV-1', resource: paid, serial: PUB_ID, original_type: 'transaction' });
  });

  it('REFUND.SUCCESS, REFUND.ABNORMAL and REFUND.CLOSED are typed refund events; other events are kept as parsed', async () => {
    const refund = {
      mchid: '1900000001',
      out_trade_no: 'A1',
      transaction_id: '42',
      out_refund_no: 'R1',
      refund_id: '50',
      refund_status: 'CLOSED',
      amount: { total: 100, refund: 10 },
    };
    for (const event of ['REFUND.SUCCESS', 'REFUND.ABNORMAL', 'REFUND.CLOSED']) {
      const ev = await client().parseNotification(incoming(callback(refund, { event, aad: 'refund' })));
      expect(ev.kind).toBe('refund');
      expect(ev.event_type).toBe(event);
    }
    const ev = await client().parseNotification(incoming(callback({ foo: 1 }, { event: 'PAYSCORE.USER_OPEN_SERVICE' })));
    expect(ev).toMatchObject({ kind: 'other', resource: { foo: 1 } });
  });

  it('a tampered GCM tag or ciphertext (signature re-made so only AEAD can catch it) fails, never decrypts to garbage', async () => {
    const parsed = JSON.parse(callback(paid));
    const raw = Buffer.from(parsed.resource.ciphertext, 'base64');
    for (const changed of [flipByte(raw, -1), flipByte(raw, 0)]) {
      const body = JSON.stringify({ ...parsed, resource: { ...parsed.resource, ciphertext: changed.toString('base64') } });
      const e = await client()
        .parseNotification(incoming(body))
        .catch((x) => x);
      expect(e).toBeInstanceOf(PayDecryptError);
      expect(e.message).toMatch(/^@pay\/wechat: callback EV-1 resource: AEAD_AES_256_GCM authentication failed/);
    }
    const badAad = JSON.stringify({ ...parsed, resource: { ...parsed.resource, associated_data: 'refund' } });
    await expect(client().parseNotification(incoming(badAad))).rejects.toBeInstanceOf(PayDecryptError);
  });

  it('the wrong APIv3 key fails to decrypt', async () => {
    const raw = callback(paid, { key: 'ABCDEFGHIJKLMNOPQRSTUVWXYZ012345' });
    await expect(client().parseNotification(incoming(raw))).rejects.toBeInstanceOf(PayDecryptError);
  });

  it('decrypts only after the signature verified: a forged callback with a valid resource is refused first', async () => {
    const raw = callback(paid);
    const e = await client()
      .parseNotification(incoming(raw, signedHeaders(raw, { key: other.privateKey })))
      .catch((x) => x);
    expect(e).toBeInstanceOf(PaySignatureError);
  });

  it('malformed bodies and resources give PayErrors, never TypeErrors', async () => {
    const c = client();
    for (const raw of ['not json', '[]', '{"id":"x"}', '{"id":"x","event_type":"TRANSACTION.SUCCESS","resource":"nope"}']) {
      const e = await c.parseNotification(incoming(raw)).catch((x) => x);
      expect(e, raw).toBeInstanceOf(PayError);
      expect(e.message).toMatch(/^@pay\/wechat: /);
    }
    const parsed = JSON.parse(callback(paid));
    for (const resource of [
      { ...parsed.resource, algorithm: 'AEAD_AES_128_GCM' },
      { ...parsed.resource, ciphertext: '***' },
      { ...parsed.resource, nonce: '' },
    ]) {
      const e = await c.parseNotification(incoming(JSON.stringify({ ...parsed, resource }))).catch((x) => x);
      expect(e).toBeInstanceOf(PayDecryptError);
    }
    const notJson = JSON.stringify({
      ...parsed,
      resource: { original_type: 'transaction', ...encryptResource(Buffer.from(APIV3), 'plain text', 'abcdefghijkl', 'transaction') },
    });
    await expect(c.parseNotification(incoming(notJson))).rejects.toBeInstanceOf(PayResponseError);
    await expect(c.parseNotification({ headers: {}, rawBody: 'x' } as never)).rejects.toBeInstanceOf(PayArgumentError);
    await expect(c.parseNotification(undefined as never)).rejects.toBeInstanceOf(PayArgumentError);
  });

  it('refuses a verified callback addressed to another merchant', async () => {
    const raw = callback({ ...paid, mchid: '1999999999' });
    await expect(client().parseNotification(incoming(raw))).rejects.toBeInstanceOf(PayMismatchError);
  });

  it('stale and replayed-late callbacks are refused by the window', async () => {
    const raw = callback(paid);
    await expect(client().parseNotification(incoming(raw, signedHeaders(raw, { ts: String(NOW / 1000 - 3600) })))).rejects.toBeInstanceOf(
      PayReplayError,
    );
  });

  it('replies 204 on success, 401 {"code":"FAIL"} for verification failures and 500 otherwise', () => {
    expect(wechatNotificationReply(true)).toEqual({ status: 204, headers: {}, body: '' });
    const bad = wechatNotificationReply(false, new PaySignatureError('x', { reason: 'BAD_SIGNATURE' }));
    expect(bad.status).toBe(401);
    expect(JSON.parse(bad.body)).toEqual({ code: 'FAIL', message: 'ERR_PAY_SIGNATURE BAD_SIGNATURE' });
    expect(wechatNotificationReply(false, new Error('db down')).status).toBe(500);
  });
});

describe('decryptResource input checks', () => {
  const key = Buffer.from(APIV3);
  it('rejects non-objects, short ciphertexts and 16-byte keys with PayDecryptError', () => {
    expect(() => decryptResource(key, null as never)).toThrow(PayDecryptError);
    expect(() => decryptResource(key, { algorithm: 'AEAD_AES_256_GCM', ciphertext: 'AAAA', nonce: 'n' })).toThrow(/16-byte tag/);
    const ok = encryptResource(key, 'x', 'abcdefghijkl', 'a');
    expect(decryptResource(key, ok).toString()).toBe('x');
    expect(() => decryptResource(key.subarray(0, 16), ok)).toThrow(/32-byte/);
  });
});

describe('platform certificate store: schedule, unknown serial, rate limit, expiry', async () => {
  const emu = await startWechatPayEmulator({ v2: false });
  const first = parseCertificate(emu.platformCertificatePem);
  await emu.rotatePlatformCertificate();
  const second = parseCertificate(emu.platformCertificatePem);
  await emu.close();

  function store(downloadList: () => Certificate[], now: { t: number }) {
    let downloads = 0;
    const s = new PlatformKeyStore({
      certificates: [],
      download: async () => {
        downloads++;
        return downloadList();
      },
      clock: () => now.t,
      refreshIntervalMs: 3_600_000,
      unknownSerialIntervalMs: 60_000,
    });
    return { s, downloads: () => downloads };
  }

  it('downloads on first need, then not again until the schedule says so', async () => {
    const now = { t: Date.now() };
    const { s, downloads } = store(() => [first], now);
    await s.keyFor(first.serialHex, 't');
    await s.keyFor(first.serialHex.toLowerCase(), 't');
    expect(downloads()).toBe(1);
    now.t += 3_600_001;
    await s.keyFor(first.serialHex, 't');
    expect(downloads()).toBe(2);
  });

  it('an unknown serial triggers one refresh, then is rate-limited, then allowed again after the interval', async () => {
    const now = { t: Date.now() };
    let list = [first];
    const { s, downloads } = store(() => list, now);
    await s.keyFor(first.serialHex, 't');
    await expect(s.keyFor('ABCDEF', 't')).rejects.toThrow(/also after downloading/);
    expect(downloads()).toBe(2);
    await expect(s.keyFor('ABCDEF', 't')).rejects.toThrow(/not downloading again/);
    expect(downloads()).toBe(2);
    list = [first, second];
    now.t += 60_001;
    await expect(s.keyFor(second.serialHex, 't')).resolves.toBeDefined();
    expect(downloads()).toBe(3);
  });

  it('concurrent lookups share one download', async () => {
    const now = { t: Date.now() };
    const { s, downloads } = store(() => [first], now);
    await Promise.all([s.keyFor(first.serialHex, 't'), s.keyFor(first.serialHex, 't'), s.preferred()]);
    expect(downloads()).toBe(1);
  });

  it('without downloads an unknown serial fails at once; an expired or not-yet-valid certificate is refused', async () => {
    const s = new PlatformKeyStore({
      certificates: [first],
      clock: () => first.notAfter + 1,
      refreshIntervalMs: 1,
      unknownSerialIntervalMs: 1,
    });
    await expect(s.keyFor('ABCDEF', 't')).rejects.toThrow(/download is off/);
    const e = await s.keyFor(first.serialHex, 't').catch((x) => x);
    expect(e).toBeInstanceOf(PayCertificateError);
    expect(e.reason).toBe('EXPIRED');
    const early = new PlatformKeyStore({
      certificates: [first],
      clock: () => first.notBefore - 1,
      refreshIntervalMs: 1,
      unknownSerialIntervalMs: 1,
    });
    await expect(early.keyFor(first.serialHex, 't')).rejects.toMatchObject({ reason: 'NOT_YET_VALID' });
    await expect(early.preferred()).rejects.toMatchObject({ reason: 'NO_KEY' });
  });

  it('a failed scheduled refresh keeps the cached certificates', async () => {
    const now = { t: Date.now() };
    let fail = false;
    const s = new PlatformKeyStore({
      certificates: [],
      download: async () => {
        if (fail) throw new PayError(4000, 'down');
        return [first];
      },
      clock: () => now.t,
      refreshIntervalMs: 1000,
      unknownSerialIntervalMs: 60_000,
    });
    await s.keyFor(first.serialHex, 't');
    fail = true;
    now.t += 2000;
    await expect(s.keyFor(first.serialHex, 't')).resolves.toBeDefined();
  });

  it('the preferred key is the newest valid certificate, or the public key when configured', async () => {
    const s = new PlatformKeyStore({
      certificates: [first, second],
      clock: () => Date.now(),
      refreshIntervalMs: 1,
      unknownSerialIntervalMs: 1,
    });
    expect((await s.preferred()).serial).toBe(second.serialHex);
    const p = new PlatformKeyStore({
      certificates: [first],
      publicKey: { id: PUB_ID, key: wechat.publicKey },
      clock: () => Date.now(),
      refreshIntervalMs: 1,
      unknownSerialIntervalMs: 1,
    });
    expect((await p.preferred()).serial).toBe(PUB_ID);
    expect(first).toBeInstanceOf(Certificate);
  });
});

describe('configuration fails at construction with clear messages', () => {
  const cases: Array<[string, Partial<WechatPayConfig> | Record<string, unknown>, RegExp]> = [
    ['no mchid', { mchid: '' }, /mchid: expected the merchant id/],
    ['no private key', { privateKey: '' }, /privateKey: .*got nothing/],
    ['a public key as private key', { privateKey: merchant.publicKey }, /privateKey/],
    ['an EC key', { privateKey: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey }, /expected an RSA key/],
    ['no serial', { merchantSerialNo: undefined }, /expected merchantSerialNo or merchantCertificate/],
    ['a malformed serial', { merchantSerialNo: 'not-hex' }, /merchantSerialNo: expected the certificate serial/],
    ['a 31-byte APIv3 key', { apiV3Key: 'x'.repeat(31) }, /expected exactly 32 bytes, got 31/],
    ['a serial as APIv3 key', { apiV3Key: 'A'.repeat(40) }, /expected exactly 32 bytes, got 40/],
    ['a public key without its id', { wechatpayPublicKeyId: undefined }, /together/],
    ['an id that is not PUB_KEY_ID_', { wechatpayPublicKeyId: 'ABC' }, /PUB_KEY_ID_/],
    [
      'nothing to verify with',
      { wechatpayPublicKey: undefined, wechatpayPublicKeyId: undefined, downloadCertificates: false },
      /no way to verify/,
    ],
    ['plain http to a remote host', { baseUrl: 'http://api.mch.weixin.qq.com' }, /baseUrl: .*HTTPS/],
  ];
  for (const [name, change, message] of cases) {
    it(`refuses ${name}`, () => {
      const e = (() => {
        try {
          new WechatPayClient({ ...config(), ...change } as WechatPayConfig);
        } catch (err) {
          return err;
        }
        return undefined;
      })() as PayConfigError;
      expect(e).toBeInstanceOf(PayConfigError);
      expect(e.message).toMatch(/^@pay\/wechat: /);
      expect(e.message).toMatch(message);
      expect(e.message).not.toMatch(/PRIVATE KEY|abcdefghijklmnopqrstuvwxyz012345/);
    });
  }

  it('refuses a merchant certificate that is not the private key’s, and a serial that is not the certificate’s', async () => {
    const emu = await startWechatPayEmulator({ v2: false });
    try {
      expect(
        () =>
          new WechatPayClient({
            ...config(),
            merchantCertificate: emu.merchantCertificatePem,
            merchantSerialNo: undefined,
          } as unknown as WechatPayConfig),
      ).toThrow(/does not belong to privateKey/);
      const ok = new WechatPayClient({ ...emu.clientConfig, merchantCertificate: emu.merchantCertificatePem });
      expect(ok.merchantSerialNo).toBe(emu.clientConfig.merchantSerialNo);
      expect(
        () => new WechatPayClient({ ...emu.clientConfig, merchantCertificate: emu.merchantCertificatePem, merchantSerialNo: 'ABCDEF' }),
      ).toThrow(/is not the serial/);
    } finally {
      await emu.close();
    }
  });

  it('each client has its own certificate cache (never process-wide)', async () => {
    const a = new WechatPayClient(config({ platformCertificates: [], downloadCertificates: false }));
    const b = new WechatPayClient(config());
    expect(a.keys).not.toBe(b.keys);
  });
});
