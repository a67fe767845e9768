/**
 * Gateway API hostnames: validation, and the intersection of a listener's hostname with a route's
 * `hostnames` (apis/v1/httproute_types.go, the comment on `HTTPRouteSpec.Hostnames`). A wildcard
 * `*.example.com` is a suffix match: it takes `foo.example.com` and `foo.bar.example.com`, never
 * `example.com`.
 */
import type { HostName } from '../shared/candidates.ts';
import { isDns1123Subdomain } from '../shared/guards.ts';

/** Whether `value` is a Gateway API `Hostname`: a lower-case DNS subdomain, optionally `*.` first; no IP. */
export function isGatewayHostname(value: unknown): value is string {
  if (typeof value !== 'string' || value === '' || value !== value.toLowerCase()) return false;
  const name = value.startsWith('*.') ? value.slice(2) : value;
  if (/^[0-9.]+$/.test(name)) return false;
  return isDns1123Subdomain(name);
}

/** Whether the (exact or wildcard) `pattern` takes the exact or wildcard name `name`. */
export function hostnameCovers(pattern: string, name: string): boolean {
  return covers(pattern, name);
}

function covers(pattern: string, name: string): boolean {
  if (!pattern.startsWith('*.')) return pattern === name;
  const suffix = pattern.slice(1);
  return name.endsWith(suffix) && name.length > suffix.length;
}

/**
 * The hostnames a route serves on a listener: its own `hostnames` that the listener's hostname
 * takes (or the listener's, where a route wildcard is wider than it), or the listener's alone when
 * the route names none. `[]` means none intersect (the route does not attach to that listener);
 * `[null]` means every host (neither names one).
 */
export function intersectHostnames(listener: string | null, route: readonly string[]): (string | null)[] {
  if (route.length === 0) return [listener];
  if (listener === null) return [...route];
  const out = new Set<string>();
  for (const name of route) {
    if (covers(listener, name)) out.add(name);
    else if (covers(name, listener)) out.add(listener);
  }
  return [...out];
}

/** A hostname (or null: every host) as the back half's virtual hosts take it: a wildcard is a suffix match. */
export function hostOf(name: string | null): HostName {
  if (name === null) return { host: '*', match: 'any' };
  return { host: name, match: name.startsWith('*.') ? 'suffix' : 'exact' };
}
