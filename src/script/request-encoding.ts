import type { ScriptRequest, ScriptResponse } from './types.ts';

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
  const block = headerBlock(req.headers);
  const cookies = req.cookieHeader !== undefined ? part(req.cookieHeader) : cookieHeaderOf(req.cookies);
  return `${part(req.method)}${SEP}${part(req.host)}${SEP}${part(req.path)}${SEP}${part(req.clientIp)}${SEP}${req.sni === null ? '' : part(req.sni)}${SEP}${recordJson(req.query)}${SEP}${cookies}${SEP}${block}`;
}

/** What the prelude's `runBatch` takes for a run of `onRequest`: `q` and the encoded request. */
export function requestPayload(req: ScriptRequest): string {
  return `q${encodeRequest(req)}`;
}

/**
 * What the prelude's `runBatch` takes for a run of `onResponse`: `s`, then
 *
 *     status ␁ \nname:value\nname:value…\n ␁ the request, as encodeRequest encodes it
 *
 * The response's header block is not the last part, so U+0001 in a value becomes U+FFFD there.
 */
export function responsePayload(res: ScriptResponse): string {
  const status = Number.isInteger(res.status) && res.status >= 100 && res.status <= 599 ? res.status : 0;
  return `s${status}${SEP}${part(headerBlock(res.headers))}${SEP}${encodeRequest(res.request)}`;
}

/** Headers as lines; a header that could pose as another line (a `:` in its name, a line break) is left out. */
function headerBlock(headers: Readonly<Record<string, string>>): string {
  let block = '\n';
  for (const name in headers) {
    const value = headers[name];
    if (typeof value !== 'string' || name.length === 0 || name.includes(':') || name.includes('\n') || value.includes('\n')) continue;
    block += `${name}:${value}\n`;
  }
  return block;
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
