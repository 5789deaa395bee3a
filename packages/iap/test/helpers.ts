// Shared helpers of the @pay/iap tests: a fixed clock, generated chains, rejection capture.
import { isPayError, type PayError } from '@pay/core';
import { type AppleTestChain, generateAppleTestChain, signAppleJws } from '@pay/sandbox';
import { expect } from 'vitest';
import { SignedDataVerifier, type SignedDataVerifierOptions } from '../src/index.js';

/** 2026-03-01T00:00:00Z: the tests' "now". */
export const NOW = Date.UTC(2026, 2, 1);

/** A chain valid from a year before NOW to a year after. */
export function testChain(options: Parameters<typeof generateAppleTestChain>[0] = {}): AppleTestChain {
  return generateAppleTestChain({ now: NOW, notBefore: NOW - 365 * 86_400_000, notAfter: NOW + 365 * 86_400_000, ...options });
}

/** A signed transaction payload of the tests' app. */
export function transactionPayload(fields: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    transactionId: '2000000000000001',
    originalTransactionId: '2000000000000001',
    bundleId: 'com.example.app',
    productId: 'com.example.coins100',
    purchaseDate: NOW - 60_000,
    originalPurchaseDate: NOW - 60_000,
    quantity: 1,
    type: 'Consumable',
    inAppOwnershipType: 'PURCHASED',
    signedDate: NOW - 1000,
    environment: 'Sandbox',
    transactionReason: 'PURCHASE',
    storefront: 'CHN',
    storefrontId: '143465',
    price: 6000,
    currency: 'CNY',
    ...fields,
  };
}

/** Signs with a chain. */
export function sign(
  payload: Record<string, unknown>,
  chain: Pick<AppleTestChain, 'leaf' | 'x5c'>,
  header: Record<string, unknown> = {},
): string {
  return signAppleJws(payload, chain, header);
}

/** A verifier of the tests' app trusting `chain.root`. */
export function verifierFor(chain: AppleTestChain, options: Partial<SignedDataVerifierOptions> = {}): SignedDataVerifier {
  return new SignedDataVerifier({
    roots: [chain.root.der],
    bundleId: 'com.example.app',
    environment: 'Sandbox',
    appAppleId: 1234567890,
    clock: () => NOW,
    ...options,
  });
}

/** Awaits a rejection and checks that it is a PayError whose message starts with the package name. */
export async function rejection(p: Promise<unknown> | (() => unknown)): Promise<PayError> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    expect(isPayError(e), `expected a PayError, got ${String(e)}`).toBe(true);
    expect((e as Error).message).toMatch(/^@pay\/(iap|core): /);
    return e as PayError;
  }
  throw new Error('expected a rejection, got success');
}
