import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { request } from 'undici';
import { startSingleRoute } from '../helpers/single-route.ts';

describe('graceful stop', () => {
  it('lets a request in flight finish, then refuses new connections', async () => {
    const env = await startSingleRoute('slow', (req, res) => {
      req.resume();
      setTimeout(() => res.end('finished'), 400);
    }, { graceMs: 5_000 });
    let closed = false;
    try {
      const inFlight = request(`${env.proxy.http}/slow`, { headers: { host: 'a.test' } });
      while (env.up.seen.length === 0) await new Promise((r) => setTimeout(r, 10));
      const stopped = env.proxy.stop();
      const res = await inFlight;
      assert.equal(res.statusCode, 200);
      assert.equal(await res.body.text(), 'finished');
      // The idle keep-alive connection is closed as soon as its response ends: no waiting out the grace.
      const outcome = await Promise.race([stopped.then(() => 'stopped'), new Promise((r) => setTimeout(() => r('still waiting'), 4_000))]);
      assert.equal(outcome, 'stopped');
      closed = true;
      await assert.rejects(request(`${env.proxy.http}/again`, { headers: { host: 'a.test' } }), /ECONNREFUSED/);
    } finally {
      if (!closed) await env.proxy.stop();
      await env.close();
    }
  });
});
