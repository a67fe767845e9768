/**
 * The annotations of an Ingress: signalbox reads only `signalbox.dev/ssl-passthrough` (its other
 * `signalbox.dev/*` policy annotations belong on the Service, see shared/annotations.ts), so the ones that look like settings are
 * warned about rather than silently ignored.
 */
import type { DiagnosticSink } from '../shared/diagnostics.ts';
import { field, isRecord, type Dict } from '../shared/guards.ts';
import type { ObjectIdentity } from '../shared/objects.ts';
import { SSL_PASSTHROUGH_ANNOTATION } from '../streams/passthrough.ts';

/** The prefix of ingress-nginx's annotations, which people bring along when they migrate. */
const NGINX_PREFIX = 'nginx.ingress.kubernetes.io/';

/**
 * Warns about annotations on an Ingress that look like they configure something but do not:
 * signalbox's own (`signalbox.dev/*` belong on the Service) and ingress-nginx's (not read at all).
 * Nothing else about the Ingress changes; the warning only says why the setting has no effect.
 */
export function reportForeignAnnotations(id: ObjectIdentity, obj: Dict, sink: DiagnosticSink): void {
  const annotations = field(field(obj, 'metadata'), 'annotations');
  if (!isRecord(annotations)) return;
  const nginx: string[] = [];
  for (const name of Object.keys(annotations).sort()) {
    // The one signalbox annotation an Ingress takes: passthrough is about its hosts, not a Service.
    if (name === SSL_PASSTHROUGH_ANNOTATION) continue;
    if (name.startsWith('signalbox.dev/')) {
      sink.report(id, 'AnnotationIgnored', 'warning', `${name} has no effect on an Ingress: signalbox reads its policy annotations from the Service the Ingress routes to (docs/annotations.md); it is ignored`, `${id.provenance}/annotations/${name}`);
    } else if (name.startsWith(NGINX_PREFIX)) {
      nginx.push(name.slice(NGINX_PREFIX.length));
    }
  }
  if (nginx.length > 0) {
    sink.report(id, 'AnnotationIgnored', 'warning', `ingress-nginx annotations are not read by signalbox (${nginx.join(', ')}); docs/migrating-from-ingress-nginx.md says what replaces each`, `${id.provenance}/annotations/${NGINX_PREFIX}${nginx[0]}`);
  }
}
