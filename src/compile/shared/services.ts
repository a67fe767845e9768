/**
 * The Service processor: resolving an Ingress backend (`service.name` + port number or name) to a
 * port of a Service in the Ingress's namespace.
 *
 * A Service port is what a cluster stands for, so resolution must never let two different Service
 * ports pass for one: a port number in a backend always means `spec.ports[].port` (never a target
 * or container port), only TCP ports can be proxied (a Service may use one number twice, for TCP
 * and UDP — the usual DNS Service — and the number then means the TCP one), and a hand-written
 * Service that repeats a port name, or a port number and protocol, keeps only the first such
 * entry (the API server refuses the repeat).
 *
 * A Service's `signalbox.dev/*` annotations are compiled here too (service-policy.ts), once per
 * Service that a route references, and carried by every resolved reference to it.
 */
import type { ServiceRef } from './candidates.ts';
import type { Identified } from './objects.ts';
import { guarded, type DiagnosticSink } from './diagnostics.ts';
import { field, isPortNumber, isRecord, isUnset } from './guards.ts';
import { DEFAULT_SERVICE_POLICY, parseServicePolicy, type ServicePolicy } from './service-policy.ts';
import { NO_CA_SOURCES, isTlsProtocol, protocolOfAppProtocol, resolveBackendTls, withProtocol, type CaSources } from './backend-protocol.ts';
import { DEFAULT_BACKEND_TLS, type BackendProtocol } from '../../model/policy.ts';

/** The only protocol an HTTP proxy can dial; a Service port without `protocol` is TCP. */
const TCP = 'TCP';

/** Why a reference cannot be used: reported on every route that uses it. */
export interface PortProblem {
  readonly code: 'ServiceNotFound' | 'ServicePortNotFound' | 'ServicePortProtocolUnsupported' | 'ServiceTypeUnsupported' | 'ServiceInvalid';
  readonly message: string;
}

/** What a backend reference resolved to. */
export interface ResolvedPort {
  /** `spec.ports[].port`, or null when the Service or the port could not be used. */
  readonly servicePort: number | null;
  /** `spec.ports[].name` ('' when unnamed); the referenced name when unresolved by name. */
  readonly portName: string;
  /**
   * True when the reference names a TCP port (UDP for a UDP reference) of a usable Service, so endpoints should be looked
   * up; exactly when `servicePort` is not null.
   */
  readonly resolved: boolean;
  /** Why the reference is unusable; null exactly when `resolved`. */
  readonly problem: PortProblem | null;
  /** The Service's policy when `resolved`; {@link DEFAULT_SERVICE_POLICY} otherwise. */
  readonly policy: ServicePolicy;
}

interface PortEntry {
  readonly port: number;
  readonly name: string;
  /** `spec.ports[].protocol`, `TCP` when unset. */
  readonly protocol: string;
  /** `spec.ports[].appProtocol`, '' when unset. */
  readonly appProtocol: string;
}

/** A Service as backends see it: its ports and policy, or why none of its ports can be used. */
type ServicePorts =
  | { readonly ports: readonly PortEntry[]; readonly repeats: readonly PortEntry[]; readonly policyOf: ReadonlyMap<PortEntry, ServicePolicy> }
  | { readonly problem: PortProblem };

/** What a Service that throws when read (see `guarded`) is taken for. */
const UNREADABLE: ServicePorts = {
  problem: { code: 'ServiceInvalid', message: 'the Service could not be read; requests get 503' },
};

/**
 * Resolves backends against the Services (indexed by `namespace/name`). Each Service is read once
 * per compile, so every reference to it sees the same ports and policy, a Service that throws when
 * read is reported once (`ObjectInvalid`) and makes every reference to it unresolved, and the
 * problems of its annotations are reported once. The annotations of a Service that cannot be used
 * at all (missing, ExternalName, unreadable) are not read; those of a Service whose referenced port
 * is missing are, since fixing the port will put them to use.
 */
export class ServiceResolver {
  readonly #services: ReadonlyMap<string, Identified>;
  readonly #sink: DiagnosticSink;
  readonly #read = new Map<string, ServicePorts>();
  readonly #ca: CaSources;

  /** `ca` holds the Secrets and ConfigMaps that `signalbox.dev/backend-tls-ca` may name. */
  constructor(services: ReadonlyMap<string, Identified>, sink: DiagnosticSink, ca: CaSources = NO_CA_SOURCES) {
    this.#services = services;
    this.#sink = sink;
    this.#ca = ca;
  }

