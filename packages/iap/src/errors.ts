/**
 * The stable string reasons of signed-data verification failures (Apple's
 * `VerificationStatus`, as names: never renumbered integers), set on
 * `PayError.reason`, and helpers that raise them.
 *
 * @module
 */
import {
  PayCertificateError,
  type PayError,
  type PayErrorOptions,
  PayMismatchError,
  PayNetworkError,
  PaySignatureError,
  PayTimeoutError,
} from '@pay/core';

/** The package name every message starts with. */
export const PKG = '@pay/iap';

/**
 * Why signed data did not verify. The value is `PayError.reason`; the error's
 * class says the kind (`PayCertificateError`, `PaySignatureError`,
 * `PayMismatchError`, or a retryable `PayNetworkError` / `PayTimeoutError`).
 */
export const VerificationReason = {
  /** The `x5c` header is missing or does not hold exactly three certificates (raised as a certificate error). */
  INVALID_CHAIN_LENGTH: 'INVALID_CHAIN_LENGTH',
  /** A certificate is malformed, expired or not yet valid at the effective date, or revoked. */
  INVALID_CERTIFICATE: 'INVALID_CERTIFICATE',
  /** The chain does not lead to a configured root, lacks Apple's OIDs, or the signature or data is wrong. */
  VERIFICATION_FAILURE: 'VERIFICATION_FAILURE',
  /** The revocation check could not reach the OCSP responder: try again later. */
  RETRYABLE_VERIFICATION_FAILURE: 'RETRYABLE_VERIFICATION_FAILURE',
  /** The data is for another app (`bundleId`, or `appAppleId` in production). */
  INVALID_APP_IDENTIFIER: 'INVALID_APP_IDENTIFIER',
  /** The data is for another environment (`Sandbox` vs `Production`, Xcode, local testing). */
  INVALID_ENVIRONMENT: 'INVALID_ENVIRONMENT',
} as const;

/** One of {@link VerificationReason}'s values. */
export type VerificationReasonCode = (typeof VerificationReason)[keyof typeof VerificationReason];

type Opts = Omit<PayErrorOptions, 'reason'>;

/** A certificate problem: `PayCertificateError` with reason `INVALID_CERTIFICATE` (or `INVALID_CHAIN_LENGTH`). @internal */
export function certificateError(
  message: string,
  options: Opts & { reason?: 'INVALID_CERTIFICATE' | 'INVALID_CHAIN_LENGTH' | 'VERIFICATION_FAILURE' } = {},
): PayError {
  const { reason = 'INVALID_CERTIFICATE', ...rest } = options;
  return new PayCertificateError(`${PKG}: ${message}`, { provider: 'iap', ...rest, reason });
}

/** A signature or data failure: `PaySignatureError` with reason `VERIFICATION_FAILURE`. @internal */
export function verificationFailure(message: string, options: Opts = {}): PayError {
  return new PaySignatureError(`${PKG}: ${message}`, { provider: 'iap', ...options, reason: VerificationReason.VERIFICATION_FAILURE });
}

/** A wrong app: `PayMismatchError` with reason `INVALID_APP_IDENTIFIER`. @internal */
export function appIdentifierError(message: string): PayError {
  return new PayMismatchError(`${PKG}: ${message}`, { provider: 'iap', reason: VerificationReason.INVALID_APP_IDENTIFIER });
}

/** A wrong environment: `PayMismatchError` with reason `INVALID_ENVIRONMENT`. @internal */
export function environmentError(message: string, hint?: string): PayError {
  return new PayMismatchError(`${PKG}: ${message}`, {
    provider: 'iap',
    reason: VerificationReason.INVALID_ENVIRONMENT,
    ...(hint ? { hint } : {}),
  });
}

/** A revocation check that could not complete: retryable, reason `RETRYABLE_VERIFICATION_FAILURE`. @internal */
export function retryableFailure(message: string, cause: unknown, timeout: boolean): PayError {
  const options = { provider: 'iap', cause, reason: VerificationReason.RETRYABLE_VERIFICATION_FAILURE, retryable: true };
  return timeout ? new PayTimeoutError(`${PKG}: ${message}`, options) : new PayNetworkError(`${PKG}: ${message}`, options);
}

/** Short description of an unknown value for error messages (never its full content). @internal */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (typeof value === 'string') return value.length > 40 ? `a string of ${value.length} characters` : JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return `an array of ${value.length}`;
  return typeof value;
}
