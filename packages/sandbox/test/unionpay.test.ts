// The UnionPay ACP emulator checks request signatures the way the gateway does and signs what it
// sends with its own generated hierarchy; these tests speak to it over loopback sockets with
// @pay/core primitives only (the sandbox never depends on a provider package).
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { inflateSync } from 'node:zlib';
import {
  canonicalString,
  formDecode,
  formEncode,
  loadPkcs12,
  parseCertificate,
  rsaPkcs1Encrypt,
  rsaSign,
  rsaVerify,
  sha1Hex,
  sha256Hex,
  verifyCertificateChain,
} from '@pay/core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startUnionPayEmulator, UNIONPAY_NOTIFY_RETRY_MS, type UnionPayEmulator } from '../src/index.js';

vi.setConfig({ testTimeout: 20_000, hookTimeout: 30_000 });

let emu: UnionPayEmulator;
let merchant: ReturnType<typeof loadPkcs12>;
let seq = 0;
const orderId = () => `S${Date.now()}${String(seq++).padStart(4, '0')}`;
const beijing = (ms = Date.now()) => new Date(ms + 8 * 3600_000).toISOString().slice(0, 19).replace(/[-T:]/g, '');

beforeAll(async () => {
  emu = await startUnionPayEmulator({ timeScale: 0.0001 });
  merchant = loadPkcs12(emu.clientConfig.signCert.pfx, emu.clientConfig.signCert.password);
});
afterAll(() => emu.close());

function sign(fields: Record<string, string>, version = '5.1.0'): Record<string, string> {
  const out = { ...fields, version, signMethod: '01', certId: merchant.certificate.serialDecimal };
  const text = canonicalString(out, { exclude: ['signature'], dropEmpty: false });
  const signature =
    version === '5.1.0' ? rsaSign('sha256', merchant.privateKey, sha256Hex(text)) : rsaSign('sha1', merchant.privateKey, sha1Hex(text));
  return { ...out, signature };
}

function consume(id: string, over: Record<string, string> = {}): Record<string, string> {
  return {
    encoding: 'utf-8',
    txnType: '01',
    txnSubType: '01',
    bizType: '000201',
    channelType: '08',
    accessType: '0',
    merId: emu.clientConfig.merId,
    orderId: id,
    txnTime: beijing(),
    txnAmt: '100',
    currencyCode: '156',
    backUrl: 'http://127.0.0.1:9/notify',
    ...over,
  };
}

/** Test-side split of a raw answer (values of the emulator's answers hold no '&'). */
function fieldsOf(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of text.split('&')) out[kv.slice(0, kv.indexOf('='))] = kv.slice(kv.indexOf('=') + 1);
  return out;
}

async function post(
  path: string,
  fields: Record<string, string>,
): Promise<{ status: number; text: string; fields: Record<string, string> }> {
  const res = await fetch(`${emu.url}${path}`, {
    method: 'POST',
    body: formEncode(fields),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });
  const text = await res.text();
  return { status: res.status, text, fields: res.status === 200 ? fieldsOf(text) : {} };
}

/** Verifies an answer the way a merchant must: chain root → middle → signPubKeyCert, CN, SHA-256/RSA. */
function verifiedByUnionPay(fields: Record<string, string>): boolean {
  const leaf = parseCertificate(fields.signPubKeyCert as string);
  verifyCertificateChain(leaf, [parseCertificate(emu.clientConfig.middleCert)], [parseCertificate(emu.clientConfig.rootCert)], {
    at: Date.now(),
  });
  if (leaf.commonName?.split('@')[2] !== '中国银联股份有限公司') return false;
  return rsaVerify(
    'sha256',
    leaf.publicKey,
    sha256Hex(canonicalString(fields, { exclude: ['signature'], dropEmpty: false })),
    fields.signature as string,
  );
}

