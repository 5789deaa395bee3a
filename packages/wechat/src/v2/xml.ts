/**
 * The flat XML of API v2: `<xml><key><![CDATA[value]]></key>…</xml>`.
 * Parsing goes through fast-xml-parser with every value kept as a string, after
 * a size check and an outright refusal of DOCTYPE / ENTITY declarations (no XXE,
 * no entity expansion). Writing puts every value in CDATA.
 *
 * @module
 */
import { createRequire } from 'node:module';
import { PayArgumentError, PayResponseError } from '@pay/core';
import { excerpt, PKG } from '../internal.js';

/** Default largest XML document accepted: 256 KiB (v2 messages are a few KiB). */
export const DEFAULT_MAX_XML_BYTES = 256 * 1024;

type Fxp = typeof import('fast-xml-parser');
const requireHere = createRequire(import.meta.url);
let fxp: Fxp | undefined;
let parser: InstanceType<Fxp['XMLParser']> | undefined;

function load(): { module: Fxp; parser: InstanceType<Fxp['XMLParser']> } {
  if (fxp === undefined || parser === undefined) {
    fxp = requireHere('fast-xml-parser') as Fxp;
    parser = new fxp.XMLParser({
      ignoreAttributes: true,
      parseTagValue: false,
      parseAttributeValue: false,
      trimValues: false,
      processEntities: true,
      htmlEntities: false,
      ignoreDeclaration: true,
      ignorePiTags: true,
      isArray: () => false,
      maxNestedTags: 8,
    });
  }
  return { module: fxp, parser };
}

const DECLARATION = /<!\s*(DOCTYPE|ENTITY|ELEMENT|ATTLIST|NOTATION)/i;

/** Options of {@link parseV2Xml}. */
export interface ParseXmlOptions {
  /** Largest document accepted, bytes. Default {@link DEFAULT_MAX_XML_BYTES}. */
  maxBytes?: number;
  /** The root element expected (`xml` for messages, `root` for refund `req_info`). Default `xml`. */
  root?: string;
  /** What is parsed, for messages. */
  what?: string;
}

/**
 * Parses a flat v2 XML document into a map of strings.
 *
 * @example
 * ```ts
 * parseV2Xml('<xml><return_code><![CDATA[SUCCESS]]></return_code><total_fee>1</total_fee></xml>');
 * // { return_code: 'SUCCESS', total_fee: '1' }
 * ```
 * @param input - the raw document
 * @param options - size limit, root element and a label
 * @throws PayResponseError for a document that is too large, declares a DOCTYPE or entities,
 *   is not well-formed, is nested, or repeats a key
 */
export function parseV2Xml(input: string | Uint8Array, options: ParseXmlOptions = {}): Record<string, string> {
  const what = options.what ?? 'XML';
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_XML_BYTES;
  const size = typeof input === 'string' ? Buffer.byteLength(input, 'utf8') : input.length;
  if (size > maxBytes) {
    throw new PayResponseError(`${PKG}: ${what}: expected at most ${maxBytes} bytes of XML, got ${size}`, { provider: 'wechat' });
  }
  const text = typeof input === 'string' ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength).toString('utf8');
  if (DECLARATION.test(text)) {
    throw new PayResponseError(`${PKG}: ${what}: refusing XML with a DOCTYPE or entity declaration (XXE / entity expansion)`, {
      provider: 'wechat',
      reason: 'XML_DOCTYPE',
    });
  }
  const { module, parser: p } = load();
  const valid = module.XMLValidator.validate(text);
  if (valid !== true) {
    throw new PayResponseError(`${PKG}: ${what}: expected well-formed XML, got ${excerpt(text)} (${valid.err.msg})`, {
      provider: 'wechat',
    });
  }
  let doc: Record<string, unknown>;
  try {
    doc = p.parse(text) as Record<string, unknown>;
  } catch (e) {
    throw new PayResponseError(`${PKG}: ${what}: could not parse the XML: ${e instanceof Error ? e.message : String(e)}`, {
      cause: e,
      provider: 'wechat',
    });
  }
  const rootName = options.root ?? 'xml';
  const keys = Object.keys(doc).filter((k) => k !== '#text');
  const rootValue = doc[rootName];
  if (keys.length !== 1 || keys[0] !== rootName || rootValue === null || typeof rootValue !== 'object' || Array.isArray(rootValue)) {
    throw new PayResponseError(`${PKG}: ${what}: expected one <${rootName}> element with fields, got ${excerpt(text)}`, {
      provider: 'wechat',
    });
  }
  const out: Record<string, string> = Object.create(null);
  for (const [key, value] of Object.entries(rootValue as Record<string, unknown>)) {
    if (key === '#text') {
      if (typeof value === 'string' && value.trim() === '') continue;
      throw new PayResponseError(`${PKG}: ${what}: unexpected text directly inside <${rootName}>`, { provider: 'wechat' });
    }
    if (Array.isArray(value))
      throw new PayResponseError(`${PKG}: ${what}: the field <${key}> appears more than once`, { provider: 'wechat' });
    if (typeof value !== 'string')
      throw new PayResponseError(`${PKG}: ${what}: the field <${key}> is nested; v2 messages are flat`, { provider: 'wechat' });
    out[key] = value;
  }
  return out;
}

const NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

/**
 * Writes a flat v2 XML document with every value in CDATA (`undefined` and `null` values left out).
 *
 * @example
 * ```ts
 * buildV2Xml({ return_code: 'SUCCESS', return_msg: 'OK' });
 * // '<xml><return_code><![CDATA[SUCCESS]]></return_code><return_msg><![CDATA[OK]]></return_msg></xml>'
 * ```
 * @throws PayArgumentError for a key that is not an XML name
 */
export function buildV2Xml(params: Readonly<Record<string, string | number | boolean | null | undefined>>): string {
  let out = '<xml>';
  for (const [key, raw] of Object.entries(params)) {
    if (raw === undefined || raw === null) continue;
    if (!NAME.test(key)) throw new PayArgumentError(`${PKG}: XML: ${excerpt(key)} is not a valid element name`);
    const value = String(raw).replace(/]]>/g, ']]]]><![CDATA[>');
    out += `<${key}><![CDATA[${value}]]></${key}>`;
  }
  return `${out}</xml>`;
}
