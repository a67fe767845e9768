/**
 * The status the writer wants on a Gateway API object, merged with the one the cluster holds, by
 * the rules of the Gateway API's status fields (apis/v1 gatewayclass_types.go, gateway_types.go,
 * shared_types.go):
 * - conditions are a map keyed by type: ours are replaced in place, those of types we never
 *   write (another controller's, `example.com/Special`) are kept where they are;
 * - `observedGeneration` is the object's `metadata.generation` on every condition, and a
 *   condition's `lastTransitionTime` stays while its status does;
 * - a condition already written for a newer generation means our copy is stale: nothing is written
 *   until the watch brings the new generation;
 * - a route's `status.parents` holds one entry per parent and controller: the entries of other
 *   controllers are kept untouched, ours are replaced by the compile's list, and ours that the
 *   compile no longer lists are dropped.
 * Everything here is pure: the writer passes the time in and compares the result with the cache.
 */
import type { Condition, GatewayStatusAddress, ListenerStatus, ObjectStatus, ParentReference, RouteParentStatus } from '../model/table.ts';
import { newerThan, readConditions, stampConditions, type ReadCondition, type WrittenCondition } from './written-conditions.ts';

/** Most entries `status.parents` may hold (the CRDs' maxItems). */
const MAX_PARENTS = 32;
/** Most entries `status.addresses` may hold. */
const MAX_ADDRESSES = 16;

/**
 * The condition types we own per kind: one of them that the compile no longer reports is removed,
 * while types outside the list are never touched.
 */
const OWNED_CONDITIONS: Readonly<Record<string, readonly string[]>> = {
  GatewayClass: ['Accepted', 'SupportedVersion'],
  Gateway: ['Accepted', 'Programmed', 'ResolvedRefs', 'InsecureFrontendValidationMode', 'Ready'],
  ListenerSet: ['Accepted', 'Programmed', 'ResolvedRefs', 'Ready'],
};

/** An object as the cache holds it: what the merge reads. */
export interface CurrentObject {
  readonly metadata?: { readonly generation?: unknown; readonly resourceVersion?: unknown };
  readonly status?: unknown;
}

/** A status to write, or null when the cluster's copy already says it (or must not be overwritten). */
export type StatusPatch = Record<string, unknown> | null;

/** The generation conditions are stamped with: the cached object's, else the compile's. */
export function generationOf(current: CurrentObject, status: ObjectStatus): number {
  const generation = current.metadata?.generation;
  return typeof generation === 'number' ? generation : (status.generation ?? 0);
}

function statusField(current: CurrentObject, field: string): unknown {
  const status = current.status;
  return status !== null && typeof status === 'object' ? (status as Record<string, unknown>)[field] : undefined;
}

/**
 * `conditions` merged into `previous`: each of our types replaces the condition of its type where it
 * stands (or is appended), other types stay as they are, and owned types not in `conditions` go.
 */
export function mergeConditions(previous: readonly ReadCondition[], conditions: readonly WrittenCondition[], owned: readonly string[]): unknown[] {
  const ours = new Map(conditions.map((c) => [c.type, c]));
  const merged: unknown[] = [];
  for (const c of previous) {
    const mine = typeof c.type === 'string' ? ours.get(c.type) : undefined;
    if (mine !== undefined) {
      merged.push(mine);
      ours.delete(mine.type);
    } else if (typeof c.type !== 'string' || !owned.includes(c.type)) merged.push(c);
  }
  for (const c of conditions) if (ours.has(c.type)) merged.push(c);
  return merged;
}

/**
 * `status` of a GatewayClass: the compile's conditions plus `extra` (the writer's
 * `SupportedVersion`), merged into the cluster's.
 */
export function gatewayClassStatus(current: CurrentObject, status: ObjectStatus, extra: readonly Condition[], now: string): StatusPatch {
  const generation = generationOf(current, status);
  const previous = readConditions(statusField(current, 'conditions'));
  if (newerThan(previous, generation)) return null;
  const conditions = mergeConditions(previous, stampConditions([...status.conditions, ...extra], previous, generation, now), OWNED_CONDITIONS.GatewayClass!);
  const wanted: Record<string, unknown> = { conditions };
  // What the class's Gateways support, as the conformance suite and users read it (GEP-2162).
  if (status.supportedFeatures !== undefined) wanted.supportedFeatures = status.supportedFeatures.map((name) => ({ name }));
  return differs(current, wanted) ? wanted : null;
}

/**
 * `status` of a Gateway or ListenerSet: conditions merged, `listeners` replaced (each listener's
 * conditions keep their times by listener name), and for a Gateway `addresses` — the compile's,
 * else `published` (the data plane's own), else left as they are (null).
 */
