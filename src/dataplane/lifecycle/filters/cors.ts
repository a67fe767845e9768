import type { CorsFilter } from '../../../model/table.ts';
import { dropFields } from '../../upstream/upstream-headers.ts';
import type { LifecycleRequest } from '../request.ts';
import type { RequestStep, ResponseHead, ResponseStep } from '../request-step.ts';
import { originTest, type OriginTest } from './cors-origins.ts';

const ALLOW_ORIGIN = 'access-control-allow-origin';

/**
 * A CORS filter (see {@link CorsFilter}) prepared once per table swap: the origin test, the fields
 * every allowed response gets and the names they replace. Its two steps share it: the request side
 * decides (and answers a preflight), the response side writes the fields on whatever head reaches
 * the client — the upstream's, the proxy's error answer, the preflight's own 204.
 */
export class CorsPolicy {
  /** Null for `['*']`: every request is allowed, and told `*`. */
  readonly test: OriginTest | null;
  /** The fields after Access-Control-Allow-Origin, flat, as every allowed response carries them. */
  readonly fields: readonly string[];
  /** The names the response side sets, lower case, so that the upstream's own copies are replaced. */
  readonly names: ReadonlySet<string>;
  /** The same fields as an object, for the preflight answer. */
  readonly preflight: Readonly<Record<string, string>>;

  /** Answer the preflight of an origin that is not allowed too (without CORS fields), rather than pass it on. */
  readonly answerEveryPreflight: boolean;
  /** With credentials: answer `*` origins, methods and headers with the request's own (see CorsFilter.echoWildcards). */
  readonly echo: { readonly origin: boolean; readonly methods: boolean; readonly headers: boolean };

  constructor(filter: CorsFilter) {
    const any = filter.allowOrigins.length === 1 && filter.allowOrigins[0] === '*';
    this.test = any ? null : originTest(filter.allowOrigins, filter.wildcardLabels ?? 'one');
    this.answerEveryPreflight = filter.answerEveryPreflight === true;
    const echo = filter.echoWildcards === true && filter.allowCredentials;
    this.echo = { origin: echo && any, methods: echo && filter.allowMethods.includes('*'), headers: echo && filter.allowHeaders.includes('*') };
    const fields: string[] = [];
    if (filter.allowCredentials) fields.push('access-control-allow-credentials', 'true');
    if (filter.allowMethods.length > 0) fields.push('access-control-allow-methods', filter.allowMethods.join(', '));
    if (filter.allowHeaders.length > 0) fields.push('access-control-allow-headers', filter.allowHeaders.join(', '));
    if (filter.exposeHeaders.length > 0) fields.push('access-control-expose-headers', filter.exposeHeaders.join(', '));
    if (filter.maxAgeSeconds !== undefined) fields.push('access-control-max-age', String(filter.maxAgeSeconds));
    this.fields = fields;
    const names = new Set([ALLOW_ORIGIN]);
    const preflight: Record<string, string> = {};
    for (let i = 0; i < fields.length; i += 2) {
      names.add(fields[i]!);
      preflight[fields[i]!] = fields[i + 1]!;
    }
    this.names = names;
    this.preflight = preflight;
  }
}

/**
 * The request side of CORS: notes the Allow-Origin value of an allowed request on it, and answers
 * the preflight of one with 204. A request whose Origin is not allowed, or that has none (unless
 * every origin is), goes on untouched: ingress-nginx too only leaves the fields out, and the
 * browser refuses what it must.
 */
export class CorsStep implements RequestStep {
  readonly #policy: CorsPolicy;

  constructor(policy: CorsPolicy) {
    this.#policy = policy;
  }

  run(r: LifecycleRequest): boolean {
    const { test, preflight, echo } = this.#policy;
    const origin = r.req.headers.origin;
    if (test === null) r.corsOrigin = echo.origin && origin !== undefined ? origin : '*';
    else if (origin !== undefined && test(origin)) r.corsOrigin = origin;
    else {
      // The Gateway API answers every preflight itself: one from another origin gets no CORS field.
      if (this.#policy.answerEveryPreflight && r.req.method === 'OPTIONS' && origin !== undefined && r.req.headers['access-control-request-method'] !== undefined) {
        r.respond(204, {}, '', 'cors-preflight');
        return false;
      }
      return true;
    }
    // A preflight is an OPTIONS with Origin and Access-Control-Request-Method (Fetch, "CORS-preflight
    // request"); any other OPTIONS is the upstream's to answer.
    if (r.req.method !== 'OPTIONS' || origin === undefined || r.req.headers['access-control-request-method'] === undefined) return true;
    // No Content-Type or Content-Length: RFC 9110 §8.6 forbids the length on a 204, and nginx drops
    // both from a 204 although ingress-nginx's template sets them. Allow-Origin is given here for an
    // upgrade's answer, which has no response phase; for the others the response side sets it again.
    const fields: Record<string, string> = test === null && !echo.origin ? { [ALLOW_ORIGIN]: '*', ...preflight } : { [ALLOW_ORIGIN]: origin, ...preflight, vary: 'Origin' };
    const method = r.req.headers['access-control-request-method'];
    const headers = r.req.headers['access-control-request-headers'];
    if (echo.methods && typeof method === 'string') fields['access-control-allow-methods'] = method;
    if (echo.headers && typeof headers === 'string') fields['access-control-allow-headers'] = headers;
    r.respond(204, fields, '', 'cors-preflight');
    return false;
  }
}

/**
 * The response side of CORS: on the response of a request its request side allowed, sets the
 * fields (replacing the upstream's own of those names) and, where the origin is echoed, adds
 * `Origin` to `Vary` so that a cache keeps one answer per origin.
 */
export class CorsResponseStep implements ResponseStep {
  readonly #policy: CorsPolicy;

  constructor(policy: CorsPolicy) {
    this.#policy = policy;
  }

  run(r: LifecycleRequest, head: ResponseHead): null {
    const origin = r.corsOrigin;
    if (origin === null) return null;
    const { fields, names, test, echo } = this.#policy;
    const headers = head.headers;
    dropFields(headers, names);
    headers.push(ALLOW_ORIGIN, origin);
    for (let i = 0; i < fields.length; i += 2) headers.push(fields[i]!, echoed(r, fields[i]!, fields[i + 1]!, echo));
    if ((test !== null || origin !== '*') && !variesByOrigin(headers)) headers.push('vary', 'Origin');
    return null;
  }
}

/** The value of CORS field `name` for `r`: the request's own method or headers where `*` is echoed. */
function echoed(r: LifecycleRequest, name: string, value: string, echo: CorsPolicy['echo']): string {
  if (value !== '*') return value;
  const asked = name === 'access-control-allow-methods' && echo.methods ? r.req.headers['access-control-request-method'] : name === 'access-control-allow-headers' && echo.headers ? r.req.headers['access-control-request-headers'] : undefined;
  return typeof asked === 'string' && asked !== '' ? asked : value;
}

/** Whether a `Vary` field of `headers` already names Origin (or is `*`, which covers it). */
function variesByOrigin(headers: readonly string[]): boolean {
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i]!.toLowerCase() !== 'vary') continue;
    for (const part of headers[i + 1]!.split(',')) {
      const token = part.trim().toLowerCase();
      if (token === 'origin' || token === '*') return true;
    }
  }
  return false;
}
