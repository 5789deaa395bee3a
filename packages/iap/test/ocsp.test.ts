// Online checks: OCSP for leaf and intermediate through the transport, against a responder on
// 127.0.0.1 that answers like RFC 6960 responders (signed by the issuer or a delegated responder).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  Certificate,
  createHttpTransport,
  derChildren,
  derContent,
  derInteger,
  derOid,
  PayCertificateError,
  PayNetworkError,
  PaySignatureError,
  PayTimeoutError,
  readDer,
} from '@pay/core';
import {
  type AppleOcspCertStatus,
  type AppleTestChain,
  appleOcspCertId,
  buildAppleOcspErrorResponse,
  buildAppleOcspResponse,
  createAppleOcspResponderCertificate,
  createAppleTestCertificate,
  generateAppleTestChain,
  generateAppleTestKeyPair,
  startLoopbackServer,
} from '@pay/sandbox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeVectors, readVector } from '../../../test-utils/vectors.js';
import { buildOcspRequest, defaultOcspUrl, ocspResponderUrl, VerificationReason } from '../src/index.js';
import { NOW, rejection, sign, transactionPayload, verifierFor } from './helpers.js';

type Mode =
  | { kind: 'status'; status: AppleOcspCertStatus; leafOnly?: boolean }
  | { kind: 'forged' }
  | { kind: 'stale' }
  | { kind: 'otherSerial' }
  | { kind: 'delegated'; eku: boolean; foreign?: boolean }
  | { kind: 'tryLater' }
  | { kind: 'http503' }
  | { kind: 'garbage' }
  | { kind: 'hang' };

let mode: Mode = { kind: 'status', status: 'good' };
let hits: string[] = [];
let chain: AppleTestChain;
let server: Awaited<ReturnType<typeof startLoopbackServer>>;
let clock = NOW;

beforeAll(async () => {
  server = await startLoopbackServer(async (req) => {
    const which = req.path === '/leaf' ? 'leaf' : 'intermediate';
    hits.push(which);
    const cert = which === 'leaf' ? chain.leaf : chain.intermediate;
    const issuer = which === 'leaf' ? chain.intermediate : chain.root;
    // The request's CertID, read back to echo it.
    const certIdNode = derChildren(derChildren(derChildren(derChildren(readDer(req.body))[0]!)[0]!)[0]!)[0]!;
    const [alg, nameHash, keyHash, serial] = derChildren(certIdNode);
    const certId = {
      hash: (derOid(derChildren(alg!)[0]!) === '1.3.14.3.2.26' ? 'sha1' : 'sha256') as 'sha1' | 'sha256',
      issuerNameHash: Buffer.from(derContent(nameHash!)),
      issuerKeyHash: Buffer.from(derContent(keyHash!)),
      serial: derInteger(serial!),
    };
    const ok = (body: Buffer) => ({ status: 200, headers: { 'content-type': 'application/ocsp-response' }, body });
    switch (mode.kind) {
      case 'status':
        return ok(buildAppleOcspResponse({ certId, status: mode.leafOnly && which !== 'leaf' ? 'good' : mode.status, issuer, now: clock }));
      case 'forged':
        return ok(buildAppleOcspResponse({ certId, status: 'good', issuer, now: clock, signWith: generateAppleTestKeyPair().privateKey }));
      case 'stale':
        return ok(
          buildAppleOcspResponse({ certId, status: 'good', issuer, now: clock - 3 * 3_600_000, nextUpdate: clock - 2 * 3_600_000 }),
        );
      case 'otherSerial':
        return ok(buildAppleOcspResponse({ certId: { ...certId, serial: cert.serial + 1000n }, status: 'good', issuer, now: clock }));
      case 'delegated': {
        const delegatedIssuer = mode.foreign ? generateAppleTestChain({ now: NOW }).intermediate : issuer;
        const responder = mode.eku
          ? createAppleOcspResponderCertificate(delegatedIssuer, clock)
          : createAppleTestCertificate({
              subject: [['CN', 'not an OCSP signer']],
              serial: 991,
              notBefore: clock - 1000,
              notAfter: clock + 86_400_000,
              issuer: delegatedIssuer,
            });
        return ok(buildAppleOcspResponse({ certId, status: 'good', issuer, responder, now: clock }));
      }
      case 'tryLater':
        return ok(buildAppleOcspErrorResponse(3));
      case 'http503':
        return { status: 503, body: 'down' };
      case 'garbage':
        return ok(Buffer.from('30030a0100ff', 'hex'));
      case 'hang':
        await new Promise((r) => setTimeout(r, 2_000));
        return ok(Buffer.alloc(0));
    }
  });
});

afterAll(async () => {
  await server.close();
});

