/**
 * OCSP (RFC 6960) revocation checks for the App Store signing chain, sent
 * through the injected transport: a request with a SHA-256 CertID, a response
 * whose signature is checked against the issuer (or a responder it delegated
 * to), its freshness and the certificate's status.
 *
 * @module
 */
import { createHash, verify as nodeVerify } from 'node:crypto';
import {
  Certificate,
  type Clock,
  type DerNode,
  derBytes,
  derChildren,
  derContent,
  derInteger,
  derOid,
  derTime,
  isPayError,
  PayNetworkError,
  PayTimeoutError,
  PayUpstreamError,
  readDer,
  type Transport,
} from '@pay/core';
import { certificateError, retryableFailure, verificationFailure } from './errors.js';

const OID_AIA = '1.3.6.1.5.5.7.1.1';
const OID_AD_OCSP = '1.3.6.1.5.5.7.48.1';
const OID_OCSP_BASIC = '1.3.6.1.5.5.7.48.1.1';
const OID_EXT_KEY_USAGE = '2.5.29.37';
const OID_KP_OCSP_SIGNING = '1.3.6.1.5.5.7.3.9';
const HASH_OIDS: Record<string, 'sha1' | 'sha256' | 'sha384' | 'sha512'> = {
  '1.3.14.3.2.26': 'sha1',
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
};
const SIGNATURE_HASHES: Record<string, 'sha256' | 'sha384' | 'sha512'> = {
  '1.2.840.10045.4.3.2': 'sha256',
  '1.2.840.10045.4.3.3': 'sha384',
  '1.2.840.10045.4.3.4': 'sha512',
  '1.2.840.113549.1.1.11': 'sha256',
  '1.2.840.113549.1.1.12': 'sha384',
  '1.2.840.113549.1.1.13': 'sha512',
};

/** How OCSP requests are sent. */
export interface OcspOptions {
  /** The transport the request goes through. */
  transport: Transport;
  /** Timeout of one OCSP request, ms. */
  timeoutMs: number;
  /** The clock the response's freshness is checked against. */
  clock: Clock;
  /** Tolerated clock skew for `thisUpdate` / `nextUpdate`, ms. */
  maxSkewMs: number;
  /** Maps the responder URL from the certificate to the one requested (default: HTTP upgraded to HTTPS except on loopback). */
  mapUrl: (url: string) => string;
}

const LOOPBACK = /^http:\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?\//;

/**
 * The default responder URL mapping: Apple's certificates name `http://ocsp.apple.com/…`,
 * and core's transport refuses plain HTTP except to loopback, so the request goes to
 * the same URL over HTTPS. (The answer is signed either way.)
 */
export function defaultOcspUrl(url: string): string {
  if (url.startsWith('http://') && !LOOPBACK.test(url)) return `https://${url.slice('http://'.length)}`;
  return url;
}

/** Parts of a certificate an OCSP CertID is made from. */
interface CertIdParts {
  issuerNameDer: Uint8Array;
  issuerKeyBits: Uint8Array;
  serial: bigint;
}

function tbsFields(cert: Certificate): DerNode[] {
  const [tbs] = derChildren(readDer(cert.der));
  const fields = derChildren(tbs as DerNode);
  return fields[0]?.tag === 0xa0 ? fields.slice(1) : fields;
}

/** serial, signature, issuer, validity, subject, spki… (version dropped). */
function certIdParts(cert: Certificate, issuer: Certificate): CertIdParts {
  const fields = tbsFields(cert);
  const issuerFields = tbsFields(issuer);
  const spki = issuerFields[5] as DerNode;
  const bits = derContent(derChildren(spki)[1] as DerNode);
  return {
    issuerNameDer: derBytes(fields[2] as DerNode),
    issuerKeyBits: bits.subarray(1),
    serial: derInteger(fields[0] as DerNode),
  };
}

/** The OCSP responder URL in a certificate's Authority Information Access, if any. */
export function ocspResponderUrl(cert: Certificate): string | undefined {
  const ext = cert.extensions.get(OID_AIA);
  if (!ext) return undefined;
  try {
    const seq = readDer(ext.value);
    for (const access of derChildren(seq)) {
      const [method, location] = derChildren(access);
      if (method && location && derOid(method) === OID_AD_OCSP && location.tag === 0x86) {
        return Buffer.from(derContent(location)).toString('latin1');
      }
    }
  } catch {
    return undefined;
  }
  return undefined;
}

