/**
 * Apple's data types, with field names exactly as Apple spells them (App Store
 * Server API, App Store Server Notifications V2, StoreKit 2 signed data).
 * Enumerations are string or number unions that also accept values Apple adds
 * later: unknown values pass through, they are never rejected.
 *
 * @module
 */

/** An App Store environment. `Xcode` and `LocalTesting` are test-only and need an explicit opt-in. */
export type Environment = 'Production' | 'Sandbox' | 'Xcode' | 'LocalTesting';

/** The type of an in-app purchase product, as Apple names it in signed transactions. */
export type AppleProductType =
  | 'Auto-Renewable Subscription'
  | 'Non-Consumable'
  | 'Consumable'
  | 'Non-Renewing Subscription'
  | (string & {});

/** Whether the buyer purchased the product or has it through Family Sharing. */
export type InAppOwnershipType = 'FAMILY_SHARED' | 'PURCHASED' | (string & {});

/** Why a transaction happened: a purchase or a system renewal. */
export type TransactionReason = 'PURCHASE' | 'RENEWAL' | (string & {});

/** The type of a revocation (`REFUND_FULL`, `REFUND_PRORATED`, `FAMILY_REVOKE`). */
export type RevocationType = 'REFUND_FULL' | 'REFUND_PRORATED' | 'FAMILY_REVOKE' | (string & {});

/** Fields every signed payload may carry. */
export interface DecodedSignedData {
  /** When the App Store signed the data, epoch ms. */
  signedDate?: number;
}

/** A StoreKit 2 signed transaction, decoded (`JWSTransactionDecodedPayload`). */
export interface JWSTransactionDecodedPayload extends DecodedSignedData {
  /** Original transaction id of the purchase. */
  originalTransactionId?: string;
  /** The transaction id. */
  transactionId?: string;
  /** Identifier of subscription purchase events across devices. */
  webOrderLineItemId?: string;
  /** The app's bundle id. */
  bundleId?: string;
  /** The product id from App Store Connect. */
  productId?: string;
  /** The subscription group. */
  subscriptionGroupIdentifier?: string;
  /** When the App Store charged the account, epoch ms. */
  purchaseDate?: number;
  /** Purchase date of the original transaction, epoch ms. */
  originalPurchaseDate?: number;
  /** When an auto-renewable subscription expires or renews, epoch ms. */
  expiresDate?: number;
  /** Number of consumables purchased. */
  quantity?: number;
  /** The product type. */
  type?: AppleProductType;
  /** The UUID the app set at purchase time to bind the purchase to its account or order. */
  appAccountToken?: string;
  /** Purchased or family shared. */
  inAppOwnershipType?: InAppOwnershipType;
  /** Why the App Store refunded or revoked the transaction (0 other, 1 app issue). */
  revocationReason?: number;
  /** When Apple refunded or revoked it, epoch ms. */
  revocationDate?: number;
  /** Whether the user upgraded to another subscription. */
  isUpgraded?: boolean;
  /** Offer type (1 introductory, 2 promotional, 3 offer code, 4 win-back). */
  offerType?: number;
  /** Offer code or promotional offer id. */
  offerIdentifier?: string;
  /** The environment. */
  environment?: Environment | (string & {});
  /** Three-letter storefront country code. */
  storefront?: string;
  /** Apple's storefront id. */
  storefrontId?: string;
  /** Purchase or renewal. */
  transactionReason?: TransactionReason;
  /** ISO 4217 currency of `price`. */
  currency?: string;
  /** Price in milliunits of `currency`. */
  price?: number;
  /** Payment mode of the offer (`FREE_TRIAL`, `PAY_AS_YOU_GO`, `PAY_UP_FRONT`, `ONE_TIME`). */
  offerDiscountType?: string;
  /** Id of the app download transaction. */
  appTransactionId?: string;
  /** ISO 8601 duration of the offer. */
  offerPeriod?: string;
  /** Type of the refund or revocation. */
  revocationType?: RevocationType;
  /** Refunded or revoked share, in milliunits of a percent (50000 = 50%). */
  revocationPercentage?: number;
  /** Fields Apple adds later are kept. */
  [field: string]: unknown;
}

