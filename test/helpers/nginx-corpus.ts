/**
 * The ingress-nginx corpus (testdata/nginx-corpus/*.yaml) made servable: the Ingresses as written,
 * plus what a cluster would hold besides them — each Service a backend names, an EndpointSlice
 * per Service port pointing at a port the caller chooses (its upstream), and each TLS Secret.
 * `${port:NAMESPACE/SERVICE}` in a value (an auth-url) becomes the port of that Service's upstream.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadObjects } from '../compile/golden-files.ts';
import { tlsSecret } from './manifests.ts';

/** The corpus directory. */
export const CORPUS_DIR = join(import.meta.dirname, '../../testdata/nginx-corpus');

/** One Service port some Ingress names, `namespace/name:port` (a number or a port name). */
export interface CorpusBackend {
  readonly key: string;
  readonly namespace: string;
  readonly service: string;
  readonly port: number | string;
}

/** What a `proxy-ssl-secret` Secret holds: the upstreams' CA and a client certificate. */
export interface UpstreamTlsSecret {
  readonly caPem: string;
  readonly certPem: string;
  readonly keyPem: string;
}

/** An Ingress of the corpus as it was read. */
interface CorpusIngress {
  readonly kind: 'Ingress';
  readonly metadata: { readonly name: string; readonly namespace: string; readonly annotations?: Readonly<Record<string, string>> };
  readonly spec: {
    readonly defaultBackend?: CorpusServiceBackend;
    readonly tls?: readonly { readonly secretName?: string }[];
    readonly rules?: readonly { readonly http?: { readonly paths: readonly { readonly backend: CorpusServiceBackend }[] } }[];
  };
}

interface CorpusServiceBackend {
  readonly service: { readonly name: string; readonly port: { readonly number?: number; readonly name?: string } };
}

/** Every object of the corpus files, in file order (files sorted by name). */
export function corpusObjects(): Record<string, unknown>[] {
  return readdirSync(CORPUS_DIR)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .flatMap((f) => loadObjects(join(CORPUS_DIR, f)) as Record<string, unknown>[]);
}

/** `namespace/name` of every Ingress of the corpus. */
export function corpusIngressNames(objects: readonly Record<string, unknown>[] = corpusObjects()): string[] {
  return ingresses(objects).map((i) => `${i.metadata.namespace}/${i.metadata.name}`);
}

/** Every Service port the corpus's Ingresses name, each once, in the order first named. */
export function corpusBackends(objects: readonly Record<string, unknown>[] = corpusObjects()): CorpusBackend[] {
  const out = new Map<string, CorpusBackend>();
  for (const ing of ingresses(objects)) {
    const named = [...(ing.spec.rules ?? []).flatMap((rule) => (rule.http?.paths ?? []).map((p) => p.backend)), ...(ing.spec.defaultBackend === undefined ? [] : [ing.spec.defaultBackend])];
    for (const backend of named) {
      const { name, port } = backend.service;
      const portRef = port.number ?? port.name!;
      const key = `${ing.metadata.namespace}/${name}:${portRef}`;
      if (!out.has(key)) out.set(key, { key, namespace: ing.metadata.namespace, service: name, port: portRef });
    }
  }
  return [...out.values()];
}

/**
 * The manifests to serve: the corpus with its port placeholders filled in, a Service per named
 * Service the corpus does not write itself (its ports as the Ingresses name them), for each Service
 * port an EndpointSlice per port `upstreamPorts(backend)` gives (the first is its upstream; others
 * may be dead ones; none: a Service scaled to zero), each with the one endpoint 127.0.0.1, a
 * kubernetes.io/tls Secret (`certPem`, `keyPem`) per secretName, and per `proxy-ssl-secret` a
 * Secret as cert-manager issues them: the CA of the upstreams' certificates (`ca.crt`) and a client
 * certificate it signed (`tls.crt`, `tls.key`).
 */
