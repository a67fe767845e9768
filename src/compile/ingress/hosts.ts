/**
 * Host names of Ingress rules and TLS entries: validation and the three kinds of match.
 */
import { isIP } from 'node:net';
import type { HostName } from '../shared/candidates.ts';
import { isDns1123Subdomain, isUnset } from '../shared/guards.ts';
import { describe } from '../shared/objects.ts';

/** The catch-all virtual host that rules without a host belong to. */
export const ANY_HOST = '*';

/**
 * Parses the `host` of an Ingress rule. Unset (absent, null or '') means the catch-all `*`.
 * Returns an error message for anything that is not a valid host.
 */
export function parseRuleHost(value: unknown): HostName | string {
  if (isUnset(value)) return { host: ANY_HOST, match: 'any' };
  return parseHostName(value);
}

/**
 * Parses a host name as the Ingress API allows it: a DNS-1123 subdomain, optionally with a leading
 * `*.` wildcard label, compared case-insensitively (so lower-cased here). A wildcard matches
 * exactly one label: `*.example.com` matches `a.example.com`, not `a.b.example.com` nor
 * `example.com`. IP addresses, ports and `*` anywhere but the whole first label are rejected.
 * Returns an error message when the value is not such a host.
 */
export function parseHostName(value: unknown): HostName | string {
  if (typeof value !== 'string') return `host must be a string, got ${describe(value)}`;
  const host = value.toLowerCase();
  const quoted = JSON.stringify(value);
  if (host === '*') return 'host "*" is not a valid host; omit the host to match every host';
  if (isIP(host) !== 0 || host.startsWith('[')) return `host ${quoted} must be a DNS name, not an IP address`;
  if (host.includes(':')) return `host ${quoted} must be a DNS name without a port`;
  const wildcard = host.startsWith('*.');
  const name = wildcard ? host.slice(2) : host;
  if (name.includes('*')) {
    return `host ${quoted} may only use "*" as the whole first label, as in "*.example.com"`;
  }
  if (!isDns1123Subdomain(name)) {
    return `host ${quoted} is not a valid DNS-1123 subdomain (lower-case letters, digits, '-' and '.')`;
  }
  return { host, match: wildcard ? 'wildcard' : 'exact' };
}