function tlv(tag: number, content: Uint8Array): Buffer {
  const len = content.length;
  const header =
    len < 0x80 ? Buffer.from([tag, len]) : len < 0x100 ? Buffer.from([tag, 0x81, len]) : Buffer.from([tag, 0x82, len >> 8, len & 0xff]);
  return Buffer.concat([header, content]);
}

function integerBytes(value: bigint): Buffer {
  let hex = value.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  let bytes = Buffer.from(hex, 'hex');
  if ((bytes[0] as number) & 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes]);
  return bytes;
}

const SHA256_ALG = Buffer.from('300d06096086480165030402010500', 'hex');

/** Builds a DER `OCSPRequest` for `cert` issued by `issuer`, with a SHA-256 CertID. */
export function buildOcspRequest(cert: Certificate, issuer: Certificate): Buffer {
  const parts = certIdParts(cert, issuer);
  const certId = tlv(
    0x30,
    Buffer.concat([
      SHA256_ALG,
      tlv(0x04, createHash('sha256').update(parts.issuerNameDer).digest()),
      tlv(0x04, createHash('sha256').update(parts.issuerKeyBits).digest()),
      tlv(0x02, integerBytes(parts.serial)),
    ]),
  );
  const request = tlv(0x30, certId);
  const requestList = tlv(0x30, request);
  const tbsRequest = tlv(0x30, requestList);
  return tlv(0x30, tbsRequest);
}

function hashOf(alg: string, data: Uint8Array): Buffer {
  return createHash(alg).update(data).digest();
}

function spkiBits(cert: Certificate): Uint8Array {
  const spki = tbsFields(cert)[5] as DerNode;
  return derContent(derChildren(spki)[1] as DerNode).subarray(1);
}

function hasOcspSigning(cert: Certificate): boolean {
  const ext = cert.extensions.get(OID_EXT_KEY_USAGE);
  if (!ext) return false;
  try {
    return derChildren(readDer(ext.value)).some((n) => derOid(n) === OID_KP_OCSP_SIGNING);
  } catch {
    return false;
  }
}

/**
 * Checks the revocation status of `cert` (issued by `issuer`) with its OCSP
 * responder.
 *
 * @throws PayNetworkError / PayTimeoutError (retryable, reason `RETRYABLE_VERIFICATION_FAILURE`) when the responder cannot be reached or asks to try later
 * @throws PayCertificateError (reason `INVALID_CERTIFICATE`) when the certificate is revoked or names no responder
 * @throws PayCertificateError / PaySignatureError (reason `VERIFICATION_FAILURE`) when the response is malformed, stale, unsigned or forged
 */
export async function checkOcsp(cert: Certificate, issuer: Certificate, role: string, options: OcspOptions): Promise<void> {
  const named = ocspResponderUrl(cert);
  if (named === undefined) {
    throw certificateError(`OCSP: the ${role} certificate (serial ${cert.serialHex}) names no OCSP responder; online checks cannot run`);
  }
  const url = options.mapUrl(named);
  let body: Buffer;
  try {
    const res = await options.transport.request({
      method: 'POST',
      url,
      headers: { 'content-type': 'application/ocsp-request', accept: 'application/ocsp-response' },
      body: buildOcspRequest(cert, issuer),
      timeoutMs: options.timeoutMs,
      idempotent: true,
    });
    if (res.status !== 200) {
      throw certificateError(`OCSP: the responder ${url} answered HTTP ${res.status} for the ${role} certificate; expected 200`, {
        reason: 'VERIFICATION_FAILURE',
        httpStatus: res.status,
      });
    }
    body = res.body;
  } catch (e) {
    if (e instanceof PayTimeoutError || (isPayError(e) && e.resultCode === 4001)) {
      throw retryableFailure(
        `OCSP: the responder ${url} did not answer in ${options.timeoutMs} ms (${role} certificate); try again later`,
        e,
        true,
      );
    }
    if (
      e instanceof PayNetworkError ||
      e instanceof PayUpstreamError ||
      (isPayError(e) && (e.resultCode === 4000 || e.resultCode === 4002))
    ) {
      throw retryableFailure(
        `OCSP: could not reach the responder ${url} (${role} certificate): ${(e as Error).message}; try again later`,
        e,
        false,
      );
    }
    if (isPayError(e) && e.reason === 'VERIFICATION_FAILURE') throw e;
    throw certificateError(`OCSP: the request to ${url} failed: ${e instanceof Error ? e.message : String(e)}`, {
      reason: 'VERIFICATION_FAILURE',
      cause: e,
    });
  }
  verifyOcspResponse(body, cert, issuer, role, options);
}

