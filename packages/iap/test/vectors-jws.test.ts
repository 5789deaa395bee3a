// Apple's own test material (shared/vectors/iap, from apple/app-store-server-library-node 3.1.0):
// which root verifies which JWS at which effective date, and the result of each official test.
import { Certificate, PayCertificateError, PayMismatchError, PaySignatureError } from '@pay/core';
import { expect, it } from 'vitest';
import { describeVectors, readVector, readVectorText } from '../../../test-utils/vectors.js';
import { SignedDataVerifier, VerificationReason, verifyAppleChain } from '../src/index.js';

const signed = (name: string) => readVectorText('iap', 'mock_signed_data', name).trim();
const cert = (name: string) => new Certificate(readVector('iap', 'chain_certs', name));
// Effective date of the official chain tests (October 2025).
const EFFECTIVE_DATE = 1761962975000;

function verifier(environment: 'Sandbox' | 'Production', bundleId = 'com.example') {
  // As the official helper: testCA.der as the only root, online checks off, appAppleId 1234.
  return new SignedDataVerifier({
    roots: [readVector('iap', 'certs', 'testCA.der')],
    environment,
    bundleId,
    appAppleId: 1234,
    clock: () => EFFECTIVE_DATE,
  });
}

async function rejection(p: Promise<unknown>): Promise<Error & { reason?: string }> {
  try {
    await p;
  } catch (e) {
    return e as Error & { reason?: string };
  }
  throw new Error('expected a rejection');
}

describeVectors('App Store signed data: Apple test vectors, testCA.der as the only root, online checks off', () => {
  it('testNotification verifies with a Sandbox verifier for com.example and is of type TEST', async () => {
    const n = await verifier('Sandbox').verifyNotification(signed('testNotification'));
    expect(n.notificationType).toBe('TEST');
    expect(n.notificationUUID).toBe('9ad56bd2-0bc6-42e0-af24-fd996d87a1e6');
    expect(n.data?.environment).toBe('Sandbox');
    expect(n.data?.bundleId).toBe('com.example');
  });

  it('testNotification with a Production verifier → INVALID_ENVIRONMENT', async () => {
    const e = await rejection(verifier('Production').verifyNotification(signed('testNotification')));
    expect(e).toBeInstanceOf(PayMismatchError);
    expect(e.reason).toBe(VerificationReason.INVALID_ENVIRONMENT);
    expect(e.message).toMatch(/^@pay\/iap: notification: expected environment Production, got "Sandbox"/);
  });

  it('renewalInfo (chain A, x5c[2] = testCA) decodes with environment Sandbox', async () => {
    const r = await verifier('Sandbox').verifyRenewalInfo(signed('renewalInfo'));
    expect(r.environment).toBe('Sandbox');
    expect(r.signedDate).toBe(1672956154000);
  });

  it('transactionInfo (chain B, x5c[2] a look-alike of testCA) decodes as a transaction and as renewal info', async () => {
    const v = verifier('Sandbox');
    const t = await v.verifyTransaction(signed('transactionInfo'));
    expect(t.bundleId).toBe('com.example');
    expect(t.environment).toBe('Sandbox');
    const r = await v.verifyRenewalInfo(signed('transactionInfo'));
    expect(r.environment).toBe('Sandbox');
  });

  it('transactionInfo for bundle com.example.x → INVALID_APP_IDENTIFIER', async () => {
    const e = await rejection(verifier('Sandbox', 'com.example.x').verifyTransaction(signed('transactionInfo')));
    expect(e).toBeInstanceOf(PayMismatchError);
    expect(e.reason).toBe(VerificationReason.INVALID_APP_IDENTIFIER);
  });

  it('wrongBundleId (no signedDate: checked at the clock) → INVALID_APP_IDENTIFIER', async () => {
    const e = await rejection(verifier('Sandbox').verifyNotification(signed('wrongBundleId')));
    expect(e).toBeInstanceOf(PayMismatchError);
    expect(e.reason).toBe(VerificationReason.INVALID_APP_IDENTIFIER);
    expect(e.message).toContain('"com.example.wrong"');
  });

  it('missingX5CHeaderClaim (header has x5cwrong) → invalid certificate, reason INVALID_CHAIN_LENGTH', async () => {
    const e = await rejection(verifier('Production').verifyNotification(signed('missingX5CHeaderClaim')));
    expect(e).toBeInstanceOf(PayCertificateError);
    expect(e.reason).toBe(VerificationReason.INVALID_CHAIN_LENGTH);
    expect(e.message).toContain('no x5c header');
  });

  it('a tampered payload (one claim changed, signature kept) → VERIFICATION_FAILURE', async () => {
    const [h, p, s] = signed('testNotification').split('.') as [string, string, string];
    const payload = JSON.parse(Buffer.from(p, 'base64url').toString('utf8'));
    payload.notificationType = 'REFUND';
    const tampered = `${h}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${s}`;
    const e = await rejection(verifier('Sandbox').verifyNotification(tampered));
    expect(e).toBeInstanceOf(PaySignatureError);
    expect(e.reason).toBe(VerificationReason.VERIFICATION_FAILURE);
  });

  it('a flipped signature byte, an empty signature and the official malformed JWTs → VERIFICATION_FAILURE', async () => {
    const good = signed('testNotification');
    const last = good.at(-2) === 'A' ? 'B' : 'A';
    const flipped = `${good.slice(0, -2)}${last}${good.at(-1)}`;
    for (const bad of [flipped, `${good.slice(0, good.lastIndexOf('.'))}.`, 'a.b.c', 'a.b.c.d', '', 'not a jws']) {
      const e = await rejection(verifier('Sandbox').verifyNotification(bad));
      expect(e.reason, bad.slice(0, 20)).toBe(VerificationReason.VERIFICATION_FAILURE);
    }
  });

  it('the same data with a root that did not issue it → VERIFICATION_FAILURE', async () => {
    const v = new SignedDataVerifier({
      roots: [readVector('iap', 'chain_certs', 'real_apple_root.der')],
      environment: 'Sandbox',
      bundleId: 'com.example',
      clock: () => EFFECTIVE_DATE,
    });
    const e = await rejection(v.verifyNotification(signed('testNotification')));
    expect(e).toBeInstanceOf(PayCertificateError);
    expect(e.reason).toBe(VerificationReason.VERIFICATION_FAILURE);
  });
});

