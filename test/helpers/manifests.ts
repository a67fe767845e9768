/**
 * Tiny builders for the Kubernetes objects the data-plane tests write into a manifest directory.
 * Each returns a plain object; `writeManifests` turns a list of them into a YAML file.
 */
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import YAML from 'yaml';

/** Our IngressClass, marked default. */
export function ingressClass(): object {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'IngressClass',
    metadata: { name: 'signalbox', annotations: { 'ingressclass.kubernetes.io/is-default-class': 'true' } },
    spec: { controller: 'signalbox.dev/ingress-controller' },
  };
}

/** An endpoint for {@link serviceWithEndpoints}. */
export interface TestEndpoint {
  readonly port: number;
  readonly address?: string;
  readonly ready?: boolean;
  readonly serving?: boolean;
  readonly terminating?: boolean;
  /** Set as the slice's `signalbox.dev/weight` annotation. */
  readonly weight?: number;
}

/** A Service with one port `http` (80), `annotations`, and EndpointSlices listing `endpoints`. */
export function serviceWithEndpoints(name: string, endpoints: readonly TestEndpoint[], namespace = 'default', annotations: Record<string, string> = {}): object[] {
  // An EndpointSlice has one port list for all endpoints; tests that need several ports per service
  // use one slice per endpoint, which Kubernetes also allows.
  const slices = endpoints.map((ep, i) => ({
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: `${name}-${i}`,
      namespace,
      labels: { 'kubernetes.io/service-name': name },
      ...(ep.weight === undefined ? {} : { annotations: { 'signalbox.dev/weight': String(ep.weight) } }),
    },
    addressType: (ep.address ?? '127.0.0.1').includes(':') ? 'IPv6' : 'IPv4',
    ports: [{ name: 'http', port: ep.port, protocol: 'TCP' }],
    endpoints: [{
      addresses: [ep.address ?? '127.0.0.1'],
      conditions: { ready: ep.ready ?? true, serving: ep.serving ?? ep.ready ?? true, terminating: ep.terminating ?? false },
    }],
  }));
  return [
    { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace, annotations }, spec: { ports: [{ name: 'http', port: 80 }] } },
    ...slices,
  ];
}

/** One path of {@link ingress}. */
export interface TestPath {
  readonly path: string;
  readonly service: string;
  readonly pathType?: 'Exact' | 'Prefix' | 'ImplementationSpecific';
}

/** An Ingress with one rule for `host` (null: no host) and the given paths, all to port 80. */
export function ingress(name: string, host: string | null, paths: readonly TestPath[], extra: { tls?: { hosts: string[]; secretName: string }[]; defaultBackend?: string; namespace?: string } = {}): object {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name, namespace: extra.namespace ?? 'default' },
    spec: {
      ...(extra.defaultBackend ? { defaultBackend: { service: { name: extra.defaultBackend, port: { number: 80 } } } } : {}),
      ...(extra.tls ? { tls: extra.tls } : {}),
      rules: [{
        ...(host === null ? {} : { host }),
        http: {
          paths: paths.map((p) => ({ path: p.path, pathType: p.pathType ?? 'Prefix', backend: { service: { name: p.service, port: { number: 80 } } } })),
        },
      }],
    },
  };
}

/** A kubernetes.io/tls Secret. */
export function tlsSecret(name: string, certPem: string, keyPem: string, namespace = 'default'): object {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace },
    type: 'kubernetes.io/tls',
    data: { 'tls.crt': Buffer.from(certPem).toString('base64'), 'tls.key': Buffer.from(keyPem).toString('base64') },
  };
}

/** A fresh temporary manifest directory; remove it with `rm(dir, {recursive: true})`. */
export function tempManifestDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'signalbox-test-'));
}

/** Writes `objects` as one multi-document YAML file, atomically (write + rename, as editors do). */
export async function writeManifests(dir: string, file: string, objects: readonly object[]): Promise<void> {
  const text = objects.map((o) => YAML.stringify(o)).join('---\n');
  const tmp = join(dir, `.${file}.tmp`);
  await writeFile(tmp, text);
  await rename(tmp, join(dir, file));
}

/** Removes a directory tree, ignoring errors. */
export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

/** A RouteScript in `namespace` (default `default`) with `spec` as given. */
export function routeScript(name: string, spec: Record<string, unknown>, namespace = 'default'): object {
  return { apiVersion: 'signalbox.dev/v1alpha1', kind: 'RouteScript', metadata: { name, namespace }, spec };
}

/** An Ingress of class `nginx` routing `host`'s `/` (Prefix) to Service `service` port 80, with `nginx.ingress.kubernetes.io/` annotations. */
export function nginxIngress(name: string, host: string, service: string, annotations: Record<string, string>, created: string): object {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name, namespace: 'default', creationTimestamp: created, annotations: Object.fromEntries(Object.entries(annotations).map(([k, v]) => [`nginx.ingress.kubernetes.io/${k}`, v])) },
    spec: { ingressClassName: 'nginx', rules: [{ host, http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: service, port: { number: 80 } } } }] } }] },
  };
}

/** The GatewayClass `signalbox`, of signalbox's default Gateway controller name. */
export const GATEWAY_CLASS: object = Object.freeze({ apiVersion: 'gateway.networking.k8s.io/v1', kind: 'GatewayClass', metadata: { name: 'signalbox' }, spec: { controllerName: 'signalbox.dev/gateway-controller' } });

/** A Gateway of class `signalbox` with one HTTP listener, `http`, on `port`. */
export function httpGateway(name: string, namespace: string, port: number): object {
  return { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', metadata: { name, namespace }, spec: { gatewayClassName: 'signalbox', listeners: [{ name: 'http', port, protocol: 'HTTP' }] } };
}

/** An HTTPRoute of `namespace` attached to the Gateway `parent` (same namespace), for `hostnames`. */
export function httpRoute(name: string, namespace: string, parent: string, hostnames: readonly string[], rules: readonly object[]): object {
  return { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name, namespace }, spec: { parentRefs: [{ name: parent }], hostnames, rules } };
}
