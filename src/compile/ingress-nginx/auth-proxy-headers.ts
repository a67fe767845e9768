/**
 * ingress-nginx's `auth-proxy-set-headers`: `namespace/name` of a ConfigMap (the Ingress's
 * namespace only) whose entries are set on the subrequest to the `auth-url` service, as the auth
 * location's `proxy_set_header` lines. ingress-nginx denies the Ingress's locations when the
 * ConfigMap is missing, elsewhere or holds a name that is no header's; signalbox refuses such an
 * Ingress the same way — never asking the service without the fields it expects (an API key, a
 * tenant) — and refuses a value with an nginx variable, which it does not expand.
 */
import type { DiagnosticSink } from '../shared/diagnostics.ts';
import type { Identified, ObjectIdentity } from '../shared/objects.ts';
import { NGINX_PREFIX } from './annotation-table.ts';
import { annotatedHeaderConfigMap, headerEntries } from './header-fields.ts';
import type { HeaderField } from './settings.ts';

/** Fields the subrequest sets itself beyond those headerEntries refuses. */
const SUBREQUEST_OWN = new Set(['expect']);

/** The fields of `auth-proxy-set-headers`, none without it, or `refused` (reported). */
export function authProxyHeaders(id: ObjectIdentity, raw: ReadonlyMap<string, string>, configMaps: ReadonlyMap<string, Identified>, sink: DiagnosticSink): HeaderField[] | 'refused' {
  const text = raw.get('auth-proxy-set-headers')?.trim();
  if (text === undefined || text === '') return [];
  const refuse = (why: string): 'refused' => {
    sink.report(id, 'AnnotationInvalid', 'error', `${NGINX_PREFIX}auth-proxy-set-headers: ${why}; nothing of the Ingress is served rather than asking its auth service without them (ingress-nginx denies its locations)`, `${id.provenance}/annotations/${NGINX_PREFIX}auth-proxy-set-headers`);
    return 'refused';
  };
  const named = annotatedHeaderConfigMap(text, id.namespace, configMaps);
  if ('problem' in named) return refuse(named.problem);
  const out: HeaderField[] = [];
  for (const entry of headerEntries(named.source)) {
    if (entry.problem !== null) return refuse(`${entry.name} in ConfigMap ${named.label} ${entry.problem}`);
    if (SUBREQUEST_OWN.has(entry.field.name)) return refuse(`${entry.name} in ConfigMap ${named.label} is a field the subrequest sets itself`);
    out.push(entry.field);
  }
  return out;
}
