import type { TLSSocket } from 'node:tls';
import type { ScriptRequest } from '../../script/index.ts';
import type { ClientRequest } from './proxy-state.ts';

/**
 * The read-only view of a client request that a RouteScript receives. Built only for requests of
 * routes that run a script, once per request.
 *
 * `headers` is Node's own header object: names are already lower case, repeated fields already
 * joined as they are forwarded. HTTP/2 pseudo-headers (`:path`…) and the rare array value
 * (`set-cookie` in a request) are left out by the engine's encoding, which skips names with a colon
 * and non-string values — so no copy is made here.
 */
export function scriptRequest(req: ClientRequest, host: string, path: string, query: string, clientIp: string): ScriptRequest {
  const cookie = req.headers.cookie;
  return {
    method: req.method ?? 'GET',
    host: hostName(host),
    path,
    query: query.length > 1 ? parseQuery(query) : EMPTY,
    headers: req.headers as Record<string, string>,
    // Parsed inside the isolate from the raw header, and only if the script reads them.
    cookies: EMPTY,
    ...(typeof cookie === 'string' && cookie !== '' ? { cookieHeader: cookie } : {}),
    clientIp,
    sni: serverName(req),
  };
}

const EMPTY: Readonly<Record<string, never>> = Object.freeze(Object.create(null) as Record<string, never>);

/** The host without its port, lower case; an IPv6 literal keeps its brackets. */
export function hostName(host: string): string {
  let end = host.length;
  if (host.charCodeAt(0) === 91 /* [ */) {
    const close = host.indexOf(']');
    end = close === -1 ? host.length : close + 1;
  } else {
    const colon = host.indexOf(':');
    if (colon !== -1) end = colon;
  }
  if (end > 0 && host.charCodeAt(end - 1) === 46 /* . */) end--; // a trailing dot names the same host
  const name = end === host.length ? host : host.slice(0, end);
  return name.toLowerCase();
}

/**
 * Query parameters of `query` (with its leading `?`), decoded as a form would be (`+` is a space);
 * a repeated name gives an array in order. Names are own keys of a null-prototype object, so a
 * parameter called `__proto__` is just a parameter.
 */
export function parseQuery(query: string): Record<string, string | string[]> {
  const out = Object.create(null) as Record<string, string | string[]>;
  for (const [name, value] of new URLSearchParams(query)) {
    const seen = out[name];
    if (seen === undefined) out[name] = value;
    else if (typeof seen === 'string') out[name] = [seen, value];
    else seen.push(value);
  }
  return out;
}

/** The TLS server name the client asked for, or null on plain HTTP or without SNI. */
function serverName(req: ClientRequest): string | null {
  const name = (req.socket as TLSSocket | null | undefined)?.servername;
  return typeof name === 'string' && name !== '' ? name.toLowerCase() : null;
}

/**
 * A flat `[name, value, …]` field list as a script sees fields: names lower case, a repeated field
 * as its values joined with `, `.
 */
export function fieldRecord(flat: readonly string[]): Record<string, string> {
  const out = Object.create(null) as Record<string, string>;
  for (let i = 0; i < flat.length; i += 2) {
    const name = flat[i]!.toLowerCase();
    const seen = out[name];
    out[name] = seen === undefined ? flat[i + 1]! : `${seen}, ${flat[i + 1]!}`;
  }
  return out;
}