export function gatewayStatus(current: CurrentObject, status: ObjectStatus, published: readonly GatewayStatusAddress[] | null, now: string): StatusPatch {
  const generation = generationOf(current, status);
  const previous = readConditions(statusField(current, 'conditions'));
  const previousListeners = new Map(records(statusField(current, 'listeners')).map((l) => [l.name, l]));
  if (newerThan(previous, generation) || [...previousListeners.values()].some((l) => newerThan(readConditions(l.conditions), generation))) return null;
  const owned = OWNED_CONDITIONS[status.kind] ?? OWNED_CONDITIONS.Gateway!;
  const wanted: Record<string, unknown> = {
    conditions: mergeConditions(previous, stampConditions(status.conditions, previous, generation, now), owned),
    listeners: (status.listeners ?? []).map((l) => listenerStatus(l, readConditions(previousListeners.get(l.name)?.conditions), generation, now)),
  };
  if (status.kind === 'Gateway' && status.attachedListenerSets !== undefined) wanted.attachedListenerSets = status.attachedListenerSets;
  const addresses = status.kind === 'Gateway' ? (status.addresses ?? published) : null;
  if (addresses !== null) wanted.addresses = addresses.slice(0, MAX_ADDRESSES).map((a) => ({ type: a.type, value: a.value }));
  return differs(current, wanted) ? wanted : null;
}

function listenerStatus(l: ListenerStatus, previous: readonly ReadCondition[], generation: number, now: string): Record<string, unknown> {
  return {
    name: l.name,
    supportedKinds: l.supportedKinds.map((k) => ({ group: k.group, kind: k.kind })),
    attachedRoutes: l.attachedRoutes,
    conditions: stampConditions(l.conditions, previous, generation, now),
  };
}

/**
 * `status.parents` of a route: other controllers' entries as they are (in their order), then ours
 * — `parents`, each with `controllerName` and conditions whose times are kept from our previous
 * entry for the same parentRef. `parents` null: the compile lists the route no more (none of its
 * parents is ours now), so only our old entries go. Null result: nothing to write.
 */
export function routeParentsStatus(current: CurrentObject, generation: number, parents: readonly RouteParentStatus[] | null, controllerName: string, now: string, fields: { readonly list: string; readonly ref: string } = PARENTS): StatusPatch {
  const existing = records(statusField(current, fields.list));
  const others = existing.filter((p) => p.controllerName !== controllerName);
  const ours = new Map(existing.filter((p) => p.controllerName === controllerName).map((p) => [refKey(p[fields.ref]), p]));
  if (parents === null && ours.size === 0) return null;
  if ([...ours.values()].some((p) => newerThan(readConditions(p.conditions), generation))) return null;
  const written = (parents ?? []).slice(0, Math.max(0, MAX_PARENTS - others.length)).map((p) => ({
    [fields.ref]: parentRef(p.parentRef),
    controllerName,
    conditions: stampConditions(p.conditions, readConditions(ours.get(refKey(p.parentRef))?.conditions), generation, now),
  }));
  const wanted = { [fields.list]: [...others, ...written] };
  return differs(current, wanted) ? wanted : null;
}

/** A route's status lists its parents; a policy's (BackendTLSPolicy) lists its ancestors, the same way. */
const PARENTS = { list: 'parents', ref: 'parentRef' } as const;

/** The fields of a policy's status toward the Gateways it applies under (Gateway API policy attachment). */
export const ANCESTORS = { list: 'ancestors', ref: 'ancestorRef' } as const;

/** A parentRef as written: every field the compile filled in, optional ones only when set. */
function parentRef(ref: ParentReference): Record<string, unknown> {
  return {
    group: ref.group,
    kind: ref.kind,
    namespace: ref.namespace,
    name: ref.name,
    ...(ref.sectionName === undefined ? {} : { sectionName: ref.sectionName }),
    ...(ref.port === undefined ? {} : { port: ref.port }),
  };
}

/** Identity of a parentRef, with the defaults of an entry written by someone else applied. */
function refKey(ref: unknown): string {
  const r = (ref !== null && typeof ref === 'object' ? ref : {}) as Partial<Record<keyof ParentReference, unknown>>;
  return JSON.stringify([r.group ?? 'gateway.networking.k8s.io', r.kind ?? 'Gateway', r.namespace ?? '', r.name ?? '', r.sectionName ?? '', r.port ?? '']);
}

/** The objects in a list read from the API (anything else is ignored). */
function records(value: unknown): Record<string, unknown>[] {
  return Array.isArray(value) ? value.filter((v): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v)) : [];
}

/** Whether any field of `wanted` differs from the cluster's status (key order does not count). */
function differs(current: CurrentObject, wanted: Record<string, unknown>): boolean {
  return Object.entries(wanted).some(([field, value]) => canonical(statusField(current, field) ?? (Array.isArray(value) ? [] : null)) !== canonical(value));
}

/** JSON with object keys sorted: the API server's copy orders fields its own way. */
export function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v));
}
