import type { PathMatch, RedirectFilter } from '../../../model/table.ts';
import type { ListenerInfo } from '../proxy-state.ts';
import type { LifecycleRequest } from '../request.ts';
import type { RequestStep } from '../request-step.ts';
import { hostName } from '../script-request.ts';
import { compilePattern } from '../../../regex/compile-pattern.ts';
import { pathRewriter, type PathRewriter } from './path-modifier.ts';

const DEFAULT_PORT = { http: 80, https: 443 } as const;

/**
 * RequestRedirect: answers with `statusCode` and a Location built from the request, every part
 * the filter does not give being the request's own: the scheme of the listener, the host the
 * client named, the port the client named — or, when the filter changes the scheme and names no
 * port, that scheme's default — and the path (as an earlier URLRewrite left it), the query kept
 * unless the filter replaces it.
 * `portFrom` puts no port, or the data plane's own port of the scheme, in place of the client's;
 * `relative` leaves scheme and authority out. A port that is its scheme's default is left out of Location. With a `ReplaceRegexMatch` path, a
 * path the pattern does not match is not redirected: the request goes on (nginx's
 * `rewrite … redirect`, which redirects only what its pattern finds).
 */
export class RedirectStep implements RequestStep {
  readonly #filter: RedirectFilter;
  readonly #path: PathRewriter | null;
  readonly #only: RegExp | null;

  constructor(filter: RedirectFilter, match: PathMatch) {
    this.#filter = filter;
    this.#path = filter.path === undefined ? null : pathRewriter(filter.path, match);
    const compiled = filter.path?.type === 'ReplaceRegexMatch' ? compilePattern(filter.path.pattern) : null;
    this.#only = compiled?.ok === true ? compiled.regex : null;
  }

  run(r: LifecycleRequest): boolean {
    if (this.#only !== null && !this.#only.test(r.currentPath())) return true;
    r.respond(this.#filter.statusCode, { location: this.location(r) }, '', 'redirect');
    return false;
  }

  /** The Location of the redirect for `r`. */
  location(r: LifecycleRequest): string {
    const f = this.#filter;
    const path = this.#path === null ? r.currentPath() : this.#path(r.currentPath());
    if (f.relative === true) return `${path}${f.query ?? r.routed!.target.query}`;
    const scheme = f.scheme ?? r.listener.proto;
    const host = r.routed!.host;
    const name = f.hostname ?? hostName(host);
    const port =
      f.port ??
      (f.portFrom === 'none' ? DEFAULT_PORT[scheme]
        : f.portFrom === 'listener' ? listenerPort(r.listener, scheme)
        : f.scheme !== undefined ? DEFAULT_PORT[scheme]
        : (portOf(host) ?? DEFAULT_PORT[scheme]));
    const authority = port === DEFAULT_PORT[scheme] ? name : `${name}:${port}`;
    return `${scheme}://${authority}${path}${f.query ?? r.routed!.target.query}`;
  }
}

/**
 * The port the data plane serves `scheme` on, seen from the socket a request came in on: its own
 * for the same scheme, the data plane's HTTPS port from its plain-HTTP one; else the default.
 */
function listenerPort(listener: ListenerInfo, scheme: 'http' | 'https'): number {
  if (scheme === listener.proto) return listener.port;
  return scheme === 'https' ? (listener.httpsPort ?? DEFAULT_PORT.https) : DEFAULT_PORT.http;
}

/** The port a Host value names, or null when it names none. */
function portOf(host: string): number | null {
  const end = host.charCodeAt(0) === 91 /* [ */ ? host.indexOf(']') + 1 : 0;
  const colon = host.indexOf(':', end);
  if (colon === -1 || colon === host.length - 1) return null;
  const port = Number(host.slice(colon + 1));
  return Number.isInteger(port) ? port : null;
}
