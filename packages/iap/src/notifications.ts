/**
 * App Store Server Notifications V2: the `{ "signedPayload": … }` body is
 * verified, then the nested `signedTransactionInfo`, `signedRenewalInfo` and
 * `signedAppTransactionInfo`; types and subtypes are typed (unknown ones pass
 * through); duplicates are recognised by `notificationUUID`.
 *
 * @module
 */
import { type IncomingNotification, PayArgumentError, type PaymentEventKind, SeenIds } from '@pay/core';
import { describeValue, PKG, verificationFailure } from './errors.js';
import type {
  AppTransaction,
  JWSRenewalInfoDecodedPayload,
  JWSTransactionDecodedPayload,
  NotificationSubtype,
  NotificationType,
  ResponseBodyV2DecodedPayload,
} from './types.js';
import { NotificationSubtypes, NotificationTypes } from './types.js';
import type { SignedDataVerifier } from './verifier.js';

/** A set of ids already seen (core's `SeenIds` fits; a shared store works across processes). */
export interface SeenStore {
  /** Records `id`; returns false when it was already there. */
  add(id: string): boolean | Promise<boolean>;
}

/** A verified notification with its nested signed data decoded. */
export interface VerifiedNotification {
  /** The verified outer payload. */
  payload: ResponseBodyV2DecodedPayload;
  /** `notificationType` (a value Apple added later passes through). */
  notificationType: NotificationType;
  /** `subtype`, when there is one. */
  subtype: NotificationSubtype | undefined;
  /** The notification's UUID: the same on every retry of this notification. */
  notificationUUID: string;
  /** Whether `notificationType` is one this version knows. */
  knownType: boolean;
  /** The verified `data.signedTransactionInfo`. */
  transaction?: JWSTransactionDecodedPayload;
  /** The verified `data.signedRenewalInfo`. */
  renewalInfo?: JWSRenewalInfoDecodedPayload;
  /** The verified `appData.signedAppTransactionInfo`. */
  appTransaction?: AppTransaction;
  /** True when this `notificationUUID` was processed before (a retry or a replay). */
  duplicate: boolean;
}

const KNOWN_TYPES: ReadonlySet<string> = new Set(NotificationTypes);
const KNOWN_SUBTYPES: ReadonlySet<string> = new Set(NotificationSubtypes);

/** Whether a subtype is one this version knows. */
export function isKnownSubtype(subtype: string): boolean {
  return KNOWN_SUBTYPES.has(subtype);
}

/**
 * Reads `signedPayload` from a notification body (`responseBodyV2`).
 *
 * @throws PayArgumentError when the body is not JSON with a `signedPayload` string
 */
export function readSignedPayload(body: string | Uint8Array): string {
  const text = typeof body === 'string' ? body : Buffer.from(body).toString('utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new PayArgumentError(
      `${PKG}: notification: expected a JSON body {"signedPayload": "…"}, got ${text.length} bytes that are not JSON`,
      {
        cause: e,
      },
    );
  }
  const signed = typeof parsed === 'object' && parsed !== null ? (parsed as { signedPayload?: unknown }).signedPayload : undefined;
  if (typeof signed !== 'string' || signed === '') {
    throw new PayArgumentError(`${PKG}: notification: expected a signedPayload string in the body, got ${describeValue(signed)}`, {
      hint: 'App Store Server Notifications V2 POST {"signedPayload": "<JWS>"}; V1 notifications are not supported',
    });
  }
  return signed;
}

/**
 * Verifies notifications and their nested signed data, and tracks `notificationUUID`s.
 *
 * @example
 * ```ts
 * const notifications = new NotificationProcessor(verifier);
 * const n = await notifications.process(incoming); // from fromNodeRequest(req)
 * if (n.notificationType === 'REFUND') revoke(n.transaction?.transactionId);
 * ```
 */
export class NotificationProcessor {
  private readonly seen: SeenStore;

  /**
   * @param verifier - the signed-data verifier (its environment and app are enforced)
   * @param seen - where processed `notificationUUID`s are remembered (default: 10 000 in memory)
   */
  constructor(
    private readonly verifier: SignedDataVerifier,
    seen?: SeenStore,
  ) {
    this.seen = seen ?? new SeenIds(10_000);
  }

  /**
   * Verifies a notification: the body as received (or an `IncomingNotification`).
   *
   * @throws PayArgumentError on a malformed body or a method other than POST; verification errors
   * (`PayCertificateError`, `PaySignatureError`, `PayMismatchError` with a `VerificationReason`)
   */
  async process(input: string | Uint8Array | IncomingNotification): Promise<VerifiedNotification> {
    let body: string | Uint8Array;
    if (typeof input === 'string' || input instanceof Uint8Array) body = input;
    else {
      if (input.method !== 'POST') throw new PayArgumentError(`${PKG}: notification: expected POST, got ${input.method}`);
      body = input.rawBody;
    }
    return this.verifySignedPayload(readSignedPayload(body));
  }

  /**
   * Verifies a `signedPayload` (e.g. from Get Notification History) and its nested signed data.
   *
   * @throws see {@link NotificationProcessor.process}
   */
  async verifySignedPayload(signedPayload: string): Promise<VerifiedNotification> {
    const payload = await this.verifier.verifyNotification(signedPayload);
    const type = payload.notificationType;
    if (typeof type !== 'string' || type === '')
      throw verificationFailure(`notification: expected a notificationType, got ${describeValue(type)}`);
    const uuid = payload.notificationUUID;
    if (typeof uuid !== 'string' || uuid === '')
      throw verificationFailure(`notification: expected a notificationUUID, got ${describeValue(uuid)}`);
    const out: VerifiedNotification = {
      payload,
      notificationType: type,
      subtype: typeof payload.subtype === 'string' ? payload.subtype : undefined,
      notificationUUID: uuid,
      knownType: KNOWN_TYPES.has(type),
      duplicate: false,
    };
    const data = payload.data;
    if (data?.signedTransactionInfo !== undefined) out.transaction = await this.verifier.verifyTransaction(data.signedTransactionInfo);
    if (data?.signedRenewalInfo !== undefined) out.renewalInfo = await this.verifier.verifyRenewalInfo(data.signedRenewalInfo);
    const appData = payload.appData;
    if (appData?.signedAppTransactionInfo !== undefined) {
      out.appTransaction = await this.verifier.verifyAppTransaction(appData.signedAppTransactionInfo);
    }
    out.duplicate = !(await this.seen.add(uuid));
    return out;
  }
}

/**
 * The unified event a notification stands for: purchases and resubscriptions
 * are `paid`, renewals `renewed`, refunds `refunded`, family-sharing revocations
 * `revoked`, expiries `expired`; everything else is `other`.
 */
export function notificationEventKind(type: NotificationType, subtype?: NotificationSubtype): PaymentEventKind {
  switch (type) {
    case 'SUBSCRIBED':
      return 'paid';
    case 'ONE_TIME_CHARGE':
      return 'paid';
    case 'OFFER_REDEEMED':
      return subtype === 'INITIAL_BUY' || subtype === 'RESUBSCRIBE' ? 'paid' : 'other';
    case 'DID_RENEW':
      return 'renewed';
    case 'REFUND':
      return 'refunded';
    case 'REVOKE':
      return 'revoked';
    case 'EXPIRED':
    case 'GRACE_PERIOD_EXPIRED':
      return 'expired';
    default:
      return 'other';
  }
}
