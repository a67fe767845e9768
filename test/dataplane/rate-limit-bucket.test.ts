/**
 * The RateLimit filter's arithmetic on a fake clock: nginx's `limit_req ... burst=B nodelay` (B + 1
 * requests at once, then one per 1/rate seconds), two rates together, the bounded memory of a zone,
 * and zones that outlive table swaps.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RateLimitFilter } from '../../src/model/table.ts';
import { RateBuckets } from '../../src/dataplane/lifecycle/filters/rate-limit-bucket.ts';
import { RateLimitZone, RateLimitZones } from '../../src/dataplane/lifecycle/filters/rate-limit-zone.ts';

/** A clock the test moves by hand. */
function fakeClock(): { now: () => number; advance: (ms: number) => void } {
  let t = 1_000;
  return { now: () => t, advance: (ms) => (t += ms) };
}

/** How many of `n` requests from `key` are accepted now. */
function accepted(buckets: RateBuckets, key: string, n: number): number {
  let ok = 0;
  for (let i = 0; i < n; i++) if (buckets.take(key)) ok++;
  return ok;
}

const FILTER: RateLimitFilter = { type: 'RateLimit', zone: 'Ingress/shop/web', rates: [{ requests: 10, periodSeconds: 1, burst: 50 }], connections: null, allowlist: [], rateStatus: 503, connectionStatus: 503 };

describe('RateLimit buckets', () => {
  it('accepts burst + 1 requests at once, then one each 1/rate seconds, never more', () => {
    const clock = fakeClock();
    // limit-rps 10 with the default multiplier: burst 50.
    const b = new RateBuckets([{ requests: 10, periodSeconds: 1, burst: 50 }], { now: clock.now });
    assert.equal(accepted(b, '203.0.113.7', 60), 51);
    clock.advance(99);
    assert.equal(b.take('203.0.113.7'), false, 'not a whole request drained yet');
    clock.advance(1);
    assert.equal(accepted(b, '203.0.113.7', 5), 1, 'after 100 ms, one more');
    clock.advance(1_000);
    assert.equal(accepted(b, '203.0.113.7', 20), 10, 'after a second, the rate');
  });

  it('counts nothing for a refused request: a client hammering while refused recovers as fast as a patient one', () => {
    const clock = fakeClock();
    const b = new RateBuckets([{ requests: 5, periodSeconds: 1, burst: 0 }], { now: clock.now });
    assert.equal(b.take('a'), true);
    for (let i = 0; i < 19; i++) {
      clock.advance(10);
      assert.equal(b.take('a'), false);
    }
    clock.advance(10);
    assert.equal(b.take('a'), true, '200 ms after the last accepted request, whatever came between');
  });

  it('drains a per-minute rate per minute', () => {
    const clock = fakeClock();
    // limit-rpm 6 with limit-burst-multiplier 1: burst 6, then one every 10 s.
    const b = new RateBuckets([{ requests: 6, periodSeconds: 60, burst: 6 }], { now: clock.now });
    assert.equal(accepted(b, 'a', 10), 7);
    clock.advance(9_999);
    assert.equal(b.take('a'), false);
    clock.advance(1);
    assert.equal(b.take('a'), true);
  });

  it('applies both rates, and a request one of them refuses takes nothing from the other', () => {
    const clock = fakeClock();
    // limit-rps 2 and limit-rpm 3, multiplier 1: bursts 2 and 3.
    const b = new RateBuckets([{ requests: 3, periodSeconds: 60, burst: 3 }, { requests: 2, periodSeconds: 1, burst: 2 }], { now: clock.now });
    assert.equal(accepted(b, 'a', 5), 3, 'the per-second burst refuses the fourth');
    clock.advance(500);
    assert.equal(accepted(b, 'a', 3), 1, 'one drained per second-bucket; the minute one takes it as its fourth');
    clock.advance(5_000);
    assert.equal(accepted(b, 'a', 3), 0, 'the per-minute burst is spent although the per-second bucket is empty');
    clock.advance(15_000);
    assert.equal(accepted(b, 'a', 3), 1, 'one drained from the per-minute bucket after 20 s');
  });

  it('keeps one bucket per address', () => {
    const clock = fakeClock();
    const b = new RateBuckets([{ requests: 1, periodSeconds: 1, burst: 0 }], { now: clock.now });
    assert.equal(b.take('198.51.100.1'), true);
    assert.equal(b.take('198.51.100.1'), false);
    assert.equal(b.take('198.51.100.2'), true);
    assert.equal(b.take('2001:db8::1'), true);
  });

  it('remembers at most maxKeys addresses, forgetting the least recently seen first', () => {
    const clock = fakeClock();
    const b = new RateBuckets([{ requests: 1, periodSeconds: 60, burst: 0 }], { now: clock.now, maxKeys: 3 });
    for (const key of ['a', 'b', 'c']) assert.equal(b.take(key), true);
    assert.equal(b.take('a'), false, 'a is seen again (refused): now the most recent');
    assert.equal(b.take('d'), true);
    assert.equal(b.size, 3);
    assert.equal(b.take('a'), false, 'a was kept');
    assert.equal(b.take('c'), false, 'c was kept');
    assert.equal(b.take('b'), true, 'b, the least recently seen, was forgotten and starts afresh');
  });

  it('drops addresses whose buckets have drained as new ones arrive', () => {
    const clock = fakeClock();
    const b = new RateBuckets([{ requests: 10, periodSeconds: 1, burst: 5 }], { now: clock.now });
    for (let i = 0; i < 100; i++) b.take(`10.0.0.${i}`);
    assert.equal(b.size, 100);
    clock.advance(200);
    // Each newcomer sweeps up to two drained entries: 100 old ones are gone after 50 arrivals.
    for (let i = 0; i < 50; i++) b.take(`10.0.1.${i}`);
    assert.equal(b.size, 50);
  });
});

