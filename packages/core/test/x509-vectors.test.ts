import { expect, it } from 'vitest';
import { describeVectors, readVector, readVectorJson } from '../../../test-utils/vectors.js';
import {
  Certificate,
  loadPkcs12,
  md5Hex,
  PayCertificateError,
  PayConfigError,
  parseCertificates,
  SignatureAlgorithmOid,
  verifyCertificateChain,
} from '../src/index.js';

describeVectors('X.509 and PKCS#12 known answers', () => {
  it('reads issuer DN (reverse order) and decimal serial of every Alipay certificate as Alipay SNs need them', () => {
    const { certSn } = readVectorJson('alipay', 'vectors.json');
    expect(certSn).toHaveLength(9);
    for (const entry of certSn as Array<{ file: string; kind: string; sn: string }>) {
      const certs = parseCertificates(readVector('alipay', entry.file));
      const sn = (c: Certificate) => md5Hex(c.issuerName({ order: 'reverse' }) + c.serialDecimal);
      if (entry.kind.startsWith('alipay_root_cert_sn')) {
        const rsa = certs.filter(
          (c) =>
            c.signatureAlgorithmOid === SignatureAlgorithmOid.sha1WithRSA ||
            c.signatureAlgorithmOid === SignatureAlgorithmOid.sha256WithRSA,
        );
        expect(rsa.length).toBeLessThan(certs.length); // the bundle also holds an SM2 root that must be skipped
        expect(rsa.map(sn).join('_'), entry.file).toBe(entry.sn);
      } else {
        expect(sn(certs[0] as Certificate), entry.file).toBe(entry.sn);
      }
    }
  });

  it('opens the UnionPay test .pfx with password 000000: certId 69903319369', () => {
    const p12 = loadPkcs12(readVector('unionpay', 'current', 'acp_test_sign.pfx'), '000000');
    expect(p12.certificate.serialDecimal).toBe('69903319369');
    expect(p12.privateKey.asymmetricKeyType).toBe('rsa');
    expect(p12.certificate.commonName).toContain('700000000000001');
  });

  it('opens the RC2-40 (openssl -legacy) .pfx of the Ruby SDK', () => {
    const p12 = loadPkcs12(readVector('unionpay', 'ruby-sdk-2019', 'acp_test_sign.pfx'), '000000');
    expect(p12.certificate.serialDecimal).toBe('69629715588');
  });

  it('rejects a wrong PKCS#12 password with a hint', () => {
    const err = (() => {
      try {
        loadPkcs12(readVector('unionpay', 'current', 'acp_test_sign.pfx'), '111111');
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(PayConfigError);
    expect((err as PayConfigError).hint).toMatch(/password/);
  });

  it('verifies the Apple test chain at its documented effective date and rejects it at 2280946846000', () => {
    const leaf = new Certificate(readVector('iap', 'chain_certs', 'leaf_cert.der'));
    const inter = new Certificate(readVector('iap', 'chain_certs', 'intermediate_ca.der'));
    const root = new Certificate(readVector('iap', 'chain_certs', 'root_ca.der'));
    const path = verifyCertificateChain(leaf, [inter], [root], { at: 1761962975000 });
    expect(path).toHaveLength(3);
    expect(leaf.publicKey.export({ format: 'der', type: 'spki' })).toEqual(
      readVector('iap', 'chain_certs', 'leaf_cert_public_key.spki.der'),
    );
    expect(leaf.hasExtension('1.2.840.113635.100.6.11.1')).toBe(true);
    expect(inter.hasExtension('1.2.840.113635.100.6.2.1')).toBe(true);
    expect(() => verifyCertificateChain(leaf, [inter], [root], { at: 2280946846000 })).toThrow(PayCertificateError);
    const realRoot = new Certificate(readVector('iap', 'chain_certs', 'real_apple_root.der'));
    expect(() => verifyCertificateChain(leaf, [inter], [realRoot], { at: 1761962975000 })).toThrow(/does not chain/);
    expect(() => verifyCertificateChain(leaf, [inter], [], { at: 1761962975000 })).toThrow(/no trusted root/);
  });

  it('chains the UnionPay test signing certificate through middle to root (before it expired)', () => {
    const leaf = parseCertificates(readVector('unionpay', 'current', 'unionpay_test_signPubKeyCert.cer'))[0] as Certificate;
    const middle = parseCertificates(readVector('unionpay', 'current', 'acp_test_middle.cer'))[0] as Certificate;
    const root = parseCertificates(readVector('unionpay', 'current', 'acp_test_root.cer'))[0] as Certificate;
    expect(leaf.serialDecimal).toBe('69678957876');
    expect(leaf.commonName).toBe('041@8310000000083040@中国银联股份有限公司@00016495');
    expect(verifyCertificateChain(leaf, [middle], [root], { at: Date.UTC(2024, 0, 1) })).toHaveLength(3);
    expect(() => verifyCertificateChain(leaf, [middle], [root], { at: Date.UTC(2026, 0, 1) })).toThrow(/expired/);
    expect(() => verifyCertificateChain(leaf, [], [root], { at: Date.UTC(2024, 0, 1) })).toThrow(/does not chain/);
  });

  it('reads the WeChat Pay platform certificate serial in upper-case hex', () => {
    const cert = parseCertificates(readVector('wechat', 'java', 'download_certificate_plaintext_5DEA10EF.pem'))[0] as Certificate;
    expect(cert.serialHex).toBe('5DEA10EF55877E3CF6C33255C2E7DEFFF7E427EC');
  });
});
