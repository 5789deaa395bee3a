/**
 * Signatures your server makes for StoreKit: the promotional offer signature
 * (v1: ECDSA P-256 over fields joined with U+2063, DER, base64) and the JWS
 * creators for promotional offers (v2) and introductory-offer eligibility.
 *
 * @module
 */
import type { KeyObject } from 'node:crypto';
import {
  type Clock,
  ecdsaSign,
  type KeyInput,
  loadPrivateKey,
  type NonceSource,
  PayArgumentError,
  PayConfigError,
  randomId,
  systemClock,
} from '@pay/core';
import { describeValue, PKG } from './errors.js';
import { assertP256PrivateKey, signEs256 } from './jws.js';

/** The separator Apple puts between the fields of a promotional offer signature: U+2063 INVISIBLE SEPARATOR. */
export const PROMOTIONAL_OFFER_SEPARATOR = '\u2063';

/** Parameters of a promotional offer signature (v1). */
export interface PromotionalOfferSignatureInput {
  /** The subscription product id. */
  productId: string;
  /** The promotional offer id from App Store Connect. */
  offerId: string;
  /** The app account token (UUID) the purchase will carry, or the empty string. Lower-cased when signed. */
  appAccountToken?: string;
  /** A fresh UUID per signature (default: a random one). Lower-cased when signed. */
  nonce?: string;
  /** Epoch ms (default: now). The offer is usable for 24 hours. */
  timestamp?: number;
}

/** What the app passes to StoreKit (`Product.PurchaseOption.promotionalOffer` / `SKPaymentDiscount`). */
export interface PromotionalOfferSignature {
  /** The key id. */
  keyIdentifier: string;
  /** The nonce signed (lower case). */
  nonce: string;
  /** The timestamp signed, epoch ms. */
  timestamp: number;
  /** The base64 DER ECDSA signature. */
  signature: string;
  /** The exact string that was signed (for logs and tests). */
  payload: string;
}

/** Options of the signature creators. */
export interface SignatureCreatorOptions {
  /** The In-App Purchase key (.p8) from App Store Connect. */
  privateKey: KeyInput;
  /** Its key id. */
  keyId: string;
  /** Your app's bundle id. */
  bundleId: string;
  /** Your issuer id (JWS creators only). */
  issuerId?: string;
  /** Clock (default: system clock). */
  clock?: Clock;
  /** Nonce source (default: random UUIDs). */
  nonce?: NonceSource;
}

function required(value: unknown, what: string): string {
  if (typeof value !== 'string' || value === '')
    throw new PayArgumentError(`${PKG}: ${what}: expected a non-empty string, got ${describeValue(value)}`);
  return value;
}

function loadKey(options: SignatureCreatorOptions, needsIssuer: boolean): KeyObject {
  for (const field of needsIssuer ? (['keyId', 'bundleId', 'issuerId'] as const) : (['keyId', 'bundleId'] as const)) {
    if (typeof options?.[field] !== 'string' || options[field] === '') {
      throw new PayConfigError(`${PKG}: signature creator: expected ${field}, got ${describeValue(options?.[field])}`);
    }
  }
  const key = loadPrivateKey(options.privateKey, { label: 'privateKey (App Store Connect .p8)' });
  assertP256PrivateKey(key, 'privateKey');
  return key;
}

/**
 * Creates promotional offer signatures (v1), as StoreKit's `SKPaymentDiscount` and
 * `Product.PurchaseOption.promotionalOffer(offerID:keyID:nonce:signature:timestamp:)` expect.
 *
 * @example
 * ```ts
 * const offers = new PromotionalOfferSignatureCreator({ privateKey: p8, keyId: 'ABC123', bundleId: 'com.example.app' });
 * const { signature, nonce, timestamp } = offers.createSignature({ productId: 'pro.monthly', offerId: 'WINBACK50' });
 * ```
 */
export class PromotionalOfferSignatureCreator {
  private readonly key: KeyObject;
  private readonly keyId: string;
  private readonly bundleId: string;
  private readonly clock: Clock;
  private readonly nonce: NonceSource;

  /**
   * @param options - key, key id, bundle id
   * @throws PayConfigError when the key is not EC P-256 or an id is missing
   */
  constructor(options: SignatureCreatorOptions) {
    this.key = loadKey(options, false);
    this.keyId = options.keyId;
    this.bundleId = options.bundleId;
    this.clock = options.clock ?? systemClock;
    this.nonce = options.nonce ?? randomId;
  }

