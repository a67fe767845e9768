import { unmapIPv4, type TrustedProxies } from '../server/trusted-proxies.ts';

/**
 * Builds the header list sent upstream from the client's raw headers: hop-by-hop headers (and any
 * named in `Connection`) removed, `Host` set to the request's one host, and the forwarding headers
 * set. Returns a flat `[name, value, name, value, …]` array, the form undici takes without further
 * copying.
 */

/** Headers that describe one connection and never cross a proxy (RFC 9110 §7.6.1), plus `expect`,
 * which Node's server already answered, and `proxy-connection`, a non-standard relative. */
const HOP_BY_HOP = new Set([
  'connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade',
  'proxy-authenticate', 'proxy-authorization', 'expect', 'http2-settings',
]);

/** The forwarding headers signalbox sets; a client's own copies are dropped unless it is trusted. */
const FORWARDING = new Set(['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'x-forwarded-port', 'x-real-ip']);

/**
 * What a client-certificate check tells the upstream (client-auth-check.ts): a client's own copies
 * are spoofs, dropped on every host (one without the check has no verified certificate to report).
 */
const CLIENT_CERTIFICATE = new Set(['ssl-client-verify', 'ssl-client-subject-dn', 'ssl-client-issuer-dn', 'ssl-client-cert']);

/** Facts about the client connection that the forwarding headers report. */
export interface ForwardingInfo {
  /** The peer address of the client connection. */
  readonly peer: string;
  /** `http` or `https`. */
  readonly proto: string;
  /** The listener port the request arrived on. */
  readonly port: number;
  /**
   * The request's one host, as it was routed (request-host.ts): an absolute-form target's authority
   * (which replaces the Host header, RFC 9112 §3.2.2), HTTP/2's `:authority`, or the Host header.
   * The upstream's `Host` and `X-Forwarded-Host` are this value, never another field of the request.
   */
  readonly host: string;
  /**
   * The table's `clientAddressHeader` (lower-case) when it is not X-Forwarded-For: the client
   * address (X-Real-IP) is read from its chain when the peer is trusted; the field itself passes.
   */
  readonly addressHeader?: string | undefined;
  /** The route's `originalUriHeader`: the request target as sent, set as X-Original-URI. */
  readonly originalUri?: string | undefined;
}

/**
 * Headers for the upstream request. The client's `Upgrade` is always dropped; `upgrade`, for a
 * tunnel, is the `Upgrade` value to send instead (the offered protocols signalbox allows), with
 * `Connection: upgrade`. HTTP/2 pseudo-headers are dropped; `Host` keeps its place in the list
 * (at the end when the client sent none, as in HTTP/2). `rewrittenHost`, a URLRewrite's hostname,
 * replaces the upstream's Host; X-Forwarded-Host still says the host the client named.
 */
export function upstreamHeaders(raw: readonly string[], info: ForwardingInfo, trusted: TrustedProxies, upgrade: string | null = null, rewrittenHost: string | null = null): string[] {
  const out: string[] = [];
  let connectionTokens: string | undefined;
  const host = rewrittenHost ?? info.host;
  let hostSent = false;
  let xff: string | undefined;
  let xfProto: string | undefined;
  let xfHost: string | undefined;
  let xfPort: string | undefined;
  const addressHeader = info.addressHeader;
  let addressChain: string | undefined;
  const originalUri = info.originalUri;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const lower = name.toLowerCase();
    if (lower === 'connection') {
      connectionTokens = connectionTokens === undefined ? raw[i + 1]! : `${connectionTokens},${raw[i + 1]!}`;
      continue;
    }
    if (lower.charCodeAt(0) === 58 /* ':' */) continue;
    if (HOP_BY_HOP.has(lower)) continue;
    if (lower.charCodeAt(0) === 115 /* 's' */ && CLIENT_CERTIFICATE.has(lower)) continue;
    if (FORWARDING.has(lower)) {
      const value = raw[i + 1]!;
      if (lower === 'x-forwarded-for') xff = xff === undefined ? value : `${xff}, ${value}`;
      else if (lower === 'x-forwarded-proto') xfProto ??= value;
      else if (lower === 'x-forwarded-host') xfHost ??= value;
      else if (lower === 'x-forwarded-port') xfPort ??= value;
      continue;
    }
    if (lower === addressHeader) addressChain = addressChain === undefined ? raw[i + 1]! : `${addressChain}, ${raw[i + 1]!}`;
    // The proxy's X-Original-URI replaces the client's (nginx's proxy_set_header).
    if (originalUri !== undefined && lower === 'x-original-uri') continue;
    if (lower === 'host') {
      // The request was refused if it had two; an absolute-form target's authority overrides it.
      if (!hostSent && host !== '') out.push(name, host);
      hostSent = true;
      continue;
    }
    out.push(name, raw[i + 1]!);
  }
  if (connectionTokens !== undefined) removeConnectionListed(out, connectionTokens);
  if (!hostSent && host !== '') out.push('host', host);

  const isTrusted = !trusted.none && trusted.isTrusted(info.peer);
  const peer = unmapIPv4(info.peer);
  const client = isTrusted ? trusted.clientAddress(peer, addressHeader === undefined ? xff : addressChain) : peer;
  out.push(
    'x-forwarded-for', isTrusted && xff !== undefined ? `${xff}, ${peer}` : peer,
    'x-forwarded-proto', isTrusted && xfProto !== undefined ? xfProto : info.proto,
    'x-forwarded-host', isTrusted && xfHost !== undefined ? xfHost : info.host,
    'x-forwarded-port', isTrusted && xfPort !== undefined ? xfPort : String(info.port),
    'x-real-ip', client,
  );
  if (originalUri !== undefined) out.push('x-original-uri', originalUri);
  if (upgrade !== null) out.push('connection', 'upgrade', 'upgrade', upgrade);
  return out;
}

/** Removes the headers that a `Connection` header names (RFC 9110 §7.6.1); rare, so not optimised. */
function removeConnectionListed(headers: string[], tokens: string): void {
  const listed = connectionListed(tokens);
  if (listed === null) return;
  for (let i = headers.length - 2; i >= 0; i -= 2) {
    const lower = headers[i]!.toLowerCase();
    if (listed.has(lower) && lower !== 'host') headers.splice(i, 2);
  }
}

/** Whether a response header must not be passed back to the client. */
export function isHopByHopResponseHeader(lower: string): boolean {
  return HOP_BY_HOP.has(lower);
}

/**
 * Applies a RouteScript's header edits to an upstream header list (flat name/value pairs) in place:
 * every field named in `remove` or `set` goes (whatever its case), then each `set` one is added.
 * The decision was validated: names are lower-case tokens, none of them framing, hop-by-hop or Host.
 */
export function editHeaders(headers: string[], set: Readonly<Record<string, string>> | undefined, remove: readonly string[] | undefined): void {
  const drop = new Set<string>(remove);
  if (set !== undefined) for (const name in set) drop.add(name);
  if (drop.size > 0) dropFields(headers, drop);
  if (set !== undefined) for (const name in set) headers.push(name, set[name]!);
}

/**
 * Header names listed in a Connection header (of a request or a response) (beyond close/keep-alive), which are
 * hop-by-hop too; null in the usual case of none.
 */
export function connectionListed(value: string | string[] | undefined): Set<string> | null {
  if (value === undefined) return null;
  let listed: Set<string> | null = null;
  for (const token of (Array.isArray(value) ? value.join(',') : value).split(',')) {
    const t = token.trim().toLowerCase();
    if (t === '' || t === 'close' || t === 'keep-alive') continue;
    (listed ??= new Set()).add(t);
  }
  return listed;
}

/** Removes every field of a flat `[name, value, …]` list whose lower-cased name is in `names`, keeping the others in order. */
export function dropFields(headers: string[], names: ReadonlySet<string>): void {
  let write = 0;
  for (let read = 0; read < headers.length; read += 2) {
    const name = headers[read]!;
    if (names.has(name.toLowerCase())) continue;
    headers[write++] = name;
    headers[write++] = headers[read + 1]!;
  }
  headers.length = write;
}
