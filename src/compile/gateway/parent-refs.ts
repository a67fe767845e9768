/**
 * Attaching a route to its parents (apis/v1/shared_types.go, `ParentReference` and the route
 * conditions): each parentRef naming one of our Gateways (defaults filled in) attaches to the
 * listeners it selects by `sectionName` and `port`, that take the route's kind and namespace, and
 * whose hostname intersects the route's. Otherwise the route is not accepted by that parent, with
 * the reason the specification gives: NoMatchingParent, NotAllowedByListeners or
 * NoMatchingListenerHostname. ParentRefs to Gateways that are not ours are left alone (another
 * controller answers them).
 */
import type { Condition, ParentReference } from '../../model/table.ts';
import { field, isPortNumber } from '../shared/guards.ts';
import { isFalse, isTrue } from './conditions.ts';
import { allowsNamespace, type GatewayListener, type OurGateway } from './gateways.ts';
import { hostnameCovers, intersectHostnames } from './hostnames.ts';
import { GATEWAY_API_GROUP, type RouteKind } from './names.ts';

/** A listener a route attached to, and the hostnames it serves there (null: every host). */
export interface Attachment {
  readonly listener: GatewayListener;
  readonly hostnames: readonly (string | null)[];
}

/** A route's standing toward one of its parents. */
export interface ParentResult {
  readonly ref: ParentReference;
  /** The route's Accepted condition toward this parent. */
  readonly accepted: Condition;
  /** Empty unless accepted. */
  readonly attachments: readonly Attachment[];
}

/** What the attachment of routes reads: our Gateways by `namespace/name`, and namespace labels. */
export interface ParentContext {
  readonly gateways: ReadonlyMap<string, OurGateway>;
  /** Our ListenerSets (attached to one of our Gateways) by `namespace/name`. */
  readonly listenerSets: ReadonlyMap<string, OurGateway>;
  readonly namespaceLabels: ReadonlyMap<string, Readonly<Record<string, string>>>;
}

/**
 * The parents of one route of `kind` in `namespace` with `hostnames` (empty: the route names none;
 * TCP and UDP routes have none), one result per parentRef that names one of our Gateways.
 */
export function attachRoute(kind: RouteKind, namespace: string, parentRefs: unknown, hostnames: readonly string[], context: ParentContext): ParentResult[] {
  const out: ParentResult[] = [];
  for (const raw of Array.isArray(parentRefs) ? (parentRefs as unknown[]) : []) {
    const group = field(raw, 'group') ?? GATEWAY_API_GROUP;
    const refKind = field(raw, 'kind') ?? 'Gateway';
    const name = field(raw, 'name');
    const refNamespace = field(raw, 'namespace') ?? namespace;
    if (group !== GATEWAY_API_GROUP || (refKind !== 'Gateway' && refKind !== 'ListenerSet') || typeof name !== 'string' || typeof refNamespace !== 'string') continue;
    const gateway = (refKind === 'Gateway' ? context.gateways : context.listenerSets).get(`${refNamespace}/${name}`);
    if (gateway === undefined) continue;
    const sectionName = field(raw, 'sectionName');
    const port = field(raw, 'port');
    const ref: ParentReference = {
      group: GATEWAY_API_GROUP,
      kind: refKind,
      namespace: refNamespace,
      name,
      ...(typeof sectionName === 'string' ? { sectionName } : {}),
      ...(isPortNumber(port) ? { port } : {}),
    };
    out.push(attachToGateway(ref, kind, namespace, hostnames, gateway, context));
  }
  return out;
}

/**
 * Listener isolation (GatewayHTTPListenerIsolation): a request goes to the most specific listener
 * whose hostname matches it, so a route of `listener` does not serve a hostname that a more
 * specific listener of the Gateway on the same port covers — `*.example.com` on a listener without
 * hostname, beside a `*.example.com` listener, is that listener's. The route stays attached.
 */
function isolated(listener: GatewayListener, names: readonly (string | null)[], siblings: readonly GatewayListener[]): (string | null)[] {
  const others = siblings.filter((o) => o !== listener && o.programmed && o.port === listener.port && o.hostname !== null && o.hostname !== listener.hostname && (listener.hostname === null || hostnameCovers(listener.hostname, o.hostname)));
  if (others.length === 0) return [...names];
  return names.filter((name) => name === null || !others.some((o) => hostnameCovers(o.hostname!, name)));
}

function attachToGateway(ref: ParentReference, kind: RouteKind, namespace: string, hostnames: readonly string[], gateway: OurGateway, context: ParentContext): ParentResult {
  const refuse = (reason: string, message: string): ParentResult => ({ ref, accepted: isFalse('Accepted', reason, message), attachments: [] });
  if (gateway.refused !== null) return refuse('NoMatchingParent', `${ref.kind} ${ref.namespace}/${ref.name} is not accepted: ${gateway.refused.message}`);
  const selected = gateway.listeners.filter((l) => (ref.sectionName === undefined || l.name === ref.sectionName) && (ref.port === undefined || l.port === ref.port));
  if (selected.length === 0) {
    const which = [ref.sectionName === undefined ? '' : `named ${ref.sectionName}`, ref.port === undefined ? '' : `on port ${ref.port}`].filter((s) => s !== '').join(' ');
    return refuse('NoMatchingParent', `${ref.kind} ${ref.namespace}/${ref.name} has no listener ${which}`.trimEnd() + '.');
  }
  const labels = context.namespaceLabels.get(namespace);
  const allowed = selected.filter((l) => l.accepted && l.kinds.includes(kind) && allowsNamespace(l, namespace, labels));
  if (allowed.length === 0) return refuse('NotAllowedByListeners', `No listener of ${ref.kind} ${ref.namespace}/${ref.name} takes ${kind}s from namespace ${namespace}.`);
  const attachments = allowed.flatMap((listener) => {
    const names = intersectHostnames(listener.hostname, hostnames);
    return names.length === 0 ? [] : [{ listener, hostnames: isolated(listener, names, gateway.listeners) }];
  });
  if (attachments.length === 0) return refuse('NoMatchingListenerHostname', `No hostname of the ${kind} intersects the hostname of a listener of ${ref.kind} ${ref.namespace}/${ref.name}.`);
  return { ref, accepted: isTrue('Accepted', 'Accepted', `The ${kind} is accepted by ${ref.kind} ${ref.namespace}/${ref.name}.`), attachments };
}
