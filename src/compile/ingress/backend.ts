/**
 * Ingress backends (`spec.rules[].http.paths[].backend` and `spec.defaultBackend`): validating the
 * reference to a Service port. Resolving it against the Service happens later, in services.ts.
 */
import { field, isDns1035Label, isIanaSvcName, isPortNumber, isRecord, isUnset } from '../shared/guards.ts';
import { describe } from '../shared/objects.ts';

/** A validated reference to a port of a Service in the Ingress's namespace. */
export interface ServiceRef {
  readonly service: string;
  /** The port as referenced: a number (`spec.ports[].port`) or a name (`spec.ports[].name`). */
  readonly port: number | string;
}

/** Why a backend was rejected. */
export interface BackendProblem {
  readonly code: 'IngressBackendInvalid' | 'BackendResourceUnsupported';
  readonly message: string;
}

/**
 * Validates an IngressBackend. Only `service` backends are supported; a `resource` backend (for
 * example a storage bucket) has no meaning for a proxy of Services and is rejected.
 */
export function parseBackend(value: unknown): ServiceRef | BackendProblem {
  const invalid = (message: string): BackendProblem => ({ code: 'IngressBackendInvalid', message });
  if (!isRecord(value)) return invalid(`backend must be an object, got ${describe(value)}`);
  const resource = field(value, 'resource');
  if (!isUnset(resource)) {
    const kind = field(resource, 'kind');
    return {
      code: 'BackendResourceUnsupported',
      message: `resource backends${typeof kind === 'string' ? ` (kind ${kind})` : ''} are not supported; use backend.service`,
    };
  }
  const service = field(value, 'service');
  if (!isRecord(service)) return invalid('backend.service is required');
  const name = field(service, 'name');
  if (typeof name !== 'string' || !isDns1035Label(name)) {
    return invalid(`backend.service.name ${JSON.stringify(name) ?? describe(name)} is not a valid Service name`);
  }
  const port = field(service, 'port');
  const number = field(port, 'number');
  const portName = field(port, 'name');
  if (!isUnset(number) && !isUnset(portName)) return invalid('backend.service.port must set only one of number and name');
  if (!isUnset(number)) {
    return isPortNumber(number) ? { service: name, port: number } : invalid(`backend.service.port.number ${JSON.stringify(number) ?? describe(number)} is not a port number (1-65535)`);
  }
  if (!isUnset(portName)) {
    return typeof portName === 'string' && isIanaSvcName(portName)
      ? { service: name, port: portName }
      : invalid(`backend.service.port.name ${JSON.stringify(portName) ?? describe(portName)} is not a valid port name`);
  }
  return invalid('backend.service.port needs a number or a name');
}

/**
 * The cluster name for a Service port reference, `namespace/service:port`, given the Service port
 * number (`spec.ports[].port`) it resolved to:
 * - resolved: the port is that number, however it was referenced, so a reference by number and
 *   one by name to the same Service port share one cluster (`shop/web:80`);
 * - unresolved (null): the port as referenced, `shop/web:8080` or `shop/web:http`, so each broken
 *   reference stays visible on its own.
 * A number in a cluster name therefore always means `spec.ports[].port`, and a name always has a
 * letter (see `isIanaSvcName`), so an unresolved name never equals a resolved one: a number that
 * resolved is a TCP port of the Service, one that did not is not (see services.ts).
 */
export function clusterName(namespace: string, ref: ServiceRef, servicePort: number | null): string {
  return `${namespace}/${ref.service}:${servicePort ?? ref.port}`;
}

/** Gives the cluster name of a backend of an Ingress in `namespace` (resolving it; see clusters.ts). */
export type ClusterNamer = (namespace: string, ref: ServiceRef) => string;
