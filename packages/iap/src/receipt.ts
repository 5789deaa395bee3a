/**
 * StoreKit 1 receipts, read without trusting them: the App Store app receipt
 * (PKCS#7 signed data in BER, with indefinite lengths as Xcode writes them) and
 * the legacy iOS 6 transaction receipt (an old-style plist). Nothing here
 * verifies a receipt: the ids read are only used to ask the App Store Server
 * API, whose answers are signed.
 *
 * @module
 */
import { decodeBase64Strict, PayArgumentError } from '@pay/core';
import { describeValue, PKG } from './errors.js';

/** One BER element. */
interface BerNode {
  /** Identifier octet. */
  tag: number;
  /** Content of a primitive element (empty for constructed ones). */
  content: Uint8Array;
  /** Children of a constructed element. */
  children: BerNode[];
}

const MAX_DEPTH = 24;

function fail(message: string): never {
  throw new PayArgumentError(`${PKG}: app receipt: ${message}`);
}

/** Reads one BER element at `pos`; supports definite and indefinite lengths. */
function readBer(buf: Uint8Array, pos: number, limit: number, depth: number): { node: BerNode; end: number } {
  if (depth > MAX_DEPTH) fail('nesting is deeper than any receipt');
  if (pos + 2 > limit) fail('truncated element header');
  const tag = buf[pos] as number;
  if ((tag & 0x1f) === 0x1f) fail('multi-byte tags do not occur in receipts');
  const constructed = (tag & 0x20) !== 0;
  let p = pos + 1;
  const first = buf[p++] as number;
  if (first === 0x80) {
    if (!constructed) fail('indefinite length on a primitive element');
    const children: BerNode[] = [];
    for (;;) {
      if (p + 2 > limit) fail('indefinite-length element without end-of-contents');
      if (buf[p] === 0 && buf[p + 1] === 0) return { node: { tag, content: new Uint8Array(0), children }, end: p + 2 };
      const child = readBer(buf, p, limit, depth + 1);
      children.push(child.node);
      p = child.end;
    }
  }
  let len = first;
  if (first > 0x80) {
    const n = first & 0x7f;
    if (n > 4 || p + n > limit) fail('length field too long or truncated');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + (buf[p++] as number);
  }
  const end = p + len;
  if (end > limit) fail('element runs past its parent');
  if (!constructed) return { node: { tag, content: buf.subarray(p, end), children: [] }, end };
  const children: BerNode[] = [];
  let q = p;
  while (q < end) {
    const child = readBer(buf, q, end, depth + 1);
    children.push(child.node);
    q = child.end;
  }
  return { node: { tag, content: new Uint8Array(0), children }, end };
}

/** The value of an OCTET STRING, primitive or constructed (chunks concatenated). */
function octets(node: BerNode): Buffer {
  if ((node.tag & 0x1f) !== 0x04) fail(`expected an OCTET STRING, found tag 0x${node.tag.toString(16)}`);
  if ((node.tag & 0x20) === 0) return Buffer.from(node.content);
  return Buffer.concat(node.children.map(octets));
}

function integer(node: BerNode): number {
  if (node.tag !== 0x02 || node.content.length === 0 || node.content.length > 6) fail('expected a small INTEGER');
  let v = 0;
  for (const b of node.content) v = v * 256 + b;
  return v;
}

function oid(node: BerNode): string {
  if (node.tag !== 0x06 || node.content.length === 0) fail('expected an OBJECT IDENTIFIER');
  const c = node.content;
  const first = c[0] as number;
  const parts = [Math.min(2, Math.floor(first / 40)), first >= 80 ? first - 80 : first % 40];
  let v = 0;
  for (let i = 1; i < c.length; i++) {
    v = v * 128 + ((c[i] as number) & 0x7f);
    if (((c[i] as number) & 0x80) === 0) {
      parts.push(v);
      v = 0;
    }
  }
  return parts.join('.');
}

