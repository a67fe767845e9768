import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ingress, routeScript } from '../helpers/manifests.ts';
import { send, startScripted, type ScriptedEnv } from '../helpers/scripted.ts';
import { editRoutes } from '../helpers/table-edits.ts';

describe('several RouteScripts on one route', () => {
  let env: ScriptedEnv;

  before(async () => {
    env = await startScripted({
      upstreams: { app: null, alt: null },
      objects: () => [
        ingress('app', 'app.test', [{ path: '/', service: 'app' }]),
        routeScript('first', {
          targetRefs: [{ kind: 'Ingress', name: 'app' }],
          backends: { alt: { service: { name: 'alt', port: { number: 80 } } } },
          code: `export function onRequest(req) {
            if (req.headers['x-stop'] !== undefined) return { respond: { status: 403, body: 'stopped by first' } };
            return { backend: 'alt', setHeaders: { 'x-order': 'first', 'x-first': 'ran' } };
          }`,
        }),
        // Targets nothing of its own: the table lists it, and the edit below puts it on the route.
        routeScript('second', {
          targetRefs: [{ kind: 'Ingress', name: 'none' }],
          code: `export function onRequest(req) { return { setHeaders: { 'x-order': 'second', 'x-second-saw': req.path } }; }`,
        }),
      ],
      proxy: {
        editTable: editRoutes({
          '/': (route) => ({
            filters: [
              ...route.filters,
              { type: 'URLRewrite', path: { type: 'ReplacePrefixMatch', value: '/rewritten' } },
              { type: 'RouteScript', script: 'default/second' },
            ],
          }),
        }),
      },
    });
  });
  after(() => env.close());

  it('runs them in order, each on the request as the filters before it left it; the last edit and backend decided win', async () => {
    const res = await send(env.proxy, 'app.test', '/page');
    assert.equal(res.status, 200);
    assert.match(res.body, /^alt GET \/rewritten\/page/, 'the first script’s backend stands: the second chose none');
    const seen = env.ups.alt!.seen.at(-1)!;
    assert.equal(seen.headers['x-first'], 'ran');
    assert.equal(seen.headers['x-order'], 'second');
    assert.equal(seen.headers['x-second-saw'], '/rewritten/page');
  });

  it('a respond ends the chain: the scripts after it do not run', async () => {
    const before = env.ups.alt!.seen.length + env.ups.app!.seen.length;
    const res = await send(env.proxy, 'app.test', '/page', { 'x-stop': '1' });
    assert.equal(res.status, 403);
    assert.equal(res.body, 'stopped by first');
    assert.equal(env.ups.alt!.seen.length + env.ups.app!.seen.length, before);
  });
});
