/**
 * Sorting a bag of parsed manifests (YAML documents, `kubectl get -o yaml` output) into a
 * {@link Snapshot}. Used by the golden tests and by the file source, so that `serve --manifests`
 * sees exactly what the tests see.
 */
import type { Diagnostic } from '../model/table.ts';
import { GATEWAY_API_GROUP, type Snapshot } from '../model/snapshot.ts';
import { DiagnosticSink, sortDiagnostics } from './shared/diagnostics.ts';
import { field, isRecord, isUnset, type Dict } from './shared/guards.ts';
import { describe } from './shared/objects.ts';

const GATEWAY_V1 = `${GATEWAY_API_GROUP}/v1`;

/** The kinds signalbox reads, with the one apiVersion each is accepted in and its Snapshot array. */
const KINDS: Readonly<Record<string, { readonly apiVersion: string; readonly list: keyof Snapshot }>> = {
  Ingress: { apiVersion: 'networking.k8s.io/v1', list: 'ingresses' },
  IngressClass: { apiVersion: 'networking.k8s.io/v1', list: 'ingressClasses' },
  Service: { apiVersion: 'v1', list: 'services' },
  EndpointSlice: { apiVersion: 'discovery.k8s.io/v1', list: 'endpointSlices' },
  Secret: { apiVersion: 'v1', list: 'secrets' },
  RouteScript: { apiVersion: 'signalbox.dev/v1alpha1', list: 'routeScripts' },
  ConfigMap: { apiVersion: 'v1', list: 'configMaps' },
  Namespace: { apiVersion: 'v1', list: 'namespaces' },
  GatewayClass: { apiVersion: GATEWAY_V1, list: 'gatewayClasses' },
  Gateway: { apiVersion: GATEWAY_V1, list: 'gateways' },
  ListenerSet: { apiVersion: GATEWAY_V1, list: 'listenerSets' },
  HTTPRoute: { apiVersion: GATEWAY_V1, list: 'httpRoutes' },
  GRPCRoute: { apiVersion: GATEWAY_V1, list: 'grpcRoutes' },
  TLSRoute: { apiVersion: GATEWAY_V1, list: 'tlsRoutes' },
  TCPRoute: { apiVersion: GATEWAY_V1, list: 'tcpRoutes' },
  UDPRoute: { apiVersion: GATEWAY_V1, list: 'udpRoutes' },
  ReferenceGrant: { apiVersion: GATEWAY_V1, list: 'referenceGrants' },
  BackendTLSPolicy: { apiVersion: GATEWAY_V1, list: 'backendTLSPolicies' },
};

/** The lists every snapshot has; the others (Namespaces, the Gateway API's) only when they hold an object. */
const ALWAYS: ReadonlySet<keyof Snapshot> = new Set(['ingresses', 'ingressClasses', 'services', 'endpointSlices', 'secrets', 'routeScripts', 'configMaps']);

/** Lists nested deeper than this are refused rather than followed (a guard against YAML alias loops). */
const MAX_LIST_DEPTH = 4;

/** A snapshot and the problems found while building it. */
export interface SnapshotFromObjects {
  readonly snapshot: Snapshot;
  /** Sorted like compile diagnostics. */
  readonly diagnostics: readonly Diagnostic[];
}

/**
 * Sorts objects into a Snapshot by `kind`.
 * - `kind: List` (and typed lists such as `IngressList`) are replaced by their `items`; items of a
 *   typed list that lack `kind`/`apiVersion` inherit them from the list, as the API returns them.
 * - null entries (empty YAML documents) are skipped silently.
 * - Non-objects and objects without `kind`, `apiVersion` or `metadata.name` are rejected with
 *   `ObjectInvalid`; a known kind in another apiVersion (for example `extensions/v1beta1`
 *   Ingress) with `ObjectVersionUnsupported`.
 * - Kinds signalbox does not read are ignored silently: a manifest directory usually holds
 *   Deployments and Jobs too.
 * Objects are not copied or further validated: `compile` checks every field it uses, and reports
 * duplicates. The messages name the position of the object in `objects`.
 */
export function snapshotFromObjects(objects: readonly unknown[]): SnapshotFromObjects {
  const sink = new DiagnosticSink();
  const lists: Partial<Record<keyof Snapshot, unknown[]>> = Object.fromEntries([...ALWAYS].map((list) => [list, []]));
  const visit = (obj: unknown, where: string, depth: number): void => {
    if (obj === null || obj === undefined) return;
    const kind = field(obj, 'kind');
    const apiVersion = field(obj, 'apiVersion');
    const name = field(field(obj, 'metadata'), 'name');
    const namespace = field(field(obj, 'metadata'), 'namespace');
    const subject = {
      kind: typeof kind === 'string' ? kind : '',
      namespace: typeof namespace === 'string' ? namespace : '',
      name: typeof name === 'string' ? name : '',
    };
    const invalid = (message: string): void => sink.report(subject, 'ObjectInvalid', 'error', `${where}: ${message}; it is ignored`);
    if (!isRecord(obj)) return invalid(`a manifest must be an object, got ${describe(obj)}`);
    if (typeof kind !== 'string' || kind === '') return invalid('kind is missing');
    if (typeof apiVersion !== 'string' || apiVersion === '') return invalid('apiVersion is missing');
    if (kind === 'List' || (kind.endsWith('List') && Object.hasOwn(KINDS, kind.slice(0, -4)))) {
      const items = field(obj, 'items');
      if (depth >= MAX_LIST_DEPTH) return invalid('lists are nested too deeply');
      if (!isUnset(items) && !Array.isArray(items)) return invalid('items must be a list');
      const itemKind = kind === 'List' ? undefined : kind.slice(0, -4);
      ((Array.isArray(items) ? items : []) as readonly unknown[]).forEach((item, i) => {
        visit(itemKind === undefined ? item : inherit(item, itemKind, apiVersion), `${where} item ${i}`, depth + 1);
      });
      return;
    }
    if (!Object.hasOwn(KINDS, kind)) return;
    const known = KINDS[kind]!;
    if (apiVersion !== known.apiVersion) {
      sink.report(subject, 'ObjectVersionUnsupported', 'error', `${where}: ${kind} ${apiVersion} is not supported, only ${known.apiVersion}; it is ignored`);
      return;
    }
    if (!isRecord(field(obj, 'metadata'))) return invalid(`metadata must be an object, got ${describe(field(obj, 'metadata'))}`);
    if (typeof name !== 'string' || name === '') {
      return invalid(isUnset(name) ? 'metadata.name is missing' : `metadata.name must be a string, got ${describe(name)}`);
    }
    (lists[known.list] ??= []).push(obj);
  };
  objects.forEach((obj, i) => visit(obj, `object ${i}`, 0));
  return { snapshot: lists as unknown as Snapshot, diagnostics: sortDiagnostics(sink.items) };
}

/** An item of a typed list, with `kind` and `apiVersion` filled in when it lacks them. */
function inherit(item: unknown, kind: string, apiVersion: string): unknown {
  if (!isRecord(item)) return item;
  const patch: Dict = {
    ...(isUnset(field(item, 'kind')) ? { kind } : {}),
    ...(isUnset(field(item, 'apiVersion')) ? { apiVersion } : {}),
  };
  return Object.keys(patch).length === 0 ? item : { ...item, ...patch };
}