describe('RateLimit zones', () => {
  it('never limits an allow-listed address, IPv4 or IPv6', () => {
    const zone = new RateLimitZone({ ...FILTER, allowlist: ['10.0.0.0/8', '192.0.2.7', '2001:db8::/32'] });
    assert.equal(zone.allows('10.1.2.3'), true);
    assert.equal(zone.allows('192.0.2.7'), true);
    assert.equal(zone.allows('192.0.2.8'), false);
    assert.equal(zone.allows('2001:db8::42'), true);
    assert.equal(zone.allows('2001:db9::42'), false);
    assert.equal(zone.allows('unknown'), false);
  });

  it('counts requests in flight per address up to the limit', () => {
    const zone = new RateLimitZone({ ...FILTER, rates: [], connections: 2 });
    assert.equal(zone.buckets, null);
    assert.equal(zone.enter('a'), true);
    assert.equal(zone.enter('a'), true);
    assert.equal(zone.enter('a'), false);
    assert.equal(zone.enter('b'), true);
    zone.leave('a');
    assert.equal(zone.enter('a'), true);
    zone.leave('a');
    zone.leave('a');
    assert.equal(zone.inFlight('a'), 0);
  });

  it('keeps a zone across table swaps while its limits stay, and starts afresh when they change', () => {
    const clock = fakeClock();
    const zones = new RateLimitZones(clock.now);
    zones.begin();
    const first = zones.zoneFor(FILTER);
    zones.sweep();
    assert.equal(accepted(first.buckets!, 'a', 60), 51);

    // The next table: same zone and limits (another status changes no count).
    zones.begin();
    const same = zones.zoneFor({ ...FILTER, rateStatus: 429 });
    zones.sweep();
    assert.equal(same, first);
    assert.equal(same.buckets!.take('a'), false, 'the spent burst stays spent');

    // Limits changed: a new zone; the old one is dropped.
    zones.begin();
    const changed = zones.zoneFor({ ...FILTER, rates: [{ requests: 20, periodSeconds: 1, burst: 100 }] });
    zones.sweep();
    assert.notEqual(changed, first);
    assert.equal(changed.buckets!.take('a'), true);
    assert.equal(zones.size, 1);

    // A table without it drops it.
    zones.begin();
    zones.sweep();
    assert.equal(zones.size, 0);
  });
});
