/**
 * The Service processor: resolving an Ingress backend (`service.name` + port number or name) to a
 * port of a Service in the Ingress's namespace.
 */
import type { ServiceRef } from './backend.ts';
import type { Identified } from './objects.ts';
import { field, isPortNumber, isRecord, isUnset } from './guards.ts';

/** What a backend reference resolved to. */
export interface ResolvedPort {
  /** `spec.ports[].port`, or null when the Service or the port could not be used. */
  readonly servicePort: number | null;
  /** `spec.ports[].name` ('' when unnamed); the referenced name when unresolved by name. */
  readonly portName: string;
  /** True when endpoints should be looked up (the Service and its port exist and are supported). */
  readonly resolved: boolean;
  /** Why the reference is unusable: reported on every route that uses it. */
  readonly problem: { readonly code: string; readonly message: string } | null;
}

interface PortEntry {
  readonly port: number;
  readonly name: string;
}

/**
 * Resolves a backend of an Ingress in `namespace` against the Services (indexed by
 * `namespace/name`). A missing Service or port, or an ExternalName Service, yields a problem but
 * still a result: the route stays in the table, pointing at a cluster without endpoints, so the data
 * plane answers 503 until the Service appears — rather than letting another route or the default
 * backend take over the traffic silently.
 */
export function resolveServicePort(
  namespace: string,
  ref: ServiceRef,
  services: ReadonlyMap<string, Identified>,
): ResolvedPort {
  const unresolved = { servicePort: null, portName: typeof ref.port === 'string' ? ref.port : '', resolved: false };
  const svcName = `${namespace}/${ref.service}`;
  const service = services.get(svcName);
  if (service === undefined) {
    return { ...unresolved, problem: { code: 'ServiceNotFound', message: `Service ${svcName} not found; requests get 503 until it exists` } };
  }
  const spec = field(service.obj, 'spec');
  if (field(spec, 'type') === 'ExternalName') {
    return {
      ...unresolved,
      problem: { code: 'ServiceTypeUnsupported', message: `Service ${svcName} is of type ExternalName, which is not supported; requests get 503` },
    };
  }
  const ports = readPorts(field(spec, 'ports'));
  const found = ports.find((p) => (typeof ref.port === 'number' ? p.port === ref.port : p.name === ref.port));
  if (found === undefined) {
    const available = ports.length === 0 ? 'it has no valid ports' : `it has ${ports.map(formatPort).join(', ')}`;
    return {
      ...unresolved,
      problem: {
        code: 'ServicePortNotFound',
        message: `Service ${svcName} has no port ${typeof ref.port === 'number' ? ref.port : JSON.stringify(ref.port)} (${available}); requests get 503`,
      },
    };
  }
  return { servicePort: found.port, portName: found.name, resolved: true, problem: null };
}

/** The valid entries of `spec.ports`; malformed entries are skipped. */
function readPorts(value: unknown): PortEntry[] {
  if (!Array.isArray(value)) return [];
  const out: PortEntry[] = [];
  for (const entry of value as readonly unknown[]) {
    if (!isRecord(entry)) continue;
    const port = field(entry, 'port');
    const name = field(entry, 'name');
    if (!isPortNumber(port)) continue;
    if (!isUnset(name) && typeof name !== 'string') continue;
    out.push({ port, name: typeof name === 'string' ? name : '' });
  }
  return out;
}

function formatPort(p: PortEntry): string {
  return p.name === '' ? String(p.port) : `${p.port} (${p.name})`;
}