function online(extra: Parameters<typeof verifierFor>[1] = {}) {
  chain = generateAppleTestChain({ now: NOW, leafOcspUrl: `${server.url}/leaf`, intermediateOcspUrl: `${server.url}/intermediate` });
  hits = [];
  clock = NOW;
  const transport = createHttpTransport({ retries: 0, timeoutMs: 1_000 });
  return verifierFor(chain, { onlineChecks: true, transport, ocspTimeoutMs: 300, clock: () => clock, ...extra });
}

describe('online checks with OCSP', () => {
  it('good for leaf and intermediate: verifies, then reuses the chain (and its OCSP answer) for 15 minutes', async () => {
    mode = { kind: 'status', status: 'good' };
    const v = online();
    await expect(v.verifyTransaction(sign(transactionPayload(), chain))).resolves.toBeDefined();
    expect(hits.sort()).toEqual(['intermediate', 'leaf']);
    clock = NOW + 14 * 60_000;
    await v.verifyTransaction(sign(transactionPayload(), chain));
    expect(hits).toHaveLength(2);
    clock = NOW + 15 * 60_000 + 1;
    await v.verifyTransaction(sign(transactionPayload(), chain));
    expect(hits).toHaveLength(4);
  });

  it('a revoked leaf → PayCertificateError INVALID_CERTIFICATE, not cached', async () => {
    mode = { kind: 'status', status: 'revoked', leafOnly: true };
    const v = online();
    const e = await rejection(v.verifyTransaction(sign(transactionPayload(), chain)));
    expect(e).toBeInstanceOf(PayCertificateError);
    expect(e.reason).toBe(VerificationReason.INVALID_CERTIFICATE);
    expect(e.message).toMatch(/leaf certificate .* is revoked/);
    expect(e.retryable).toBe(false);
    expect(v.cachedChains).toBe(0);
  });

  it('status unknown → VERIFICATION_FAILURE', async () => {
    mode = { kind: 'status', status: 'unknown' };
    const e = await rejection(online().verifyTransaction(sign(transactionPayload(), chain)));
    expect(e.reason).toBe(VerificationReason.VERIFICATION_FAILURE);
  });

  it.each([
    ['a response signed by another key', { kind: 'forged' } as Mode, /response signature .*does not verify/],
    ['a stale response (nextUpdate passed)', { kind: 'stale' } as Mode, /stale/],
    ['a response about another serial', { kind: 'otherSerial' } as Mode, /holds no status/],
    ['a delegated responder without id-kp-OCSPSigning', { kind: 'delegated', eku: false } as Mode, /not an OCSP signer delegated/],
    ['a responder delegated by another CA', { kind: 'delegated', eku: true, foreign: true } as Mode, /not an OCSP signer delegated/],
    ['malformed bytes', { kind: 'garbage' } as Mode, /malformed/],
  ])('%s → VERIFICATION_FAILURE, not retryable', async (_name, m, message) => {
    mode = m;
    const e = await rejection(online().verifyTransaction(sign(transactionPayload(), chain)));
    expect(e.reason).toBe(VerificationReason.VERIFICATION_FAILURE);
    expect(e.retryable).toBe(false);
    expect(e.message).toMatch(message);
    expect(e instanceof PayCertificateError || e instanceof PaySignatureError).toBe(true);
  });

  it('a delegated responder certificate with id-kp-OCSPSigning, issued by the issuer, is accepted', async () => {
    mode = { kind: 'delegated', eku: true };
    await expect(online().verifyTransaction(sign(transactionPayload(), chain))).resolves.toBeDefined();
  });

  it('network failures are retryable and distinct from verification failures', async () => {
    // responder down (connection refused)
    const closed: Server = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    chain = generateAppleTestChain({
      now: NOW,
      leafOcspUrl: `http://127.0.0.1:${port}/leaf`,
      intermediateOcspUrl: `http://127.0.0.1:${port}/intermediate`,
    });
    const refused = verifierFor(chain, { onlineChecks: true, transport: createHttpTransport({ retries: 0 }), clock: () => NOW });
    const e1 = await rejection(refused.verifyTransaction(sign(transactionPayload(), chain)));
    expect(e1).toBeInstanceOf(PayNetworkError);
    expect(e1.reason).toBe(VerificationReason.RETRYABLE_VERIFICATION_FAILURE);
    expect(e1.retryable).toBe(true);
    // HTTP 503 and "tryLater" are retryable too
    for (const m of [{ kind: 'http503' }, { kind: 'tryLater' }] as Mode[]) {
      mode = m;
      const e = await rejection(online().verifyTransaction(sign(transactionPayload(), chain)));
      expect(e.reason, m.kind).toBe(VerificationReason.RETRYABLE_VERIFICATION_FAILURE);
      expect(e.retryable).toBe(true);
    }
  });

  it('a responder that does not answer in time → PayTimeoutError, retryable', async () => {
    mode = { kind: 'hang' };
    const e = await rejection(online().verifyTransaction(sign(transactionPayload(), chain)));
    expect(e).toBeInstanceOf(PayTimeoutError);
    expect(e.reason).toBe(VerificationReason.RETRYABLE_VERIFICATION_FAILURE);
    expect(e.retryable).toBe(true);
  });

  it('a certificate without an OCSP responder URL → INVALID_CERTIFICATE when online checks are on', async () => {
    const noAia = generateAppleTestChain({ now: NOW });
    const v = verifierFor(noAia, { onlineChecks: true, transport: createHttpTransport({ retries: 0 }), clock: () => NOW });
    const e = await rejection(v.verifyTransaction(sign(transactionPayload(), noAia)));
    expect(e.reason).toBe(VerificationReason.INVALID_CERTIFICATE);
    expect(e.message).toMatch(/names no OCSP responder/);
  });
});

