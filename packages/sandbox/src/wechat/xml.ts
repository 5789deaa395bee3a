/**
 * Hand-written reading and writing of WeChat Pay v2's flat XML for the emulator
 * (the sandbox does not depend on an XML library). Only the subset v2 uses:
 * `<xml><k>v</k>…</xml>` with plain or CDATA values; DOCTYPE / ENTITY refused.
 *
 * @module
 * @internal
 */

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decodeText(text: string): string {
  return text.replace(/&(amp|lt|gt|quot|apos|#\d+|#x[0-9A-Fa-f]+);/g, (_, e: string) => {
    if (e.startsWith('#x')) return String.fromCodePoint(Number.parseInt(e.slice(2), 16));
    if (e.startsWith('#')) return String.fromCodePoint(Number.parseInt(e.slice(1), 10));
    return ENTITIES[e] ?? '';
  });
}

const FIELD = /<([A-Za-z_][\w.-]*)>((?:<!\[CDATA\[[\s\S]*?\]\]>)+|[^<]*)<\/\1>/y;

/**
 * Reads a flat v2 document; undefined when it is not one (or declares a DOCTYPE / entity).
 * @internal
 */
export function readV2Xml(text: string, root = 'xml'): Record<string, string> | undefined {
  if (/<!\s*(DOCTYPE|ENTITY)/i.test(text)) return undefined;
  const body = new RegExp(`^\\s*(?:<\\?xml[^>]*\\?>\\s*)?<${root}>([\\s\\S]*)</${root}>\\s*$`).exec(text);
  if (!body) return undefined;
  const inner = body[1] as string;
  const out: Record<string, string> = Object.create(null);
  let i = 0;
  while (i < inner.length) {
    const ws = /\s*/y;
    ws.lastIndex = i;
    ws.exec(inner);
    i = ws.lastIndex;
    if (i >= inner.length) break;
    FIELD.lastIndex = i;
    const m = FIELD.exec(inner);
    if (!m) return undefined;
    const name = m[1] as string;
    const raw = m[2] as string;
    if (Object.hasOwn(out, name)) return undefined;
    out[name] = raw.startsWith('<![CDATA[') ? raw.replace(/<!\[CDATA\[([\s\S]*?)\]\]>/g, '$1') : decodeText(raw);
    i = FIELD.lastIndex;
  }
  return out;
}

/**
 * Writes a flat v2 document, every value in CDATA.
 * @internal
 */
export function writeV2Xml(fields: Record<string, string | number | undefined>, root = 'xml'): string {
  let out = `<${root}>`;
  for (const [k, v] of Object.entries(fields)) {
    if (v === undefined) continue;
    out += `<${k}><![CDATA[${String(v).replace(/]]>/g, ']]]]><![CDATA[>')}]]></${k}>`;
  }
  return `${out}</${root}>`;
}