/**
 * Verifies a DER `OCSPResponse` for `cert`: signature by the issuer or a delegated
 * responder, freshness against the clock, and status `good`.
 *
 * @throws see {@link checkOcsp}
 */
export function verifyOcspResponse(
  body: Uint8Array,
  cert: Certificate,
  issuer: Certificate,
  role: string,
  options: Pick<OcspOptions, 'clock' | 'maxSkewMs'>,
): void {
  let parsed: ReturnType<typeof parseResponse>;
  try {
    parsed = parseResponse(body);
  } catch (e) {
    if (isPayError(e) && e.reason) throw e;
    throw verificationFailure(
      `OCSP: the response for the ${role} certificate is malformed: ${e instanceof Error ? e.message : String(e)}`,
      {
        cause: e,
      },
    );
  }
  if (parsed.status !== 0) {
    const names = ['successful', 'malformedRequest', 'internalError', 'tryLater', '?', 'sigRequired', 'unauthorized'];
    const text = names[parsed.status] ?? String(parsed.status);
    if (parsed.status === 2 || parsed.status === 3) {
      throw retryableFailure(`OCSP: the responder answered ${text} for the ${role} certificate; try again later`, undefined, false);
    }
    throw verificationFailure(`OCSP: expected a successful response for the ${role} certificate, got status ${text}`);
  }
  const basic = parsed.basic as NonNullable<typeof parsed.basic>;
  // Who signed: the issuer itself, or a certificate in the response that the issuer delegated to.
  const candidates: Certificate[] = [issuer, ...basic.certs];
  const signer = candidates.find((c) =>
    basic.responderKeyHash
      ? hashOf('sha1', spkiBits(c)).equals(basic.responderKeyHash)
      : Buffer.from(basic.responderName ?? []).equals(subjectDer(c)),
  );
  if (!signer)
    throw verificationFailure(
      `OCSP: the response for the ${role} certificate is signed by a responder that is neither the issuer nor delegated by it`,
    );
  const now = options.clock();
  if (signer !== issuer && !signer.der.equals(issuer.der)) {
    if (!signer.isIssuedBy(issuer) || !hasOcspSigning(signer)) {
      throw certificateError(
        `OCSP: the responder certificate ${signer.subjectName()} is not an OCSP signer delegated by the issuer ${issuer.subjectName()}`,
        {
          reason: 'VERIFICATION_FAILURE',
        },
      );
    }
    if (!signer.isValidAt(now)) {
      throw certificateError(`OCSP: the responder certificate ${signer.subjectName()} is not valid at ${new Date(now).toISOString()}`);
    }
  }
  const hash = SIGNATURE_HASHES[basic.signatureOid];
  if (!hash) throw verificationFailure(`OCSP: expected a SHA-256/384/512 response signature, got algorithm ${basic.signatureOid}`);
  let ok = false;
  try {
    ok = nodeVerify(hash, basic.tbs, signer.publicKey, basic.signature);
  } catch {
    ok = false;
  }
  if (!ok) throw verificationFailure(`OCSP: the response signature for the ${role} certificate does not verify with the responder's key`);
  const parts = certIdParts(cert, issuer);
  for (const single of basic.responses) {
    const alg = HASH_OIDS[single.hashOid];
    if (!alg || single.serial !== parts.serial) continue;
    if (!hashOf(alg, parts.issuerNameDer).equals(single.nameHash) || !hashOf(alg, parts.issuerKeyBits).equals(single.keyHash)) continue;
    if (single.thisUpdate > now + options.maxSkewMs) {
      throw verificationFailure(`OCSP: the response's thisUpdate ${new Date(single.thisUpdate).toISOString()} is in the future`);
    }
    if (single.nextUpdate !== undefined && single.nextUpdate < now - options.maxSkewMs) {
      throw verificationFailure(`OCSP: the response is stale: nextUpdate ${new Date(single.nextUpdate).toISOString()} has passed`);
    }
    if (single.status === 'revoked') {
      throw certificateError(`OCSP: the ${role} certificate (serial ${cert.serialHex}, ${cert.subjectName()}) is revoked`);
    }
    if (single.status !== 'good') {
      throw verificationFailure(
        `OCSP: the responder does not know the ${role} certificate (serial ${cert.serialHex}): status ${single.status}`,
      );
    }
    return;
  }
  throw verificationFailure(`OCSP: the response holds no status for the ${role} certificate (serial ${cert.serialHex})`);
}