describe('OCSP request and URLs', () => {
  it('the request carries a SHA-256 CertID equal to what a responder computes', () => {
    const c = generateAppleTestChain({ now: NOW });
    const req = buildOcspRequest(new Certificate(c.leaf.der), new Certificate(c.intermediate.der));
    const certId = derChildren(derChildren(derChildren(derChildren(readDer(req))[0]!)[0]!)[0]!)[0]!;
    const [alg, nameHash, keyHash, serial] = derChildren(certId);
    expect(derOid(derChildren(alg!)[0]!)).toBe('2.16.840.1.101.3.4.2.1');
    const expected = appleOcspCertId(c.leaf, c.intermediate, 'sha256');
    expect(Buffer.from(derContent(nameHash!))).toEqual(expected.issuerNameHash);
    expect(Buffer.from(derContent(keyHash!))).toEqual(expected.issuerKeyHash);
    expect(derInteger(serial!)).toBe(c.leaf.serial);
    expect(req.length).toBe(readDer(req).end);
  });

  it('plain-HTTP responder URLs are requested over HTTPS, except on loopback', () => {
    expect(defaultOcspUrl('http://ocsp.apple.com/ocsp03-wwdrg602')).toBe('https://ocsp.apple.com/ocsp03-wwdrg602');
    expect(defaultOcspUrl('http://127.0.0.1:8080/leaf')).toBe('http://127.0.0.1:8080/leaf');
    expect(defaultOcspUrl('https://ocsp.example/x')).toBe('https://ocsp.example/x');
  });
});

describeVectors('OCSP responder URLs of Apple’s real certificates', () => {
  it('reads the AIA OCSP URLs of the WWDR G6 intermediate and the receipt-signing leaf', () => {
    expect(ocspResponderUrl(new Certificate(readVector('iap', 'chain_certs', 'real_apple_signing_certificate.der')))).toBe(
      'http://ocsp.apple.com/ocsp03-wwdrg602',
    );
    expect(ocspResponderUrl(new Certificate(readVector('iap', 'chain_certs', 'real_apple_intermediate.der')))).toBe(
      'http://ocsp.apple.com/ocsp03-applerootcag3',
    );
    expect(ocspResponderUrl(new Certificate(readVector('iap', 'chain_certs', 'real_apple_root.der')))).toBeUndefined();
  });

  it('builds a request for the real leaf that names SHA-256 and the leaf serial', () => {
    const leaf = new Certificate(readVector('iap', 'chain_certs', 'real_apple_signing_certificate.der'));
    const req = buildOcspRequest(leaf, new Certificate(readVector('iap', 'chain_certs', 'real_apple_intermediate.der')));
    const certId = derChildren(derChildren(derChildren(derChildren(readDer(req))[0]!)[0]!)[0]!)[0]!;
    expect(derInteger(derChildren(certId)[3]!).toString(16).toUpperCase()).toBe(leaf.serialHex);
    // Known answer: `openssl ocsp -issuer wwdrg6.pem -sha256 -cert leaf.pem -no_nonce -reqout req.der` writes
    // the same bytes; its -req_text shows these hashes.
    expect(
      Buffer.from(derContent(derChildren(certId)[1]!))
        .toString('hex')
        .toUpperCase(),
    ).toBe('0F1C74B7CC3BCB8428383973C1B0A446C81D2A7176F4C2113D3A6A66AE396261');
    expect(
      Buffer.from(derContent(derChildren(certId)[2]!))
        .toString('hex')
        .toUpperCase(),
    ).toBe('189B89EC26A445E740A953ED101784480C05FA18E85979343F38FE4130E18CD5');
    expect(leaf.serialHex).toBe('47C287CDD9F9E7867F528ADA74DC7DB7');
  });
});
