import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MAX_TTL_MS, RouteState } from '../../src/script/route-state.ts';
import { entryBytes, StateStore } from '../../src/script/state-store.ts';
import { ManualClock } from './builders.ts';

describe('RouteState', () => {
  test('get, set and delete strings and numbers', () => {
    const state = new RouteState();
    assert.equal(state.get('a'), null);
    state.set('a', 'x');
    state.set('b', 2.5);
    assert.equal(state.get('a'), 'x');
    assert.equal(state.get('b'), 2.5);
    assert.equal(state.delete('a'), true);
    assert.equal(state.delete('a'), false);
    assert.equal(state.get('a'), null);
  });

  test('a TTL expires the key on the injected clock', () => {
    const clock = new ManualClock();
    const state = new RouteState({ now: clock.read });
    state.set('flag', 'on', 1000);
    clock.advance(999);
    assert.equal(state.get('flag'), 'on');
    clock.advance(1);
    assert.equal(state.get('flag'), null);
    state.set('flag', 'on', 1000);
    state.set('flag', 'off'); // a set without TTL replaces the TTL too
    clock.advance(5000);
    assert.equal(state.get('flag'), 'off');
  });

  test('incr counts in fixed windows: the first incr sets the TTL, later ones keep it', () => {
    const clock = new ManualClock();
    const state = new RouteState({ now: clock.read });
    assert.equal(state.incr('ip:1', 1, 1000), 1);
    clock.advance(600);
    assert.equal(state.incr('ip:1', 1, 1000), 2);
    assert.equal(state.incr('ip:1', 5, 1000), 7);
    clock.advance(400); // the window that started at 0 ends at 1000
    assert.equal(state.incr('ip:1', 1, 1000), 1);
    assert.equal(state.incr('n'), 1);
    assert.equal(state.incr('n', -3), -2);
  });

  test('incr of a string is a TypeError', () => {
    const state = new RouteState();
    state.set('s', 'text');
    assert.throws(() => state.incr('s'), TypeError);
  });

  test('bad keys, values and TTLs are TypeErrors', () => {
    const state = new RouteState({ maxKeyLength: 8, maxValueLength: 4 });
    assert.throws(() => state.get(''), TypeError);
    assert.throws(() => state.get('123456789'), TypeError);
    assert.throws(() => state.set('k', 'toolong'), TypeError);
    assert.throws(() => state.set('k', Number.NaN), TypeError);
    assert.throws(() => state.set('k', {} as unknown as string), TypeError);
    assert.throws(() => state.set('k', 1, 0), TypeError);
    assert.throws(() => state.set('k', 1, MAX_TTL_MS + 1), TypeError);
    assert.throws(() => state.incr('k', Infinity), TypeError);
    assert.throws(() => state.incr(7 as unknown as string), TypeError);
  });

  test('beyond maxKeys the least recently used key goes', () => {
    const state = new RouteState({ maxKeys: 3 });
    state.set('a', 1);
    state.set('b', 2);
    state.set('c', 3);
    state.get('a'); // a is now the most recent; b is the least
    state.set('d', 4);
    assert.equal(state.size, 3);
    assert.equal(state.get('b'), null);
    assert.equal(state.get('a'), 1);
    assert.equal(state.get('c'), 3);
    assert.equal(state.get('d'), 4);
  });

  test('the default bound is 10,000 keys', () => {
    const state = new RouteState();
    for (let i = 0; i < 10_050; i++) state.incr(`k${i}`);
    assert.equal(state.size, 10_000);
    assert.equal(state.get('k0'), null);
    assert.equal(state.get('k10049'), 1);
  });
});

describe('StateStore: the routes of one RouteScript share one budget', () => {
  test('routes keep their own keys in the shared store, and its bytes count them all', () => {
    const store = new StateStore({ maxBytes: 1_000_000 });
    const a = new RouteState({ store, scope: 'route/a' });
    const b = new RouteState({ store, scope: 'route/b' });
    a.set('k', 'from-a');
    b.set('k', 7);
    assert.deepEqual([a.get('k'), b.get('k'), store.size], ['from-a', 7, 2]);
    assert.equal(store.bytes, entryBytes('route/a\nk', 'from-a') + entryBytes('route/b\nk', 7));
    a.set('k', 'x'); // a replaced value counts once
    assert.equal(store.bytes, entryBytes('route/a\nk', 'x') + entryBytes('route/b\nk', 7));
    assert.equal(a.delete('k'), true);
    assert.equal(store.bytes, entryBytes('route/b\nk', 7));
  });

  test('past the budget, expired keys go first, then the least recently used of any route', () => {
    const clock = new ManualClock();
    const evictions: string[] = [];
    const store = new StateStore({ maxBytes: 3 * entryBytes('r/a\nk0', 1), now: clock.read, onEvict: (reason, n) => evictions.push(`${reason} ${n}`) });
    const a = new RouteState({ store, scope: 'r/a' });
    const b = new RouteState({ store, scope: 'r/b' });
    a.set('k0', 1);
    b.set('k1', 1, 10);
    a.set('k2', 1);
    clock.advance(10); // b's k1 has expired
    b.set('k3', 1);
    assert.deepEqual([a.get('k0'), b.get('k1'), a.get('k2'), b.get('k3')], [1, null, 1, 1]);
    assert.deepEqual(evictions, ['expired 1']);
    b.set('k4', 1); // nothing expired: the least recently used goes, a's k0
    assert.deepEqual([a.get('k0'), a.get('k2'), b.get('k3'), b.get('k4')], [null, 1, 1, 1]);
    assert.deepEqual(evictions, ['expired 1', 'budget 1']);
    assert.ok(store.bytes <= store.maxBytes);
  });

  test('a route that leaves takes its keys with it', () => {
    const store = new StateStore();
    const a = new RouteState({ store, scope: 'r/a' });
    const b = new RouteState({ store, scope: 'r/ab' });
    a.set('k', 1);
    b.set('k', 2);
    store.dropScope('r/a');
    assert.deepEqual([a.get('k'), b.get('k'), store.size], [null, 2, 1]);
    assert.equal(store.bytes, entryBytes('r/ab\nk', 2));
  });
});
