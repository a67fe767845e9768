/**
 * The invariants of a {@link UrlMirrorFilter}, for checkRoute: a URL the data plane can send a
 * copy to, with only the variables it expands, and those only where they cannot move the copy to
 * another host; a Host it can send.
 */
import type { Provenance, UrlMirrorFilter } from './table.ts';

/** How the check reports: where, about which node, what (as in check-routes.ts). */
type Report = (at: string, provenance: Provenance, message: string) => void;

/** The variables a mirror URL may hold (src/dataplane/lifecycle/filters/url-mirror.ts expands them). */
export const MIRROR_URL_VARIABLES: readonly string[] = ['request_uri', 'uri', 'args', 'is_args'];
const VARIABLE = /\$(\{[A-Za-z_][A-Za-z0-9_]*\}|[A-Za-z_][A-Za-z0-9_]*)/g;
// A host name or an IP literal, then an optional port: what a Host field may say (RFC 9110 §7.2).
const HOST = /^(?:[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?)*|\[[0-9a-f:.]+\])(?::[0-9]{1,5})?$/;

/** Reports every problem of `f`, the filter of the route whose provenance is `p`. */
export function checkUrlMirror(at: string, f: UrlMirrorFilter, p: Provenance, report: Report): void {
  const problem = mirrorUrlProblem(f.url);
  if (problem !== null) report(at, p, `mirror url ${JSON.stringify(f.url)} ${problem}`);
  if (!HOST.test(f.host)) report(at, p, `mirror host ${JSON.stringify(f.host)} is not a lower-case host name or IP address with an optional port`);
  if (typeof f.requestBody !== 'boolean') report(at, p, 'mirror requestBody is not true or false');
}

/** Why `url` cannot be a mirror's URL, or null. */
export function mirrorUrlProblem(url: string): string | null {
  if (/[\s\u0000-\u001f\u007f]/u.test(url)) return 'contains whitespace or a control character';
  const names = [...url.matchAll(VARIABLE)].map((m) => ({ name: m[1]!.replace(/[{}]/g, ''), index: m.index }));
  const unknown = names.find((v) => !MIRROR_URL_VARIABLES.includes(v.name));
  if (unknown !== undefined) return `holds the variable $${unknown.name}; only $${MIRROR_URL_VARIABLES.join(', $')} are expanded`;
  // The destination is the author's: a variable must come after the host and port.
  const scheme = /^[a-z][a-z0-9+.-]*:\/\/[^/?$]+/i.exec(url);
  if (scheme === null || (names.length > 0 && names[0]!.index < scheme[0].length)) return 'names its host through a variable, or no host at all';
  // Right after the authority only a variable that starts with `/` may come: `$args` there would run into the host.
  const first = names[0];
  if (first !== undefined && first.index === scheme[0].length && first.name !== 'request_uri' && first.name !== 'uri') return `names its host through a variable: $${first.name} right after the host would become part of it`;
  let parsed: URL;
  try {
    parsed = new URL(url.replace(VARIABLE, '/x'));
  } catch {
    return 'is not an absolute URL';
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return 'is not an http or https URL';
  if (parsed.hostname === '') return 'names no host';
  if (parsed.username !== '' || parsed.password !== '') return 'holds credentials';
  if (parsed.hash !== '') return 'has a fragment';
  return null;
}
