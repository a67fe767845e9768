/**
 * Ingress backends (`spec.rules[].http.paths[].backend` and `spec.defaultBackend`): validating the
 * reference to a Service port (in the Ingress's namespace). Resolving it against the Service
 * happens in the back half (shared/services.ts).
 */
import { field, isDns1035Label, isIanaSvcName, isPortNumber, isRecord, isUnset } from '../shared/guards.ts';
import { describe } from '../shared/objects.ts';
import type { ServiceRef } from '../shared/candidates.ts';

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
