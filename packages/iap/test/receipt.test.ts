// Receipt utilities on generated receipts (BER with indefinite lengths as Xcode writes them, and
// definite DER), and on malformed input: every failure is a PayArgumentError, never a crash.
import { PayArgumentError } from '@pay/core';
import { buildIapAppReceipt, encodeIapReceiptPayload } from '@pay/sandbox';
import { describe, expect, it } from 'vitest';
import { extractTransactionIdFromAppReceipt, extractTransactionIdFromTransactionReceipt, readAppReceipt } from '../src/index.js';
import { NOW, rejection } from './helpers.js';

const contents = {
  bundleId: 'com.example.app',
  applicationVersion: '2.1',
  receiptType: 'ProductionSandbox',
  creationDate: NOW,
  inApp: [
    {
      productId: 'com.example.coins100',
      transactionId: '2000000000000101',
      originalTransactionId: '2000000000000101',
      quantity: 2,
      purchaseDate: NOW - 5000,
    },
    {
      productId: 'com.example.pro.monthly',
      transactionId: '2000000000000102',
      originalTransactionId: '2000000000000050',
      quantity: 1,
      purchaseDate: NOW - 1000,
      expiresDate: NOW + 30 * 86_400_000,
    },
  ],
};

function tlv(tag: number, content: Buffer): Buffer {
  const len = content.length;
  const header = len < 0x80 ? [tag, len] : len < 0x100 ? [tag, 0x81, len] : [tag, 0x82, len >> 8, len & 0xff];
  return Buffer.concat([Buffer.from(header), content]);
}

/** The same receipt in definite-length DER (as the App Store writes it). */
function derReceipt(payload: Buffer, oid = '06092a864886f70d010702'): string {
  const encap = tlv(0x30, Buffer.concat([Buffer.from('06092a864886f70d010701', 'hex'), tlv(0xa0, tlv(0x04, payload))]));
  const signed = tlv(0x30, Buffer.concat([Buffer.from('020101', 'hex'), tlv(0x31, Buffer.alloc(0)), encap, tlv(0x31, Buffer.alloc(0))]));
  return tlv(0x30, Buffer.concat([Buffer.from(oid, 'hex'), tlv(0xa0, signed)])).toString('base64');
}

describe('app receipts', () => {
  it('reads a BER receipt with indefinite lengths and a chunked OCTET STRING', () => {
    const receipt = buildIapAppReceipt(contents);
    expect(Buffer.from(receipt, 'base64').subarray(0, 2)).toEqual(Buffer.from([0x30, 0x80]));
    const r = readAppReceipt(receipt);
    expect(r).toMatchObject({ bundle_id: 'com.example.app', application_version: '2.1', receipt_type: 'ProductionSandbox' });
    expect(r.in_app).toEqual([
      {
        quantity: 2,
        product_id: 'com.example.coins100',
        transaction_id: '2000000000000101',
        original_transaction_id: '2000000000000101',
        purchase_date: new Date(Math.floor((NOW - 5000) / 1000) * 1000).toISOString().replace('.000Z', 'Z'),
      },
      expect.objectContaining({
        product_id: 'com.example.pro.monthly',
        original_transaction_id: '2000000000000050',
        expires_date: expect.any(String),
      }),
    ]);
    expect(extractTransactionIdFromAppReceipt(receipt)).toBe('2000000000000101');
    expect(extractTransactionIdFromAppReceipt(Buffer.from(receipt, 'base64'))).toBe('2000000000000101');
  });

  it('reads the same receipt in definite-length DER', () => {
    const receipt = derReceipt(encodeIapReceiptPayload(contents));
    expect(readAppReceipt(receipt).in_app.map((r) => r.transaction_id)).toEqual(['2000000000000101', '2000000000000102']);
    expect(extractTransactionIdFromAppReceipt(receipt)).toBe('2000000000000101');
    expect(extractTransactionIdFromAppReceipt(derReceipt(encodeIapReceiptPayload({ ...contents, inApp: [] })))).toBeNull();
  });

  it('malformed receipts → PayArgumentError, never a crash', () => {
    const good = Buffer.from(buildIapAppReceipt(contents), 'base64');
    const bad: unknown[] = [
      '',
      'not base64!!',
      42,
      undefined,
      good.subarray(0, good.length - 10).toString('base64'), // no end-of-contents
      good.subarray(0, 40).toString('base64'),
      derReceipt(encodeIapReceiptPayload(contents), '06092a864886f70d010701'), // PKCS#7 data, not signedData
      Buffer.concat([Buffer.from([0x30, 0x85, 1, 0, 0, 0, 0])]).toString('base64'), // 5-byte length
      Buffer.concat([Buffer.alloc(60, 0x30).map((_, i) => (i % 2 ? 0x80 : 0x30))]).toString('base64'), // 30 levels of indefinite nesting
      Buffer.from([0x04, 0x80, 0x00, 0x00]).toString('base64'), // indefinite primitive
      Buffer.from([0x1f, 0x81, 0x01, 0x00]).toString('base64'), // multi-byte tag
      derReceipt(Buffer.from('3103020101', 'hex')), // attribute that is not a SEQUENCE
    ];
    for (const input of bad) {
      expect(() => readAppReceipt(input as string), String(input).slice(0, 30)).toThrow(PayArgumentError);
    }
  });
});

describe('legacy transaction receipts', () => {
  const plist = (inner: string) =>
    Buffer.from(`{\n"signature" = "AAAA";\n"purchase-info" = "${Buffer.from(inner).toString('base64')}";\n}`).toString('base64');

  it('extracts transaction-id from purchase-info', () => {
    expect(extractTransactionIdFromTransactionReceipt(plist('{\n"product-id" = "coins";\n"transaction-id" = "1000000012345678";\n}'))).toBe(
      '1000000012345678',
    );
  });

  it('no purchase-info or no transaction-id → null; not base64 → PayArgumentError', async () => {
    expect(extractTransactionIdFromTransactionReceipt(Buffer.from('{ "x" = "y"; }').toString('base64'))).toBeNull();
    expect(extractTransactionIdFromTransactionReceipt(plist('{ "product-id" = "coins"; }'))).toBeNull();
    expect(await rejection(() => extractTransactionIdFromTransactionReceipt('%%%'))).toBeInstanceOf(PayArgumentError);
    expect(await rejection(() => extractTransactionIdFromTransactionReceipt(7 as never))).toBeInstanceOf(PayArgumentError);
  });
});