/** A StoreKit 2 signed renewal info, decoded (`JWSRenewalInfoDecodedPayload`). */
export interface JWSRenewalInfoDecodedPayload extends DecodedSignedData {
  /** Why the subscription expired (1 cancelled, 2 billing error, 3 price increase, 4 product unavailable, 5 other). */
  expirationIntent?: number;
  /** Original transaction id of the subscription. */
  originalTransactionId?: string;
  /** Product that renews next. */
  autoRenewProductId?: string;
  /** Current product. */
  productId?: string;
  /** 1 when auto-renew is on, 0 off. */
  autoRenewStatus?: number;
  /** Whether Apple is retrying billing. */
  isInBillingRetryPeriod?: boolean;
  /** Price increase consent (0 not yet, 1 consented). */
  priceIncreaseStatus?: number;
  /** End of the billing grace period, epoch ms. */
  gracePeriodExpiresDate?: number;
  /** Offer type for the next renewal. */
  offerType?: number;
  /** Offer id for the next renewal. */
  offerIdentifier?: string;
  /** The environment. */
  environment?: Environment | (string & {});
  /** Start of the latest continuous subscription period, epoch ms. */
  recentSubscriptionStartDate?: number;
  /** Next renewal date, epoch ms. */
  renewalDate?: number;
  /** Renewal price in milliunits. */
  renewalPrice?: number;
  /** Currency of `renewalPrice`. */
  currency?: string;
  /** Payment mode of the offer. */
  offerDiscountType?: string;
  /** Win-back offers the customer may redeem. */
  eligibleWinBackOfferIds?: string[];
  /** Id of the app download transaction. */
  appTransactionId?: string;
  /** Duration of the offer. */
  offerPeriod?: string;
  /** The app account token. */
  appAccountToken?: string;
  /** Fields Apple adds later are kept. */
  [field: string]: unknown;
}

/** A signed app transaction, decoded (`AppTransaction`). */
export interface AppTransaction extends DecodedSignedData {
  /** The environment the app was downloaded in. */
  receiptType?: Environment | (string & {});
  /** The app's Apple id. */
  appAppleId?: number;
  /** The app's bundle id. */
  bundleId?: string;
  /** App version. */
  applicationVersion?: string;
  /** Version id in the App Store. */
  versionExternalIdentifier?: number;
  /** When the app receipt was created, epoch ms (the effective date of its check). */
  receiptCreationDate?: number;
  /** When the app was first purchased, epoch ms. */
  originalPurchaseDate?: number;
  /** Version first purchased. */
  originalApplicationVersion?: string;
  /** Device verification hash. */
  deviceVerification?: string;
  /** Device verification nonce. */
  deviceVerificationNonce?: string;
  /** Pre-order date, epoch ms. */
  preorderDate?: number;
  /** Id of the app download transaction. */
  appTransactionId?: string;
  /** Platform of the first purchase. */
  originalPlatform?: string;
  /** Fields Apple adds later are kept. */
  [field: string]: unknown;
}

/** App Store Server Notifications V2 `notificationType` values (unknown values pass through). */
export const NotificationTypes = [
  'SUBSCRIBED',
  'DID_CHANGE_RENEWAL_PREF',
  'DID_CHANGE_RENEWAL_STATUS',
  'OFFER_REDEEMED',
  'DID_RENEW',
  'EXPIRED',
  'DID_FAIL_TO_RENEW',
  'GRACE_PERIOD_EXPIRED',
  'PRICE_INCREASE',
  'REFUND',
  'REFUND_DECLINED',
  'CONSUMPTION_REQUEST',
  'RENEWAL_EXTENDED',
  'REVOKE',
  'TEST',
  'RENEWAL_EXTENSION',
  'REFUND_REVERSED',
  'EXTERNAL_PURCHASE_TOKEN',
  'ONE_TIME_CHARGE',
  'RESCIND_CONSENT',
  'METADATA_UPDATE',
  'MIGRATION',
  'PRICE_CHANGE',
] as const;

/** A known notification type, or a newer one Apple sends. */
export type NotificationType = (typeof NotificationTypes)[number] | (string & {});

