// @pay/unionpay: back-notification verification (signPubKeyCert chain cached) and request
// signing, each against raw node:crypto doing the same essential work with pre-parsed
// KeyObjects, in the same run. A generated UnionPay-style hierarchy (RSA-2048) signs the
// notification; the merchant .pfx of that hierarchy signs the requests.
import { createHash, createSign, createVerify, sign as nodeSign, verify as nodeVerify } from 'node:crypto';
import { formEncode, parseCertificate } from '@pay/core';
import { generateUnionPayHierarchy, toCrlfPem } from '@pay/sandbox';
import { UnionPayClient } from '@pay/unionpay';

function signingString(fields) {
  return Object.keys(fields)
    .filter((k) => k !== 'signature')
    .sort()
    .map((k) => `${k}=${fields[k]}`)
    .join('&');
}

export function cases() {
  const h = generateUnionPayHierarchy();
  const client = new UnionPayClient({
    merId: '777290058110048',
    environment: 'production',
    signCert: { pfx: h.merchantPfx, password: h.pfxPassword },
    rootCert: h.root.pem,
    middleCert: h.middle.pem,
  });

  // a consume notification as UnionPay posts it (form-encoded, signPubKeyCert with CRLF)
  const fields = {
    accessType: '0',
    bizType: '000201',
    currencyCode: '156',
    encoding: 'utf-8',
    merId: '777290058110048',
    orderId: 'A20260101000001',
    queryId: '792601011200001234567',
    respCode: '00',
    respMsg: 'Success!',
    settleAmt: '8888',
    settleCurrencyCode: '156',
    settleDate: '0101',
    signMethod: '01',
    traceNo: '123456',
    traceTime: '0101120000',
    txnAmt: '8888',
    txnSubType: '01',
    txnTime: '20260101120000',
    txnType: '01',
    version: '5.1.0',
    reqReserved: '{shop=1&cart=2}',
    signPubKeyCert: toCrlfPem(h.signing.pem),
  };
  const digest = createHash('sha256').update(signingString(fields)).digest('hex');
  fields.signature = createSign('RSA-SHA256').update(digest).sign(h.signing.privateKey, 'base64');
  const body = formEncode(fields);
  const incoming = {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    rawBody: Buffer.from(body),
    query: '',
  };
  client.verifyNotification(incoming); // warms the certificate cache: the chain is checked once
  const leafKey = parseCertificate(h.signing.pem).publicKey; // pre-parsed, as the cache holds it
  const sig = Buffer.from(fields.signature, 'base64');

  // request fields of an app consume (before signing)
  const request = {
    version: '5.1.0',
    encoding: 'utf-8',
    txnType: '01',
    txnSubType: '01',
    bizType: '000201',
    channelType: '08',
    accessType: '0',
    merId: '777290058110048',
    orderId: 'A20260101000001',
    txnTime: '20260101120000',
    txnAmt: '8888',
    currencyCode: '156',
    backUrl: 'https://shop.example/unionpay/notify',
  };
  const certId = h.merchant.certId;
  const merchantKey = h.merchant.privateKey;

  return [
    {
      name: 'unionpay verifyNotification (chain cached) vs node:crypto parse+verify',
      note: 'baseline: URLSearchParams + sorted k=v string + SHA-256 hex + crypto.verify with a pre-parsed KeyObject',
      subject: () => client.verifyNotification(incoming),
      baseline: () => {
        const f = Object.fromEntries(new URLSearchParams(body));
        const hex = createHash('sha256').update(signingString(f)).digest('hex');
        if (!nodeVerify('sha256', Buffer.from(hex), leafKey, Buffer.from(f.signature, 'base64'))) throw new Error('baseline failed');
      },
      minRatio: 0.85,
    },
    {
      name: 'unionpay verifyNotification (chain cached) vs bare SHA-256 hex + RSA verify (reference)',
      note: 'reference only: the baseline skips decoding the form body (about 24 us of the 94 us), so this ratio measures decoding, not SDK overhead',
      subject: () => client.verifyNotification(incoming),
      baseline: () => {
        const hex = createHash('sha256').update(signingString(fields)).digest('hex');
        createVerify('RSA-SHA256').update(hex).verify(leafKey, sig);
      },
    },
    {
      name: 'unionpay sign request (5.1.0, RSA-2048) vs node:crypto',
      note: 'baseline: sorted k=v string + SHA-256 hex + crypto.sign with a pre-parsed KeyObject',
      subject: () => client.sign(request),
      baseline: () => {
        const f = { ...request, signMethod: '01', certId };
        const hex = createHash('sha256').update(signingString(f)).digest('hex');
        f.signature = nodeSign('sha256', Buffer.from(hex), merchantKey).toString('base64');
        return f;
      },
      minRatio: 0.85,
    },
  ];
}
