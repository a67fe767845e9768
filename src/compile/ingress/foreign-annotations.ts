/**
 * The `signalbox.dev/*` annotations of an Ingress: signalbox reads only `signalbox.dev/ssl-passthrough`
 * there (its other policy annotations belong on the Service, see shared/annotations.ts), so the
 * others are warned about rather than silently ignored. ingress-nginx's annotations are read by
 * ingress-nginx/ingress-annotations.ts.
 */
import type { DiagnosticSink } from '../shared/diagnostics.ts';
import { field, isRecord, type Dict } from '../shared/guards.ts';
import type { ObjectIdentity } from '../shared/objects.ts';
import { SSL_PASSTHROUGH_ANNOTATION } from '../streams/passthrough.ts';

/**
 * Warns about `signalbox.dev/*` annotations on an Ingress, which configure nothing there. Nothing
 * else about the Ingress changes; the warning only says why the setting has no effect.
 */
export function reportForeignAnnotations(id: ObjectIdentity, obj: Dict, sink: DiagnosticSink): void {
  const annotations = field(field(obj, 'metadata'), 'annotations');
  if (!isRecord(annotations)) return;
  for (const name of Object.keys(annotations).sort()) {
    // The one signalbox annotation an Ingress takes: passthrough is about its hosts, not a Service.
    if (name === SSL_PASSTHROUGH_ANNOTATION) continue;
    if (name.startsWith('signalbox.dev/')) {
      sink.report(id, 'AnnotationIgnored', 'warning', `${name} has no effect on an Ingress: signalbox reads its policy annotations from the Service the Ingress routes to (docs/annotations.md); it is ignored`, `${id.provenance}/annotations/${name}`);
    }
  }
}
