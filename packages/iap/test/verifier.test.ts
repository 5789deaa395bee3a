// Always-on tests of signed-data verification: every branch rejects, with a generated EC P-256
// chain carrying Apple's OIDs (built by @pay/sandbox, never Apple's keys).
import { generateKeyPairSync, sign as nodeSign } from 'node:crypto';
import { Certificate, PayCertificateError, PayConfigError, PayMismatchError, PaySignatureError, type Transport } from '@pay/core';
import { APPLE_INTERMEDIATE_OID, APPLE_LEAF_OID, createAppleTestCertificate, generateAppleTestChain } from '@pay/sandbox';
import { describe, expect, it } from 'vitest';
import { SignedDataVerifier, VerificationReason, verifyAppleChain } from '../src/index.js';
import { NOW, rejection, sign, testChain, transactionPayload, verifierFor } from './helpers.js';

const failingTransport: Transport = {
  request: async () => {
    throw new Error('no network expected in this test');
  },
};

describe('generated chain', () => {
  it('carries Apple’s OIDs on leaf and intermediate, and the intermediate is a CA', () => {
    const chain = testChain();
    const leaf = new Certificate(chain.leaf.der);
    const intermediate = new Certificate(chain.intermediate.der);
    expect(leaf.hasExtension(APPLE_LEAF_OID)).toBe(true);
    expect(intermediate.hasExtension(APPLE_INTERMEDIATE_OID)).toBe(true);
    expect(intermediate.isCA).toBe(true);
    expect(leaf.isCA).toBe(false);
    expect(leaf.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    const path = verifyAppleChain(leaf, intermediate, [new Certificate(chain.root.der)], NOW);
    expect(path.root.der.equals(chain.root.der)).toBe(true);
  });
});

describe('SignedDataVerifier: success paths', () => {
  it('verifies a signed transaction and returns its payload as signed', async () => {
    const chain = testChain();
    const payload = transactionPayload({ appAccountToken: '7e3fb20b-4cdb-47cc-936d-99d65f608138' });
    const tx = await verifierFor(chain).verifyTransaction(sign(payload, chain));
    expect(tx).toEqual(payload);
  });

  it('caches the leaf key by x5c header: one chain verification, bounded, per instance', async () => {
    const chain = testChain();
    const v = verifierFor(chain, { cacheSize: 2 });
    expect(v.cachedChains).toBe(0);
    await v.verifyTransaction(sign(transactionPayload(), chain));
    await v.verifyTransaction(sign(transactionPayload({ transactionId: '2' }), chain));
    expect(v.cachedChains).toBe(1);
    // rotated certificates (same root) are new entries; the oldest is evicted past the bound
    for (let i = 0; i < 3; i++) {
      const rotated = generateAppleTestChain({ now: NOW, root: chain.root });
      await v.verifyTransaction(sign(transactionPayload(), rotated));
    }
    expect(v.cachedChains).toBe(2);
    expect(verifierFor(chain).cachedChains).toBe(0);
    v.clearCache();
    expect(v.cachedChains).toBe(0);
  });

  it('rotated chains of the same shape each get an entry; a hit needs the exact header (regression: fingerprint slots evicted each other)', async () => {
    const chain = testChain();
    const v = verifierFor(chain);
    for (let i = 0; i < 12; i++) {
      const rotated = generateAppleTestChain({ now: NOW, root: chain.root });
      await v.verifyTransaction(sign(transactionPayload(), rotated));
    }
    expect(v.cachedChains).toBe(12);
    // Headers that differ only at the end share a fingerprint: both are cached, neither is confused with the other.
    await v.verifyTransaction(sign(transactionPayload(), chain, { kid: 'AAAA' }));
    await v.verifyTransaction(sign(transactionPayload(), chain, { kid: 'BBBB' }));
    expect(v.cachedChains).toBe(14);
    const attacker = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const forged = sign(
      transactionPayload(),
      { leaf: { ...chain.leaf, privateKey: attacker.privateKey }, x5c: chain.x5c },
      { kid: 'CCCC' },
    );
    expect((await rejection(v.verifyTransaction(forged))).reason).toBe(VerificationReason.VERIFICATION_FAILURE);
  });

  it('online checks off: certificates are checked at signedDate, so data signed while the leaf was valid still verifies', async () => {
    const chain = testChain({ leafValidity: { notBefore: NOW - 30 * 86_400_000, notAfter: NOW - 86_400_000 } });
    const old = sign(transactionPayload({ signedDate: NOW - 10 * 86_400_000 }), chain);
    await expect(verifierFor(chain).verifyTransaction(old)).resolves.toMatchObject({ transactionId: '2000000000000001' });
    // with online checks the effective date is now: the expired leaf is refused before any OCSP call
    const online = verifierFor(chain, { onlineChecks: true, transport: failingTransport });
    const e = await rejection(online.verifyTransaction(old));
    expect(e).toBeInstanceOf(PayCertificateError);
    expect(e.reason).toBe(VerificationReason.INVALID_CERTIFICATE);
  });

  it('a cached chain still refuses a signedDate outside its validity', async () => {
    const chain = testChain({ leafValidity: { notBefore: NOW - 30 * 86_400_000, notAfter: NOW - 86_400_000 } });
    const v = verifierFor(chain);
    await v.verifyTransaction(sign(transactionPayload({ signedDate: NOW - 10 * 86_400_000 }), chain));
    expect(v.cachedChains).toBe(1);
    for (const signedDate of [NOW - 1000, NOW - 40 * 86_400_000]) {
      const e = await rejection(v.verifyTransaction(sign(transactionPayload({ signedDate }), chain)));
      expect(e.reason).toBe(VerificationReason.INVALID_CERTIFICATE);
      expect(e.message).toMatch(signedDate < NOW - 30 * 86_400_000 ? /not valid before/ : /expired at/);
    }
  });

  it('no signedDate: checked at the clock', async () => {
    const chain = testChain({ leafValidity: { notBefore: NOW - 30 * 86_400_000, notAfter: NOW - 86_400_000 } });
    const { signedDate: _, ...noDate } = transactionPayload();
    const e = await rejection(verifierFor(chain).verifyTransaction(sign(noDate, chain)));
    expect(e.reason).toBe(VerificationReason.INVALID_CERTIFICATE);
  });
});

describe('SignedDataVerifier: the header and x5c', () => {
  const chain = testChain();
  const payload = transactionPayload();

  it.each([
    ['two certificates', { x5c: [chain.x5c[0], chain.x5c[1]] }],
    ['four certificates', { x5c: [...chain.x5c, chain.x5c[2]] }],
    ['one certificate', { x5c: [chain.x5c[0]] }],
    ['x5c a string', { x5c: chain.x5c[0] }],
    ['x5c null', { x5c: null }],
  ])('%s → certificate error, reason INVALID_CHAIN_LENGTH', async (_name, header) => {
    const e = await rejection(verifierFor(chain).verifyTransaction(sign(payload, chain, header)));
    expect(e).toBeInstanceOf(PayCertificateError);
    expect(e.reason).toBe(VerificationReason.INVALID_CHAIN_LENGTH);
  });

  it.each([
    ['x5c[0] not base64', { x5c: ['***', chain.x5c[1], chain.x5c[2]] }],
    ['x5c[0] base64 of garbage', { x5c: [Buffer.from('not a certificate at all').toString('base64'), chain.x5c[1], chain.x5c[2]] }],
    ['x5c[1] a number', { x5c: [chain.x5c[0], 42, chain.x5c[2]] }],
    ['x5c[1] empty', { x5c: [chain.x5c[0], '', chain.x5c[2]] }],
  ])('%s → INVALID_CERTIFICATE', async (_name, header) => {
    const e = await rejection(verifierFor(chain).verifyTransaction(sign(payload, chain, header)));
    expect(e).toBeInstanceOf(PayCertificateError);
    expect(e.reason).toBe(VerificationReason.INVALID_CERTIFICATE);
  });

  it.each([
    ['HS256', { alg: 'HS256' }],
    ['none', { alg: 'none' }],
    ['RS256', { alg: 'RS256' }],
    ['a crit header', { crit: ['b64'] }],
  ])('alg or header %s → VERIFICATION_FAILURE (the algorithm comes from config)', async (_name, header) => {
    const e = await rejection(verifierFor(chain).verifyTransaction(sign(payload, chain, header)));
    expect(e.reason).toBe(VerificationReason.VERIFICATION_FAILURE);
  });

  it('a header that is not JSON, or not base64url → VERIFICATION_FAILURE', async () => {
    const [, p, s] = sign(payload, chain).split('.');
    for (const h of [Buffer.from('{"alg":').toString('base64url'), 'e30+', Buffer.from('[1,2]').toString('base64url')]) {
      const e = await rejection(verifierFor(chain).verifyTransaction(`${h}.${p}.${s}`));
      expect(e.reason).toBe(VerificationReason.VERIFICATION_FAILURE);
    }
  });
});

describe('SignedDataVerifier: the signature', () => {
  const chain = testChain();
  const jws = sign(transactionPayload(), chain);

  it('signed by another key under the same x5c → VERIFICATION_FAILURE', async () => {
    const other = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const [h, p] = jws.split('.');
    const forged = nodeSign('sha256', Buffer.from(`${h}.${p}`), { key: other.privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64url');
    const e = await rejection(verifierFor(chain).verifyTransaction(`${h}.${p}.${forged}`));
    expect(e).toBeInstanceOf(PaySignatureError);
    expect(e.reason).toBe(VerificationReason.VERIFICATION_FAILURE);
  });

  it('a DER signature instead of r||s, an empty one, a truncated one → VERIFICATION_FAILURE', async () => {
    const [h, p] = jws.split('.');
    const der = nodeSign('sha256', Buffer.from(`${h}.${p}`), chain.leaf.privateKey).toString('base64url');
    for (const s of [der, '', 'AAAA', jws.split('.')[2]?.slice(0, 40)]) {
      const e = await rejection(verifierFor(chain).verifyTransaction(`${h}.${p}.${s}`));
      expect(e.reason).toBe(VerificationReason.VERIFICATION_FAILURE);
    }
  });

  it('a changed payload field → VERIFICATION_FAILURE; a payload that is not a JSON object → VERIFICATION_FAILURE', async () => {
    const [h, , s] = jws.split('.');
    const changed = Buffer.from(JSON.stringify(transactionPayload({ productId: 'com.example.premium' }))).toString('base64url');
    expect((await rejection(verifierFor(chain).verifyTransaction(`${h}.${changed}.${s}`))).reason).toBe(
      VerificationReason.VERIFICATION_FAILURE,
    );
    for (const body of ['"str"', '[1]', 'null', '{']) {
      const e = await rejection(verifierFor(chain).verifyTransaction(`${h}.${Buffer.from(body).toString('base64url')}.${s}`));
      expect(e.reason).toBe(VerificationReason.VERIFICATION_FAILURE);
    }
  });

  it('bad input never crashes: every value yields a PayError', async () => {
    for (const input of [undefined, null, 42, {}, [], '..', 'a..b', '.b.c', `${jws}.x`, 'é.é.é']) {
      await rejection(verifierFor(chain).verifyTransaction(input as unknown as string));
    }
  });
});

describe('SignedDataVerifier: the chain', () => {
  const payload = transactionPayload();

  async function reasonOf(chain: ReturnType<typeof testChain>, roots = [chain.root.der]) {
    const e = await rejection(verifierFor(chain, { roots }).verifyTransaction(sign(payload, chain)));
    return e;
  }

  it('leaf without Apple’s leaf OID → VERIFICATION_FAILURE', async () => {
    const e = await reasonOf(testChain({ leafOid: null }));
    expect(e.reason).toBe(VerificationReason.VERIFICATION_FAILURE);
    expect(e.message).toContain(APPLE_LEAF_OID);
  });

  it('leaf with the wrong OID (…6.11.2) → VERIFICATION_FAILURE', async () => {
    expect((await reasonOf(testChain({ leafOid: '1.2.840.113635.100.6.11.2' }))).reason).toBe(VerificationReason.VERIFICATION_FAILURE);
  });

  it('intermediate without Apple’s WWDR OID → VERIFICATION_FAILURE', async () => {
    const e = await reasonOf(testChain({ intermediateOid: null }));
    expect(e.reason).toBe(VerificationReason.VERIFICATION_FAILURE);
    expect(e.message).toContain(APPLE_INTERMEDIATE_OID);
  });

  it('intermediate that is not a CA → VERIFICATION_FAILURE', async () => {
    const e = await reasonOf(testChain({ intermediateIsCA: false }));
    expect(e.reason).toBe(VerificationReason.VERIFICATION_FAILURE);
    expect(e.message).toMatch(/not a CA|may not sign certificates/);
  });

  it('a whole chain made by an attacker (Apple OIDs, its own root as x5c[2]) → VERIFICATION_FAILURE: x5c[2] is never trusted', async () => {
    const trusted = testChain();
    const attacker = testChain();
    const e = await reasonOf(attacker, [trusted.root.der]);
    expect(e).toBeInstanceOf(PayCertificateError);
    expect(e.reason).toBe(VerificationReason.VERIFICATION_FAILURE);
    expect(e.message).toMatch(/does not chain to a configured root/);
  });

  it('the trusted root in x5c[2] does not help a foreign intermediate', async () => {
    const trusted = testChain();
    const attacker = testChain();
    const jws = sign(payload, attacker, { x5c: [attacker.x5c[0], attacker.x5c[1], trusted.x5c[2]] });
    const e = await rejection(verifierFor(trusted).verifyTransaction(jws));
    expect(e.reason).toBe(VerificationReason.VERIFICATION_FAILURE);
  });

  it('a leaf issued directly by the root (no intermediate), presented with the root as x5c[1] → VERIFICATION_FAILURE', async () => {
    const chain = testChain();
    const leaf = createAppleTestCertificate({
      subject: [['CN', 'direct leaf']],
      serial: 77,
      notBefore: NOW - 86_400_000,
      notAfter: NOW + 86_400_000,
      issuer: chain.root,
      markerOids: [APPLE_LEAF_OID, APPLE_INTERMEDIATE_OID],
    });
    const rootAsIntermediate = createAppleTestCertificate({
      subject: [
        ['CN', 'Test Root CA - G3'],
        ['OU', 'pay-sdk sandbox'],
        ['O', 'pay-sdk'],
        ['C', 'US'],
      ],
      serial: 78,
      notBefore: NOW - 86_400_000,
      notAfter: NOW + 86_400_000,
      issuer: chain.root,
      keyPair: { privateKey: chain.root.privateKey, publicKey: chain.root.publicKey },
      ca: true,
      markerOids: [APPLE_INTERMEDIATE_OID],
    });
    const fake = {
      leaf,
      x5c: [leaf.der.toString('base64'), rootAsIntermediate.der.toString('base64'), chain.x5c[2]] as [string, string, string],
    };
    const e = await rejection(verifierFor(chain).verifyTransaction(sign(payload, fake)));
    expect(e.reason).toBe(VerificationReason.VERIFICATION_FAILURE);
  });

  it('a leaf with an RSA key, or a P-384 key → VERIFICATION_FAILURE (ES256 needs P-256)', async () => {
    for (const keyPair of [generateKeyPairSync('rsa', { modulusLength: 2048 }), generateKeyPairSync('ec', { namedCurve: 'secp384r1' })]) {
      const chain = testChain();
      const leaf = createAppleTestCertificate({
        subject: [['CN', 'odd key leaf']],
        serial: 90,
        notBefore: NOW - 86_400_000,
        notAfter: NOW + 86_400_000,
        issuer: chain.intermediate,
        keyPair,
        markerOids: [APPLE_LEAF_OID],
      });
      const jws = sign(payload, {
        leaf: { ...chain.leaf, privateKey: chain.leaf.privateKey },
        x5c: [leaf.der.toString('base64'), chain.x5c[1], chain.x5c[2]],
      });
      const e = await rejection(verifierFor(chain).verifyTransaction(jws));
      expect(e.reason).toBe(VerificationReason.VERIFICATION_FAILURE);
      expect(e.message).toMatch(/EC P-256/);
    }
  });

  it('an intermediate or root outside its validity → INVALID_CERTIFICATE', async () => {
    const old = generateAppleTestChain({ now: NOW, notBefore: NOW - 10 * 86_400_000, notAfter: NOW - 86_400_000 });
    const e = await rejection(verifierFor(old).verifyTransaction(sign(transactionPayload({ signedDate: NOW }), old)));
    expect(e.reason).toBe(VerificationReason.INVALID_CERTIFICATE);
    const future = generateAppleTestChain({ now: NOW, notBefore: NOW + 86_400_000, notAfter: NOW + 10 * 86_400_000 });
    expect((await rejection(verifierFor(future).verifyTransaction(sign(transactionPayload(), future)))).reason).toBe(
      VerificationReason.INVALID_CERTIFICATE,
    );
  });
});

describe('SignedDataVerifier: app and environment', () => {
  const chain = testChain();

  it('transaction of another bundle → INVALID_APP_IDENTIFIER; of another environment → INVALID_ENVIRONMENT', async () => {
    const e1 = await rejection(verifierFor(chain).verifyTransaction(sign(transactionPayload({ bundleId: 'com.evil' }), chain)));
    expect(e1).toBeInstanceOf(PayMismatchError);
    expect(e1.reason).toBe(VerificationReason.INVALID_APP_IDENTIFIER);
    const e2 = await rejection(verifierFor(chain, { environment: 'Production' }).verifyTransaction(sign(transactionPayload(), chain)));
    expect(e2.reason).toBe(VerificationReason.INVALID_ENVIRONMENT);
    expect(e2.hint).toMatch(/sandboxFallback/);
    for (const environment of ['Xcode', 'LocalTesting', 'sandbox', undefined]) {
      const e = await rejection(verifierFor(chain).verifyTransaction(sign(transactionPayload({ environment }), chain)));
      expect(e.reason).toBe(VerificationReason.INVALID_ENVIRONMENT);
    }
  });

  it('renewal info: environment checked', async () => {
    const v = verifierFor(chain);
    const info = { originalTransactionId: '1', productId: 'p', autoRenewStatus: 1, signedDate: NOW, environment: 'Sandbox' };
    await expect(v.verifyRenewalInfo(sign(info, chain))).resolves.toEqual(info);
    expect((await rejection(v.verifyRenewalInfo(sign({ ...info, environment: 'Production' }, chain)))).reason).toBe(
      VerificationReason.INVALID_ENVIRONMENT,
    );
  });

  it('notifications: bundle, appAppleId (production) and environment from data, summary, externalPurchaseToken or appData', async () => {
    const prod = verifierFor(chain, { environment: 'Production' });
    const base = { notificationType: 'TEST', notificationUUID: 'u-1', signedDate: NOW, version: '2.0' };
    const data = { appAppleId: 1234567890, bundleId: 'com.example.app', environment: 'Production' };
    await expect(prod.verifyNotification(sign({ ...base, data }, chain))).resolves.toMatchObject({ notificationType: 'TEST' });
    await expect(prod.verifyNotification(sign({ ...base, summary: data }, chain))).resolves.toBeDefined();
    await expect(prod.verifyNotification(sign({ ...base, appData: data }, chain))).resolves.toBeDefined();
    const token = { appAppleId: 1234567890, bundleId: 'com.example.app', externalPurchaseId: 'b2158121' };
    await expect(prod.verifyNotification(sign({ ...base, externalPurchaseToken: token }, chain))).resolves.toBeDefined();
    const sandboxToken = { ...token, externalPurchaseId: 'SANDBOX_b2158121' };
    expect((await rejection(prod.verifyNotification(sign({ ...base, externalPurchaseToken: sandboxToken }, chain)))).reason).toBe(
      VerificationReason.INVALID_ENVIRONMENT,
    );
    expect((await rejection(prod.verifyNotification(sign({ ...base, data: { ...data, appAppleId: 1 } }, chain)))).reason).toBe(
      VerificationReason.INVALID_APP_IDENTIFIER,
    );
    expect((await rejection(prod.verifyNotification(sign({ ...base, data: { ...data, bundleId: 'x' } }, chain)))).reason).toBe(
      VerificationReason.INVALID_APP_IDENTIFIER,
    );
    expect((await rejection(prod.verifyNotification(sign(base, chain)))).reason).toBe(VerificationReason.INVALID_APP_IDENTIFIER);
    // in the sandbox appAppleId is not checked (Apple omits it there)
    const sandbox = verifierFor(chain);
    await expect(
      sandbox.verifyNotification(sign({ ...base, data: { bundleId: 'com.example.app', environment: 'Sandbox' } }, chain)),
    ).resolves.toBeDefined();
  });

  it('app transactions: checked at receiptCreationDate, bundle, appAppleId and receiptType', async () => {
    const prod = verifierFor(chain, { environment: 'Production' });
    const app = { receiptType: 'Production', appAppleId: 1234567890, bundleId: 'com.example.app', receiptCreationDate: NOW - 1000 };
    await expect(prod.verifyAppTransaction(sign(app, chain))).resolves.toEqual(app);
    expect((await rejection(prod.verifyAppTransaction(sign({ ...app, appAppleId: 5 }, chain)))).reason).toBe(
      VerificationReason.INVALID_APP_IDENTIFIER,
    );
    expect((await rejection(prod.verifyAppTransaction(sign({ ...app, receiptType: 'Sandbox' }, chain)))).reason).toBe(
      VerificationReason.INVALID_ENVIRONMENT,
    );
    const expiredLeaf = testChain({ leafValidity: { notBefore: NOW - 30 * 86_400_000, notAfter: NOW - 86_400_000 } });
    const v = verifierFor(expiredLeaf, { environment: 'Production' });
    await expect(v.verifyAppTransaction(sign({ ...app, receiptCreationDate: NOW - 5 * 86_400_000 }, expiredLeaf))).resolves.toBeDefined();
    expect((await rejection(v.verifyAppTransaction(sign(app, expiredLeaf)))).reason).toBe(VerificationReason.INVALID_CERTIFICATE);
  });

  it('typed fields: a wrong type is refused (VERIFICATION_FAILURE), unknown fields pass through', async () => {
    const v = verifierFor(chain);
    for (const bad of [
      { price: '6000' },
      { transactionId: 2000000000000001 },
      { signedDate: 'yesterday' },
      { isUpgraded: 'true' },
      { quantity: null },
    ]) {
      const e = await rejection(v.verifyTransaction(sign(transactionPayload(bad), chain)));
      expect(e.reason).toBe(VerificationReason.VERIFICATION_FAILURE);
    }
    const tx = await v.verifyTransaction(sign(transactionPayload({ newAppleField: { x: 1 } }), chain));
    expect(tx.newAppleField).toEqual({ x: 1 });
  });
});

describe('SignedDataVerifier: configuration fails at construction', () => {
  const chain = testChain();
  const base = { roots: [chain.root.der], bundleId: 'b', environment: 'Sandbox' as const };

  it.each([
    ['no roots', { ...base, roots: [] }, /at least one root/],
    ['a root that is not a certificate', { ...base, roots: [Buffer.from('nope')] }, /roots\[0\]/],
    ['no bundle id', { ...base, bundleId: '' }, /bundleId/],
    ['an unknown environment', { ...base, environment: 'Staging' }, /environment/],
    ['production without appAppleId', { ...base, environment: 'Production' }, /appAppleId/],
  ])('%s → PayConfigError', (_name, options, message) => {
    expect(() => new SignedDataVerifier(options as never)).toThrow(PayConfigError);
    expect(() => new SignedDataVerifier(options as never)).toThrow(message);
  });

  it('roots may be PEM, base64 DER, DER or Certificate objects', async () => {
    const pem = new Certificate(chain.root.der).pem;
    for (const root of [pem, chain.root.der.toString('base64'), chain.root.der, new Certificate(chain.root.der)]) {
      const v = new SignedDataVerifier({ ...base, roots: [root], bundleId: 'com.example.app', clock: () => NOW });
      await expect(v.verifyTransaction(sign(transactionPayload(), chain))).resolves.toBeDefined();
    }
  });
});
