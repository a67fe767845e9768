/**
 * TLS passthrough for Ingresses, as ingress-nginx's `ssl-passthrough`: with the annotation
 * `signalbox.dev/ssl-passthrough: "true"`, TLS connections to the data plane's HTTPS port whose SNI
 * name is one of the Ingress's hosts go, without being decrypted, to the backend of that host's
 * `/` path (pathType Prefix or ImplementationSpecific, path `/`; the first such path of the host in
 * the Ingress). The Ingress's other paths of that host then serve only plain HTTP: on HTTPS the
 * connection never reaches an HTTP router. Its `spec.tls` certificates are still loaded, and
 * serve no passed-through name. The oldest Ingress passing a host through wins it.
 */
import type { Listener } from '../../model/table.ts';
import type { RankedOwner } from '../shared/candidates.ts';
import type { DiagnosticSink } from '../shared/diagnostics.ts';
import { field, isRecord, type Dict } from '../shared/guards.ts';
import type { IngressPath } from '../ingress/ingress.ts';
import type { StreamCandidate } from './stream-candidates.ts';

/** The Ingress annotation that passes its hosts' TLS connections through. */
export const SSL_PASSTHROUGH_ANNOTATION = 'signalbox.dev/ssl-passthrough';

/** ingress-nginx's name for it. */
export const NGINX_SSL_PASSTHROUGH = 'nginx.ingress.kubernetes.io/ssl-passthrough';

/** A Go `strconv.ParseBool` value as `"true"`/`"false"`, or the text unchanged. */
function goBool(text: string): string {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(text)) return 'true';
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(text)) return 'false';
  return text;
}

/** The listener of passthrough on the HTTPS port: SNI names no passthrough route takes terminate there. */
export const PASSTHROUGH_LISTENER: Listener = Object.freeze({
  name: 'tls-passthrough',
  protocol: 'TLS',
  port: null,
  hostname: null,
  tls: null,
  defaultRoute: false,
  provenance: 'Listener/tls-passthrough',
});

/**
 * The passthrough candidates of one Ingress (none without the annotation), one per host. `taken`
 * holds the hosts older Ingresses already pass through, and gains this one's.
 */
export function passthroughCandidates(owner: RankedOwner, obj: Dict, paths: readonly IngressPath[], taken: Map<string, string>, sink: DiagnosticSink): StreamCandidate[] {
  const annotations = field(field(obj, 'metadata'), 'annotations');
  // ingress-nginx's annotation means the same (without its --enable-ssl-passthrough: whoever annotates wants it).
  const name = isRecord(annotations) && annotations[SSL_PASSTHROUGH_ANNOTATION] === undefined && annotations[NGINX_SSL_PASSTHROUGH] !== undefined ? NGINX_SSL_PASSTHROUGH : SSL_PASSTHROUGH_ANNOTATION;
  const raw = isRecord(annotations) ? annotations[name] : undefined;
  if (raw === undefined) return [];
  const at = `${owner.id.provenance}/annotations/${name}`;
  const value = name === NGINX_SSL_PASSTHROUGH && typeof raw === 'string' ? goBool(raw) : raw;
  if (value !== 'true' && value !== 'false') {
    sink.report(owner.id, 'AnnotationInvalid', 'error', `${name} is ${JSON.stringify(raw)}, not "true" or "false"; TLS is terminated as usual`, at);
    return [];
  }
  if (value === 'false') return [];
  const hosts = new Map<string, IngressPath | null>();
  for (const path of paths) {
    if (path.host.match === 'any') {
      sink.report(owner.id, 'PassthroughHostInvalid', 'error', 'a rule without host cannot be passed through (the SNI name chooses the backend); its paths serve HTTP and HTTPS as usual', path.ruleProvenance);
      continue;
    }
    const root = path.pathType === 'Prefix' && path.path === '/';
    if (!hosts.has(path.host.host) || (hosts.get(path.host.host) === null && root)) hosts.set(path.host.host, root ? path : null);
  }
  const out: StreamCandidate[] = [];
  for (const [host, path] of hosts) {
    if (path === null) {
      sink.report(owner.id, 'PassthroughNoRootPath', 'error', `host ${host} has no Prefix / path, whose backend passthrough would use; its TLS is terminated as usual`, at);
      continue;
    }
    const holder = taken.get(host);
    if (holder !== undefined) {
      sink.report(owner.id, 'PassthroughConflict', 'error', `host ${host} is already passed through by ${holder}; not by this Ingress`, path.provenance);
      continue;
    }
    taken.set(host, owner.id.provenance);
    out.push({
      owner,
      listener: PASSTHROUGH_LISTENER,
      hostnames: [host],
      service: { namespace: owner.id.namespace, ...path.ref },
      sendProxyProtocol: false,
      provenance: path.provenance,
    });
  }
  return out;
}
