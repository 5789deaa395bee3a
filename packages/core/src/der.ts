/**
 * A minimal, allocation-light DER reader: enough to walk X.509 certificates
 * (names, validity, extensions, signature algorithm) without a dependency.
 *
 * @module
 */
import { PayArgumentError } from './errors.js';

/** One DER element: its tag, and where its header and content lie in `buf`. */
export interface DerNode {
  /** The identifier octet (class, constructed bit and tag number for tags < 31). */
  tag: number;
  /** The buffer the element was read from. */
  buf: Uint8Array;
  /** Offset of the identifier octet. */
  start: number;
  /** Offset of the first content octet. */
  contentStart: number;
  /** Offset just past the last content octet. */
  end: number;
}

/** Reads the element starting at `offset` in `buf`. */
export function readDer(buf: Uint8Array, offset = 0, limit = buf.length): DerNode {
  if (offset + 2 > limit) throw new PayArgumentError('@pay/core: DER: truncated element header');
  const tag = buf[offset] as number;
  if ((tag & 0x1f) === 0x1f) throw new PayArgumentError('@pay/core: DER: multi-byte tags are not supported');
  let pos = offset + 1;
  let len = buf[pos++] as number;
  if (len === 0x80) throw new PayArgumentError('@pay/core: DER: indefinite length is not DER');
  if (len > 0x80) {
    const n = len & 0x7f;
    if (n > 4 || pos + n > limit) throw new PayArgumentError('@pay/core: DER: length too long or truncated');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + (buf[pos++] as number);
  }
  const end = pos + len;
  if (end > limit) throw new PayArgumentError('@pay/core: DER: element runs past its parent');
  return { tag, buf, start: offset, contentStart: pos, end };
}

/** The child elements of a constructed element. */
export function derChildren(node: DerNode): DerNode[] {
  const out: DerNode[] = [];
  let pos = node.contentStart;
  while (pos < node.end) {
    const child = readDer(node.buf, pos, node.end);
    out.push(child);
    pos = child.end;
  }
  return out;
}

/** The content octets of an element. */
export function derContent(node: DerNode): Uint8Array {
  return node.buf.subarray(node.contentStart, node.end);
}

/** The whole encoding (header + content) of an element. */
export function derBytes(node: DerNode): Uint8Array {
  return node.buf.subarray(node.start, node.end);
}

/** Decodes an OBJECT IDENTIFIER element to dotted form. */
export function derOid(node: DerNode): string {
  const c = derContent(node);
  if (c.length === 0) throw new PayArgumentError('@pay/core: DER: empty OID');
  const first = c[0] as number;
  const parts: number[] = [first < 80 ? Math.floor(first / 40) : 2, first < 80 ? first % 40 : first - 80];
  let value = 0;
  for (let i = 1; i < c.length; i++) {
    const b = c[i] as number;
    value = value * 128 + (b & 0x7f);
    if ((b & 0x80) === 0) {
      parts.push(value);
      value = 0;
    }
  }
  return parts.join('.');
}

/** Decodes an INTEGER element to a non-negative bigint (serial numbers). */
export function derInteger(node: DerNode): bigint {
  const c = derContent(node);
  let v = 0n;
  for (const b of c) v = (v << 8n) | BigInt(b);
  return v;
}

/** Decodes a string element (UTF8String, PrintableString, IA5String, BMPString, T61String…) to text. */
export function derString(node: DerNode): string {
  const c = derContent(node);
  switch (node.tag) {
    case 0x1e: {
      // BMPString: UTF-16BE
      let s = '';
      for (let i = 0; i + 1 < c.length; i += 2) s += String.fromCharCode(((c[i] as number) << 8) | (c[i + 1] as number));
      return s;
    }
    case 0x0c: // UTF8String
      return new TextDecoder('utf-8').decode(c);
    default:
      // PrintableString, IA5String, T61String, VisibleString: ISO-8859-1 / ASCII bytes
      return String.fromCharCode(...c);
  }
}

/** Decodes a UTCTime or GeneralizedTime element to epoch milliseconds. */
export function derTime(node: DerNode): number {
  const s = String.fromCharCode(...derContent(node));
  const m =
    node.tag === 0x17
      ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?Z$/.exec(s)
      : /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?(?:\.\d+)?Z$/.exec(s);
  if (!m) throw new PayArgumentError(`@pay/core: DER: unsupported time format "${s}"`);
  let year = Number(m[1]);
  if (node.tag === 0x17) year += year < 50 ? 2000 : 1900;
  return Date.UTC(year, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6] ?? 0));
}
