import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  Certificate,
  PayCertificateError,
  PayConfigError,
  parseCertificate,
  parseCertificates,
  SignatureAlgorithmOid,
  verifyCertificateChain,
} from '../src/index.js';
import { makeCert, rsaKeyPair, type TestCert } from './helpers/pki.js';

const Y = (year: number, month = 1, day = 1): Date => new Date(Date.UTC(year, month - 1, day));
const at = (d: Date): { at: number } => ({ at: d.getTime() });
const caUsage = { keyCertSign: true, cRLSign: true };

// A generated RSA hierarchy: root (2020-2040) → intermediate (2021-2035) → leaf (2024-2026).
const rootName: Array<[string, string]> = [
  ['C', 'CN'],
  ['O', 'Test Pay Root Authority'],
  ['CN', 'Test Root CA'],
];
const root = makeCert({ subject: rootName, ca: true, keyUsage: caUsage, serialHex: '01', notBefore: Y(2020), notAfter: Y(2040) });
const inter = makeCert({
  subject: [
    ['C', 'CN'],
    ['O', 'Test Pay'],
    ['OU', 'Operations'],
    ['CN', 'Test Middle CA'],
  ],
  issuer: root,
  ca: true,
  pathLen: 0,
  keyUsage: caUsage,
  serialHex: '0b',
  notBefore: Y(2021),
  notAfter: Y(2035),
});
const leaf = makeCert({
  subject: [
    ['C', 'CN'],
    ['ST', 'Shanghai'],
    ['O', 'Merchant 测试'],
    ['OU', 'Pay'],
    ['CN', '041@8310000000083040@商户@00016495'],
  ],
  issuer: inter,
  keyUsage: { digitalSignature: true },
  serialHex: '00c36e9fa84b5d2e71',
  notBefore: Y(2024),
  notAfter: Y(2026),
});
const C = (t: TestCert): Certificate => new Certificate(t.der);

function certError(fn: () => unknown, reason: string, message?: RegExp): PayCertificateError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(PayCertificateError);
    const err = e as PayCertificateError;
    expect(err.reason).toBe(reason);
    expect(err.message).toMatch(/^@pay\/core: chain: /);
    if (message) expect(err.message).toMatch(message);
    return err;
  }
  throw new Error(`expected a PayCertificateError ${reason}, nothing was thrown`);
}

describe('Certificate fields', () => {
  const c = C(leaf);

  it('serial number in upper-case hex without leading zeros and in decimal', () => {
    expect(c.serialHex).toBe('C36E9FA84B5D2E71');
    expect(c.serialDecimal).toBe(BigInt('0xc36e9fa84b5d2e71').toString(10));
    expect(c.serialDecimal).toBe('14082368630001839729');
    expect(C(inter).serialHex).toBe('B');
    expect(C(inter).serialDecimal).toBe('11');
  });

  it('issuer and subject in certificate order or reversed (RFC 4514 / Java order), with a chosen separator', () => {
    expect(c.issuerName()).toBe('C=CN,O=Test Pay,OU=Operations,CN=Test Middle CA');
    expect(c.issuerName({ order: 'forward' })).toBe('C=CN,O=Test Pay,OU=Operations,CN=Test Middle CA');
    expect(c.issuerName({ order: 'reverse' })).toBe('CN=Test Middle CA,OU=Operations,O=Test Pay,C=CN');
    expect(c.subjectName({ order: 'reverse', separator: ', ' })).toBe(
      'CN=041@8310000000083040@商户@00016495, OU=Pay, O=Merchant 测试, ST=Shanghai, C=CN',
    );
    expect(c.subject.map((a) => a.oid)).toEqual(['2.5.4.6', '2.5.4.8', '2.5.4.10', '2.5.4.11', '2.5.4.3']);
    expect(c.commonName).toBe('041@8310000000083040@商户@00016495');
  });

  it('validity in epoch ms, checked inclusively at a given time', () => {
    expect(c.notBefore).toBe(Y(2024).getTime());
    expect(c.notAfter).toBe(Y(2026).getTime());
    expect(c.isValidAt(Y(2025).getTime())).toBe(true);
    expect(c.isValidAt(c.notBefore)).toBe(true);
    expect(c.isValidAt(c.notAfter)).toBe(true);
    expect(c.isValidAt(c.notBefore - 1000)).toBe(false);
    expect(c.isValidAt(c.notAfter + 1000)).toBe(false);
  });

  it('signature algorithm OID (SHA-256 and SHA-1 with RSA)', () => {
    expect(c.signatureAlgorithmOid).toBe(SignatureAlgorithmOid.sha256WithRSA);
    const sha1 = C(makeCert({ subject: [['CN', 'old']], digest: 'sha1' }));
    expect(sha1.signatureAlgorithmOid).toBe(SignatureAlgorithmOid.sha1WithRSA);
  });

  it('extensions, CA flag, keyUsage and path length', () => {
    expect(C(root).isCA).toBe(true);
    expect(c.isCA).toBe(false);
    expect(C(inter).pathLenConstraint).toBe(0);
    expect(C(root).pathLenConstraint).toBeUndefined();
    expect([...(C(inter).keyUsage ?? [])].sort()).toEqual(['cRLSign', 'keyCertSign']);
    expect([...(c.keyUsage ?? [])]).toEqual(['digitalSignature']);
    expect(C(makeCert({ subject: [['CN', 'bare']] })).keyUsage).toBeUndefined();
    expect(c.hasExtension('2.5.29.15')).toBe(true);
    expect(c.extensions.get('2.5.29.15')?.critical).toBe(true);
    expect(c.hasExtension('2.5.29.19')).toBe(false);
  });

  it('public key, PEM, fingerprint, issued-by and self-signed', () => {
    expect(c.publicKey.equals(leaf.keys.publicKey)).toBe(true);
    expect(c.pem).toBe(leaf.pem.replace(/\r\n/g, '\n'));
    expect(c.fingerprint256).toBe(createHash('sha256').update(leaf.der).digest('hex'));
    expect(c.isIssuedBy(C(inter))).toBe(true);
    expect(c.isIssuedBy(C(root))).toBe(false);
    expect(C(root).isSelfSigned).toBe(true);
    expect(c.isSelfSigned).toBe(false);
  });
});

