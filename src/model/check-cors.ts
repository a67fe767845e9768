/**
 * The invariants of a {@link CorsFilter}, for {@link checkTable} (through check-routes.ts): origins
 * the data plane's matcher can take as they are, and list values it can send as they are, so that
 * nothing a front end got wrong ends up in a response field.
 */
import type { CorsFilter, Provenance } from './table.ts';

/** How a check reports: where, about which node, what. */
export type CorsReport = (at: string, provenance: Provenance, message: string) => void;

// A serialised origin (RFC 6454 §6.2), lower case: a scheme (RFC 3986 §3.1), then a host — DNS
// labels, optionally behind one `*.` label wildcard, or a bracketed IPv6 literal — then an optional port.
const ORIGIN = /^[a-z][a-z0-9+.-]*:\/\/(?:(?:\*\.)?[a-z0-9-]+(?:\.[a-z0-9-]+)*|\[[0-9a-f:.]+\])(?::([0-9]{1,5}))?$/;
// RFC 9110 §5.6.2: a token, any case (methods are case-sensitive; header names are not, and are
// sent as the front end wrote them).
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// RFC 9111 §1.2.2: a delta-seconds past 2^31 - 1 is taken as that.
const MAX_AGE = 2_147_483_647;

/** Checks one CORS filter of the route whose provenance is `p`. */
export function checkCors(at: string, f: CorsFilter, p: Provenance, report: CorsReport): void {
  const origins = f.allowOrigins;
  if (origins.length === 0) report(at, p, 'CORS allowOrigins is empty: no origin could ever be allowed');
  if (origins.includes('*') && origins.length > 1) report(at, p, 'CORS allowOrigins lists * with other origins: * must be alone');
  const seen = new Set<string>();
  for (const origin of origins) {
    if (seen.has(origin)) report(at, p, `CORS origin ${JSON.stringify(origin)} is listed twice`);
    seen.add(origin);
    if (origin === '*' || origin === 'null') continue;
    const problem = originProblem(origin);
    if (problem !== null) report(at, p, `CORS origin ${JSON.stringify(origin)} ${problem}`);
  }
  tokens(at, p, 'allowMethods', 'method', f.allowMethods, true, report);
  tokens(at, p, 'allowHeaders', 'header name', f.allowHeaders, false, report);
  tokens(at, p, 'exposeHeaders', 'header name', f.exposeHeaders, false, report);
  if (typeof f.allowCredentials !== 'boolean') report(at, p, 'CORS allowCredentials is not true or false');
  if (f.wildcardLabels !== undefined && f.wildcardLabels !== 'one' && f.wildcardLabels !== 'any') report(at, p, `CORS wildcardLabels ${JSON.stringify(f.wildcardLabels)} is not one or any`);
  if (f.answerEveryPreflight !== undefined && f.answerEveryPreflight !== true) report(at, p, 'CORS answerEveryPreflight is set but not true');
  if (f.echoWildcards !== undefined && f.echoWildcards !== true) report(at, p, 'CORS echoWildcards is set but not true');
  const age = f.maxAgeSeconds;
  if (age !== undefined && !(Number.isInteger(age) && age >= 0 && age <= MAX_AGE)) report(at, p, `CORS maxAgeSeconds ${age} is not a whole number of seconds from 0 to ${MAX_AGE}`);
}

/** Why `origin` is not one the matcher takes, or null. */
function originProblem(origin: string): string | null {
  if (origin !== origin.toLowerCase()) return 'is not lower case';
  if (/[/?#]/.test(origin.slice(origin.indexOf('://') + 3))) return 'has a path, query or fragment: an origin is scheme://host[:port] only';
  const m = ORIGIN.exec(origin);
  if (m === null) return 'is not scheme://host[:port], *, or null (the host may start with *. for one label)';
  const port = m[1];
  if (port !== undefined && !(Number(port) >= 1 && Number(port) <= 65535 && !port.startsWith('0'))) return `has port ${port}, not a port number`;
  return null;
}

/** Reports a list entry that is not a token, or one listed twice (case-sensitively for methods). */
function tokens(at: string, p: Provenance, field: string, what: string, list: readonly string[], caseSensitive: boolean, report: CorsReport): void {
  const seen = new Set<string>();
  for (const value of list) {
    if (!TOKEN.test(value)) report(at, p, `CORS ${field}: ${what} ${JSON.stringify(value)} is not a token`);
    const key = caseSensitive ? value : value.toLowerCase();
    if (seen.has(key)) report(at, p, `CORS ${field}: ${what} ${value} is listed twice`);
    seen.add(key);
  }
}
