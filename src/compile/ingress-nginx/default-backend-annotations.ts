/**
 * ingress-nginx's `default-backend` and `custom-http-errors` annotations (and the ConfigMap's
 * `custom-http-errors`), read into what the translation turns into DefaultBackend filters
 * (ingress-routes.ts):
 * - `default-backend: <Service>` names a Service of the Ingress's namespace, taken at its first
 *   port (as ingress-nginx does). It takes the requests of paths whose Service has no endpoint, and
 *   serves the Ingress's `custom-http-errors`. A Service that does not exist, or has no port, is
 *   `DefaultBackendNotFound` and the Ingress is served without it (ingress-nginx ignores the
 *   annotation then).
 * - `custom-http-errors: "404,503"`: statuses 400..599; anything else is `AnnotationInvalid` and
 *   the annotation is ignored. Without `default-backend`, the codes go to the global default
 *   backend (`--default-backend-service`), like the ConfigMap's.
 * - `disable-proxy-intercept-errors: "true"`: the Ingress's codes replace signalbox's own answers
 *   only; the upstream's pass as they are (nginx's `proxy_intercept_errors` stays off).
 */
import type { DiagnosticSink } from '../shared/diagnostics.ts';
import { field, isRecord } from '../shared/guards.ts';
import type { Identified, ObjectIdentity } from '../shared/objects.ts';
import { NGINX_PREFIX } from './annotation-table.ts';
import type { Reader } from './ingress-annotations.ts';
import { parseBool, type Parsed } from './values.ts';

/** A Service port as a DefaultBackend filter names it (in the Ingress's namespace, or the flag's). */
export interface DefaultBackendService {
  readonly namespace: string;
  readonly service: string;
  readonly port: number;
}

/** What one Ingress asks of error pages and default backends. */
export interface NginxErrorPages {
  /** `default-backend`, resolved; null without it (or when its Service cannot be used: reported). */
  readonly backend: DefaultBackendService | null;
  /** `custom-http-errors` of the Ingress, ascending; null: not set (the ConfigMap's apply). */
  readonly codes: readonly number[] | null;
  /** `disable-proxy-intercept-errors`: the Ingress's codes replace signalbox's own answers only, not the upstream's. */
  readonly ownErrorsOnly: boolean;
}

/**
 * Reads both annotations of an Ingress. `services` are the snapshot's, by `namespace/name`.
 */
export function errorPagesOf(id: ObjectIdentity, raw: ReadonlyMap<string, string>, read: Reader, services: ReadonlyMap<string, Identified>, sink: DiagnosticSink): NginxErrorPages {
  const codes = raw.has('custom-http-errors') ? read<readonly number[] | null>('custom-http-errors', parseErrorCodes, null) : null;
  const ownErrorsOnly = read('disable-proxy-intercept-errors', parseBool, false);
  const name = raw.get('default-backend')?.trim();
  if (name === undefined) return { backend: null, codes, ownErrorsOnly };
  const at = `${id.provenance}/annotations/${NGINX_PREFIX}default-backend`;
  const backend = servicePort(id.namespace, name, services);
  if (typeof backend === 'string') {
    sink.report(id, 'DefaultBackendNotFound', 'error', `${NGINX_PREFIX}default-backend: ${backend}; the Ingress is served without it (no error pages from it, and no fallback for paths without endpoints)`, at);
    return { backend: null, codes, ownErrorsOnly };
  }
  return { backend, codes, ownErrorsOnly };
}

/**
 * The first port of Service `namespace/name` (ingress-nginx takes `spec.ports[0]`), or why there
 * is none.
 */
export function servicePort(namespace: string, name: string, services: ReadonlyMap<string, Identified>): DefaultBackendService | string {
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(name) || name.length > 63) return `${JSON.stringify(name)} is not a Service name`;
  const service = services.get(`${namespace}/${name}`);
  if (service === undefined) return `Service ${namespace}/${name} does not exist`;
  const ports = field(field(service.obj, 'spec'), 'ports');
  const first: unknown = Array.isArray(ports) ? ports[0] : undefined;
  const port = isRecord(first) ? first['port'] : undefined;
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) return `Service ${namespace}/${name} has no port`;
  return { namespace, service: name, port };
}

/**
 * A list of error statuses, comma-separated (`404,503`, `404, 503`): each 400..599, duplicates
 * dropped, ascending. An empty list is no list.
 */
export function parseErrorCodes(text: string): Parsed<readonly number[]> {
  const codes = new Set<number>();
  for (const part of text.split(',')) {
    const t = part.trim();
    if (t === '') continue;
    if (!/^\d{3}$/.test(t) || Number(t) < 400 || Number(t) > 599) return { ok: false, message: `${JSON.stringify(t)} is not an error status from 400 to 599` };
    codes.add(Number(t));
  }
  if (codes.size === 0) return { ok: false, message: 'the list holds no status' };
  return { ok: true, value: [...codes].sort((a, b) => a - b) };
}
