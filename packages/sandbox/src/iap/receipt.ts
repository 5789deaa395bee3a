/**
 * StoreKit 1 app receipts as the emulator issues them: PKCS#7 signed data whose
 * content is the ASN.1 set of receipt attributes, written with BER indefinite
 * lengths on the outer layers the way Xcode writes them. The emulator does not
 * sign them (no signer infos): servers must not trust a receipt's content and
 * only use its transaction ids to ask the App Store Server API.
 *
 * @module
 */
import { derInteger, derOctetString, derOid, derSequence, derSet, derTlv, derUtf8 } from './der.js';

/** One in-app record of a receipt. */
export interface IapReceiptInAppRecord {
  /** 1702 product id. */
  productId: string;
  /** 1703 transaction id. */
  transactionId: string;
  /** 1705 original transaction id. */
  originalTransactionId: string;
  /** 1701 quantity. */
  quantity: number;
  /** 1704 purchase date, epoch ms. */
  purchaseDate: number;
  /** 1708 expiry of a subscription, epoch ms. */
  expiresDate?: number;
}

/** What goes in a receipt. */
export interface IapReceiptContents {
  /** 2 bundle id. */
  bundleId: string;
  /** 3 application version. */
  applicationVersion: string;
  /** 0 receipt type (`ProductionSandbox`, `Production`, `Xcode`). */
  receiptType: string;
  /** 12 creation date, epoch ms. */
  creationDate: number;
  /** 17 in-app records. */
  inApp: readonly IapReceiptInAppRecord[];
}

function ia5Date(at: number): Buffer {
  return derTlv(0x16, Buffer.from(new Date(Math.floor(at / 1000) * 1000).toISOString().replace('.000Z', 'Z'), 'latin1'));
}

function attribute(type: number, value: Buffer): Buffer {
  return derSequence(derInteger(type), derInteger(1), derOctetString(value));
}

function indefinite(tag: number, ...children: Buffer[]): Buffer {
  return Buffer.concat([Buffer.from([tag, 0x80]), ...children, Buffer.from([0, 0])]);
}

/** Encodes the receipt payload: the SET of attributes. */
export function encodeIapReceiptPayload(contents: IapReceiptContents): Buffer {
  const inApp = contents.inApp.map((r) => {
    const fields = [
      attribute(1701, derInteger(r.quantity)),
      attribute(1702, derUtf8(r.productId)),
      attribute(1703, derUtf8(r.transactionId)),
      attribute(1704, ia5Date(r.purchaseDate)),
      attribute(1705, derUtf8(r.originalTransactionId)),
    ];
    if (r.expiresDate !== undefined) fields.push(attribute(1708, ia5Date(r.expiresDate)));
    return attribute(17, derSet(...fields));
  });
  return derSet(
    attribute(0, derUtf8(contents.receiptType)),
    attribute(2, derUtf8(contents.bundleId)),
    attribute(3, derUtf8(contents.applicationVersion)),
    attribute(12, ia5Date(contents.creationDate)),
    ...inApp,
  );
}

/**
 * Builds a base64 app receipt: `ContentInfo { signedData, SignedData { version 1,
 * digestAlgorithms { sha256 }, encapContentInfo { data, [0] OCTET STRING (chunked) }, signerInfos {} } }`,
 * with indefinite lengths on the outer layers as Xcode writes them.
 */
export function buildIapAppReceipt(contents: IapReceiptContents): string {
  const payload = encodeIapReceiptPayload(contents);
  // Constructed OCTET STRING, split in chunks, as BER writers stream it.
  const chunks: Buffer[] = [];
  for (let i = 0; i < payload.length; i += 500) chunks.push(derOctetString(payload.subarray(i, i + 500)));
  const content = indefinite(0x24, ...chunks);
  const encap = indefinite(0x30, derOid('1.2.840.113549.1.7.1'), indefinite(0xa0, content));
  const digestAlgs = derSet(derSequence(derOid('2.16.840.1.101.3.4.2.1'), Buffer.from([0x05, 0x00])));
  const signedData = indefinite(0x30, derInteger(1), digestAlgs, encap, derSet());
  const contentInfo = indefinite(0x30, derOid('1.2.840.113549.1.7.2'), indefinite(0xa0, signedData));
  return contentInfo.toString('base64');
}