/** Decodes an attribute value: an encoded UTF8String / IA5String / INTEGER inside the OCTET STRING. */
function attributeValue(raw: Buffer): string | number | undefined {
  if (raw.length < 2) return undefined;
  try {
    const { node, end } = readBer(raw, 0, raw.length, 0);
    if (end !== raw.length) return undefined;
    if (node.tag === 0x0c || node.tag === 0x16 || node.tag === 0x13) return Buffer.from(node.content).toString('utf8');
    if (node.tag === 0x02) return integer(node);
  } catch {
    return undefined;
  }
  return undefined;
}

/** One in-app purchase record of an app receipt (field names as Apple's receipt fields). */
export interface InAppReceiptRecord {
  /** 1701 quantity. */
  quantity?: number;
  /** 1702 product_id. */
  product_id?: string;
  /** 1703 transaction_id. */
  transaction_id?: string;
  /** 1705 original_transaction_id. */
  original_transaction_id?: string;
  /** 1704 purchase_date (RFC 3339). */
  purchase_date?: string;
  /** 1706 original_purchase_date. */
  original_purchase_date?: string;
  /** 1708 expires_date. */
  expires_date?: string;
  /** 1711 web_order_line_item_id. */
  web_order_line_item_id?: number;
  /** 1712 cancellation_date. */
  cancellation_date?: string;
}

/** What an app receipt holds (unverified). */
export interface AppReceiptContents {
  /** 2 bundle_id. */
  bundle_id?: string;
  /** 3 application_version. */
  application_version?: string;
  /** 12 receipt_creation_date. */
  receipt_creation_date?: string;
  /** 19 original_application_version. */
  original_application_version?: string;
  /** 0 receipt_type (`Xcode`, `ProductionSandbox`, `Production`). */
  receipt_type?: string;
  /** 17 in_app: the in-app purchase records, in receipt order. */
  in_app: InAppReceiptRecord[];
}

const IN_APP_FIELDS: Record<number, keyof InAppReceiptRecord> = {
  1701: 'quantity',
  1702: 'product_id',
  1703: 'transaction_id',
  1704: 'purchase_date',
  1705: 'original_transaction_id',
  1706: 'original_purchase_date',
  1708: 'expires_date',
  1711: 'web_order_line_item_id',
  1712: 'cancellation_date',
};

const RECEIPT_FIELDS: Record<number, keyof AppReceiptContents> = {
  0: 'receipt_type',
  2: 'bundle_id',
  3: 'application_version',
  12: 'receipt_creation_date',
  19: 'original_application_version',
};

function receiptBytes(input: unknown): Buffer {
  if (input instanceof Uint8Array) return Buffer.from(input);
  if (typeof input !== 'string' || input.trim() === '') fail(`expected the base64 receipt, got ${describeValue(input)}`);
  const bytes = decodeBase64Strict(input.replace(/\s+/g, ''));
  if (!bytes || bytes.length === 0) fail('expected base64, got text that is not base64');
  return bytes;
}

/** Iterates the attributes (`SET OF SEQUENCE { type, version, value }`) of a receipt payload. */
function attributes(payload: Buffer): Array<{ type: number; value: Buffer }> {
  const { node, end } = readBer(payload, 0, payload.length, 0);
  if (end !== payload.length || node.tag !== 0x31) fail('the receipt payload is not a SET of attributes');
  return node.children.map((attr) => {
    const [type, , value] = attr.children;
    if (attr.tag !== 0x30 || !type || !value) fail('malformed receipt attribute');
    return { type: integer(type), value: octets(value) };
  });
}

/**
 * Reads an app receipt (`Bundle.main.appStoreReceiptURL`, base64) without
 * verifying it: PKCS#7 signed data in BER (definite or indefinite lengths) whose
 * content is the set of receipt attributes.
 *
 * @example
 * ```ts
 * const { bundle_id, in_app } = readAppReceipt(receiptBase64);
 * ```
 * @throws PayArgumentError when the input is not an app receipt
 */
