/**
 * Apple's certificate chain rules for App Store signed data: the leaf and the
 * intermediate from `x5c` must chain to a configured root (the third `x5c`
 * certificate is never trusted), carry Apple's marker OIDs, and be valid at
 * the effective date. Built on `@pay/core`'s `Certificate` and
 * `verifyCertificateChain`.
 *
 * @module
 */
import type { KeyObject } from 'node:crypto';
import { type Certificate, isPayError, verifyCertificateChain } from '@pay/core';
import { certificateError } from './errors.js';

/** OID Apple puts on the App Store receipt-signing (leaf) certificate. */
export const APPLE_LEAF_OID = '1.2.840.113635.100.6.11.1';
/** OID Apple puts on the Apple Worldwide Developer Relations (intermediate) certificate. */
export const APPLE_INTERMEDIATE_OID = '1.2.840.113635.100.6.2.1';

/** What a verified chain yields. */
export interface VerifiedChain {
  /** The leaf's public key (EC P-256), which verifies the JWS. */
  publicKey: KeyObject;
  /** The latest `notBefore` of leaf, intermediate and root, epoch ms. */
  notBefore: number;
  /** The earliest `notAfter` of leaf, intermediate and root, epoch ms. */
  notAfter: number;
  /** The configured root the chain ends at. */
  root: Certificate;
}

function iso(at: number): string {
  return Number.isFinite(at) ? new Date(at).toISOString() : String(at);
}

/**
 * Verifies Apple's three-certificate chain: `leaf` issued by `intermediate`,
 * `intermediate` a CA issued by one of `roots`, Apple's OIDs on both, every
 * certificate (root included) valid at `at`.
 *
 * Structural failures (no root, untrusted, missing OID, not a CA, wrong key
 * type) are `VERIFICATION_FAILURE`; validity failures are `INVALID_CERTIFICATE`,
 * as in Apple's own libraries.
 *
 * @example
 * ```ts
 * const { publicKey } = verifyAppleChain(leaf, intermediate, [appleRootG3], signedDate);
 * ```
 * @param leaf - `x5c[0]`
 * @param intermediate - `x5c[1]`
 * @param roots - the trusted roots (Apple Root CA - G3 in production)
 * @param at - the effective date, epoch ms
 * @throws PayCertificateError with reason `VERIFICATION_FAILURE` or `INVALID_CERTIFICATE`
 */
export function verifyAppleChain(leaf: Certificate, intermediate: Certificate, roots: readonly Certificate[], at: number): VerifiedChain {
  if (roots.length === 0) {
    throw certificateError('chain: no trusted root is configured (expected Apple Root CA - G3 in production)', {
      reason: 'VERIFICATION_FAILURE',
    });
  }
  if (!leaf.hasExtension(APPLE_LEAF_OID)) {
    throw certificateError(
      `chain: expected the leaf certificate (serial ${leaf.serialHex}, ${leaf.subjectName()}) to carry Apple's OID ${APPLE_LEAF_OID}; it does not`,
      { reason: 'VERIFICATION_FAILURE' },
    );
  }
  if (!intermediate.hasExtension(APPLE_INTERMEDIATE_OID)) {
    throw certificateError(
      `chain: expected the intermediate certificate (serial ${intermediate.serialHex}, ${intermediate.subjectName()}) to carry Apple's OID ${APPLE_INTERMEDIATE_OID}; it does not`,
      { reason: 'VERIFICATION_FAILURE' },
    );
  }
  let path: Certificate[];
  try {
    path = verifyCertificateChain(leaf, [intermediate], roots, { at, maxDepth: 3 });
  } catch (e) {
    if (!isPayError(e)) throw e;
    const reason = e.reason;
    if ((reason === 'EXPIRED' || reason === 'NOT_YET_VALID') && structurallyTrusted(leaf, intermediate, roots)) {
      throw certificateError(`chain: ${stripPrefix(e.message)}`, { reason: 'INVALID_CERTIFICATE', cause: e });
    }
    throw certificateError(
      reason === 'EXPIRED' || reason === 'NOT_YET_VALID'
        ? `chain: the leaf ${leaf.subjectName()} (serial ${leaf.serialHex}) does not chain through the intermediate to a configured root`
        : `chain: ${stripPrefix(e.message)}`,
      { reason: 'VERIFICATION_FAILURE', cause: e },
    );
  }
  if (path.length !== 3 || path[1] !== intermediate) {
    throw certificateError(
      `chain: expected leaf → intermediate → configured root, found a path of ${path.length} certificate(s) that skips the intermediate`,
      { reason: 'VERIFICATION_FAILURE' },
    );
  }
  const root = path[2] as Certificate;
  const key = leaf.publicKey;
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw certificateError(
      `chain: expected an EC P-256 key in the leaf certificate (ES256), found ${key.asymmetricKeyType ?? 'unknown'} ${key.asymmetricKeyDetails?.namedCurve ?? ''}`.trim(),
      { reason: 'VERIFICATION_FAILURE' },
    );
  }
  return {
    publicKey: key,
    notBefore: Math.max(leaf.notBefore, intermediate.notBefore, root.notBefore),
    notAfter: Math.min(leaf.notAfter, intermediate.notAfter, root.notAfter),
    root,
  };
}

/** Whether the chain would be trusted apart from dates (decides the reason of a date failure). */
function structurallyTrusted(leaf: Certificate, intermediate: Certificate, roots: readonly Certificate[]): boolean {
  return intermediate.isCA && leaf.isIssuedBy(intermediate) && roots.some((r) => intermediate.isIssuedBy(r));
}

function stripPrefix(message: string): string {
  return message.replace(/^@pay\/core: (chain: )?/, '');
}

/** Describes the validity window of a cached chain for an error message. @internal */
export function validityMessage(notBefore: number, notAfter: number, at: number): string {
  return at < notBefore
    ? `a certificate of the chain is not valid before ${iso(notBefore)}; checked at ${iso(at)}`
    : `a certificate of the chain expired at ${iso(notAfter)}; checked at ${iso(at)}`;
}
