/**
 * ingress-nginx's `enable-cors` and its `cors-*` annotations, read into a {@link CorsFilter} with
 * ingress-nginx's defaults. Entries that are not valid are dropped with a diagnostic, as
 * ingress-nginx drops them; every value that reaches the filter is one the data plane can send.
 */
import type { CorsFilter } from '../../model/table.ts';
import { checkCors } from '../../model/check-cors.ts';
import type { DiagnosticSink } from '../shared/diagnostics.ts';
import type { ObjectIdentity } from '../shared/objects.ts';
import { NGINX_PREFIX } from './annotation-table.ts';
import type { Reader } from './ingress-annotations.ts';
import { parseBool, parseInteger, type Parsed } from './values.ts';

const DEFAULT_METHODS = 'GET, PUT, POST, DELETE, PATCH, OPTIONS';
const DEFAULT_HEADERS = 'DNT,Keep-Alive,User-Agent,X-Requested-With,If-Modified-Since,Cache-Control,Content-Type,Range,Authorization';
const DEFAULT_MAX_AGE = 1_728_000;
// A filter that passes every check, for testing one value at a time.
const BASE: CorsFilter = { type: 'CORS', allowOrigins: ['*'], allowMethods: [], allowHeaders: [], exposeHeaders: [], allowCredentials: true };

/** The CORS filter of an Ingress with `enable-cors: "true"`, else null. */
export function corsFilter(id: ObjectIdentity, read: Reader, sink: DiagnosticSink): CorsFilter | null {
  if (!read('enable-cors', parseBool, false)) return null;
  const list = (text: string): Parsed<string[]> => ({ ok: true, value: [...new Set(text.split(',').map((v) => v.trim()).filter((v) => v !== ''))] });
  const origins = read('cors-allow-origin', (t) => list(t.toLowerCase()), ['*']);
  const filter: CorsFilter = {
    type: 'CORS',
    allowOrigins: origins.includes('*') ? ['*'] : origins.map((o) => o.replace(/\/+$/, '')),
    allowMethods: read('cors-allow-methods', (t) => list(t.toUpperCase()), DEFAULT_METHODS.split(',').map((m) => m.trim())),
    allowHeaders: read('cors-allow-headers', list, DEFAULT_HEADERS.split(',')),
    exposeHeaders: read('cors-expose-headers', list, []),
    allowCredentials: read('cors-allow-credentials', parseBool, true),
    maxAgeSeconds: read('cors-max-age', (t) => parseInteger(t, 0, 2_147_483_647), DEFAULT_MAX_AGE),
  };
  // Drop what the data plane could not send, naming it; no origin left means no CORS at all.
  const messages: string[] = [];
  const valid = (probe: Partial<CorsFilter>): boolean => {
    let ok = true;
    checkCors('', { ...BASE, ...probe }, id.provenance, (_at, _p, message) => {
      ok = false;
      messages.push(message);
    });
    return ok;
  };
  const cleaned: CorsFilter = {
    ...filter,
    allowOrigins: filter.allowOrigins.filter((o) => valid({ allowOrigins: [o] })),
    allowMethods: filter.allowMethods.filter((m) => valid({ allowMethods: [m] })),
    allowHeaders: filter.allowHeaders.filter((h) => valid({ allowHeaders: [h] })),
    exposeHeaders: filter.exposeHeaders.filter((h) => valid({ exposeHeaders: [h] })),
  };
  if (messages.length > 0) {
    sink.report(id, 'AnnotationInvalid', 'error', `${NGINX_PREFIX}enable-cors: ${messages.join('; ')}; those values are left out`, `${id.provenance}/annotations/${NGINX_PREFIX}enable-cors`);
  }
  return cleaned.allowOrigins.length === 0 ? null : cleaned;
}