function subjectDer(cert: Certificate): Uint8Array {
  return derBytes(tbsFields(cert)[4] as DerNode);
}

interface SingleResponse {
  hashOid: string;
  nameHash: Buffer;
  keyHash: Buffer;
  serial: bigint;
  status: 'good' | 'revoked' | 'unknown';
  thisUpdate: number;
  nextUpdate: number | undefined;
}

function parseResponse(body: Uint8Array): {
  status: number;
  basic?: {
    tbs: Uint8Array;
    signatureOid: string;
    signature: Uint8Array;
    certs: Certificate[];
    responderKeyHash?: Buffer;
    responderName?: Uint8Array;
    responses: SingleResponse[];
  };
} {
  const top = readDer(body);
  if (top.end !== body.length) throw new Error('trailing bytes after the response');
  const [statusNode, bytesNode] = derChildren(top);
  if (statusNode?.tag !== 0x0a) throw new Error('no responseStatus');
  const status = derContent(statusNode)[0] ?? 255;
  if (status !== 0) return { status };
  if (bytesNode?.tag !== 0xa0) throw new Error('no responseBytes');
  const [responseBytes] = derChildren(bytesNode);
  const [typeNode, octets] = derChildren(responseBytes as DerNode);
  if (!typeNode || derOid(typeNode) !== OID_OCSP_BASIC || !octets) throw new Error('not a basic OCSP response');
  const basicNode = readDer(derContent(octets));
  const [tbsNode, algNode, sigNode, certsNode] = derChildren(basicNode);
  if (!tbsNode || !algNode || !sigNode) throw new Error('incomplete BasicOCSPResponse');
  const signatureOid = derOid(derChildren(algNode)[0] as DerNode);
  const signature = derContent(sigNode).subarray(1);
  const certs: Certificate[] = [];
  if (certsNode && certsNode.tag === 0xa0) {
    for (const c of derChildren(derChildren(certsNode)[0] as DerNode)) certs.push(new Certificate(derBytes(c)));
  }
  let fields = derChildren(tbsNode);
  if (fields[0]?.tag === 0xa0) fields = fields.slice(1);
  const [responderId, , responsesNode] = fields;
  if (!responderId || !responsesNode) throw new Error('incomplete ResponseData');
  const inner = derChildren(responderId)[0] as DerNode;
  const responder = responderId.tag === 0xa2 ? { responderKeyHash: Buffer.from(derContent(inner)) } : { responderName: derBytes(inner) };
  const responses: SingleResponse[] = [];
  for (const single of derChildren(responsesNode)) {
    const [certId, certStatus, thisUpdate, ...rest] = derChildren(single);
    if (!certId || !certStatus || !thisUpdate) throw new Error('incomplete SingleResponse');
    const [alg, nameHash, keyHash, serial] = derChildren(certId);
    const next = rest.find((n) => n.tag === 0xa0);
    responses.push({
      hashOid: derOid(derChildren(alg as DerNode)[0] as DerNode),
      nameHash: Buffer.from(derContent(nameHash as DerNode)),
      keyHash: Buffer.from(derContent(keyHash as DerNode)),
      serial: derInteger(serial as DerNode),
      status: certStatus.tag === 0x80 ? 'good' : certStatus.tag === 0xa1 ? 'revoked' : 'unknown',
      thisUpdate: derTime(thisUpdate),
      nextUpdate: next ? derTime(derChildren(next)[0] as DerNode) : undefined,
    });
  }
  return { status, basic: { tbs: derBytes(tbsNode), signatureOid, signature, certs, ...responder, responses } };
}
