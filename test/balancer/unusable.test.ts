import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { LB_POLICIES } from '../../src/model/policy.ts';
import { balancer, endpoints, except, hashKeys } from './builders.ts';

describe('every policy skips unusable endpoints', () => {
  const keys = [...hashKeys(2000), ...Array<null>(2000).fill(null)];

  for (const policy of LB_POLICIES) {
    test(`${policy}: never an unusable endpoint, and every usable one still gets traffic`, () => {
      const list = endpoints(6, [1, 2, 1, 3, 1, 2]);
      const usable = except(list[0]!.id, list[3]!.id);
      const b = balancer(policy, list);
      const seen = new Map<string, number>();
      for (const key of keys) {
        const e = b.pick(key, usable);
        assert.ok(e !== null && usable(e), `${policy} picked ${e?.id} for ${key}`);
        seen.set(e.id, (seen.get(e.id) ?? 0) + 1);
      }
      assert.deepEqual([...seen.keys()].sort(), [list[1]!.id, list[2]!.id, list[4]!.id, list[5]!.id].sort());
    });

    test(`${policy}: the only usable endpoint among 40 is always found`, () => {
      const list = endpoints(40);
      const only = list[29]!;
      const b = balancer(policy, list);
      for (const key of keys.slice(1990, 2010)) assert.equal(b.pick(key, (e) => e === only), only);
    });

    test(`${policy}: null when no endpoint is usable, or there are none`, () => {
      const b = balancer(policy, endpoints(8));
      for (const key of ['k', null]) assert.equal(b.pick(key, () => false), null);
      assert.equal(balancer(policy, []).pick('k', () => true), null);
      assert.equal(balancer(policy, []).pick(null, () => true), null);
    });

    test(`${policy}: with every endpoint unusable, a pick asks about each a bounded number of times`, () => {
      // Walking policies remember what they tried: once each. Drawing policies may draw an
      // endpoint again before they scan: at most their draws plus one.
      const limit = policy === 'random' ? 9 : policy === 'least-request' || policy === 'ewma' ? 5 : 1;
      const b = balancer(policy, endpoints(8));
      for (const key of ['k', null]) {
        const asked = new Map<string, number>();
        b.pick(key, (e) => (asked.set(e.id, (asked.get(e.id) ?? 0) + 1), false));
        for (const [id, times] of asked) assert.ok(times <= limit, `${id} asked ${times} times`);
        assert.equal(asked.size, 8);
      }
    });
  }
});
