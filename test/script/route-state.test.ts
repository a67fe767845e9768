import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MAX_TTL_MS, RouteState } from '../../src/script/route-state.ts';
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
