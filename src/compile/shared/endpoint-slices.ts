/**
 * The EndpointSlice processor: the endpoints of one Service port, gathered from every
 * EndpointSlice that carries the `kubernetes.io/service-name` label of that Service.
 */
import { isIP } from 'node:net';
import type { Endpoint } from '../../model/table.ts';
import { guarded, type DiagnosticSink } from './diagnostics.ts';
import type { Identified } from './objects.ts';
import { field, isPortNumber, isRecord, isUnset, mapValue, stringField } from './guards.ts';
import { addressSortKey, compareNumbers, compareStrings } from './order.ts';
import { AnnotationReader } from './annotation-reader.ts';

/** The weight of an endpoint that no annotation weighs. */
export const DEFAULT_ENDPOINT_WEIGHT = 1;

/** The label that ties an EndpointSlice to its Service. */
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

/** EndpointSlices indexed by `namespace/service`, each list in slice-name order. */
export type SliceIndex = ReadonlyMap<string, readonly Identified[]>;

/** Groups EndpointSlices (identified, deduplicated) by the Service they belong to. */
export function indexSlices(slices: ReadonlyMap<string, Identified>, sink: DiagnosticSink): SliceIndex {
  const index = new Map<string, Identified[]>();
  for (const slice of slices.values()) {
    const service = guarded(sink, slice.id, undefined, () => mapValue(field(slice.obj, 'metadata'), 'labels', SERVICE_NAME_LABEL));
    if (service === undefined || service === '') continue;
    const key = `${slice.id.namespace}/${service}`;
    const list = index.get(key);
    if (list === undefined) index.set(key, [slice]);
    else list.push(slice);
  }
  for (const list of index.values()) list.sort((a, b) => compareStrings(a.id.name, b.id.name));
  return index;
}

/**
 * The endpoints of port `portName` ('' for an unnamed port) of Service `namespace/service`.
 * - Only IPv4 and IPv6 slices count; others (FQDN) are ignored with a warning.
 * - The slice port whose `name` equals `portName` (missing or null name = '') gives the port number.
 * - Conditions follow the API: `ready` unknown (missing/null) means true, `serving` unknown means
 *   the same as `ready`, `terminating` unknown means false. A non-boolean value counts as unknown.
 * - Each address of an endpoint is one Endpoint. Duplicates (the same address and port in two
 *   slices, as happens while slices are rebalanced) keep the first in slice-name order, unless a
 *   later copy is ready and the first is not.
 * - Sorted by address value, then port: IPv4 before IPv6 (a Service may be dual-stack), each by
 *   number (`10.0.0.2` before `10.0.0.10`); see `addressSortKey`. Different spellings of one
 *   IPv6 address are not merged, and sort by string order.
 * - Weight: from `serviceWeights` (the Service's `signalbox.dev/endpoint-weights`, keyed by
 *   `addressSortKey`, so any spelling of an address matches) when it names the address; else the
 *   `signalbox.dev/weight` annotation of the endpoint's slice; else 1.
 * Malformed parts of a slice are skipped with an `EndpointSliceInvalid` warning on the slice.
 */
export function endpointsFor(
  index: SliceIndex,
  namespace: string,
  service: string,
  portName: string,
  serviceWeights: ReadonlyMap<string, number>,
  sink: DiagnosticSink,
): Endpoint[] {
  const byKey = new Map<string, Endpoint>();
  for (const slice of index.get(`${namespace}/${service}`) ?? []) {
    for (const endpoint of guarded(sink, slice.id, [], () => sliceEndpoints(slice, portName, serviceWeights, sink))) {
      const key = `${endpoint.address} ${endpoint.port}`;
      const existing = byKey.get(key);
      if (existing === undefined || (!existing.ready && endpoint.ready)) byKey.set(key, endpoint);
    }
  }
  const keys = new Map<string, string>();
  const keyOf = (address: string): string => {
    let key = keys.get(address);
    if (key === undefined) keys.set(address, (key = addressSortKey(address)));
    return key;
  };
  return [...byKey.values()].sort(
    (a, b) => compareStrings(keyOf(a.address), keyOf(b.address)) || compareStrings(a.address, b.address) || compareNumbers(a.port, b.port),
  );
}

