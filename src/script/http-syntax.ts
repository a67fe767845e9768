/**
 * The HTTP syntax checks a script's decision must pass before the proxy puts any of it on the wire.
 * Scripts are untrusted: a header name with a space or a value with a CR would let a script split a
 * request or a response, so both are checked against RFC 9110 here, on the host.
 */

/** RFC 9110 §5.6.2 `token`: a header name. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * RFC 9110 §5.5 field value: visible ASCII, space, tab and obs-text; no CR, LF, NUL or other controls.
 * Code points above 0xFF are refused too: Node writes header strings as latin1 and would mangle them.
 */
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/** Longest header value a script may set; larger ones are refused rather than truncated. */
export const MAX_HEADER_VALUE_LENGTH = 8 * 1024;

/**
 * Headers a script may neither set nor remove: they frame the message or belong to one hop, so only
 * the proxy may decide them (a script setting `content-length` could smuggle a request).
 */
export const RESERVED_HEADERS: ReadonlySet<string> = new Set([
  'connection',
  'content-length',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/** True when `name` is a syntactically valid header name. */
export function isHeaderName(name: string): boolean {
  return TOKEN.test(name);
}

/** True when `value` may be sent as a header value (length included). */
export function isHeaderValue(value: string): boolean {
  return value.length <= MAX_HEADER_VALUE_LENGTH && FIELD_VALUE.test(value);
}
