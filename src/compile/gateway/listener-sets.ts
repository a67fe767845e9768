/**
 * ListenerSets (apis/v1/listenerset_types.go): listeners that attach to a Gateway of ours that
 * allows them (`spec.allowedListeners`, None by default). The Gateway's listeners and its
 * ListenerSets' are one list, in precedence order — the Gateway's first, then ListenerSets oldest
 * first (then by namespace/name) — and a listener that is not distinct from one before it is the
 * one rejected (Conflicted). Routes attach to a ListenerSet by a parentRef of kind ListenerSet;
 * one that names the Gateway attaches to the Gateway's own listeners only.
 */
import type { Condition } from '../../model/table.ts';
import { compareAge, withAge } from '../shared/age.ts';
import type { RankedOwner } from '../shared/candidates.ts';
import { guarded, type DiagnosticSink } from '../shared/diagnostics.ts';
import { field } from '../shared/guards.ts';
import { indexObjects, type Identified } from '../shared/objects.ts';
import { isFalse, isTrue } from './conditions.ts';
import { namespaceAllowed, onceEach, readListener, type GatewayListener, type OurGateway } from './gateways.ts';
import { GATEWAY_API_GROUP } from './names.ts';
import type { ReferenceGrants } from './reference-grants.ts';

/** The ListenerSets attached to our Gateways, in precedence order, their listeners checked against the Gateway's and each other's. */
export function readListenerSets(list: unknown, gateways: ReadonlyMap<string, OurGateway>, namespaceLabels: ReadonlyMap<string, Readonly<Record<string, string>>>, secrets: ReadonlyMap<string, Identified>, grants: ReferenceGrants, sink: DiagnosticSink): OurGateway[] {
  const parentOf = (obj: unknown): string | null => {
    const ref = field(field(obj, 'spec'), 'parentRef');
    const namespace = field(ref, 'namespace') ?? field(field(obj, 'metadata'), 'namespace') ?? 'default';
    const name = field(ref, 'name');
    if ((field(ref, 'group') ?? GATEWAY_API_GROUP) !== GATEWAY_API_GROUP || (field(ref, 'kind') ?? 'Gateway') !== 'Gateway' || typeof name !== 'string' || typeof namespace !== 'string') return null;
    return gateways.has(`${namespace}/${name}`) ? `${namespace}/${name}` : null;
  };
  // ListenerSets of Gateways that are not ours are not ours to report on.
  const mine = (Array.isArray(list) ? (list as unknown[]) : []).filter((obj) => parentOf(obj) !== null);
  const items = [...indexObjects(mine, 'ListenerSet', true, sink).values()]
    .map((item) => guarded(sink, item.id, { ...item, created: null }, () => withAge(item, sink)))
    .sort(compareAge);
  // The listeners taken so far on each Gateway, in precedence order: its own first.
  const taken = new Map<string, GatewayListener[]>([...gateways].map(([key, g]) => [key, g.listeners.filter((l) => l.accepted)]));
  return items.map((item, rank): OurGateway => {
    const owner: RankedOwner = { id: item.id, rank, created: item.created };
    const parent = parentOf(item.obj)!;
    const gateway = gateways.get(parent)!;
    const none = { owner, listeners: [] as GatewayListener[], allowedListeners: { from: 'None' } as const, parent };
    if (gateway.refused !== null) return { ...none, refused: { reason: 'ParentNotAccepted', message: `Gateway ${parent} is not accepted.` } };
    if (!namespaceAllowed(gateway.allowedListeners, gateway.owner.id.namespace, item.id.namespace, namespaceLabels.get(item.id.namespace))) {
      sink.report(item.id, 'ListenerSetNotAllowed', 'error', `Gateway ${parent} does not allow ListenerSets of namespace ${item.id.namespace} (spec.allowedListeners); none of its listeners is served`);
      return { ...none, refused: { reason: 'NotAllowed', message: `Gateway ${parent} does not allow ListenerSets of namespace ${item.id.namespace}.` } };
    }
    return guarded<OurGateway>(sink, item.id, { ...none, refused: { reason: 'Invalid', message: 'The ListenerSet could not be read.' } }, () => {
      const entries = field(field(item.obj, 'spec'), 'listeners');
      // In precedence order within the set too: each listener against every accepted one before it.
      const before = taken.get(parent)!;
      const read = onceEach((Array.isArray(entries) ? (entries as unknown[]) : []).map((e, i) => readListener(owner, e, i, secrets, grants, sink)), sink);
      const listeners = read.map((l) => {
        const checked = l.accepted ? afterEarlier(l, before, sink) : l;
        if (checked.accepted) before.push(checked);
        return checked;
      });
      return { ...none, listeners, refused: null };
    });
  });
}

/** `l`, or `l` Conflicted when a listener before it (the Gateway's, an older ListenerSet's) is not distinct from it. */
function afterEarlier(l: GatewayListener, before: readonly GatewayListener[], sink: DiagnosticSink): GatewayListener {
  const family = (p: string): string => (p === 'HTTPS' || p === 'TLS' ? 'tls' : p === 'UDP' ? 'udp' : p === 'TCP' ? 'tcp' : 'http');
  const samePort = before.filter((o) => o.port === l.port && (family(o.protocol) === 'udp') === (family(l.protocol) === 'udp'));
  const reason = samePort.some((o) => family(o.protocol) !== family(l.protocol))
    ? 'ProtocolConflict'
    : samePort.some((o) => o.hostname === l.hostname || family(l.protocol) === 'tcp' || family(l.protocol) === 'udp')
      ? 'HostnameConflict'
      : null;
  if (reason === null) return l;
  const message = reason === 'ProtocolConflict' ? `port ${l.port} is used by a listener of another protocol that takes precedence` : `a listener on port ${l.port} with the same hostname takes precedence`;
  sink.report(l.gateway.id, 'GatewayListenerConflicted', 'error', `listener ${l.name}: ${message}; it is not served`, l.provenance);
  const resolved = l.conditions.find((c) => c.type === 'ResolvedRefs')!;
  return { ...l, accepted: false, programmed: false, conditions: [isFalse('Accepted', reason, message), isFalse('Programmed', reason, message), resolved, isTrue('Conflicted', reason, message)] };
}

/** The Accepted and Programmed conditions of a ListenerSet. */
export function listenerSetConditions(set: OurGateway): Condition[] {
  if (set.refused !== null) return [isFalse('Accepted', set.refused.reason, set.refused.message), isFalse('Programmed', set.refused.reason, set.refused.message)];
  // A listener that cannot be served (conflicted, or its certificate refused) does not count.
  const invalid = set.listeners.filter((l) => !l.programmed);
  const programmed = set.listeners.some((l) => l.programmed);
  const accepted =
    set.listeners.length > 0 && invalid.length === set.listeners.length
      ? isFalse('Accepted', 'ListenersNotValid', 'No listener of the ListenerSet is valid.')
      : invalid.length > 0
        ? isTrue('Accepted', 'ListenersNotValid', `Listeners ${invalid.map((l) => l.name).join(', ')} are not valid; the others are served.`)
        : isTrue('Accepted', 'Accepted', 'The ListenerSet is accepted.');
  return [accepted, programmed ? isTrue('Programmed', 'Programmed', 'The ListenerSet is served.') : isFalse('Programmed', 'ListenersNotValid', 'No listener of the ListenerSet can be served.')];
}
