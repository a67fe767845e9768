import type { ScriptRequest } from './types.ts';

/**
 * The separator between the parts of an encoded request. JSON never contains it raw
 * (`JSON.stringify` escapes control characters) and {@link encodeRequest} keeps it out of the other
 * parts, so the first seven are always part boundaries.
 */
export const PART_SEPARATOR = '\u0001';

/**
 * Encodes a request as the one string the prelude decodes (sandbox-prelude.ts `decodeRequest`), its
 * parts separated by U+0001:
 *
 *     method ␁ host ␁ path ␁ clientIp ␁ sni ␁ query JSON ␁ Cookie header ␁ \nname:value\nname:value…\n
 *
 * One string because each value crossing into an isolate costs a copy, and one string is the
 * cheapest crossing; headers as lines rather than JSON because the prelude reads one header by
 * searching the block, without parsing the others (most scripts read one or two). A null `sni` is
 * an empty part (a TLS server name is never empty).
 *
 * Node's HTTP parsers never let U+0001 into a method, host or path, nor `:` into a header name, nor
 * a line break into a header; should one arrive anyway, U+0001 becomes U+FFFD and such a header is
 * left out, so that no value can pose as another part or another header.
 */
export function encodeRequest(req: ScriptRequest): string {
  let block = '\n';
  const headers = req.headers;
  for (const name in headers) {
    const value = headers[name];
    if (typeof value !== 'string' || name.length === 0 || name.includes(':') || name.includes('\n') || value.includes('\n')) continue;
    block += `${name}:${value}\n`;
  }
  const cookies = req.cookieHeader !== undefined ? part(req.cookieHeader) : cookieHeaderOf(req.cookies);
  return `${part(req.method)}${SEP}${part(req.host)}${SEP}${part(req.path)}${SEP}${part(req.clientIp)}${SEP}${req.sni === null ? '' : part(req.sni)}${SEP}${recordJson(req.query)}${SEP}${cookies}${SEP}${block}`;
}

/**
 * `cookies` as a Cookie header, for a request built without one (tests, `signalbox script test`).
 * A name or value that could not survive the round trip (`;`, `=` in a name, the separator) is left
 * out, as a browser would never send it.
 */
function cookieHeaderOf(cookies: Readonly<Record<string, string>>): string {
  let header = '';
  for (const name in cookies) {
    const value = cookies[name];
    if (typeof value !== 'string' || name === '' || /[;=\u0001]/.test(name) || /[;\u0001]/.test(value)) continue;
    header += `${header === '' ? '' : '; '}${name}=${value}`;
  }
  return header;
}

const SEP = PART_SEPARATOR;

function part(value: string): string {
  return value.includes(SEP) ? value.replaceAll(SEP, '\ufffd') : value;
}

/** `{}` without calling into JSON for the common empty record. */
function recordJson(record: object): string {
  for (const _ in record) return JSON.stringify(record);
  return '{}';
}
