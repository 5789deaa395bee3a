// Apple's receipts, Xcode signed data and the promotional-offer signing key (shared/vectors/iap).
import { createPublicKey, verify } from 'node:crypto';
import { PayConfigError, PayMismatchError } from '@pay/core';
import { expect, it } from 'vitest';
import { describeVectors, readVector, readVectorText } from '../../../test-utils/vectors.js';
import {
  extractTransactionIdFromAppReceipt,
  extractTransactionIdFromTransactionReceipt,
  IntroductoryOfferEligibilitySignatureCreator,
  PromotionalOfferSignatureCreator,
  PromotionalOfferV2SignatureCreator,
  readAppReceipt,
  SignedDataVerifier,
  VerificationReason,
} from '../src/index.js';

describeVectors('receipt utility on Apple test receipts', () => {
  it('legacyTransaction (iOS 6 transaction receipt) → 33993399', () => {
    expect(extractTransactionIdFromTransactionReceipt(readVectorText('iap', 'mock_signed_data', 'legacyTransaction'))).toBe('33993399');
  });

  it('xcode-app-receipt-empty (BER, indefinite lengths, no purchase) → null', () => {
    const receipt = readVectorText('iap', 'xcode', 'xcode-app-receipt-empty');
    expect(extractTransactionIdFromAppReceipt(receipt)).toBeNull();
    const contents = readAppReceipt(receipt);
    expect(contents.receipt_type).toBe('Xcode');
    expect(contents.bundle_id).toBe('com.example.naturelab.backyardbirds.example');
    expect(contents.in_app).toEqual([]);
  });

  it('xcode-app-receipt-with-transaction → "0", with the record fields read', () => {
    const receipt = readVectorText('iap', 'xcode', 'xcode-app-receipt-with-transaction');
    expect(extractTransactionIdFromAppReceipt(receipt)).toBe('0');
    const [record] = readAppReceipt(receipt).in_app;
    expect(record).toMatchObject({ product_id: 'pass.premium', transaction_id: '0', quantity: 1 });
    expect(record).not.toHaveProperty('original_transaction_id'); // Xcode writes no 1705
    expect(record?.purchase_date).toBe('2023-10-19T01:45:36Z');
    expect(record?.expires_date).toBe('2023-11-19T01:45:36Z');
  });
});

describeVectors('promotional offer signature v1 with certs/testSigningKey.p8', () => {
  const p8 = () => readVectorText('iap', 'certs', 'testSigningKey.p8');

  it('signs bundleId⁣keyId⁣productId⁣offerId⁣appAccountToken⁣nonce⁣timestamp, verifiable with the key’s public half', () => {
    const creator = new PromotionalOfferSignatureCreator({ privateKey: p8(), keyId: 'keyId', bundleId: 'bundleId' });
    // The official test's arguments.
    const s = creator.createSignature({
      productId: 'productId',
      offerId: 'offerId',
      appAccountToken: 'appAccountToken',
      nonce: '20fba8a0-2b80-4a7d-a17f-85c1854727f8',
      timestamp: 1698148900000,
    });
    const message =
      'bundleId\u2063keyId\u2063productId\u2063offerId\u2063appaccounttoken\u206320fba8a0-2b80-4a7d-a17f-85c1854727f8\u20631698148900000';
    expect(s.payload).toBe(message);
    const publicKey = createPublicKey(p8());
    const signature = Buffer.from(s.signature, 'base64');
    expect(signature[0]).toBe(0x30); // DER ECDSA signature, not raw r||s
    expect(verify('sha256', Buffer.from(message, 'utf8'), publicKey, signature)).toBe(true);
    expect(verify('sha256', Buffer.from(message.replace('offerId', 'offerIe'), 'utf8'), publicKey, signature)).toBe(false);
    expect(s).toMatchObject({ keyIdentifier: 'keyId', nonce: '20fba8a0-2b80-4a7d-a17f-85c1854727f8', timestamp: 1698148900000 });
  });

  it('lower-cases the nonce and the app account token, and signs an empty token as empty', () => {
    const creator = new PromotionalOfferSignatureCreator({
      privateKey: p8(),
      keyId: 'K',
      bundleId: 'B',
      clock: () => 5,
      nonce: () => 'ABCDEF00-0000-4000-8000-000000000000',
    });
    const s = creator.createSignature({ productId: 'p', offerId: 'o' });
    expect(s.payload).toBe('B\u2063K\u2063p\u2063o\u2063\u2063abcdef00-0000-4000-8000-000000000000\u20635');
    expect(verify('sha256', Buffer.from(s.payload), createPublicKey(p8()), Buffer.from(s.signature, 'base64'))).toBe(true);
  });

  it('the JWS creators sign ES256 with kid, iss, aud, bid, nonce and iat', () => {
    const options = {
      privateKey: p8(),
      keyId: 'keyId',
      issuerId: 'issuerId',
      bundleId: 'bundleId',
      clock: () => 1698148900000,
      nonce: () => 'n-1',
    };
    const v2 = new PromotionalOfferV2SignatureCreator(options).createSignature('productId', 'offerIdentifier', 'transactionId');
    const intro = new IntroductoryOfferEligibilitySignatureCreator(options).createSignature('productId', true, 'transactionId');
    for (const [jws, aud, claims] of [
      [v2, 'promotional-offer', { productId: 'productId', offerIdentifier: 'offerIdentifier', transactionId: 'transactionId' }],
      [intro, 'introductory-offer-eligibility', { productId: 'productId', allowIntroductoryOffer: true, transactionId: 'transactionId' }],
    ] as const) {
      const [h, p, s] = jws.split('.') as [string, string, string];
      expect(JSON.parse(Buffer.from(h, 'base64url').toString())).toEqual({ alg: 'ES256', kid: 'keyId', typ: 'JWT' });
      expect(JSON.parse(Buffer.from(p, 'base64url').toString())).toEqual({
        ...claims,
        bid: 'bundleId',
        nonce: 'n-1',
        iss: 'issuerId',
        aud,
        iat: 1698148900,
      });
      expect(
        verify('sha256', Buffer.from(`${h}.${p}`), { key: createPublicKey(p8()), dsaEncoding: 'ieee-p1363' }, Buffer.from(s, 'base64url')),
      ).toBe(true);
    }
    const noTx = new PromotionalOfferV2SignatureCreator(options).createSignature('productId', 'offerIdentifier');
    expect(JSON.parse(Buffer.from(noTx.split('.')[1] as string, 'base64url').toString())).not.toHaveProperty('transactionId');
  });
});

