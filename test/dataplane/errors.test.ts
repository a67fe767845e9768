import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { request } from 'undici';
import { ingress, ingressClass, removeDir, serviceWithEndpoints, tempManifestDir, writeManifests } from '../helpers/manifests.ts';
import { startProxy, type TestProxy } from '../helpers/proxy.ts';
import { deadPort, startUpstream, type TestUpstream } from '../helpers/upstreams.ts';

describe('errors a user can tell apart', () => {
  let dir: string;
  let proxy: TestProxy;
  let slow: TestUpstream;
  let rude: TestUpstream;
  const rudeSockets = new Set<import('node:net').Socket>();

  before(async () => {
    slow = await startUpstream('slow', () => {
      /* never answers: the proxy's response-header timeout must fire */
    });
    rude = await startUpstream('rude', (req) => req.socket.destroy());
    rude.server.on('connection', (s) => rudeSockets.add(s));
    dir = await tempManifestDir();
    await writeManifests(dir, 'all.yaml', [
      ingressClass(),
      // Pausing off: the 503 comes at once (pausing has tests of its own).
      ...serviceWithEndpoints('notready', [{ port: 1, ready: false, serving: false }], 'default', { 'signalbox.dev/pause-max-wait': '0' }),
      ...serviceWithEndpoints('refused', [{ port: await deadPort() }]),
      ...serviceWithEndpoints('slow', [{ port: slow.port }]),
      ...serviceWithEndpoints('rude', [{ port: rude.port }]),
      ingress('errors', 'errors.test', [
        { path: '/notready', service: 'notready' },
        { path: '/refused', service: 'refused' },
        { path: '/slow', service: 'slow' },
        { path: '/rude', service: 'rude' },
        { path: '/missing', service: 'no-such-service' },
      ]),
    ]);
    proxy = await startProxy(dir, { timeouts: { responseHeadersMs: 300 } });
  });

  after(async () => {
    await proxy?.stop();
    await slow.close();
    await rude.close();
    await removeDir(dir);
  });

  const cases: [path: string, host: string, status: number, reason: string][] = [
    ['/elsewhere', 'unknown.test', 404, 'no-route'],
    ['/notready', 'errors.test', 503, 'no-endpoint'],
    ['/missing', 'errors.test', 503, 'no-endpoint'],
    ['/refused', 'errors.test', 502, 'upstream-refused'],
    ['/rude', 'errors.test', 502, 'upstream-reset'],
    ['/slow', 'errors.test', 504, 'upstream-timeout'],
  ];
  for (const [path, host, status, reason] of cases) {
    it(`${host}${path} → ${status} ${reason}`, async () => {
      const res = await request(`${proxy.http}${path}`, { headers: { host } });
      const body = await res.body.text();
      assert.equal(res.statusCode, status);
      assert.equal(res.headers['server'], 'signalbox');
      assert.equal(res.headers['x-signalbox-error'], reason);
      assert.ok(body.startsWith(`${status} `), body);
      assert.ok(body.length < 100, 'the body is short');
    });
  }

  it('counts every error in the metrics, by reason and by status', async () => {
    const res = await request(`${proxy.admin}/metrics`);
    const text = await res.body.text();
    for (const [, , status, reason] of cases) {
      assert.match(text, new RegExp(`signalbox_proxy_errors_total\\{reason="${reason}"\\} [1-9]`), reason);
      assert.match(text, new RegExp(`signalbox_http_requests_total\\{[^}]*code="${status}"\\} [1-9]`), String(status));
    }
  });
});
