/**
 * How the status writer merges the compile's Gateway API statuses into what the cluster holds:
 * other controllers' route parents and foreign condition types stay as they are, ours are
 * replaced (or dropped once the compile lists them no more), times move only with a status, every
 * condition carries the object's generation, and a copy staler than what is written is left alone.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { canonical, gatewayClassStatus, gatewayStatus, routeParentsStatus, type CurrentObject } from '../../src/controller/gateway-status-merge.ts';
import { supportedVersionCondition } from '../../src/controller/gateway-bundle-version.ts';
import type { Condition, ObjectStatus, RouteParentStatus } from '../../src/model/table.ts';

const OURS = 'signalbox.dev/gateway-controller';
const FOREIGN = 'example.com/other-controller';
const EARLIER = '2026-01-01T00:00:00Z';
const NOW = '2026-12-03T12:00:00Z';

const accepted = (status: Condition['status'] = 'True', reason = 'Accepted'): Condition => ({ type: 'Accepted', status, reason, message: `${reason}.` });
const resolved: Condition = { type: 'ResolvedRefs', status: 'True', reason: 'ResolvedRefs', message: 'All references resolved.' };

function parent(name: string, conditions: readonly Condition[], sectionName?: string): RouteParentStatus {
  return { parentRef: { group: 'gateway.networking.k8s.io', kind: 'Gateway', namespace: 'shop', name, ...(sectionName === undefined ? {} : { sectionName }) }, conditions };
}

function route(generation: number, parents: unknown[]): CurrentObject {
  return { metadata: { generation, resourceVersion: '41' }, status: { parents } };
}

const foreignEntry = {
  parentRef: { group: 'gateway.networking.k8s.io', kind: 'Gateway', namespace: 'shop', name: 'theirs' },
  controllerName: FOREIGN,
  conditions: [{ type: 'Accepted', status: 'True', reason: 'Accepted', message: 'theirs', observedGeneration: 1, lastTransitionTime: EARLIER }],
};

describe('route status.parents', () => {
  test("another controller's entry is kept as it is; ours are written with controllerName and the route's generation", () => {
    const patch = routeParentsStatus(route(3, [foreignEntry]), 3, [parent('web', [accepted(), resolved])], OURS, NOW);
    assert.deepEqual(patch, {
      parents: [
        foreignEntry,
        {
          parentRef: { group: 'gateway.networking.k8s.io', kind: 'Gateway', namespace: 'shop', name: 'web' },
          controllerName: OURS,
          conditions: [
            { type: 'Accepted', status: 'True', reason: 'Accepted', message: 'Accepted.', observedGeneration: 3, lastTransitionTime: NOW },
            { type: 'ResolvedRefs', status: 'True', reason: 'ResolvedRefs', message: 'All references resolved.', observedGeneration: 3, lastTransitionTime: NOW },
          ],
        },
      ],
    });
  });

  test('an unchanged status keeps its lastTransitionTime and, when nothing else changed, nothing is written', () => {
    const first = routeParentsStatus(route(3, [foreignEntry]), 3, [parent('web', [accepted()])], OURS, EARLIER)!;
    const written = route(3, first.parents as unknown[]);
    assert.equal(routeParentsStatus(written, 3, [parent('web', [accepted()])], OURS, NOW), null);
    // A new generation: observedGeneration moves, the time does not (the status is the same).
    const bumped = routeParentsStatus({ ...written, metadata: { generation: 4 } }, 4, [parent('web', [accepted()])], OURS, NOW)!;
    const condition = (bumped.parents as { controllerName: string; conditions: { observedGeneration: number; lastTransitionTime: string }[] }[]).find((p) => p.controllerName === OURS)!.conditions[0]!;
    assert.equal(condition.observedGeneration, 4);
    assert.equal(condition.lastTransitionTime, EARLIER);
    // The status flips: the time moves.
    const flipped = routeParentsStatus(written, 3, [parent('web', [accepted('False', 'NotAllowedByListeners')])], OURS, NOW)!;
    const again = (flipped.parents as { controllerName: string; conditions: { lastTransitionTime: string; reason: string }[] }[]).find((p) => p.controllerName === OURS)!.conditions[0]!;
    assert.deepEqual([again.reason, again.lastTransitionTime], ['NotAllowedByListeners', NOW]);
  });

  test('our entries are matched per parentRef: a listener of its own keeps its own times', () => {
    const first = routeParentsStatus(route(1, []), 1, [parent('web', [accepted()], 'http'), parent('web', [accepted()], 'https')], OURS, EARLIER)!;
    const next = routeParentsStatus(route(1, first.parents as unknown[]), 1, [parent('web', [accepted()], 'http'), parent('web', [accepted('False', 'NoMatchingListenerHostname')], 'https')], OURS, NOW)!;
    const times = (next.parents as { parentRef: { sectionName: string }; conditions: { lastTransitionTime: string }[] }[]).map((p) => [p.parentRef.sectionName, p.conditions[0]!.lastTransitionTime]);
    assert.deepEqual(times, [['http', EARLIER], ['https', NOW]]);
  });

  test('ours that the compile no longer lists are dropped; a route that is not ours any more loses only our entries', () => {
    const first = routeParentsStatus(route(2, [foreignEntry]), 2, [parent('a', [accepted()]), parent('b', [accepted()])], OURS, EARLIER)!;
    const onlyA = routeParentsStatus(route(2, first.parents as unknown[]), 2, [parent('a', [accepted()])], OURS, NOW)!;
    assert.deepEqual((onlyA.parents as { parentRef: { name: string } }[]).map((p) => p.parentRef.name), ['theirs', 'a']);
    assert.deepEqual(routeParentsStatus(route(2, first.parents as unknown[]), 2, null, OURS, NOW), { parents: [foreignEntry] });
    // Nothing of ours: nothing to write.
    assert.equal(routeParentsStatus(route(2, [foreignEntry]), 2, null, OURS, NOW), null);
    assert.equal(routeParentsStatus(route(2, []), 2, [], OURS, NOW), null);
  });

  test('a copy staler than our last write (a condition of a newer generation) is not overwritten', () => {
    const newer = { ...foreignEntry, controllerName: OURS, conditions: [{ ...foreignEntry.conditions[0], observedGeneration: 5 }] };
    assert.equal(routeParentsStatus(route(4, [newer]), 4, [parent('theirs', [accepted('False', 'NoMatchingParent')])], OURS, NOW), null);
  });

  test('at most 32 entries, the other controllers\' first', () => {
    const others = Array.from({ length: 30 }, (_, i) => ({ ...foreignEntry, parentRef: { ...foreignEntry.parentRef, name: `g${i}` } }));
    const patch = routeParentsStatus(route(1, others), 1, ['a', 'b', 'c'].map((n) => parent(n, [accepted()])), OURS, NOW)!;
    assert.equal((patch.parents as unknown[]).length, 32);
  });
});

const gatewayClass: ObjectStatus = { kind: 'GatewayClass', namespace: '', name: 'signalbox', generation: 1, conditions: [accepted()] };

describe('GatewayClass and Gateway status', () => {
  test('a GatewayClass gets Accepted and SupportedVersion; a foreign condition type stays where it is', () => {
    const current: CurrentObject = {
      metadata: { generation: 2 },
      status: { conditions: [
        { type: 'Accepted', status: 'Unknown', reason: 'Pending', message: 'Waiting for controller', observedGeneration: 0, lastTransitionTime: '1970-01-01T00:00:00Z' },
        { type: 'example.com/Audited', status: 'True', reason: 'Audited', message: 'x', observedGeneration: 2, lastTransitionTime: EARLIER },
      ] },
    };
    const patch = gatewayClassStatus(current, gatewayClass, [supportedVersionCondition('v1.6.3')], NOW)!;
    const conditions = patch.conditions as { type: string; status: string; reason: string; observedGeneration: number }[];
    assert.deepEqual(conditions.map((c) => [c.type, c.status, c.reason, c.observedGeneration]), [
      ['Accepted', 'True', 'Accepted', 2],
      ['example.com/Audited', 'True', 'Audited', 2],
      ['SupportedVersion', 'True', 'SupportedVersion', 2],
    ]);
    assert.equal(gatewayClassStatus({ ...current, status: patch }, gatewayClass, [supportedVersionCondition('v1.6.3')], NOW), null);
  });

  test('SupportedVersion is True for any v1.6 patch release only', () => {
    assert.equal(supportedVersionCondition('v1.6.0').status, 'True');
    assert.deepEqual([supportedVersionCondition('v1.7.0').status, supportedVersionCondition('v1.7.0').reason], ['False', 'UnsupportedVersion']);
    assert.match(supportedVersionCondition('v1.5.1').message, /v1\.5\.1; signalbox supports v1\.6\.x/);
    assert.equal(supportedVersionCondition(null).status, 'False');
  });

  test('a Gateway: listeners replaced with their times kept per listener; addresses the compile\'s, else the published ones, else left alone', () => {
    const listener = (name: string, ok: boolean) => ({
      name,
      supportedKinds: [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute' }],
      attachedRoutes: ok ? 2 : 0,
      conditions: [ok ? accepted() : accepted('False', 'UnsupportedProtocol')],
    });
    const gateway: ObjectStatus = { kind: 'Gateway', namespace: 'shop', name: 'web', generation: 7, conditions: [accepted(), { type: 'Programmed', status: 'True', reason: 'Programmed', message: 'ok' }], listeners: [listener('http', true), listener('udp', false)] };
    const published = [{ type: 'IPAddress' as const, value: '203.0.113.7' }];
    const first = gatewayStatus({ metadata: { generation: 7 } }, gateway, published, EARLIER)!;
    assert.deepEqual(first.addresses, published);
    assert.deepEqual((first.listeners as { name: string; attachedRoutes: number }[]).map((l) => [l.name, l.attachedRoutes]), [['http', 2], ['udp', 0]]);
    const current: CurrentObject = { metadata: { generation: 7 }, status: first };
    assert.equal(gatewayStatus(current, gateway, published, NOW), null);
    // The udp listener comes good: its time moves, http's stays.
    const next = gatewayStatus(current, { ...gateway, listeners: [listener('http', true), listener('udp', true)] }, published, NOW)!;
    assert.deepEqual((next.listeners as { name: string; conditions: { lastTransitionTime: string }[] }[]).map((l) => [l.name, l.conditions[0]!.lastTransitionTime]), [['http', EARLIER], ['udp', NOW]]);
    // The compile's addresses win; with none known, addresses are not part of the patch.
    assert.deepEqual(gatewayStatus(current, { ...gateway, addresses: [{ type: 'Hostname', value: 'lb.example.com' }] }, published, NOW)!.addresses, [{ type: 'Hostname', value: 'lb.example.com' }]);
    assert.equal('addresses' in (gatewayStatus({ metadata: { generation: 7 } }, gateway, null, NOW) ?? {}), false);
  });

  test('comparison ignores the order of fields the API server returns', () => {
    assert.equal(canonical({ b: 1, a: { d: [1, { z: 1, y: 2 }], c: null } }), canonical({ a: { c: null, d: [1, { y: 2, z: 1 }] }, b: 1 }));
  });
});