describeVectors('Xcode StoreKit-testing signed data (x5c of one self-signed certificate)', () => {
  const xcode = (name: string) => readVectorText('iap', 'xcode', name).trim();

  it('is refused by Production and Sandbox verifiers, even one that trusts the Xcode certificate: never silently accepted', async () => {
    const header = JSON.parse(Buffer.from(xcode('xcode-signed-transaction').split('.')[0] as string, 'base64url').toString());
    const xcodeCert = Buffer.from(header.x5c[0], 'base64');
    for (const environment of ['Production', 'Sandbox'] as const) {
      const v = new SignedDataVerifier({
        roots: [xcodeCert, readVector('iap', 'certs', 'testCA.der')],
        environment,
        bundleId: 'com.example.naturelab.backyardbirds.example',
        appAppleId: 1,
      });
      await expect(v.verifyTransaction(xcode('xcode-signed-transaction'))).rejects.toMatchObject({
        reason: VerificationReason.INVALID_CHAIN_LENGTH,
      });
    }
  });

  it('an Xcode verifier needs the explicit opt-in, and only Xcode/LocalTesting accept it', () => {
    expect(() => new SignedDataVerifier({ roots: [], environment: 'Xcode', bundleId: 'b' })).toThrow(PayConfigError);
    expect(() => new SignedDataVerifier({ roots: [], environment: 'LocalTesting', bundleId: 'b' })).toThrow(
      /acceptUnverifiedTestEnvironment/,
    );
    expect(
      () =>
        new SignedDataVerifier({ roots: [Buffer.alloc(1)], environment: 'Sandbox', bundleId: 'b', acceptUnverifiedTestEnvironment: true }),
    ).toThrow(/only allowed with the Xcode or LocalTesting/);
  });

  it('with the opt-in, decodes transaction, renewal info and app transaction; still checks bundle and environment', async () => {
    const v = new SignedDataVerifier({
      roots: [],
      environment: 'Xcode',
      bundleId: 'com.example.naturelab.backyardbirds.example',
      acceptUnverifiedTestEnvironment: true,
    });
    const t = await v.verifyTransaction(xcode('xcode-signed-transaction'));
    expect(t).toMatchObject({ productId: 'pass.premium', transactionId: '0', environment: 'Xcode' });
    expect((await v.verifyRenewalInfo(xcode('xcode-signed-renewal-info'))).environment).toBe('Xcode');
    expect((await v.verifyAppTransaction(xcode('xcode-signed-app-transaction'))).receiptType).toBe('Xcode');
    const other = new SignedDataVerifier({ roots: [], environment: 'Xcode', bundleId: 'com.other', acceptUnverifiedTestEnvironment: true });
    await expect(other.verifyTransaction(xcode('xcode-signed-transaction'))).rejects.toBeInstanceOf(PayMismatchError);
    const local = new SignedDataVerifier({
      roots: [],
      environment: 'LocalTesting',
      bundleId: 'com.example.naturelab.backyardbirds.example',
      acceptUnverifiedTestEnvironment: true,
    });
    await expect(local.verifyTransaction(xcode('xcode-signed-transaction'))).rejects.toMatchObject({
      reason: VerificationReason.INVALID_ENVIRONMENT,
    });
  });
});