export function readAppReceipt(receipt: string | Uint8Array): AppReceiptContents {
  const bytes = receiptBytes(receipt);
  const { node: top } = readBer(bytes, 0, bytes.length, 0);
  const [typeNode, explicit] = top.children;
  if (top.tag !== 0x30 || !typeNode || oid(typeNode) !== '1.2.840.113549.1.7.2' || !explicit || explicit.tag !== 0xa0) {
    fail('expected PKCS#7 signed data (OID 1.2.840.113549.1.7.2)');
  }
  const signedData = explicit.children[0];
  const encap = signedData?.children[2];
  const [, contentWrapper] = encap?.children ?? [];
  if (!signedData || !encap || !contentWrapper || contentWrapper.tag !== 0xa0 || !contentWrapper.children[0]) {
    fail('the signed data holds no encapsulated content');
  }
  let payload = octets(contentWrapper.children[0] as BerNode);
  // Some writers wrap the payload in one more OCTET STRING.
  if (payload[0] === 0x04 || payload[0] === 0x24) {
    const inner = readBer(payload, 0, payload.length, 0);
    if (inner.end === payload.length) payload = octets(inner.node);
  }
  const out: AppReceiptContents = { in_app: [] };
  for (const { type, value } of attributes(payload)) {
    if (type === 17) {
      const record: InAppReceiptRecord = {};
      for (const field of attributes(value)) {
        const name = IN_APP_FIELDS[field.type];
        if (!name) continue;
        const v = attributeValue(field.value);
        if (v === undefined) continue;
        if (name === 'quantity' || name === 'web_order_line_item_id') {
          if (typeof v === 'number') (record as Record<string, unknown>)[name] = v;
        } else (record as Record<string, unknown>)[name] = String(v);
      }
      out.in_app.push(record);
      continue;
    }
    const name = RECEIPT_FIELDS[type];
    if (!name) continue;
    const v = attributeValue(value);
    if (typeof v === 'string') (out as unknown as Record<string, unknown>)[name] = v;
  }
  return out;
}

/**
 * The id of a transaction in an app receipt, for calling the App Store Server
 * API (which answers with signed data). Nothing is verified.
 *
 * @returns the first in-app record's `transaction_id` (or its original one), or `null` when the receipt has no in-app purchase
 * @throws PayArgumentError when the input is not an app receipt
 */
export function extractTransactionIdFromAppReceipt(receipt: string | Uint8Array): string | null {
  for (const record of readAppReceipt(receipt).in_app) {
    const id = record.transaction_id ?? record.original_transaction_id;
    if (id !== undefined) return id;
  }
  return null;
}

const PURCHASE_INFO = /"purchase-info"\s*=\s*"([A-Za-z0-9+/=]+)";/;
const TRANSACTION_ID = /"transaction-id"\s*=\s*"([A-Za-z0-9+/=]+)";/;

/**
 * The transaction id of a legacy (iOS 6 style) transaction receipt
 * (`SKPaymentTransaction.transactionReceipt`), for calling the App Store Server API.
 *
 * @returns the id, or `null` when the receipt holds none
 * @throws PayArgumentError when the input is not base64 text
 */
export function extractTransactionIdFromTransactionReceipt(receipt: string): string | null {
  if (typeof receipt !== 'string')
    throw new PayArgumentError(`${PKG}: transaction receipt: expected base64 text, got ${describeValue(receipt)}`);
  const outer = decodeBase64Strict(receipt.replace(/\s+/g, ''));
  if (!outer) throw new PayArgumentError(`${PKG}: transaction receipt: expected base64 text, got text that is not base64`);
  const info = PURCHASE_INFO.exec(outer.toString('utf8'));
  if (!info) return null;
  const inner = decodeBase64Strict(info[1] as string);
  if (!inner) return null;
  const id = TRANSACTION_ID.exec(inner.toString('utf8'));
  return id ? (id[1] as string) : null;
}
