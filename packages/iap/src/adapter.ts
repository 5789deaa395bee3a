/**
 * The ledger adapter: `@pay/core`'s `PaymentProvider` over {@link IapClient}.
 * A payment starts with a product id and an `appAccountToken` (a UUID: the
 * order number itself) that the app passes to StoreKit; the signed transaction
 * the app sends back, and App Store Server Notifications, move the record.
 *
 * @module
 */
import {
  assertMinorUnits,
  type CreatedPayment,
  type CreatePaymentInput,
  type IncomingNotification,
  type NotificationOutcome,
  type NotificationReply,
  PayArgumentError,
  type PaymentEvent,
  type PaymentProvider,
  type PaymentRef,
  type PaymentStatus,
  PayNotFoundError,
  PayProviderError,
  type RefundOutcome,
  type RefundRequest,
  randomId,
} from '@pay/core';
import type { Product } from './catalogue.js';
import { describeValue, PKG } from './errors.js';
import { notificationEventKind } from './notifications.js';
import { type IapClient, isUuid } from './purchases.js';
import type { JWSTransactionDecodedPayload } from './types.js';

const ZERO_DECIMAL: ReadonlySet<string> = new Set([
  'JPY',
  'KRW',
  'CLP',
  'VND',
  'ISK',
  'UGX',
  'PYG',
  'XAF',
  'XOF',
  'KMF',
  'RWF',
  'GNF',
  'BIF',
  'DJF',
  'VUV',
  'XPF',
]);
const THREE_DECIMAL: ReadonlySet<string> = new Set(['KWD', 'BHD', 'OMR', 'JOD', 'TND', 'IQD', 'LYD']);

/**
 * Converts Apple's `price` (milliunits of `currency`) to minor units (fen, cents…).
 *
 * @returns the amount in minor units, or undefined when price or currency is missing
 */
export function milliunitsToMinor(price: number | undefined, currency: string | undefined): number | undefined {
  if (typeof price !== 'number' || !Number.isFinite(price) || typeof currency !== 'string') return undefined;
  const c = currency.toUpperCase();
  const divisor = ZERO_DECIMAL.has(c) ? 1000 : THREE_DECIMAL.has(c) ? 1 : 10;
  return Math.round(price / divisor);
}

/**
 * The IAP `PaymentProvider` for the ledger.
 *
 * @example
 * ```ts
 * const payments = createPayments({ providers: { iap: new IapProvider(iap) }, store });
 * const created = await payments.create({ provider: 'iap', channel: 'app', productId: 'com.example.coins100', amount: 600, subject: '100 coins' });
 * // created.data → { productId, appAccountToken }: the app buys with that token.
 * ```
 */
export class IapProvider implements PaymentProvider {
  /** `iap`. */
  readonly name = 'iap';
  /** One channel: the app buys with StoreKit. */
  readonly channels: readonly string[] = ['app'];
  /** The bundle id, checked against every event. */
  readonly identity: { appId?: string; merchantId?: string };

  /** @param client - the configured IAP client */
  constructor(readonly client: IapClient) {
    this.identity = { appId: client.bundleId };
  }

  /** A new order number: a random UUID, because it travels to the App Store as `appAccountToken`. */
  newOutTradeNo(): string {
    return randomId();
  }

