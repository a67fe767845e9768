/**
 * ingress-nginx's `custom-headers` annotation: `namespace/name` of a ConfigMap (the Ingress's
 * namespace only) whose entries are set on the Ingress's responses, as `more_set_headers` does.
 * Since v1.12 every header must be listed in the controller ConfigMap's
 * `global-allowed-response-headers`; ingress-nginx denies the Ingress's locations otherwise (and
 * when the ConfigMap is missing), so such an Ingress is refused here: never served without the
 * headers it asked for, nor with ones the operator did not allow.
 */
import type { DiagnosticSink } from '../shared/diagnostics.ts';
import type { Identified, ObjectIdentity } from '../shared/objects.ts';
import { NGINX_PREFIX } from './annotation-table.ts';
import { annotatedHeaderConfigMap, headerEntries } from './header-fields.ts';
import type { HeaderField } from './settings.ts';

/** What `custom-headers` gives: its fields, none without the annotation, or `refused` (reported). */
export function customHeaders(id: ObjectIdentity, raw: ReadonlyMap<string, string>, allowed: readonly string[], configMaps: ReadonlyMap<string, Identified>, sink: DiagnosticSink): HeaderField[] | 'refused' {
  const text = raw.get('custom-headers')?.trim();
  if (text === undefined) return [];
  const at = `${id.provenance}/annotations/${NGINX_PREFIX}custom-headers`;
  const refuse = (why: string): 'refused' => {
    sink.report(id, 'AnnotationInvalid', 'error', `${NGINX_PREFIX}custom-headers: ${why}; nothing of the Ingress is served (ingress-nginx denies its locations)`, at);
    return 'refused';
  };
  const named = annotatedHeaderConfigMap(text, id.namespace, configMaps);
  if ('problem' in named) return refuse(named.problem);
  const out: HeaderField[] = [];
  for (const entry of headerEntries(named.source)) {
    if (entry.problem !== null) return refuse(`${entry.name} in ConfigMap ${named.label} ${entry.problem}`);
    if (!allowed.includes(entry.name)) return refuse(`header ${entry.name} is not in the controller ConfigMap's global-allowed-response-headers`);
    out.push(entry.field);
  }
  return out;
}