describe('generated hierarchy', () => {
  it('root → middle → UnionPay signing certificate with the CN format; encryption and merchant certificates', () => {
    const { root, middle, signing, encrypt, merchant: m } = emu.hierarchy;
    expect(root.cert.isCA && root.cert.isSelfSigned).toBe(true);
    expect(middle.cert.isCA && middle.cert.isIssuedBy(root.cert)).toBe(true);
    expect(signing.cert.isIssuedBy(middle.cert)).toBe(true);
    expect(signing.cert.commonName).toMatch(/^041@\d{16}@中国银联股份有限公司@\d{8}$/);
    expect(encrypt.cert.commonName).toMatch(/@00040000:SIGN@/);
    expect(m.certId).toBe(merchant.certificate.serialDecimal);
    expect(emu.clientConfig).toMatchObject({
      merId: '777290058110048',
      environment: { baseUrl: emu.url },
      version: '5.1.0',
      signCert: { password: '000000' },
    });
  });
});

describe('ACP gateway', () => {
  it('appTransReq: a correctly signed request gets a tn, in a raw answer signed through root → middle → signPubKeyCert (CRLF kept)', async () => {
    const r = await post('/gateway/api/appTransReq.do', sign(consume(orderId())));
    expect(r.fields).toMatchObject({ respCode: '00', respMsg: '成功[0000000]', txnType: '01' });
    expect(r.fields.tn).toMatch(/^\d{21}$/);
    expect(r.fields.signPubKeyCert).toContain('\r\n');
    expect(r.text.endsWith(`&signature=${r.fields.signature}`)).toBe(true);
    expect(verifiedByUnionPay(r.fields)).toBe(true);
    expect(verifiedByUnionPay({ ...r.fields, txnAmt: '1' })).toBe(false);
  });

  it('checks our signature: a changed field, an unknown certId and a missing signature are refused with real codes, in signed answers', async () => {
    const tampered = { ...sign(consume(orderId())), txnAmt: '1' };
    const r11 = await post('/gateway/api/appTransReq.do', tampered);
    expect(r11.fields.respCode).toBe('11');
    expect(verifiedByUnionPay(r11.fields)).toBe(true);
    expect((await post('/gateway/api/appTransReq.do', { ...sign(consume(orderId())), certId: '1' })).fields.respCode).toBe('11');
    const { signature: _s, ...unsigned } = sign(consume(orderId()));
    expect((await post('/gateway/api/appTransReq.do', unsigned)).fields.respCode).toBe('13');
    expect((await post('/gateway/api/appTransReq.do', sign(consume(orderId(), { merId: '777290058110049' })))).fields.respCode).toBe('31');
    const { backUrl: _b, ...noBackUrl } = consume(orderId());
    expect((await post('/gateway/api/appTransReq.do', sign(noBackUrl))).fields.respCode).toBe('13');
    const id = orderId();
    expect((await post('/gateway/api/appTransReq.do', sign(consume(id)))).fields.respCode).toBe('00');
    expect((await post('/gateway/api/appTransReq.do', sign(consume(id)))).fields.respCode).toBe('12');
  });

  it('accNo must be encrypted for the encryption certificate and sent with its encryptCertId', async () => {
    const enc = parseCertificate(emu.clientConfig.encryptCert);
    const good = consume(orderId(), { accNo: rsaPkcs1Encrypt(enc.publicKey, '6216261000000000018'), encryptCertId: enc.serialDecimal });
    expect((await post('/gateway/api/appTransReq.do', sign(good))).fields.respCode).toBe('00');
    const wrongId = consume(orderId(), { accNo: rsaPkcs1Encrypt(enc.publicKey, '6216261000000000018'), encryptCertId: '1' });
    expect((await post('/gateway/api/appTransReq.do', sign(wrongId))).fields.respCode).toBe('10');
  });

  it('queryTrans: 34 before the payment, 00 / origRespCode 00 after; pay() delivers the signed notification with retries', async () => {
    const bodies: string[] = [];
    let calls = 0;
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        bodies.push(Buffer.concat(chunks).toString());
        res.writeHead(++calls < 3 ? 503 : 200).end('ok');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const id = orderId();
      const backUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/notify`;
      const req = consume(id, { backUrl });
      await post('/gateway/api/appTransReq.do', sign(req));
      const query = sign({
        encoding: 'utf-8',
        txnType: '00',
        txnSubType: '00',
        bizType: '000000',
        accessType: '0',
        merId: req.merId as string,
        orderId: id,
        txnTime: req.txnTime as string,
      });
      expect((await post('/gateway/api/queryTrans.do', query)).fields.respCode).toBe('34');
      const paid = emu.pay(id);
      await emu.notifier.idle();
      expect(bodies).toHaveLength(3);
      const n = formDecode(bodies[2] as string);
      expect(n).toMatchObject({ orderId: id, respCode: '00', txnType: '01', queryId: paid.queryId, txnAmt: '100' });
      expect(verifiedByUnionPay(n)).toBe(true);
      const q = await post('/gateway/api/queryTrans.do', query);
      expect(q.fields).toMatchObject({ respCode: '00', origRespCode: '00', queryId: paid.queryId, txnType: '01' });
      expect(verifiedByUnionPay(q.fields)).toBe(true);
      expect(UNIONPAY_NOTIFY_RETRY_MS).toEqual([0, 60_000, 120_000, 240_000]);
    } finally {
      server.close();
    }
  });

  it('5.0.0 requests (SHA-1) are answered in 5.0.0: certId of UnionPay’s verify certificate, SHA-1 signature, no signPubKeyCert', async () => {
    const r = await post('/gateway/api/appTransReq.do', sign({ ...consume(orderId()) }, '5.0.0'));
    expect(r.fields).toMatchObject({ respCode: '00', version: '5.0.0', certId: emu.hierarchy.signing.certId });
    expect(r.fields.signPubKeyCert).toBeUndefined();
    const text = canonicalString(r.fields, { exclude: ['signature'], dropEmpty: false });
    expect(rsaVerify('sha1', emu.hierarchy.signing.publicKey, sha1Hex(text), r.fields.signature as string)).toBe(true);
  });

  it('file download (txnType 76 at the file URL): base64 of zlib-deflated content; 98 when there is no file', async () => {
    const id = orderId();
    await post('/gateway/api/appTransReq.do', sign(consume(id)));
    const t = emu.pay(id, { notify: false });
    const req = {
      encoding: 'utf-8',
      txnType: '76',
      txnSubType: '01',
      bizType: '000000',
      accessType: '0',
      merId: emu.clientConfig.merId,
      settleDate: t.settleDate as string,
      txnTime: beijing(),
      fileType: '00',
    };
    const r = await post('/', sign(req));
    expect(r.fields.respCode).toBe('00');
    expect(inflateSync(Buffer.from(r.fields.fileContent as string, 'base64')).toString()).toContain(id);
    expect((await post('/', sign({ ...req, settleDate: t.settleDate === '0229' ? '0228' : '0229' }))).fields.respCode).toBe('98');
  });

  it('faults: HTTP 5xx, expired certificate, rotation', async () => {
    emu.faults.http5xx = 1;
    expect((await post('/gateway/api/appTransReq.do', sign(consume(orderId())))).status).toBe(503);
    emu.faults.certificate = 'expired';
    const expired = await post('/gateway/api/appTransReq.do', sign(consume(orderId())));
    emu.faults.certificate = 'valid';
    expect(() => verifiedByUnionPay(expired.fields)).toThrow(/expired/);
    const before = emu.hierarchy.signing.certId;
    const rotated = emu.faults.rotateCertificate();
    const r = await post('/gateway/api/appTransReq.do', sign(consume(orderId())));
    expect(parseCertificate(r.fields.signPubKeyCert as string).serialDecimal).toBe(rotated.certId);
    expect(rotated.certId).not.toBe(before);
    expect(verifiedByUnionPay(r.fields)).toBe(true);
  });

  it('frontTransReq answers an HTML checkout page; frontReturn() gives the signed form for frontUrl', async () => {
    const id = orderId();
    const res = await fetch(`${emu.url}/gateway/api/frontTransReq.do`, {
      method: 'POST',
      body: formEncode(sign(consume(id, { channelType: '07', frontUrl: 'https://shop.example/return' }))),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
    expect(await res.text()).toContain(id);
    emu.pay(id, { notify: false });
    const back = emu.frontReturn(id);
    expect(back.url).toBe('https://shop.example/return');
    expect(verifiedByUnionPay(formDecode(back.body))).toBe(true);
  });
});