  /**
   * Starts a purchase: checks the product and amount against the catalogue and returns the product
   * id and the `appAccountToken`, which is the order number (a UUID).
   *
   * @throws PayArgumentError on an unknown product, an amount or currency that differs from the
   * catalogue, or an order number that is not a UUID
   */
  async createPayment(input: CreatePaymentInput): Promise<CreatedPayment> {
    if (!input || typeof input !== 'object')
      throw new PayArgumentError(`${PKG}: createPayment: expected the payment input, got ${describeValue(input)}`);
    const product = this.client.catalogue.require(input.productId, 'createPayment: productId');
    assertMinorUnits(input.amount, 'amount');
    if (product.amount !== undefined && (input.amount !== product.amount || (input.currency ?? 'CNY') !== product.currency)) {
      throw new PayArgumentError(
        `${PKG}: createPayment: ${product.productId} costs ${product.amount} ${product.currency} in the catalogue, got ${input.amount} ${input.currency ?? 'CNY'}`,
      );
    }
    if (!isUuid(input.outTradeNo)) {
      throw new PayArgumentError(
        `${PKG}: createPayment: the order number travels as appAccountToken and must be a UUID, got ${describeValue(input.outTradeNo)}`,
        {
          hint: 'use randomId() from @pay/core as outTradeNo for IAP payments',
        },
      );
    }
    const appAccountToken = input.outTradeNo.toLowerCase();
    return {
      data: { productId: product.productId, appAccountToken, type: product.type },
      providerRef: appAccountToken,
      providerData: { productId: product.productId, appAccountToken },
    };
  }

  private amountOf(
    product: Readonly<Product> | undefined,
    t: JWSTransactionDecodedPayload | undefined,
  ): { amount?: number; currency?: string } {
    if (product?.amount !== undefined) return { amount: product.amount, currency: product.currency as string };
    const currency = t?.currency;
    const minor = milliunitsToMinor(t?.price, currency);
    return minor === undefined || currency === undefined ? {} : { amount: minor, currency: currency.toUpperCase() };
  }

  /**
   * Verifies an App Store Server Notification V2 and maps it to a unified event
   * (`eventId` = `notificationUUID`, `outTradeNo` = the transaction's `appAccountToken`).
   *
   * @throws verification errors; PayArgumentError when a purchase, renewal or refund concerns a product outside the catalogue
   */
  async parseNotification(incoming: IncomingNotification): Promise<PaymentEvent> {
    const n = await this.client.parseNotification(incoming);
    const t = n.transaction;
    const kind = notificationEventKind(n.notificationType, n.subtype);
    const product = typeof t?.productId === 'string' ? this.client.catalogue.find(t.productId) : undefined;
    if (kind !== 'other' && t && !product) {
      throw new PayArgumentError(
        `${PKG}: notification ${n.notificationType}: product ${describeValue(t.productId)} is not in the catalogue`,
      );
    }
    const money = this.amountOf(product, t);
    const event: PaymentEvent = {
      provider: 'iap',
      kind,
      eventId: n.notificationUUID,
      raw: n,
      ...(typeof n.payload.data?.bundleId === 'string' ? { appId: n.payload.data.bundleId } : {}),
      ...(typeof n.payload.signedDate === 'number' ? { occurredAt: n.payload.signedDate } : {}),
    };
    if (t) {
      if (typeof t.appAccountToken === 'string') event.outTradeNo = t.appAccountToken.toLowerCase();
      if (typeof t.transactionId === 'string') event.providerTradeNo = t.transactionId;
      if (money.amount !== undefined) event.amount = money.amount;
      if (money.currency !== undefined) event.currency = money.currency;
      if (kind === 'refunded' && money.amount !== undefined) {
        const share = typeof t.revocationPercentage === 'number' ? t.revocationPercentage / 100_000 : 1;
        event.refund = { providerRefundId: `${t.transactionId}:${t.revocationDate ?? ''}`, amount: Math.round(money.amount * share) };
      }
    }
    return event;
  }

  /** Apple needs HTTP 200 to stop retrying; any other status makes it retry (1, 12, 24, 48, 72 h). */
  notificationReply(outcome: NotificationOutcome): NotificationReply {
    if (outcome.ok) return { status: 200, headers: {}, body: '' };
    const status = outcome.error.retryable ? 503 : 400;
    return { status, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: outcome.error.code };
  }

