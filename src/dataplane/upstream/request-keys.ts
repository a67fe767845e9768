import type { HashOn } from '../../model/policy.ts';

/**
 * Reading keys out of a request for consistent hashing and cookie affinity. Each reader is built once
 * per cluster and table, so the per-request work is a header lookup and, for cookies and query
 * parameters, one scan of that header or query string.
 */

/** The request facts key readers use. */
export interface KeySource {
  readonly headers: Record<string, string | string[] | undefined>;
  /** The request target as received (path and query). */
  readonly url: string;
  /** The client address (after trusted-proxy resolution). */
  readonly clientIp: string;
}

/** Reads a key from a request; null when the request does not carry it. */
export type KeyReader = (source: KeySource) => string | null;

/** The reader for `hashOn`. */
export function keyReader(hashOn: HashOn): KeyReader {
  switch (hashOn.source) {
    case 'header': {
      const name = hashOn.name;
      return (s) => firstValue(s.headers[name]);
    }
    case 'cookie': {
      const name = hashOn.name;
      return (s) => cookieValue(firstValue(s.headers.cookie), name);
    }
    case 'query': {
      const name = hashOn.name;
      return (s) => queryValue(s.url, name);
    }
    case 'client-ip':
      return (s) => s.clientIp || null;
    case 'uri':
      return (s) => s.url;
  }
}

function firstValue(value: string | string[] | undefined): string | null {
  if (value === undefined) return null;
  if (typeof value === 'string') return value === '' ? null : value;
  return value[0] ?? null;
}

/**
 * The value of cookie `name` in a Cookie header (`a=1; b=2`), or null. Only the first occurrence
 * counts; surrounding double quotes are kept as part of the value, as RFC 6265 says.
 */
export function cookieValue(header: string | null, name: string): string | null {
  if (header === null) return null;
  let start = 0;
  while (start < header.length) {
    let end = header.indexOf(';', start);
    if (end === -1) end = header.length;
    let i = start;
    while (i < end && header.charCodeAt(i) === 32) i++;
    if (header.startsWith(name, i) && header.charCodeAt(i + name.length) === 61 /* '=' */) {
      const value = header.slice(i + name.length + 1, end).trim();
      return value === '' ? null : value;
    }
    start = end + 1;
  }
  return null;
}

/** The first value of query parameter `name` in a request target, decoded, or null. */
export function queryValue(url: string, name: string): string | null {
  const q = url.indexOf('?');
  if (q === -1) return null;
  const query = url.slice(q + 1);
  for (const part of query.split('&')) {
    const eq = part.indexOf('=');
    const key = eq === -1 ? part : part.slice(0, eq);
    if (safeDecode(key) !== name) continue;
    const value = eq === -1 ? '' : safeDecode(part.slice(eq + 1));
    return value === '' ? null : value;
  }
  return null;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text.replaceAll('+', ' '));
  } catch {
    return text;
  }
}
