/**
 * The status the Gateway API asks of a controller (apis/v1/gateway_types.go, shared_types.go),
 * from what the front end read and what the back half reported: per route and parent `Accepted`
 * and `ResolvedRefs` (and `PartiallyInvalid` when some rules were dropped); per Gateway `Accepted`
 * and `Programmed` and per listener `Accepted`, `Programmed`, `ResolvedRefs`, `Conflicted` with
 * the count of routes attached.
 */
import type { Condition, Diagnostic, ListenerStatus, ObjectStatus } from '../../model/table.ts';
import { isFalse, isTrue } from './conditions.ts';
import type { OurGateway } from './gateways.ts';
import { listenerSetConditions } from './listener-sets.ts';
import { GATEWAY_API_GROUP } from './names.ts';
import { REFERENCE_REASONS, type RouteProblem } from './route-problems.ts';
import type { RouteRecord } from './routes.ts';

/** Back-half diagnostic codes on a route and the ResolvedRefs reason each means. */
const BACK_HALF_REASONS: Readonly<Record<string, RouteProblem['reason']>> = {
  ServiceNotFound: 'BackendNotFound',
  ServicePortNotFound: 'BackendNotFound',
  ServiceInvalid: 'BackendNotFound',
  ServicePortProtocolUnsupported: 'UnsupportedProtocol',
  ServiceTypeUnsupported: 'UnsupportedProtocol',
  RouteExtensionRefNotFound: 'BackendNotFound',
};

/** The status of one route, from its record and its diagnostics from the back half. */
export function routeStatus(record: RouteRecord, diagnostics: readonly Diagnostic[]): ObjectStatus {
  const { id } = record.owner;
  const references = [
    ...record.problems.filter((p) => REFERENCE_REASONS.has(p.reason)).map((p) => ({ reason: p.reason, message: p.message })),
    ...diagnostics.flatMap((d) => (BACK_HALF_REASONS[d.code] === undefined ? [] : [{ reason: BACK_HALF_REASONS[d.code]!, message: d.message }])),
  ];
  const dropped = record.problems.filter((p) => !REFERENCE_REASONS.has(p.reason));
  const resolved: Condition =
    references[0] === undefined
      ? isTrue('ResolvedRefs', 'ResolvedRefs', 'All references are resolved.')
      : isFalse('ResolvedRefs', references[0].reason, references.map((r) => r.message).join('; '));
  const parents = record.parents.map((parent) => {
    let accepted = parent.accepted;
    if (accepted.status === 'True' && record.rulesKept === 0 && dropped[0] !== undefined) accepted = isFalse('Accepted', dropped[0].reason, dropped.map((p) => p.message).join('; '));
    const conditions: Condition[] = [accepted, resolved];
    if (accepted.status === 'True' && record.rulesKept < record.rules && dropped[0] !== undefined) conditions.push(isTrue('PartiallyInvalid', dropped[0].reason, dropped.map((p) => p.message).join('; ')));
    return { parentRef: parent.ref, conditions };
  });
  return { kind: record.kind, namespace: id.namespace, name: id.name, ...(id.generation === undefined ? {} : { generation: id.generation }), conditions: [], parents };
}

/** The status of one Gateway, given how many routes attached to each of its listeners. */
export function gatewayStatus(gateway: OurGateway, attached: ReadonlyMap<string, number>, attachedSets = 0): ObjectStatus {
  const { id } = gateway.owner;
  const generation = id.generation === undefined ? {} : { generation: id.generation };
  if (gateway.parent !== undefined) return { kind: 'ListenerSet', namespace: id.namespace, name: id.name, ...generation, conditions: listenerSetConditions(gateway), listeners: listenerStatuses(gateway, attached) };
  if (gateway.refused !== null && (gateway.refused.reason === 'AddressNotUsable' || gateway.refused.reason === 'AddressNotAssigned')) {
    // Accepted as written; it cannot be programmed without its address.
    return { kind: 'Gateway', namespace: id.namespace, name: id.name, ...generation, conditions: [isTrue('Accepted', 'Accepted', 'The Gateway is accepted.'), isFalse('Programmed', gateway.refused.reason, gateway.refused.message)], listeners: [] };
  }
  if (gateway.refused !== null) {
    return { kind: 'Gateway', namespace: id.namespace, name: id.name, ...generation, conditions: [isFalse('Accepted', gateway.refused.reason, gateway.refused.message), isFalse('Programmed', 'Invalid', gateway.refused.message)], listeners: [] };
  }
  const listeners = listenerStatuses(gateway, attached);
  const invalid = gateway.listeners.filter((l) => !l.accepted);
  const programmed = gateway.listeners.filter((l) => l.programmed);
  const accepted =
    gateway.listeners.length === 0
      ? isFalse('Accepted', 'ListenersNotValid', 'The Gateway has no listener.')
      : invalid.length === 0
        ? isTrue('Accepted', 'Accepted', 'The Gateway is accepted.')
        : isTrue('Accepted', 'ListenersNotValid', `Listeners ${invalid.map((l) => l.name).join(', ')} are not valid; the others are served.`);
  const finalAccepted = invalid.length === gateway.listeners.length && gateway.listeners.length > 0 ? isFalse('Accepted', 'ListenersNotValid', 'No listener of the Gateway is valid.') : accepted;
  const programmedCondition = programmed.length > 0 ? isTrue('Programmed', 'Programmed', 'The Gateway is served.') : isFalse('Programmed', 'Invalid', 'No listener of the Gateway can be served.');
  const addresses = gateway.address === undefined ? {} : { addresses: [{ type: 'IPAddress' as const, value: gateway.address }] };
  // Present only while some port lets unverified clients through; gone once every port is AllowValidOnly again.
  const insecure = gateway.insecureFrontendValidation === true ? [isTrue('InsecureFrontendValidationMode', 'ConfigurationChanged', 'spec.tls.frontend lets clients without a valid certificate through (AllowInsecureFallback).')] : [];
  // Present only while spec.tls.backend names a client certificate: whether it could be used.
  const backend = gateway.backendCertificate === undefined ? [] : [gateway.backendCertificate.resolvedRefs];
  return { kind: 'Gateway', namespace: id.namespace, name: id.name, ...generation, conditions: [finalAccepted, programmedCondition, ...insecure, ...backend], listeners, attachedListenerSets: attachedSets, ...addresses };
}

function listenerStatuses(gateway: OurGateway, attached: ReadonlyMap<string, number>): ListenerStatus[] {
  return gateway.listeners.map((l) => ({
    name: l.name,
    supportedKinds: l.kinds.map((kind) => ({ group: GATEWAY_API_GROUP, kind })),
    attachedRoutes: attached.get(l.tableName) ?? 0,
    conditions: l.conditions,
  }));
}

/** How many routes attached to each table listener: a route counts once per listener. */
export function attachedRoutes(records: readonly RouteRecord[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const record of records) {
    if (record.rulesKept === 0) continue;
    const listeners = new Set(record.parents.flatMap((p) => p.attachments.map((a) => a.listener.tableName)));
    for (const name of listeners) counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  return counts;
}
