/**
 * A small DER writer: enough to build X.509 certificates, OCSP responses and
 * App Store receipts for the App Store emulator (node-forge cannot make EC
 * certificates, so the emulator writes their DER itself).
 *
 * @module
 */

function lengthBytes(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  const bytes: number[] = [];
  let n = length;
  while (n > 0) {
    bytes.unshift(n & 0xff);
    n = Math.floor(n / 256);
  }
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/** One DER element: `tag`, definite length, `content`. */
export function derTlv(tag: number, content: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from([tag]), lengthBytes(content.length), content]);
}

/** SEQUENCE of the given encoded elements. */
export function derSequence(...items: Uint8Array[]): Buffer {
  return derTlv(0x30, Buffer.concat(items));
}

/** SET of the given encoded elements (in the order given; callers sort when DER needs it). */
export function derSet(...items: Uint8Array[]): Buffer {
  return derTlv(0x31, Buffer.concat(items));
}

/** INTEGER from a non-negative number or bigint, minimal two's complement. */
export function derInteger(value: number | bigint): Buffer {
  let v = BigInt(value);
  if (v < 0n) throw new RangeError('@pay/sandbox: DER: negative integers are not needed here');
  const bytes: number[] = [];
  do {
    bytes.unshift(Number(v & 0xffn));
    v >>= 8n;
  } while (v > 0n);
  if ((bytes[0] as number) & 0x80) bytes.unshift(0);
  return derTlv(0x02, Buffer.from(bytes));
}

/** ENUMERATED (small non-negative values). */
export function derEnumerated(value: number): Buffer {
  const int = derInteger(value);
  int[0] = 0x0a;
  return int;
}

/** BOOLEAN. */
export function derBoolean(value: boolean): Buffer {
  return derTlv(0x01, Buffer.from([value ? 0xff : 0x00]));
}

/** NULL. */
export function derNull(): Buffer {
  return Buffer.from([0x05, 0x00]);
}

/** OBJECT IDENTIFIER from dotted form. */
export function derOid(dotted: string): Buffer {
  const parts = dotted.split('.').map((p) => BigInt(p));
  if (parts.length < 2) throw new RangeError(`@pay/sandbox: DER: bad OID ${dotted}`);
  const out: number[] = [];
  const arcs = [(parts[0] as bigint) * 40n + (parts[1] as bigint), ...parts.slice(2)];
  for (const arc of arcs) {
    const chunk: number[] = [];
    let v = arc;
    do {
      chunk.unshift(Number(v & 0x7fn));
      v >>= 7n;
    } while (v > 0n);
    for (let i = 0; i < chunk.length - 1; i++) chunk[i] = (chunk[i] as number) | 0x80;
    out.push(...chunk);
  }
  return derTlv(0x06, Buffer.from(out));
}

/** OCTET STRING. */
export function derOctetString(content: Uint8Array): Buffer {
  return derTlv(0x04, content);
}

/** BIT STRING with no unused bits. */
export function derBitString(content: Uint8Array): Buffer {
  return derTlv(0x03, Buffer.concat([Buffer.from([0]), content]));
}

/** UTF8String. */
export function derUtf8(text: string): Buffer {
  return derTlv(0x0c, Buffer.from(text, 'utf8'));
}

/** PrintableString. */
export function derPrintable(text: string): Buffer {
  return derTlv(0x13, Buffer.from(text, 'latin1'));
}

/** IA5String. */
export function derIa5(text: string): Buffer {
  return derTlv(0x16, Buffer.from(text, 'latin1'));
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

/** GeneralizedTime (`YYYYMMDDHHMMSSZ`) of an epoch-ms instant. */
export function derGeneralizedTime(at: number): Buffer {
  const d = new Date(at);
  const text = `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}Z`;
  return derTlv(0x18, Buffer.from(text, 'latin1'));
}

/** X.509 Time: UTCTime before 2050, GeneralizedTime from 2050 on (RFC 5280 4.1.2.5). */
export function derTime(at: number): Buffer {
  const d = new Date(at);
  const year = d.getUTCFullYear();
  if (year >= 2050 || year < 1950) return derGeneralizedTime(at);
  const text = `${pad(year % 100)}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}Z`;
  return derTlv(0x17, Buffer.from(text, 'latin1'));
}

/** `[n]` EXPLICIT context tag around an encoded element. */
export function derExplicit(n: number, content: Uint8Array): Buffer {
  return derTlv(0xa0 + n, content);
}

/** `[n]` IMPLICIT primitive context tag with raw content. */
export function derImplicitPrimitive(n: number, content: Uint8Array): Buffer {
  return derTlv(0x80 + n, content);
}
