// The App Store emulator over 127.0.0.1, checked with @pay/core primitives only (the sandbox never
// imports provider packages): its chain, its signatures, its API's token checks and errors, legacy
// verifyReceipt, OCSP, and notification delivery with Apple's retry schedule.
import { createPrivateKey, createPublicKey, randomUUID, sign, verify } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Certificate, derChildren, readDer, verifyCertificateChain } from '@pay/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APPLE_INTERMEDIATE_OID, APPLE_LEAF_OID, type IapEmulator, startIapEmulator } from '../src/index.js';

let emu: IapEmulator;
let receiver: Server;
let replyStatus = 200;
const bodies: string[] = [];

beforeAll(async () => {
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      bodies.push(Buffer.concat(chunks).toString());
      res.writeHead(replyStatus).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  emu = await startIapEmulator({ notifyUrl: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/n`, onlineChecks: true });
});

afterAll(async () => {
  await emu.close();
  receiver.closeAllConnections();
  await new Promise<void>((r) => receiver.close(() => r()));
});

function token(
  claims: Record<string, unknown> = {},
  kid = emu.clientConfig.api.keyId,
  key = createPrivateKey(emu.clientConfig.api.privateKey),
): string {
  const now = Math.floor(Date.now() / 1000);
  const h = Buffer.from(JSON.stringify({ alg: 'ES256', kid, typ: 'JWT' })).toString('base64url');
  const p = Buffer.from(
    JSON.stringify({
      iss: emu.clientConfig.api.issuerId,
      iat: now,
      exp: now + 300,
      aud: 'appstoreconnect-v1',
      bid: emu.clientConfig.bundleId,
      ...claims,
    }),
  ).toString('base64url');
  return `${h}.${p}.${sign('sha256', Buffer.from(`${h}.${p}`), { key, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
}

async function get(
  path: string,
  auth?: string,
  base = emu.clientConfig.api.sandboxUrl,
): Promise<{ status: number; body: string; headers: Headers }> {
  const res = await fetch(`${base}${path}`, { headers: auth ? { authorization: `Bearer ${auth}` } : {} });
  return { status: res.status, body: await res.text(), headers: res.headers };
}

function decode(jws: string): { header: Record<string, unknown>; payload: Record<string, unknown>; ok: boolean } {
  const [h, p, s] = jws.split('.') as [string, string, string];
  const header = JSON.parse(Buffer.from(h, 'base64url').toString());
  const leaf = new Certificate(Buffer.from((header.x5c as string[])[0] as string, 'base64'));
  const ok = verify('sha256', Buffer.from(`${h}.${p}`), { key: leaf.publicKey, dsaEncoding: 'ieee-p1363' }, Buffer.from(s, 'base64url'));
  return { header, payload: JSON.parse(Buffer.from(p, 'base64url').toString()), ok };
}

describe('IAP emulator: signed data', () => {
  it('signs ES256 with an x5c of three whose leaf and intermediate carry Apple’s OIDs and chain to clientConfig.roots', async () => {
    const { signedTransaction } = await emu.pay(randomUUID(), { productId: 'com.example.coins100', notifyUrl: '' });
    const { header, payload, ok } = decode(signedTransaction);
    expect(ok).toBe(true);
    expect(header.alg).toBe('ES256');
    const [leaf, intermediate] = (header.x5c as string[]).map((c) => new Certificate(Buffer.from(c, 'base64')));
    expect(leaf?.hasExtension(APPLE_LEAF_OID)).toBe(true);
    expect(intermediate?.hasExtension(APPLE_INTERMEDIATE_OID)).toBe(true);
    const path = verifyCertificateChain(
      leaf as Certificate,
      [intermediate as Certificate],
      [new Certificate(emu.clientConfig.roots[0] as Buffer)],
      { at: Date.now() },
    );
    expect(path).toHaveLength(3);
    expect(payload).toMatchObject({
      bundleId: emu.clientConfig.bundleId,
      environment: 'Sandbox',
      productId: 'com.example.coins100',
      type: 'Consumable',
    });
  });

  it('faults: expired leaf, untrusted chain, rotation', async () => {
    const { transaction } = await emu.pay(randomUUID(), { productId: 'com.example.coins100', notifyUrl: '' });
    emu.faults = { expiredCertificate: true };
    const expiredLeaf = new Certificate(
      Buffer.from((decode(emu.signTransaction(transaction)).header.x5c as string[])[0] as string, 'base64'),
    );
    expect(expiredLeaf.notAfter).toBeLessThan(Date.now());
    emu.faults = { untrustedChain: true };
    const foreign = (decode(emu.signTransaction(transaction)).header.x5c as string[])[2];
    expect(foreign).not.toBe(emu.clientConfig.roots[0]?.toString('base64'));
    emu.faults = {};
    const before = emu.chain.leaf.serial;
    emu.rotateChain();
    expect(emu.chain.leaf.serial).not.toBe(before);
    expect(emu.chain.root.der.equals(emu.clientConfig.roots[0] as Buffer)).toBe(true);
  });
});

describe('IAP emulator: App Store Server API', () => {
  it('refuses missing, foreign, expired and forged bearer tokens with 401, as App Store Connect does', async () => {
    const { transaction } = await emu.pay(randomUUID(), { productId: 'com.example.premium', notifyUrl: '' });
    const path = `/inApps/v1/transactions/${transaction.transactionId}`;
    expect((await get(path)).status).toBe(401);
    expect((await get(path, token({}, 'OTHERKEY'))).status).toBe(401);
    expect((await get(path, token({ bid: 'com.other' }))).status).toBe(401);
    expect((await get(path, token({ aud: 'other' }))).status).toBe(401);
    expect((await get(path, token({ exp: Math.floor(Date.now() / 1000) - 1 }))).status).toBe(401);
    expect((await get(path, token({ exp: Math.floor(Date.now() / 1000) + 7200 }))).status).toBe(401);
    const forged = token(
      {},
      emu.clientConfig.api.keyId,
      createPrivateKey(emu.chain.leaf.privateKey.export({ type: 'pkcs8', format: 'pem' })),
    );
    expect((await get(path, forged)).status).toBe(401);
    const ok = await get(path, token());
    expect(ok.status).toBe(200);
    expect(decode(JSON.parse(ok.body).signedTransactionInfo).payload.transactionId).toBe(transaction.transactionId);
    expect(emu.requests.filter((r) => r.path === path).map((r) => r.authorized)).toEqual([
      false,
      false,
      false,
      false,
      false,
      false,
      false,
      true,
    ]);
  });

  it('answers Apple’s error bodies: 4040010 in the other environment, 4000006 for a malformed id, 5000000 and 4290000 under faults', async () => {
    const { transaction } = await emu.pay(randomUUID(), { productId: 'com.example.premium', notifyUrl: '' });
    const prod = await get(`/inApps/v1/transactions/${transaction.transactionId}`, token(), emu.clientConfig.api.productionUrl);
    expect([prod.status, JSON.parse(prod.body)]).toEqual([404, { errorCode: 4040010, errorMessage: 'Transaction id not found.' }]);
    expect(JSON.parse((await get('/inApps/v1/transactions/abc', token())).body).errorCode).toBe(4000006);
    emu.faults = { status5xx: 1 };
    const e500 = await get(`/inApps/v1/transactions/${transaction.transactionId}`, token());
    expect([e500.status, JSON.parse(e500.body).errorCode]).toEqual([500, 5000000]);
    emu.faults = { rateLimit: 1, retryAfterMs: 1000 };
    const e429 = await get(`/inApps/v1/transactions/${transaction.transactionId}`, token());
    expect([e429.status, JSON.parse(e429.body).errorCode]).toEqual([429, 4290000]);
    expect(Number(e429.headers.get('retry-after'))).toBeGreaterThan(Date.now());
    emu.faults = {};
  });

  it('pages history with revision', async () => {
    const customer = randomUUID();
    const first = await emu.pay(undefined, { productId: 'com.example.coins100', customer, notifyUrl: '' });
    for (let i = 0; i < 21; i++) await emu.pay(undefined, { productId: 'com.example.coins100', customer, notifyUrl: '' });
    const page1 = JSON.parse((await get(`/inApps/v2/history/${first.transaction.transactionId}`, token())).body);
    expect(page1.signedTransactions).toHaveLength(20);
    expect(page1.hasMore).toBe(true);
    const page2 = JSON.parse((await get(`/inApps/v2/history/${first.transaction.transactionId}?revision=${page1.revision}`, token())).body);
    expect(page2.signedTransactions).toHaveLength(2);
    expect(page2.hasMore).toBe(false);
  });
});

describe('IAP emulator: legacy verifyReceipt', () => {
  it('21007 for a sandbox receipt at production, 21004 for a wrong secret, 21003 for an unknown receipt, 0 otherwise', async () => {
    const { appReceipt, transaction } = await emu.pay(undefined, {
      productId: 'com.example.coins100',
      customer: randomUUID(),
      notifyUrl: '',
    });
    const post = async (url: string, body: unknown) =>
      (await (await fetch(url, { method: 'POST', body: JSON.stringify(body) })).json()) as Record<string, unknown>;
    const { productionUrl, sandboxUrl, sharedSecret } = emu.clientConfig.legacy;
    expect((await post(productionUrl, { 'receipt-data': appReceipt, password: sharedSecret })).status).toBe(21007);
    expect((await post(sandboxUrl, { 'receipt-data': appReceipt, password: 'wrong' })).status).toBe(21004);
    expect((await post(sandboxUrl, { 'receipt-data': 'MIIBAAAA', password: sharedSecret })).status).toBe(21003);
    const ok = await post(sandboxUrl, { 'receipt-data': appReceipt, password: sharedSecret });
    expect(ok.status).toBe(0);
    expect((ok.receipt as { in_app: Array<{ transaction_id: string }> }).in_app[0]?.transaction_id).toBe(transaction.transactionId);
    // the receipt is PKCS#7 BER with indefinite lengths, like Xcode's
    const der = Buffer.from(appReceipt, 'base64');
    expect(der.subarray(0, 2)).toEqual(Buffer.from([0x30, 0x80]));
    expect(der.includes(Buffer.from(transaction.transactionId))).toBe(true);
  });
});

describe('IAP emulator: OCSP responder', () => {
  it('answers for the chain’s certificates; revoked and down under faults', async () => {
    const leafAia = new Certificate(emu.chain.leaf.der).extensions.get('1.3.6.1.5.5.7.1.1');
    expect(Buffer.from(leafAia?.value ?? []).toString('latin1')).toContain(`${emu.url}/ocsp/leaf`);
    // A minimal OCSPRequest with a SHA-256 CertID for the leaf.
    const certId = Buffer.concat([
      Buffer.from('300d06096086480165030402010500', 'hex'),
      Buffer.from([0x04, 0x20]),
      Buffer.alloc(32, 1),
      Buffer.from([0x04, 0x20]),
      Buffer.alloc(32, 2),
      Buffer.from([0x02, 0x01, 0x05]),
    ]);
    const wrap = (tag: number, b: Buffer) => Buffer.concat([Buffer.from([tag, b.length]), b]);
    const request = wrap(0x30, wrap(0x30, wrap(0x30, wrap(0x30, wrap(0x30, certId)))));
    const post = async () => {
      const res = await fetch(`${emu.url}/ocsp/leaf`, {
        method: 'POST',
        body: request,
        headers: { 'content-type': 'application/ocsp-request' },
      });
      return { status: res.status, body: Buffer.from(await res.arrayBuffer()) };
    };
    const good = await post();
    expect(good.status).toBe(200);
    const top = derChildren(readDer(good.body));
    expect(top[0]?.tag).toBe(0x0a); // responseStatus successful
    expect(good.body.includes(Buffer.from([0x80, 0x00]))).toBe(true); // certStatus good
    emu.faults = { ocsp: 'down' };
    expect((await post()).status).toBe(503);
    emu.faults = {};
  });
});

describe('IAP emulator: notifications', () => {
  it('delivers {"signedPayload"} and retries on Apple’s schedule until HTTP 200', async () => {
    replyStatus = 500;
    const before = emu.notifier.log.length;
    const bought = await emu.pay(randomUUID(), { productId: 'com.example.coins100' });
    await emu.idle();
    const attempts = emu.notifier.log.slice(before);
    expect(attempts).toHaveLength(6); // first try + retries after 1, 12, 24, 48, 72 h (scaled)
    const gaps = attempts.slice(1).map((a, i) => a.at - (attempts[i] as { at: number }).at);
    expect(gaps[4]).toBeGreaterThan(gaps[0] as number);
    const body = JSON.parse(bodies.at(-1) as string);
    const { payload, ok } = decode(body.signedPayload);
    expect(ok).toBe(true);
    expect(payload).toMatchObject({ notificationType: 'ONE_TIME_CHARGE', notificationUUID: bought.notificationUUID, version: '2.0' });
    expect(decode((payload.data as { signedTransactionInfo: string }).signedTransactionInfo).payload.transactionId).toBe(
      bought.transaction.transactionId,
    );
    replyStatus = 200;
    const n2 = emu.notifier.log.length;
    await emu.pay(randomUUID(), { productId: 'com.example.coins100' });
    await emu.idle();
    expect(emu.notifier.log.slice(n2)).toHaveLength(1);
  });

  it('the client config is complete: roots, API credentials, legacy secret, products with amounts', () => {
    const c = emu.clientConfig;
    expect(createPublicKey(createPrivateKey(c.api.privateKey)).asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(c.products.find((p) => p.productId === 'com.example.coins100')).toEqual({
      productId: 'com.example.coins100',
      type: 'consumable',
      amount: 600,
      currency: 'CNY',
    });
    expect(c.onlineChecks).toBe(true);
    expect(c.environment).toBe('Sandbox');
  });
});