/** App Store Server Notifications V2 `subtype` values (unknown values pass through). */
export const NotificationSubtypes = [
  'INITIAL_BUY',
  'RESUBSCRIBE',
  'DOWNGRADE',
  'UPGRADE',
  'AUTO_RENEW_ENABLED',
  'AUTO_RENEW_DISABLED',
  'VOLUNTARY',
  'BILLING_RETRY',
  'PRICE_INCREASE',
  'GRACE_PERIOD',
  'PENDING',
  'ACCEPTED',
  'BILLING_RECOVERY',
  'PRODUCT_NOT_FOR_SALE',
  'SUMMARY',
  'FAILURE',
  'UNREPORTED',
  'ACTIVE_TOKEN_REMINDER',
  'CREATED',
] as const;

/** A known subtype, or a newer one Apple sends. */
export type NotificationSubtype = (typeof NotificationSubtypes)[number] | (string & {});

/** The `data` object of a notification. */
export interface NotificationData {
  /** The app's Apple id. */
  appAppleId?: number;
  /** The app's bundle id. */
  bundleId?: string;
  /** The app's bundle version. */
  bundleVersion?: string;
  /** The environment. */
  environment?: Environment | (string & {});
  /** The signed transaction (verified and decoded into `transactionInfo` by the verifier). */
  signedTransactionInfo?: string;
  /** The signed renewal info (verified and decoded into `renewalInfo`). */
  signedRenewalInfo?: string;
  /** Subscription status (1 active, 2 expired, 3 billing retry, 4 grace period, 5 revoked). */
  status?: number;
  /** Why Apple asks for consumption information. */
  consumptionRequestReason?: string;
  /** Fields Apple adds later are kept. */
  [field: string]: unknown;
}

/** The `summary` object of a `RENEWAL_EXTENSION` / `SUMMARY` notification. */
export interface NotificationSummary {
  /** The environment. */
  environment?: Environment | (string & {});
  /** The app's Apple id. */
  appAppleId?: number;
  /** The app's bundle id. */
  bundleId?: string;
  /** The product extended. */
  productId?: string;
  /** The mass-extension request id. */
  requestIdentifier?: string;
  /** Storefronts covered. */
  storefrontCountryCodes?: string[];
  /** Subscriptions extended. */
  succeededCount?: number;
  /** Subscriptions not extended. */
  failedCount?: number;
  /** Fields Apple adds later are kept. */
  [field: string]: unknown;
}

/** The `externalPurchaseToken` object of an `EXTERNAL_PURCHASE_TOKEN` notification. */
export interface ExternalPurchaseToken {
  /** The external purchase id (`SANDBOX…` in the sandbox). */
  externalPurchaseId?: string;
  /** When the token was created, epoch ms. */
  tokenCreationDate?: number;
  /** The app's Apple id. */
  appAppleId?: number;
  /** The app's bundle id. */
  bundleId?: string;
  /** Fields Apple adds later are kept. */
  [field: string]: unknown;
}

/** The `appData` object of a `RESCIND_CONSENT` notification. */
export interface NotificationAppData {
  /** The app's Apple id. */
  appAppleId?: number;
  /** The app's bundle id. */
  bundleId?: string;
  /** The environment. */
  environment?: Environment | (string & {});
  /** The signed app transaction. */
  signedAppTransactionInfo?: string;
  /** Fields Apple adds later are kept. */
  [field: string]: unknown;
}

/** A notification's `signedPayload`, decoded (`ResponseBodyV2DecodedPayload`). */
export interface ResponseBodyV2DecodedPayload extends DecodedSignedData {
  /** What happened. */
  notificationType?: NotificationType;
  /** Detail of what happened. */
  subtype?: NotificationSubtype;
  /** Unique id of the notification: the same on every retry (duplicates share it). */
  notificationUUID?: string;
  /** Notification format version (`2.0`). */
  version?: string;
  /** App, environment and signed transaction / renewal info. */
  data?: NotificationData;
  /** Summary of a mass renewal extension. */
  summary?: NotificationSummary;
  /** External purchase token details. */
  externalPurchaseToken?: ExternalPurchaseToken;
  /** App data of a consent notification. */
  appData?: NotificationAppData;
  /** Fields Apple adds later are kept. */
  [field: string]: unknown;
}
