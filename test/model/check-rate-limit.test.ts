/**
 * `checkTable` on the RateLimit filter: what the ingress-nginx front end writes passes; limits the
 * bucket arithmetic is not exact for, statuses that are not errors and allow-list entries that are
 * not addresses are refused at the filter, naming the value.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkTable } from '../../src/model/check-table.ts';
import type { RateLimitFilter } from '../../src/model/table.ts';
import { filterMessages, oneRouteTable } from '../helpers/filter-table.ts';

const SOUND: RateLimitFilter = {
  type: 'RateLimit',
  zone: 'Ingress/shop/api',
  rates: [{ requests: 100, periodSeconds: 60, burst: 500 }, { requests: 10, periodSeconds: 1, burst: 50 }],
  connections: 4,
  allowlist: ['10.0.0.0/8', '192.0.2.7', '2001:db8::/32', '::1'],
  rateStatus: 429,
  connectionStatus: 503,
};

/** The messages checkTable gives for a route with the sound filter changed by `change`. */
function messages(change: Partial<RateLimitFilter>): string[] {
  return filterMessages({ ...SOUND, ...change } as RateLimitFilter);
}

describe('checkTable: RateLimit', () => {
  test('what the ingress-nginx front end writes passes, a connection limit alone too', () => {
    assert.deepEqual(checkTable(oneRouteTable([SOUND])), []);
    assert.deepEqual(messages({ rates: [], allowlist: [] }), []);
    assert.deepEqual(messages({ connections: null, rates: [{ requests: 1, periodSeconds: 1, burst: 0 }] }), []);
  });

  test('refuses limits out of range, and a filter that limits nothing', () => {
    assert.match(messages({ rates: [{ requests: 0, periodSeconds: 1, burst: 0 }] }).join('\n'), /requests 0 is not a whole number from 1/);
    assert.match(messages({ rates: [{ requests: 1.5, periodSeconds: 1, burst: 0 }] }).join('\n'), /requests 1.5/);
    assert.match(messages({ rates: [{ requests: 1, periodSeconds: 30 as 1, burst: 0 }] }).join('\n'), /period 30 is not 1 or 60/);
    assert.match(messages({ rates: [{ requests: 1, periodSeconds: 1, burst: -1 }] }).join('\n'), /burst -1/);
    assert.match(messages({ rates: [{ requests: 1, periodSeconds: 1, burst: 0 }, { requests: 2, periodSeconds: 1, burst: 0 }] }).join('\n'), /two rates per 1 s/);
    assert.match(messages({ connections: 0 }).join('\n'), /connections 0/);
    assert.deepEqual(messages({ rates: [], connections: null }), ['rate limit has neither a rate nor a connection limit']);
    assert.deepEqual(messages({ zone: '' }), ['rate limit zone is empty']);
  });

  test('refuses statuses that are not errors', () => {
    assert.deepEqual(messages({ rateStatus: 302 }), ['rate limit rateStatus 302 is not a status from 400 to 599']);
    assert.deepEqual(messages({ connectionStatus: 600 }), ['rate limit connectionStatus 600 is not a status from 400 to 599']);
  });

  test('refuses allow-list entries that are not addresses or CIDRs', () => {
    assert.deepEqual(messages({ allowlist: ['10.0.0.0/33', 'example.com', '10.0.0.300', '2001:db8::/129', '10.0.0.0/8/8'] }), [
      'rate limit allowlist entry "10.0.0.0/33" has a prefix length out of range for IPv4',
      'rate limit allowlist entry "example.com" is not an IP address or CIDR',
      'rate limit allowlist entry "10.0.0.300" is not an IP address or CIDR',
      'rate limit allowlist entry "2001:db8::/129" has a prefix length out of range for IPv6',
      'rate limit allowlist entry "10.0.0.0/8/8" is not an IP address or CIDR',
    ]);
  });
});