describe('parseCertificates and parseCertificate', () => {
  it('reads every certificate of a PEM file in order, and PEM with CRLF or literal \\n escapes', () => {
    const bundle = leaf.pem + inter.pem + root.pem;
    expect(parseCertificates(bundle).map((x) => x.commonName)).toEqual([C(leaf).commonName, 'Test Middle CA', 'Test Root CA']);
    expect(parseCertificates(bundle.replace(/\r?\n/g, '\r\n'))).toHaveLength(3);
    expect(parseCertificates(bundle.replace(/\r?\n/g, '\\n'))).toHaveLength(3);
    expect(parseCertificates(Buffer.from(bundle))).toHaveLength(3);
  });

  it('reads DER, concatenated DER and one-line base64 DER', () => {
    expect(parseCertificates(leaf.der)[0]?.serialHex).toBe('C36E9FA84B5D2E71');
    expect(parseCertificates(Buffer.concat([leaf.der, inter.der])).map((x) => x.serialHex)).toEqual(['C36E9FA84B5D2E71', 'B']);
    expect(parseCertificates(new Uint8Array(root.der))[0]?.isSelfSigned).toBe(true);
    expect(parseCertificates(leaf.der.toString('base64'))[0]?.serialDecimal).toBe('14082368630001839729');
    expect(parseCertificate(inter.pem).serialHex).toBe('B');
  });

  it('rejects input holding no certificate, damaged or truncated certificates, and several where one is expected', () => {
    const bad = (fn: () => unknown, message: RegExp): void => {
      expect(fn).toThrow(PayConfigError);
      expect(fn).toThrow(message);
    };
    bad(() => parseCertificates(''), /expected a certificate \(PEM, base64 DER or DER bytes\), found none/);
    bad(() => parseCertificates('hello'), /found none/);
    bad(() => parseCertificates(leaf.keys.publicKey.export({ format: 'pem', type: 'spki' }).toString()), /found none/);
    bad(() => parseCertificates(leaf.der.subarray(0, 300)), /not a complete DER element \(truncated\?\)/);
    const damaged = Buffer.from(leaf.der);
    damaged[4] = 0x31; // tbsCertificate is no longer a SEQUENCE
    bad(() => parseCertificates(damaged), /expected an X\.509 certificate|not a complete DER element/);
    const pemBody = leaf.pem.replace(/(BEGIN CERTIFICATE-----\r?\n)(.{10})/, '$1AAAAAAAAAA');
    bad(() => parseCertificates(pemBody), /expected an X\.509 certificate/);
    bad(() => parseCertificate(leaf.pem + root.pem), /expected exactly one certificate, found 2/);
    bad(() => parseCertificates(undefined as never), /got undefined/);
    bad(() => new Certificate('MIIB' as never), /expected the DER bytes of an X\.509 certificate, got string/);
  });
});

