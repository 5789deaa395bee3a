// @pay/iap: StoreKit 2 signed-transaction verification (ES256 JWS, x5c chained to the configured
// root) against raw node:crypto doing the same essential work with pre-parsed KeyObjects, with the
// chain cache warm (one ES256 verification) and cold (certificates parsed and chained each time);
// promotional offer signing against a raw ECDSA sign.
import { sign, verify, X509Certificate } from 'node:crypto';
import { PromotionalOfferSignatureCreator, SignedDataVerifier } from '@pay/iap';
import { generateAppleTestChain, signAppleJws } from '@pay/sandbox';

export function cases() {
  const now = Date.now();
  const chain = generateAppleTestChain({ now });
  const payload = {
    transactionId: '2000000123456789',
    originalTransactionId: '2000000123456789',
    bundleId: 'com.example.app',
    productId: 'com.example.coins100',
    purchaseDate: now - 60_000,
    originalPurchaseDate: now - 60_000,
    quantity: 1,
    type: 'Consumable',
    appAccountToken: '7e3fb20b-4cdb-47cc-936d-99d65f608138',
    inAppOwnershipType: 'PURCHASED',
    signedDate: now - 1000,
    environment: 'Production',
    transactionReason: 'PURCHASE',
    storefront: 'CHN',
    storefrontId: '143465',
    price: 6000,
    currency: 'CNY',
    appTransactionId: '704000000000001',
  };
  const jws = signAppleJws(payload, chain);
  const options = {
    roots: [chain.root.der],
    bundleId: 'com.example.app',
    environment: 'Production',
    appAppleId: 1234567890,
    clock: () => now,
  };
  const warm = new SignedDataVerifier(options);
  const cold = new SignedDataVerifier(options);

  // Raw node:crypto baselines, keys parsed once.
  const leafKey = new X509Certificate(chain.leaf.der).publicKey;
  const rootKey = new X509Certificate(chain.root.der).publicKey;
  const rawEs256 = () => {
    const d2 = jws.lastIndexOf('.');
    return verify(
      'sha256',
      Buffer.from(jws.slice(0, d2), 'latin1'),
      { key: leafKey, dsaEncoding: 'ieee-p1363' },
      Buffer.from(jws.slice(d2 + 1), 'base64url'),
    );
  };
  const rawChainAndEs256 = () => {
    const header = JSON.parse(Buffer.from(jws.slice(0, jws.indexOf('.')), 'base64url').toString('utf8'));
    const leaf = new X509Certificate(Buffer.from(header.x5c[0], 'base64'));
    const intermediate = new X509Certificate(Buffer.from(header.x5c[1], 'base64'));
    if (!leaf.verify(intermediate.publicKey) || !intermediate.verify(rootKey)) throw new Error('chain');
    const d2 = jws.lastIndexOf('.');
    return verify(
      'sha256',
      Buffer.from(jws.slice(0, d2), 'latin1'),
      { key: leaf.publicKey, dsaEncoding: 'ieee-p1363' },
      Buffer.from(jws.slice(d2 + 1), 'base64url'),
    );
  };

  const offers = new PromotionalOfferSignatureCreator({ privateKey: chain.leaf.privateKey, keyId: 'ABC123', bundleId: 'com.example.app' });
  const offerInput = {
    productId: 'com.example.pro.monthly',
    offerId: 'WINBACK50',
    appAccountToken: payload.appAccountToken,
    nonce: '20fba8a0-2b80-4a7d-a17f-85c1854727f8',
    timestamp: now,
  };
  const offerMessage = offers.message(offerInput);

  return [
    {
      name: 'iap verifyTransaction, warm chain cache (ES256)',
      subject: () => warm.verifyTransaction(jws),
      baseline: rawEs256,
      minRatio: 0.8,
      note: 'baseline: node:crypto ES256 verify of the same JWS with the leaf KeyObject pre-parsed',
    },
    {
      name: 'iap verifyTransaction, cold chain cache (x5c parsed + chained)',
      subject: () => {
        cold.clearCache();
        return cold.verifyTransaction(jws);
      },
      baseline: rawChainAndEs256,
      note: 'baseline: parse x5c[0..1] with X509Certificate, verify leaf←intermediate←root keys, ES256 verify',
    },
    {
      name: 'iap promotional offer signature v1 (ECDSA P-256, DER)',
      subject: () => offers.createSignature(offerInput),
      baseline: () => sign('sha256', Buffer.from(offerMessage, 'utf8'), chain.leaf.privateKey).toString('base64'),
      minRatio: 0.8,
    },
  ];
}
