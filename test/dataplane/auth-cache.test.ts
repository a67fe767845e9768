/** The auth answer cache on its own, with an injected clock: expiry, the bound, what is never kept. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AuthCache, MAX_KEYS } from '../../src/dataplane/lifecycle/filters/auth-cache.ts';

const answer = (status: number, headers: Record<string, string | string[]> = {}) => ({ kind: 'answer' as const, status, headers });

describe('AuthCache', () => {
  it('keeps an answer for its rule’s time, by status, and not a status no rule names', () => {
    let now = 0;
    const cache = new AuthCache({ key: '$http_authorization', rules: [{ statuses: [200], ttlMs: 1_000 }, { statuses: [401], ttlMs: 100 }] }, () => now);
    cache.put('a', answer(200));
    cache.put('b', answer(401));
    cache.put('c', answer(403));
    now = 99;
    assert.equal(cache.get('a')?.status, 200);
    assert.equal(cache.get('b')?.status, 401);
    assert.equal(cache.get('c'), null);
    now = 100;
    assert.equal(cache.get('b'), null, 'the 401 rule’s time is over');
    now = 999;
    assert.equal(cache.get('a')?.status, 200);
    now = 1_000;
    assert.equal(cache.get('a'), null);
  });

  it('never keeps an answer with Set-Cookie or Cache-Control no-store, no-cache or private', () => {
    const cache = new AuthCache({ key: '$remote_user', rules: [{ statuses: [200], ttlMs: 1_000 }] }, () => 0);
    cache.put('cookie', answer(200, { 'set-cookie': 'session=1' }));
    cache.put('no-store', answer(200, { 'cache-control': 'no-store' }));
    cache.put('private', answer(200, { 'cache-control': 'max-age=60, private' }));
    cache.put('public', answer(200, { 'cache-control': 'max-age=60' }));
    assert.equal(cache.size, 1);
    assert.notEqual(cache.get('public'), null);
  });

  it('holds at most MAX_KEYS answers, dropping the oldest first', () => {
    const cache = new AuthCache({ key: '$remote_user', rules: [{ statuses: [200], ttlMs: 1_000 }] }, () => 0);
    for (let i = 0; i <= MAX_KEYS; i++) cache.put(`k${i}`, answer(200));
    assert.equal(cache.size, MAX_KEYS);
    assert.equal(cache.get('k0'), null);
    assert.notEqual(cache.get('k1'), null);
    assert.notEqual(cache.get(`k${MAX_KEYS}`), null);
  });
});