export function corpusManifests(upstreamPorts: (backend: CorpusBackend) => number | readonly number[], certPem: string, keyPem: string, upstreamTls: UpstreamTlsSecret): object[] {
  const portsOf = (b: CorpusBackend): readonly number[] => {
    const ports = upstreamPorts(b);
    return typeof ports === 'number' ? [ports] : ports;
  };
  const upstreamPort = (b: CorpusBackend): number => {
    const port = portsOf(b)[0];
    if (port === undefined) throw new Error(`\${port:${b.namespace}/${b.service}} names a Service without endpoints`);
    return port;
  };
  const objects = corpusObjects();
  const backends = corpusBackends(objects);
  const byService = new Map<string, CorpusBackend[]>();
  for (const b of backends) byService.set(`${b.namespace}/${b.service}`, [...(byService.get(`${b.namespace}/${b.service}`) ?? []), b]);

  const fill = (value: unknown): unknown => {
    if (typeof value === 'string') {
      return value.replace(/\$\{port:([a-z0-9-]+\/[a-z0-9-]+)\}/g, (_m, service: string) => {
        const first = byService.get(service)?.[0];
        if (first === undefined) throw new Error(`\${port:${service}}: no Ingress of the corpus names that Service`);
        return String(upstreamPort(first));
      });
    }
    if (Array.isArray(value)) return value.map(fill);
    if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fill(v)]));
    return value;
  };

  const out: object[] = objects.map((o) => fill(o) as object);
  // A Service the corpus writes itself (an ExternalName one) is not generated.
  const written = new Set(objects.filter((o) => o['kind'] === 'Service').map((o) => {
    const meta = o['metadata'] as { namespace?: string; name?: string };
    return `${meta.namespace ?? 'default'}/${meta.name ?? ''}`;
  }));
  for (const [service, ports] of byService) {
    if (written.has(service)) continue;
    const [namespace, name] = service.split('/') as [string, string];
    const portOf = (b: CorpusBackend): { name: string; port: number } =>
      typeof b.port === 'number' ? { name: `p${b.port}`, port: b.port } : { name: b.port, port: b.port === 'https' ? 443 : b.port === 'http' ? 80 : 8080 };
    out.push({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace }, spec: { ports: ports.map((b) => ({ ...portOf(b), protocol: 'TCP' })) } });
    for (const b of ports) {
      portsOf(b).forEach((port, i) => out.push({
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: { name: `${name}-${portOf(b).name}-${i}`, namespace, labels: { 'kubernetes.io/service-name': name } },
        addressType: 'IPv4',
        ports: [{ name: portOf(b).name, port, protocol: 'TCP' }],
        endpoints: [{ addresses: ['127.0.0.1'], conditions: { ready: true, serving: true, terminating: false } }],
      }));
    }
  }
  const secrets = new Set<string>();
  for (const ing of ingresses(objects)) {
    for (const t of ing.spec.tls ?? []) if (t.secretName !== undefined) secrets.add(`${ing.metadata.namespace}/${t.secretName}`);
  }
  for (const s of secrets) {
    const [namespace, name] = s.split('/') as [string, string];
    out.push(tlsSecret(name, certPem, keyPem, namespace));
  }
  const cas = new Set(ingresses(objects).map((i) => i.metadata.annotations?.['nginx.ingress.kubernetes.io/proxy-ssl-secret']).filter((n) => n !== undefined));
  for (const ca of cas) {
    const [namespace, name] = ca.split('/') as [string, string];
    const base64 = (pem: string): string => Buffer.from(pem).toString('base64');
    out.push({ apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace }, type: 'kubernetes.io/tls', data: { 'ca.crt': base64(upstreamTls.caPem), 'tls.crt': base64(upstreamTls.certPem), 'tls.key': base64(upstreamTls.keyPem) } });
  }
  return out;
}

function ingresses(objects: readonly Record<string, unknown>[]): CorpusIngress[] {
  return objects.filter((o) => o['kind'] === 'Ingress') as unknown as CorpusIngress[];
}