  /**
   * The string signed: bundle id, key id, product id, offer id, app account token,
   * nonce and timestamp, joined with U+2063 (token and nonce lower-cased).
   *
   * @throws PayArgumentError on a missing product or offer id, or a bad timestamp
   */
  message(input: PromotionalOfferSignatureInput & { nonce: string; timestamp: number }): string {
    const token = input.appAccountToken ?? '';
    if (typeof token !== 'string') throw new PayArgumentError(`${PKG}: appAccountToken: expected a string, got ${describeValue(token)}`);
    if (!Number.isSafeInteger(input.timestamp) || input.timestamp <= 0) {
      throw new PayArgumentError(`${PKG}: timestamp: expected epoch milliseconds, got ${describeValue(input.timestamp)}`);
    }
    return [
      this.bundleId,
      this.keyId,
      required(input.productId, 'productId'),
      required(input.offerId, 'offerId'),
      token.toLowerCase(),
      required(input.nonce, 'nonce').toLowerCase(),
      String(input.timestamp),
    ].join(PROMOTIONAL_OFFER_SEPARATOR);
  }

  /**
   * Signs a promotional offer.
   *
   * @throws PayArgumentError on a missing product or offer id, or a bad timestamp
   */
  createSignature(input: PromotionalOfferSignatureInput): PromotionalOfferSignature {
    const nonce = (input.nonce ?? this.nonce()).toLowerCase();
    const timestamp = input.timestamp ?? this.clock();
    const payload = this.message({ ...input, nonce, timestamp });
    const signature = ecdsaSign(this.key, payload, 'der').toString('base64');
    return { keyIdentifier: this.keyId, nonce, timestamp, signature, payload };
  }
}

abstract class JwsSignatureCreator {
  private readonly key: KeyObject;
  private readonly keyId: string;
  private readonly issuerId: string;
  private readonly bundleId: string;
  private readonly clock: Clock;
  private readonly nonce: NonceSource;

  protected constructor(
    private readonly audience: string,
    options: SignatureCreatorOptions,
  ) {
    this.key = loadKey(options, true);
    this.keyId = options.keyId;
    this.issuerId = options.issuerId as string;
    this.bundleId = options.bundleId;
    this.clock = options.clock ?? systemClock;
    this.nonce = options.nonce ?? randomId;
  }

  protected sign(claims: Record<string, unknown>): string {
    return signEs256(
      { alg: 'ES256', kid: this.keyId, typ: 'JWT' },
      { ...claims, bid: this.bundleId, nonce: this.nonce(), iss: this.issuerId, aud: this.audience, iat: Math.floor(this.clock() / 1000) },
      this.key,
    );
  }
}

/**
 * Creates promotional offer signatures (v2): a JWS with `aud: promotional-offer`
 * for StoreKit's `Product.PurchaseOption.promotionalOffer(_:compactJWS:)`.
 */
export class PromotionalOfferV2SignatureCreator extends JwsSignatureCreator {
  /**
   * @param options - key, key id, issuer id, bundle id
   * @throws PayConfigError when the key is not EC P-256 or an id is missing
   */
  constructor(options: SignatureCreatorOptions) {
    super('promotional-offer', options);
  }

  /**
   * Signs `productId` and `offerIdentifier` (and the customer's `transactionId`, recommended).
   *
   * @throws PayArgumentError on a missing product or offer id
   */
  createSignature(productId: string, offerIdentifier: string, transactionId?: string): string {
    return this.sign({
      productId: required(productId, 'productId'),
      offerIdentifier: required(offerIdentifier, 'offerIdentifier'),
      ...(transactionId !== undefined ? { transactionId: required(transactionId, 'transactionId') } : {}),
    });
  }
}

/**
 * Creates introductory offer eligibility signatures: a JWS with
 * `aud: introductory-offer-eligibility` telling StoreKit whether the customer
 * may get the introductory offer.
 */
export class IntroductoryOfferEligibilitySignatureCreator extends JwsSignatureCreator {
  /**
   * @param options - key, key id, issuer id, bundle id
   * @throws PayConfigError when the key is not EC P-256 or an id is missing
   */
  constructor(options: SignatureCreatorOptions) {
    super('introductory-offer-eligibility', options);
  }

  /**
   * Signs the eligibility decision for `productId` and the customer's `transactionId`.
   *
   * @throws PayArgumentError on a missing product or transaction id, or a non-boolean decision
   */
  createSignature(productId: string, allowIntroductoryOffer: boolean, transactionId: string): string {
    if (typeof allowIntroductoryOffer !== 'boolean') {
      throw new PayArgumentError(`${PKG}: allowIntroductoryOffer: expected a boolean, got ${describeValue(allowIntroductoryOffer)}`);
    }
    return this.sign({
      productId: required(productId, 'productId'),
      allowIntroductoryOffer,
      transactionId: required(transactionId, 'transactionId'),
    });
  }
}
