// Compact JWS helpers and the product catalogue.
import { createPublicKey, verify } from 'node:crypto';
import { PayArgumentError, PayConfigError } from '@pay/core';
import { generateAppleTestKeyPair } from '@pay/sandbox';
import { describe, expect, it } from 'vitest';
import {
  APPLE_PRODUCT_TYPES,
  decodeBase64Url,
  decodeJwsPayloadUnverified,
  encodeBase64Url,
  ProductCatalogue,
  PromotionalOfferSignatureCreator,
  signEs256,
  splitJws,
  VerificationReason,
} from '../src/index.js';
import { rejection } from './helpers.js';

describe('base64url and compact JWS', () => {
  it('decodes strictly: padding, "+", "/", whitespace and impossible lengths are refused', () => {
    expect(decodeBase64Url('aGk')?.toString()).toBe('hi');
    expect(decodeBase64Url('')?.length).toBe(0);
    for (const bad of ['aGk=', 'a+b/', 'aG k', 'a', 'aGkhh']) expect(decodeBase64Url(bad), bad).toBeUndefined();
    expect(encodeBase64Url('hi?>')).toBe('aGk_Pg');
  });

  it('splits three parts; anything else is a VERIFICATION_FAILURE PayError', async () => {
    const parts = splitJws('aGVhZA.cGF5.c2ln');
    expect(parts).toMatchObject({ headerB64: 'aGVhZA', payloadB64: 'cGF5', signingInput: 'aGVhZA.cGF5' });
    expect(parts.signature.toString()).toBe('sig');
    for (const bad of ['a.b', 'a.b.c.d', '.b.c', 'a.b.', 'a.b.c=', '', null]) {
      expect((await rejection(() => splitJws(bad))).reason, String(bad)).toBe(VerificationReason.VERIFICATION_FAILURE);
    }
  });

  it('signEs256 writes alg ES256 whatever the header says, verifiable with the public key (r || s)', () => {
    const keys = generateAppleTestKeyPair();
    const jws = signEs256({ alg: 'none', kid: 'K' }, { a: 1 }, keys.privateKey);
    const [h, p, s] = jws.split('.') as [string, string, string];
    expect(JSON.parse(Buffer.from(h, 'base64url').toString())).toEqual({ alg: 'ES256', kid: 'K' });
    expect(decodeJwsPayloadUnverified(jws)).toEqual({ a: 1 });
    const sig = Buffer.from(s, 'base64url');
    expect(sig.length).toBe(64);
    expect(verify('sha256', Buffer.from(`${h}.${p}`), { key: createPublicKey(keys.privateKey), dsaEncoding: 'ieee-p1363' }, sig)).toBe(
      true,
    );
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    expect(() => signEs256({}, circular, keys.privateKey)).toThrow(PayArgumentError);
  });

  it('signature creators refuse keys that are not EC P-256 private keys, at construction', () => {
    const pub = generateAppleTestKeyPair().publicKey;
    expect(() => new PromotionalOfferSignatureCreator({ privateKey: pub, keyId: 'k', bundleId: 'b' })).toThrow(PayConfigError);
    expect(
      () => new PromotionalOfferSignatureCreator({ privateKey: generateAppleTestKeyPair().privateKey, keyId: '', bundleId: 'b' }),
    ).toThrow(/keyId/);
    const creator = new PromotionalOfferSignatureCreator({ privateKey: generateAppleTestKeyPair().privateKey, keyId: 'k', bundleId: 'b' });
    expect(() => creator.createSignature({ productId: '', offerId: 'o' })).toThrow(PayArgumentError);
    expect(() => creator.createSignature({ productId: 'p', offerId: 'o', timestamp: -1 })).toThrow(/timestamp/);
  });
});

describe('ProductCatalogue', () => {
  it('keeps order, defaults the currency to CNY, finds and requires products', () => {
    const c = new ProductCatalogue([
      { productId: 'b', type: 'auto_renewable', amount: 1800 },
      { productId: 'a', type: 'consumable', amount: 100, currency: 'USD' },
    ]);
    expect(c.validProductIds()).toEqual(['b', 'a']);
    expect(c.find('b')?.currency).toBe('CNY');
    expect(c.require('a').currency).toBe('USD');
    expect(c.has('z')).toBe(false);
    expect(() => c.require('z')).toThrow(PayArgumentError);
    expect(() => c.require(undefined)).toThrow(/got nothing/);
    expect(c.list()).toHaveLength(2);
    expect(APPLE_PRODUCT_TYPES.auto_renewable).toBe('Auto-Renewable Subscription');
  });
});