describe('verifyCertificateChain at an injected time (generated RSA hierarchy)', () => {
  const L = C(leaf);
  const I = C(inter);
  const R = C(root);

  it('accepts leaf → intermediate → root while all are valid; returns the path', () => {
    const path = verifyCertificateChain(L, [I], [R], at(Y(2025, 6)));
    expect(path).toEqual([L, I, R]);
    expect(path[0]).toBe(L);
  });

  it('ignores unrelated certificates and intermediate order; accepts a pinned leaf that is itself a root', () => {
    const stranger = C(makeCert({ subject: [['CN', 'stranger']], ca: true }));
    expect(verifyCertificateChain(L, [stranger, I], [stranger, R], at(Y(2025)))).toEqual([L, I, R]);
    expect(verifyCertificateChain(L, [], [L], at(Y(2025)))).toEqual([L]);
  });

  it('rejects an expired leaf or root', () => {
    certError(
      () => verifyCertificateChain(L, [I], [R], at(Y(2026, 1, 2))),
      'EXPIRED',
      /the leaf certificate .* expired at 2026-01-01T00:00:00\.000Z; checked at 2026-01-02/,
    );
    const expiredRoot = makeCert({ subject: [['CN', 'Short Root']], ca: true, notBefore: Y(2020), notAfter: Y(2025) });
    const underShort = C(makeCert({ subject: [['CN', 'under short']], issuer: expiredRoot, notBefore: Y(2020), notAfter: Y(2030) }));
    certError(() => verifyCertificateChain(underShort, [], [C(expiredRoot)], at(Y(2026))), 'EXPIRED', /the root certificate/);
  });

  it('rejects an expired intermediate', () => {
    const shortInter = makeCert({
      subject: [['CN', 'Short Middle']],
      issuer: root,
      ca: true,
      keyUsage: caUsage,
      notBefore: Y(2021),
      notAfter: Y(2024, 6),
    });
    const under = C(makeCert({ subject: [['CN', 'under short middle']], issuer: shortInter, notBefore: Y(2024), notAfter: Y(2030) }));
    expect(verifyCertificateChain(under, [C(shortInter)], [R], at(Y(2024, 3)))).toHaveLength(3);
    certError(() => verifyCertificateChain(under, [C(shortInter)], [R], at(Y(2025))), 'EXPIRED', /the intermediate certificate/);
  });

  it('rejects a chain checked before the leaf is valid', () => {
    certError(
      () => verifyCertificateChain(L, [I], [R], at(Y(2023, 12, 31))),
      'NOT_YET_VALID',
      /is not valid before 2024-01-01T00:00:00\.000Z/,
    );
  });

  it('rejects a non-CA intermediate, one without basicConstraints, and one whose keyUsage lacks keyCertSign', () => {
    for (const [name, spec] of [
      ['cA false', { ca: false }],
      ['no basicConstraints', {}],
    ] as const) {
      const fake = makeCert({ subject: [['CN', `fake ${name}`]], issuer: root, ...spec });
      const under = C(makeCert({ subject: [['CN', 'victim']], issuer: fake }));
      certError(() => verifyCertificateChain(under, [C(fake)], [R], at(Y(2025))), 'NOT_CA', /is not a CA/);
    }
    const noSign = makeCert({ subject: [['CN', 'signing only']], issuer: root, ca: true, keyUsage: { digitalSignature: true } });
    const under = C(makeCert({ subject: [['CN', 'victim']], issuer: noSign }));
    certError(() => verifyCertificateChain(under, [C(noSign)], [R], at(Y(2025))), 'NOT_CA', /keyUsage lacks keyCertSign/);
  });

  it('rejects a chain that is longer than an issuer pathLenConstraint allows', () => {
    // inter has pathLen 0: it may not issue another CA
    const sub = makeCert({ subject: [['CN', 'Sub CA']], issuer: inter, ca: true, keyUsage: caUsage });
    const under = C(makeCert({ subject: [['CN', 'deep leaf']], issuer: sub }));
    certError(
      () => verifyCertificateChain(under, [C(sub), I], [R], at(Y(2025))),
      'PATH_LENGTH',
      /allows 0 CA certificate\(s\) below it, the chain has 1/,
    );
  });

  it('rejects a chain to the wrong root, a missing intermediate, and an empty root list', () => {
    const otherRoot = C(makeCert({ subject: [['CN', 'Other Root']], ca: true, keyUsage: caUsage }));
    certError(() => verifyCertificateChain(L, [I], [otherRoot], at(Y(2025))), 'UNTRUSTED', /does not chain to a configured root/);
    certError(() => verifyCertificateChain(L, [], [R], at(Y(2025))), 'UNTRUSTED', /issuer C=CN,O=Test Pay,OU=Operations,CN=Test Middle CA/);
    certError(() => verifyCertificateChain(L, [I], [], at(Y(2025))), 'EMPTY_ROOTS', /no trusted root is configured/);
  });

  it('rejects a self-signed impostor with the same subject as the root, in the message or as the leaf', () => {
    const impostorRoot = makeCert({
      subject: rootName,
      ca: true,
      keyUsage: caUsage,
      serialHex: '01',
      notBefore: Y(2020),
      notAfter: Y(2040),
    });
    expect(C(impostorRoot).subjectName()).toBe(R.subjectName());
    const impostorInter = makeCert({
      subject: [
        ['C', 'CN'],
        ['O', 'Test Pay'],
        ['OU', 'Operations'],
        ['CN', 'Test Middle CA'],
      ],
      issuer: impostorRoot,
      ca: true,
      keyUsage: caUsage,
    });
    const forged = C(makeCert({ subject: [['CN', 'forged merchant']], issuer: impostorInter }));
    certError(() => verifyCertificateChain(forged, [C(impostorInter), C(impostorRoot)], [R], at(Y(2025))), 'UNTRUSTED');
    certError(() => verifyCertificateChain(C(impostorRoot), [], [R], at(Y(2025))), 'UNTRUSTED');
    // the impostor intermediate has the real intermediate's name but another key
    certError(() => verifyCertificateChain(forged, [I], [R], at(Y(2025))), 'UNTRUSTED');
  });

  it('rejects a leaf whose signature was altered', () => {
    const der = Buffer.from(leaf.der);
    der[der.length - 5] = (der[der.length - 5] as number) ^ 0x01;
    certError(() => verifyCertificateChain(new Certificate(der), [I], [R], at(Y(2025))), 'UNTRUSTED');
  });

  it('stops at maxDepth', () => {
    certError(() => verifyCertificateChain(L, [I], [R], { at: Y(2025).getTime(), maxDepth: 1 }), 'UNTRUSTED');
    expect(verifyCertificateChain(L, [I], [R], { at: Y(2025).getTime(), maxDepth: 2 })).toHaveLength(3);
  });

  it('works with a 2048-bit key of another owner given in place of the issuer key (no confusion by name alone)', () => {
    const sameNameOtherKey = makeCert({
      subject: inter.forgeCert.subject.attributes.map((a) => [a.shortName as string, a.value as string]) as Array<[string, string]>,
      issuer: root,
      ca: true,
      keyUsage: caUsage,
      keys: rsaKeyPair(),
    });
    certError(() => verifyCertificateChain(L, [C(sameNameOtherKey)], [R], at(Y(2025))), 'UNTRUSTED');
  });
});

describe('trust anchors', () => {
  it('accepts a configured root without basicConstraints (trust anchors are chosen by configuration)', () => {
    const plainRoot = makeCert({ subject: [['CN', 'Plain Root']] });
    const under = C(makeCert({ subject: [['CN', 'under plain']], issuer: plainRoot }));
    expect(verifyCertificateChain(under, [], [C(plainRoot)], at(Y(2025)))).toHaveLength(2);
  });

  it('still refuses a root whose keyUsage forbids signing certificates', () => {
    const root2 = makeCert({ subject: [['CN', 'Signing Root']], ca: true, keyUsage: { digitalSignature: true } });
    const under = C(makeCert({ subject: [['CN', 'under signing root']], issuer: root2 }));
    certError(() => verifyCertificateChain(under, [], [C(root2)], at(Y(2025))), 'NOT_CA', /the root .* keyUsage lacks keyCertSign/);
  });
});