describeVectors('Apple chain rules on chain_certs/ (jws_verification.test.ts constants)', () => {
  const root = () => [cert('root_ca.der')];

  it('valid at 1761962975000: yields the leaf key of leaf_cert_public_key.spki.der', () => {
    const chain = verifyAppleChain(cert('leaf_cert.der'), cert('intermediate_ca.der'), root(), EFFECTIVE_DATE);
    expect(chain.publicKey.export({ type: 'spki', format: 'der' })).toEqual(
      readVector('iap', 'chain_certs', 'leaf_cert_public_key.spki.der'),
    );
  });

  function chainError(fn: () => unknown): PayCertificateError {
    try {
      fn();
    } catch (e) {
      expect(e).toBeInstanceOf(PayCertificateError);
      return e as PayCertificateError;
    }
    throw new Error('expected a PayCertificateError');
  }

  it('invalid at 2280946846000 (expired) → INVALID_CERTIFICATE', () => {
    const e = chainError(() => verifyAppleChain(cert('leaf_cert.der'), cert('intermediate_ca.der'), root(), 2280946846000));
    expect(e.reason).toBe(VerificationReason.INVALID_CERTIFICATE);
    expect(e.message).toMatch(/^@pay\/iap: chain: .*expired at 2033-01-01T21:31:34\.000Z; checked at 2042-04-12/);
  });

  it('intermediate with OID …6.2.2 instead of …6.2.1 → VERIFICATION_FAILURE', () => {
    const e = chainError(() =>
      verifyAppleChain(
        cert('leaf_cert_for_intermediate_ca_invalid_oid.der'),
        cert('intermediate_ca_invalid_oid.der'),
        root(),
        EFFECTIVE_DATE,
      ),
    );
    expect(e.reason).toBe(VerificationReason.VERIFICATION_FAILURE);
    expect(e.message).toContain('1.2.840.113635.100.6.2.1');
  });

  it('leaf with OID …6.11.2 instead of …6.11.1 → VERIFICATION_FAILURE', () => {
    const e = chainError(() => verifyAppleChain(cert('leaf_cert_invalid_oid.der'), cert('intermediate_ca.der'), root(), EFFECTIVE_DATE));
    expect(e.reason).toBe(VerificationReason.VERIFICATION_FAILURE);
    expect(e.message).toContain('1.2.840.113635.100.6.11.1');
  });

  it('an empty root list → VERIFICATION_FAILURE', () => {
    const e = chainError(() => verifyAppleChain(cert('leaf_cert.der'), cert('intermediate_ca.der'), [], EFFECTIVE_DATE));
    expect(e.reason).toBe(VerificationReason.VERIFICATION_FAILURE);
  });

  it('the real Apple Root CA - G3 as the only root, with the test chain → VERIFICATION_FAILURE', () => {
    const e = chainError(() =>
      verifyAppleChain(cert('leaf_cert.der'), cert('intermediate_ca.der'), [cert('real_apple_root.der')], EFFECTIVE_DATE),
    );
    expect(e.reason).toBe(VerificationReason.VERIFICATION_FAILURE);
  });

  it('the real Apple chain (G3 → WWDR G6 → receipt signing) passes the offline rules at a date inside its validity', () => {
    const chain = verifyAppleChain(
      cert('real_apple_signing_certificate.der'),
      cert('real_apple_intermediate.der'),
      [cert('real_apple_root.der')],
      Date.UTC(2026, 0, 1),
    );
    expect(chain.root.commonName).toBe('Apple Root CA - G3');
  });

  it('the real leaf against the test root, and the test leaf with the real intermediate → VERIFICATION_FAILURE', () => {
    expect(
      chainError(() =>
        verifyAppleChain(cert('real_apple_signing_certificate.der'), cert('real_apple_intermediate.der'), root(), Date.UTC(2026, 0, 1)),
      ).reason,
    ).toBe(VerificationReason.VERIFICATION_FAILURE);
    expect(
      chainError(() =>
        verifyAppleChain(cert('leaf_cert.der'), cert('real_apple_intermediate.der'), [cert('real_apple_root.der')], EFFECTIVE_DATE),
      ).reason,
    ).toBe(VerificationReason.VERIFICATION_FAILURE);
  });
});