function sliceEndpoints({ id, obj }: Identified, portName: string, serviceWeights: ReadonlyMap<string, number>, sink: DiagnosticSink): Endpoint[] {
  const warn = (message: string, path?: string): void => sink.report(id, 'EndpointSliceInvalid', 'warning', message, path);
  const addressType = field(obj, 'addressType');
  const family = addressType === 'IPv4' ? 4 : addressType === 'IPv6' ? 6 : 0;
  if (family === 0) {
    const shown = typeof addressType === 'string' ? `addressType "${addressType}" is` : 'a missing or malformed addressType is';
    sink.report(id, 'EndpointSliceAddressTypeUnsupported', 'warning', `${shown} not supported (only IPv4 and IPv6); the slice is ignored`);
    return [];
  }
  const port = slicePort(field(obj, 'ports'), portName);
  if (port === 'invalid') {
    warn(`the port named "${portName}" has no valid port number; the slice is ignored for it`);
    return [];
  }
  if (port === null) return [];
  const endpoints = field(obj, 'endpoints');
  if (isUnset(endpoints)) return [];
  if (!Array.isArray(endpoints)) {
    warn('endpoints must be a list; the slice is ignored');
    return [];
  }
  // Read for every port of the Service that is used; sortDiagnostics drops the repeated reports.
  const sliceWeight = new AnnotationReader(id, 'EndpointSlice', obj, sink).get('signalbox.dev/weight') ?? DEFAULT_ENDPOINT_WEIGHT;
  const out: Endpoint[] = [];
  (endpoints as readonly unknown[]).forEach((endpoint, i) => {
    const provenance = `${id.provenance}/endpoint/${i}`;
    const addresses = field(endpoint, 'addresses');
    if (!isRecord(endpoint) || !Array.isArray(addresses)) {
      warn('an endpoint must be an object with a list of addresses; it is ignored', provenance);
      return;
    }
    const conditions = field(endpoint, 'conditions');
    const ready = condition(conditions, 'ready') ?? true;
    const serving = condition(conditions, 'serving') ?? ready;
    const terminating = condition(conditions, 'terminating') ?? false;
    const zone = stringField(endpoint, 'zone');
    const nodeName = stringField(endpoint, 'nodeName');
    for (const address of addresses as readonly unknown[]) {
      if (typeof address !== 'string' || isIP(address) !== family) {
        warn(`address ${JSON.stringify(address) ?? String(address)} is not an ${addressType} address; it is ignored`, provenance);
        continue;
      }
      out.push({
        address,
        port,
        weight: serviceWeights.get(addressSortKey(address)) ?? sliceWeight,
        ready,
        serving,
        terminating,
        ...(zone === undefined ? {} : { zone }),
        ...(nodeName === undefined ? {} : { nodeName }),
        provenance,
      });
    }
  });
  return out;
}

/** The number of the slice port named `portName`: null when there is none, 'invalid' when malformed. */
function slicePort(ports: unknown, portName: string): number | null | 'invalid' {
  if (!Array.isArray(ports)) return null;
  for (const entry of ports as readonly unknown[]) {
    const name = field(entry, 'name');
    if ((isUnset(name) ? '' : name) !== portName) continue;
    const port = field(entry, 'port');
    // A null port means "all ports" (a Service without ports): there is no number to dial.
    if (port === null || port === undefined) return null;
    return isPortNumber(port) ? port : 'invalid';
  }
  return null;
}

function condition(conditions: unknown, name: string): boolean | null {
  const value = field(conditions, name);
  return typeof value === 'boolean' ? value : null;
}
