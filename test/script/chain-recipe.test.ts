/**
 * The chain recipe of docs/routescripts.md ("Auth, then a beta backend"), run as the proxy runs a
 * chain: compiled with an Ingress and Services around it (the order of its scripts is the table's),
 * then each script's onRequest in that order, a later one seeing the request as the earlier left it
 * and an answer ending the chain. `signalbox script test` (the docs test) runs one script only.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import YAML from 'yaml';
import { compile } from '../../src/compile/compile.ts';
import { snapshotFromObjects } from '../../src/compile/snapshot-from-objects.ts';
import { DEFAULT_COMPILE_OPTIONS } from '../../src/model/snapshot.ts';
import type { CompiledScript } from '../../src/model/table.ts';
import { RouteState } from '../../src/script/route-state.ts';
import type { Decision, ScriptRequest } from '../../src/script/types.ts';
import { decisionOf, request, testEngine } from './builders.ts';

const doc = readFileSync(join(import.meta.dirname, '../../docs/routescripts.md'), 'utf8');
const recipe = /^```yaml title=api-chain\.yaml\n([\s\S]*?)^```$/m.exec(doc)?.[1];

const cluster = (name: string): object[] => [{ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'shop' }, spec: { ports: [{ port: 80 }] } }];
const around = [
  { apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: 'signalbox' }, spec: { controller: 'signalbox.dev/ingress-controller' } },
  {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name: 'storefront', namespace: 'shop' },
    spec: {
      ingressClassName: 'signalbox',
      rules: [{ host: 'shop.example', http: { paths: [
        { path: '/api', pathType: 'Prefix', backend: { service: { name: 'storefront-api', port: { number: 80 } } } },
        { path: '/', pathType: 'Prefix', backend: { service: { name: 'storefront', port: { number: 80 } } } },
      ] } }],
    },
  },
  ...cluster('storefront'), ...cluster('storefront-api'), ...cluster('storefront-api-beta'),
];

/** The request as the next script of a chain sees it: the decision's header edits and rewrite applied. */
function edited(req: ScriptRequest, decision: Decision | null): ScriptRequest {
  if (decision === null) return req;
  const headers: Record<string, string> = { ...req.headers };
  for (const name of decision.removeHeaders ?? []) delete headers[name];
  Object.assign(headers, decision.setHeaders ?? {});
  return { ...req, headers, path: decision.rewrite?.path ?? req.path, host: decision.rewrite?.host?.replace(/:\d+$/, '') ?? req.host };
}

describe('the chain recipe', () => {
  assert.ok(recipe !== undefined, 'the recipe is in docs/routescripts.md');
  const objects = YAML.parseAllDocuments(recipe).map((d) => d.toJS() as unknown);
  const result = compile(snapshotFromObjects([...around, ...objects]).snapshot, DEFAULT_COMPILE_OPTIONS);
  const { engine } = testEngine();
  after(() => engine.dispose());
  const load = (script: CompiledScript) =>
    engine.load({ id: script.name, code: script.code, data: script.data, limits: { ...script.limits, timeoutMs: 1000 }, backends: Object.keys(script.backends) });

  test('on /api the auth script runs first, then the Service script; elsewhere neither', () => {
    const routes = result.table.virtualHosts[0]!.routes;
    const api = routes.find((r) => r.match.path.value === '/api')!;
    assert.deepEqual(api.filters, [{ type: 'RouteScript', script: 'shop/api-auth' }, { type: 'RouteScript', script: 'shop/beta-users' }]);
    assert.deepEqual(routes.find((r) => r.match.path.value === '/')!.filters, []);
  });

  /** Runs the /api route's chain for `req`: each decision, until one answers. */
  async function chain(req: ScriptRequest): Promise<(Decision | null)[]> {
    const api = result.table.virtualHosts[0]!.routes.find((r) => r.match.path.value === '/api')!;
    const decisions: (Decision | null)[] = [];
    let seen = req;
    for (const filter of api.filters) {
      if (filter.type !== 'RouteScript') continue;
      const script = load(result.table.scripts[filter.script]!);
      await script.ready;
      const decision = decisionOf(await engine.run(script, seen, new RouteState())) as Decision | null;
      decisions.push(decision);
      if (decision?.respond !== undefined || decision?.redirect !== undefined) break;
      seen = edited(seen, decision);
    }
    return decisions;
  }

  test("bob's key makes him x-user bob, which sends him to the beta backend; his key is not passed on", async () => {
    const decisions = await chain(request({ path: '/api/orders', headers: { 'x-api-key': 'k-bob' } }));
    assert.deepEqual(decisions, [{ setHeaders: { 'x-user': 'bob' }, removeHeaders: ['x-api-key'] }, { backend: 'beta' }]);
  });

  test('alice stays on the route, and a client cannot claim x-user itself past the auth script', async () => {
    assert.deepEqual(await chain(request({ path: '/api/orders', headers: { 'x-api-key': 'k-alice' } })), [{ setHeaders: { 'x-user': 'alice' }, removeHeaders: ['x-api-key'] }, null]);
    assert.deepEqual(await chain(request({ path: '/api/orders', headers: { 'x-api-key': 'k-alice', 'x-user': 'bob' } })), [{ setHeaders: { 'x-user': 'alice' }, removeHeaders: ['x-api-key'] }, null]);
  });

  test('without a valid key the chain ends at the 401: the beta script does not run', async () => {
    assert.deepEqual(await chain(request({ path: '/api/orders', headers: {} })), [{ respond: { status: 401, body: 'unknown API key\n' } }]);
  });
});