  /**
   * Asks Apple for the transaction once its id is known (Get Transaction Info, verified). Apple
   * cannot be queried by `appAccountToken`: before the app or a notification reported a
   * transaction the payment is `pending`.
   *
   * @throws API and verification errors
   */
  async queryPayment(ref: PaymentRef): Promise<PaymentStatus> {
    const api = this.client.api;
    if (!ref.providerTradeNo || !api) return { state: 'pending', outTradeNo: ref.outTradeNo, raw: null };
    let info: Awaited<ReturnType<typeof api.getTransactionInfo>>;
    try {
      info = await api.getTransactionInfo(ref.providerTradeNo);
    } catch (e) {
      if (e instanceof PayNotFoundError && e.providerCode === '4040010')
        return { state: 'not_found', outTradeNo: ref.outTradeNo, raw: null };
      throw e;
    }
    if (typeof info.signedTransactionInfo !== 'string') return { state: 'not_found', outTradeNo: ref.outTradeNo, raw: info };
    const t = await this.client.verifyTransaction(info.signedTransactionInfo);
    const product = typeof t.productId === 'string' ? this.client.catalogue.find(t.productId) : undefined;
    const money = this.amountOf(product, t);
    const full = t.revocationPercentage === undefined || t.revocationPercentage >= 100_000;
    return {
      state: t.revocationDate !== undefined ? (full ? 'refunded' : 'partially_refunded') : 'paid',
      outTradeNo: ref.outTradeNo,
      ...(t.transactionId ? { providerTradeNo: t.transactionId } : {}),
      ...(money.amount !== undefined ? { amount: money.amount } : {}),
      ...(money.currency !== undefined ? { currency: money.currency } : {}),
      ...(t.purchaseDate !== undefined ? { paidAt: t.purchaseDate } : {}),
      ...(t.bundleId ? { appId: t.bundleId } : {}),
      raw: t,
    };
  }

  /**
   * Apple does not let developers refund In-App Purchases: customers ask Apple, and the
   * `REFUND` notification moves the record.
   *
   * @throws PayProviderError always (reason `NOT_SUPPORTED`)
   */
  async refund(request: RefundRequest): Promise<RefundOutcome> {
    throw new PayProviderError(
      `${PKG}: refund ${describeValue(request?.refundId)}: Apple does not let developers refund In-App Purchases`,
      {
        provider: 'iap',
        reason: 'NOT_SUPPORTED',
        hint: 'customers request refunds at reportaproblem.apple.com; the REFUND notification updates the record',
      },
    );
  }

  /** Nothing to close at Apple: a pending token is simply never used. */
  async closePayment(_ref: PaymentRef): Promise<void> {}

  /**
   * Verifies what the app sent after buying (a signed transaction, or a StoreKit 1 receipt) against
   * the payment: same `appAccountToken` (the order number) and product.
   *
   * @throws see `IapClient.verifyPurchase`
   */
  async verifyClientProof(proof: string, ref: PaymentRef): Promise<PaymentEvent> {
    if (typeof proof !== 'string' || proof.trim() === '')
      throw new PayArgumentError(`${PKG}: client proof: expected a signed transaction or receipt, got ${describeValue(proof)}`);
    const token = ref.providerData?.appAccountToken ?? ref.outTradeNo;
    const productId = ref.providerData?.productId;
    const isJws = proof.split('.').length === 3;
    const purchase = await this.client.verifyPurchase({
      ...(isJws ? { signedTransaction: proof.trim() } : { appReceipt: proof.trim() }),
      ...(isUuid(token) ? { appAccountToken: token } : {}),
      ...(productId ? { productId } : {}),
    });
    const money = this.amountOf(purchase.product, purchase.transaction);
    return {
      provider: 'iap',
      kind: 'paid',
      eventId: `transaction:${purchase.transactionId}`,
      providerTradeNo: purchase.transactionId,
      appId: this.client.bundleId,
      raw: purchase,
      ...(purchase.appAccountToken ? { outTradeNo: purchase.appAccountToken } : {}),
      ...(money.amount !== undefined ? { amount: money.amount } : {}),
      ...(money.currency !== undefined ? { currency: money.currency } : {}),
      ...(purchase.purchaseDate !== undefined ? { occurredAt: purchase.purchaseDate } : {}),
    };
  }
}