  /** The Secrets and ConfigMaps CA bundles and client certificates are read from (routes' overrides too). */
  get caSources(): CaSources {
    return this.#ca;
  }

  /**
   * Resolves a backend of an Ingress in `namespace`. A missing Service or port, a non-TCP port or
   * an ExternalName Service yields a problem but still a result: the route stays in the table,
   * pointing at a cluster without endpoints, so the data plane answers 503 until the Service is
   * fixed — rather than letting another route or the default backend take over the traffic
   * silently.
   */
  resolve(namespace: string, ref: ServiceRef): ResolvedPort {
    const key = `${namespace}/${ref.service}`;
    let ports = this.#read.get(key);
    if (ports === undefined) {
      const subject = { kind: 'Service', namespace, name: ref.service };
      ports = guarded(this.#sink, subject, UNREADABLE, () => readService(key, namespace, this.#services.get(key), this.#ca, this.#sink));
      this.#read.set(key, ports);
    }
    return matchPort(key, ports, ref);
  }
}

function readService(svcName: string, namespace: string, service: Identified | undefined, ca: CaSources, sink: DiagnosticSink): ServicePorts {
  if (service === undefined) {
    return { problem: { code: 'ServiceNotFound', message: `Service ${svcName} not found; requests get 503 until it exists` } };
  }
  const spec = field(service.obj, 'spec');
  if (field(spec, 'type') === 'ExternalName') {
    return { problem: { code: 'ServiceTypeUnsupported', message: `Service ${svcName} is of type ExternalName, which is not supported; requests get 503` } };
  }
  const policy = guarded(sink, service.id, DEFAULT_SERVICE_POLICY, () => parseServicePolicy(service, sink));
  const { ports, repeats } = readPorts(field(spec, 'ports'));
  return { ports, repeats, policyOf: portPolicies(service, namespace, ports, policy, ca, sink) };
}

/**
 * The policy of each port: the Service's, with the protocol its annotation or the port's
 * `appProtocol` names. The CA is read once per Service, and only when a port runs over TLS.
 */
function portPolicies(service: Identified, namespace: string, ports: readonly PortEntry[], policy: ServicePolicy, ca: CaSources, sink: DiagnosticSink): Map<PortEntry, ServicePolicy> {
  const protocols = new Map<PortEntry, BackendProtocol>();
  for (const port of ports) {
    let protocol = policy.backend.protocol;
    if (protocol === null && port.appProtocol !== '') {
      protocol = protocolOfAppProtocol(port.appProtocol) ?? null;
      if (protocol === null) {
        const name = port.name === '' ? String(port.port) : port.name;
        sink.report(service.id, 'ServiceAppProtocolUnknown', 'warning', `Service port ${name} has appProtocol ${JSON.stringify(port.appProtocol)}, which signalbox does not know; it is proxied as HTTP/1.1`, `${service.id.provenance}/spec/ports/${name}/appProtocol`);
      }
    }
    protocols.set(port, protocol ?? 'http1');
  }
  const overTls = [...protocols.values()].some(isTlsProtocol);
  const tls = overTls ? resolveBackendTls(service, namespace, policy.backend, ca, sink) : null;
  if (!overTls) warnUnusedTls(service, policy, sink);
  const out = new Map<PortEntry, ServicePolicy>();
  for (const [port, protocol] of protocols) {
    const cluster = withProtocol(policy.policy, protocol, tls ?? DEFAULT_BACKEND_TLS);
    out.set(port, cluster === policy.policy ? policy : { ...policy, policy: cluster });
  }
  return out;
}

/**
 * The TCP port that `ref` names: by number among the ports with that `port`, by name among all.
 * Numbers and names cannot be confused: a port name (IANA service name) always has a letter.
 */
function matchPort(svcName: string, service: ServicePorts, ref: ServiceRef): ResolvedPort {
  const unresolved = { servicePort: null, portName: typeof ref.port === 'string' ? ref.port : '', resolved: false, policy: DEFAULT_SERVICE_POLICY };
  if ('problem' in service) return { ...unresolved, problem: service.problem };
  const named = (p: PortEntry): boolean => (typeof ref.port === 'number' ? p.port === ref.port : p.name === ref.port);
  const matches = service.ports.filter(named);
  const wanted = ref.protocol ?? TCP;
  const found = matches.find((p) => p.protocol === wanted);
  if (found !== undefined) return { servicePort: found.port, portName: found.name, resolved: true, problem: null, policy: service.policyOf.get(found) ?? DEFAULT_SERVICE_POLICY };
  const shown = typeof ref.port === 'number' ? String(ref.port) : JSON.stringify(ref.port);
  if (matches.length > 0) {
    return {
      ...unresolved,
      problem: {
        code: 'ServicePortProtocolUnsupported',
        message: wanted === TCP
          ? `Service ${svcName} port ${shown} is ${matches.map(formatPort).join(', ')}: only TCP ports can be proxied; requests get 503`
          : `Service ${svcName} port ${shown} is ${matches.map(formatPort).join(', ')}: a UDP service needs a UDP port; its datagrams are dropped`,
      },
    };
  }
  const available = service.ports.length === 0 ? 'it has no valid ports' : `it has ${service.ports.map(formatPort).join(', ')}`;
  const repeated = service.repeats.some(named) ? '; a later entry that repeats the name, or the number and protocol, of an earlier port is ignored' : '';
  return {
    ...unresolved,
    problem: { code: 'ServicePortNotFound', message: `Service ${svcName} has no port ${shown} (${available}${repeated}); requests get 503` },
  };
}

/**
 * The valid entries of `spec.ports`, in order; malformed entries are skipped. An entry that
 * repeats the name of an earlier entry, or its number and protocol, is set apart in `repeats`:
 * otherwise one cluster name could stand for two different ports.
 */
function readPorts(value: unknown): { ports: PortEntry[]; repeats: PortEntry[] } {
  const ports: PortEntry[] = [];
  const repeats: PortEntry[] = [];
  if (!Array.isArray(value)) return { ports, repeats };
  for (const entry of value as readonly unknown[]) {
    if (!isRecord(entry)) continue;
    const port = field(entry, 'port');
    const name = field(entry, 'name');
    const protocol = field(entry, 'protocol');
    const appProtocol = field(entry, 'appProtocol');
    if (!isPortNumber(port)) continue;
    if (!isUnset(name) && typeof name !== 'string') continue;
    if (!isUnset(protocol) && typeof protocol !== 'string') continue;
    const parsed = {
      port,
      name: typeof name === 'string' ? name : '',
      protocol: typeof protocol === 'string' && protocol !== '' ? protocol : TCP,
      appProtocol: typeof appProtocol === 'string' ? appProtocol : '',
    };
    const repeat = ports.some((p) => (parsed.name !== '' && p.name === parsed.name) || (p.port === parsed.port && p.protocol === parsed.protocol));
    (repeat ? repeats : ports).push(parsed);
  }
  return { ports, repeats };
}

/** `80`, `80 (http)`, `53/UDP (dns)`: the protocol is shown only when it is not TCP. */
function formatPort(p: PortEntry): string {
  const number = p.protocol === TCP ? String(p.port) : `${p.port}/${p.protocol}`;
  return p.name === '' ? number : `${number} (${p.name})`;
}

/** Certificate settings on a Service that no port reaches over TLS have no effect: say so. */
function warnUnusedTls(service: Identified, policy: ServicePolicy, sink: DiagnosticSink): void {
  const { caRef, serverName, verify, clientCertificate, parameters } = policy.backend;
  const set = [
    ...(parameters.minVersion === undefined ? [] : ['signalbox.dev/backend-tls-min-version']),
    ...(parameters.maxVersion === undefined ? [] : ['signalbox.dev/backend-tls-max-version']),
    ...(parameters.ciphers === undefined ? [] : ['signalbox.dev/backend-tls-ciphers']),
    ...(clientCertificate === null ? [] : ['signalbox.dev/backend-tls-client-certificate']),
    ...(caRef === null ? [] : ['signalbox.dev/backend-tls-ca']),
    ...(serverName === null ? [] : ['signalbox.dev/backend-tls-server-name']),
    ...(verify ? [] : ['signalbox.dev/backend-tls-verify']),
  ];
  for (const name of set) {
    sink.report(service.id, 'AnnotationIgnored', 'warning', `${name} has no effect: no port of this Service is reached over TLS (backend-protocol https, h2 or grpcs, or appProtocol https); it is ignored`, `${service.id.provenance}/annotations/${name}`);
  }
}
