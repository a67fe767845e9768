import type { IncomingMessage } from 'node:http';

/**
 * Reading what an HTTP/1.1 `Upgrade` request asks for (RFC 9110 section 7.8), and turning a request
 * whose upgrade is not granted back into the plain request it also is. A protocol is `name` or
 * `name/version`; names are compared without regard to case, as RFC 6455 does for `websocket`.
 */

/** Never tunnelled: cleartext HTTP/2 would carry any number of requests past routing and scripts. */
const H2C = 'h2c';

/** Why an upgrade request is served as a plain request instead of being tunnelled. */
export type PlainReason =
  /** It offers no protocol the route's Service allows (or only `h2c`), or it is HTTP/1.0. */
  | 'not-allowed'
  /** It has a body: the body belongs to the HTTP/1.1 request, not to the protocol switched to. */
  | 'with-body';

/**
 * Why `req` cannot become a tunnel whatever the route, or null when it might: an HTTP/1.0 request
 * (whose Upgrade a server must ignore, RFC 9110 section 7.8) or one that carries a body. A tunnel
 * begins right after the request head, so a body could only be forwarded as the first bytes of the
 * new protocol, which is how a body smuggles a request past the proxy; nginx and Envoy do not
 * tunnel such a request either.
 */
export function plainReason(req: IncomingMessage): PlainReason | null {
  if (req.httpVersionMajor !== 1 || req.httpVersionMinor !== 1) return 'not-allowed';
  const h = req.headers;
  if (h['transfer-encoding'] !== undefined) return 'with-body';
  const length = h['content-length'];
  return length !== undefined && length !== '0' ? 'with-body' : null;
}

/**
 * The protocols of `req`'s Upgrade header that `allowed` (lower-case names) lists, in the client's
 * order and as the client wrote them, joined for the upstream's Upgrade header; null when there is
 * none, or when the request does not ask for an upgrade in its Connection header as well.
 */
export function allowedOffer(req: IncomingMessage, allowed: readonly string[]): string | null {
  if (!connectionTokens(req).has('upgrade')) return null;
  const kept: string[] = [];
  for (const protocol of splitList(req.headers.upgrade)) {
    const name = protocolName(protocol);
    if (name !== H2C && allowed.includes(name)) kept.push(protocol);
  }
  return kept.length === 0 ? null : kept.join(', ');
}

/**
 * Whether a 101 response's Upgrade header (which it must carry, RFC 9110 section 15.2.2) names only
 * protocols that were offered: a server must not switch to one the client did not ask for (RFC
 * 9110 section 7.8), least of all to one signalbox does not allow.
 */
export function switchedToOffered(upgrade: string | string[] | undefined, offered: string): boolean {
  const names = new Set(splitList(offered).map(protocolName));
  const switched = splitList(Array.isArray(upgrade) ? upgrade.join(',') : upgrade);
  return switched.length > 0 && switched.every((p) => names.has(protocolName(p)));
}

/** Header fields that only serve the upgrade, dropped when the request is served plain. */
const UPGRADE_FIELDS = new Set(['upgrade', 'http2-settings']);

/**
 * The head of `req` as the plain request it is once its upgrade is refused: the same request line
 * and fields, in order and as received, without `Upgrade` and `HTTP2-Settings` and without the
 * Connection options naming them (RFC 9113 section 3.1 makes `HTTP2-Settings` a connection-specific
 * field). Written back in latin1, the encoding Node read them in, so that every byte is as it came.
 */
export function plainRequestHead(req: IncomingMessage): string {
  const raw = req.rawHeaders;
  let head = `${req.method} ${req.url} HTTP/${req.httpVersion}\r\n`;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const lower = name.toLowerCase();
    if (UPGRADE_FIELDS.has(lower)) continue;
    let value = raw[i + 1]!;
    if (lower === 'connection') {
      value = splitList(value).filter((t) => !UPGRADE_FIELDS.has(t.toLowerCase())).join(', ');
      if (value === '') continue;
    }
    head += `${name}: ${value}\r\n`;
  }
  return `${head}\r\n`;
}

/** The options of the request's Connection header fields, lower-cased. */
function connectionTokens(req: IncomingMessage): Set<string> {
  const tokens = new Set<string>();
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.toLowerCase() !== 'connection') continue;
    for (const t of splitList(raw[i + 1])) tokens.add(t.toLowerCase());
  }
  return tokens;
}

/** The non-empty members of a comma-separated list (RFC 9110 section 5.6.1), trimmed. */
function splitList(value: string | undefined): string[] {
  if (value === undefined) return [];
  const out: string[] = [];
  for (const part of value.split(',')) {
    const t = part.trim();
    if (t !== '') out.push(t);
  }
  return out;
}

/** `websocket` of `WebSocket` or `my-proto` of `my-proto/2`. */
function protocolName(protocol: string): string {
  const slash = protocol.indexOf('/');
  return (slash === -1 ? protocol : protocol.slice(0, slash)).trim().toLowerCase();
}
