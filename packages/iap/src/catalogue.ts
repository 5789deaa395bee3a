/**
 * The product catalogue: the product ids your app may sell, their type and,
 * optionally, the amount the ledger records for them.
 *
 * @module
 */
import { PayArgumentError, PayConfigError } from '@pay/core';
import { describeValue, PKG } from './errors.js';
import type { AppleProductType } from './types.js';

/** The four kinds of in-app purchase. */
export type ProductType = 'consumable' | 'non_consumable' | 'auto_renewable' | 'non_renewing';

/** One product of the catalogue. */
export interface Product {
  /** The product id from App Store Connect (e.g. `com.example.coins100`). */
  productId: string;
  /** Its kind. */
  type: ProductType;
  /** The amount the ledger records for a purchase, in minor units (fen). Optional. */
  amount?: number;
  /** Currency of `amount`; `CNY` by default. */
  currency?: string;
}

const TYPES: ReadonlySet<string> = new Set(['consumable', 'non_consumable', 'auto_renewable', 'non_renewing']);

/** Apple's `type` field value for each kind. */
export const APPLE_PRODUCT_TYPES: Readonly<Record<ProductType, AppleProductType>> = {
  consumable: 'Consumable',
  non_consumable: 'Non-Consumable',
  auto_renewable: 'Auto-Renewable Subscription',
  non_renewing: 'Non-Renewing Subscription',
};

/**
 * A fixed set of products, checked once at construction.
 *
 * @example
 * ```ts
 * const catalogue = new ProductCatalogue([
 *   { productId: 'com.example.coins100', type: 'consumable', amount: 600 },
 *   { productId: 'com.example.pro.monthly', type: 'auto_renewable', amount: 1800 },
 * ]);
 * catalogue.validProductIds(); // what the app asks StoreKit for
 * ```
 */
export class ProductCatalogue {
  private readonly products: ReadonlyMap<string, Readonly<Product>>;
  private readonly ids: readonly string[];

  /**
   * @param products - the products; ids must be unique
   * @throws PayConfigError on an empty id, a duplicate, an unknown type or a non-integer amount
   */
  constructor(products: readonly Product[]) {
    if (!Array.isArray(products))
      throw new PayConfigError(`${PKG}: catalogue: expected an array of products, got ${describeValue(products)}`);
    const map = new Map<string, Readonly<Product>>();
    for (const [i, p] of products.entries()) {
      if (!p || typeof p.productId !== 'string' || p.productId.trim() === '') {
        throw new PayConfigError(`${PKG}: catalogue[${i}]: expected a productId, got ${describeValue(p?.productId)}`);
      }
      if (!TYPES.has(p.type)) {
        throw new PayConfigError(
          `${PKG}: catalogue[${i}] (${p.productId}): expected type consumable, non_consumable, auto_renewable or non_renewing, got ${describeValue(p.type)}`,
        );
      }
      if (p.amount !== undefined && (!Number.isSafeInteger(p.amount) || p.amount <= 0)) {
        throw new PayConfigError(
          `${PKG}: catalogue[${i}] (${p.productId}): expected amount as a positive integer of minor units (fen), got ${describeValue(p.amount)}`,
        );
      }
      if (map.has(p.productId)) throw new PayConfigError(`${PKG}: catalogue: product ${p.productId} is listed twice`);
      map.set(p.productId, Object.freeze({ ...p, currency: p.currency ?? 'CNY' }));
    }
    this.products = map;
    this.ids = Object.freeze([...map.keys()]);
  }

  /** The product ids the app may request from StoreKit, in catalogue order. */
  validProductIds(): readonly string[] {
    return this.ids;
  }

  /** The product, or undefined when it is not in the catalogue. */
  find(productId: string): Readonly<Product> | undefined {
    return this.products.get(productId);
  }

  /** True when the product is in the catalogue. */
  has(productId: string): boolean {
    return this.products.has(productId);
  }

  /**
   * The product, which must be in the catalogue.
   *
   * @throws PayArgumentError when it is unknown
   */
  require(productId: unknown, what = 'productId'): Readonly<Product> {
    const p = typeof productId === 'string' ? this.products.get(productId) : undefined;
    if (!p) {
      throw new PayArgumentError(`${PKG}: ${what}: expected a product of the catalogue, got ${describeValue(productId)}`, {
        hint: `known products: ${this.ids.slice(0, 10).join(', ')}${this.ids.length > 10 ? ', …' : ''}`,
      });
    }
    return p;
  }

  /** All products. */
  list(): readonly Readonly<Product>[] {
    return [...this.products.values()];
  }
}
