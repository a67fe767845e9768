import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { removeDir, tempManifestDir, writeManifests } from '../helpers/manifests.ts';

const bin = fileURLToPath(new URL('../../bin/signalbox.js', import.meta.url));

/** The example of the issue, exactly as a user would write it. */
const TENANT_SHARDS = `apiVersion: signalbox.dev/v1alpha1
kind: RouteScript
metadata: {name: tenant-shards, namespace: shop}
spec:
  targetRefs:
  - {kind: Ingress, name: storefront}
  backends:
    shard-a: {service: {name: shop-a, port: {number: 80}}}
    shard-b: {service: {name: shop-b, port: {number: 80}}}
  data:
    shards: {"1": "shard-a", "2": "shard-b"}
  limits: {timeoutMs: 5, memoryMiB: 16}
  failurePolicy: fallback
  code: |
    export function onRequest(req, ctx) {
      const name = ctx.data.shards[req.headers['x-shop-id']];
      if (!name) return { respond: { status: 404, body: 'unknown shop' } };
      return { backend: name, setHeaders: { 'x-shard': name } };
    }
`;

interface Run {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** `signalbox script test ARGS…`, started with the Node.js flag so that it does not re-execute itself. */
function scriptTest(args: readonly string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--no-node-snapshot', bin, 'script', 'test', ...args], { encoding: 'utf8', timeout: 30_000 }, (error, stdout, stderr) => {
      resolve({ status: error === null ? 0 : typeof error.code === 'number' ? error.code : null, stdout, stderr });
    });
  });
}

/** A RouteScript in the default namespace. */
const routeScript = (name: string, scriptSpec: Record<string, unknown>): object => ({ apiVersion: 'signalbox.dev/v1alpha1', kind: 'RouteScript', metadata: { name }, spec: scriptSpec });

/**
 * A RouteScript spec. The budget is generous unless a test is about it: a cold isolate's first call
 * can take milliseconds on a loaded machine.
 */
const spec = (code: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({ targetRefs: [{ kind: 'Ingress', name: 'web' }], limits: { timeoutMs: 1000 }, ...extra, code });
const shopRequest = (id: string): string => JSON.stringify({ headers: { 'X-Shop-Id': id } });

// One test at a time: each starts Node processes, and the example's budget is 5 ms.
describe('signalbox script test', () => {
  let dir = '';
  /** Writes `objects` (or YAML text) to `name` in the temp dir and returns its path. */
  const file = async (name: string, objects: readonly object[] | string): Promise<string> => {
    if (typeof objects === 'string') await writeFile(join(dir, name), objects);
    else await writeManifests(dir, name, objects);
    return join(dir, name);
  };
  before(async () => {
    dir = await tempManifestDir();
  });
  after(() => removeDir(dir));

  it('runs the example: shop 1 goes to shard-a with x-shard, an unknown shop gets 404', async () => {
    const path = await file('shards.yaml', TENANT_SHARDS);
    const r = await scriptTest([path, '--request', shopRequest('1'), '--request', shopRequest('9')]);
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.equal(lines.length, 2);
    assert.match(lines[0]!, /^#1 GET example\.com\/ -> backend=shard-a setHeaders=\{"x-shard":"shard-a"\} {2}\(\d+\.\d\d ms\)$/);
    assert.match(lines[1]!, /^#2 GET example\.com\/ -> respond 404 "unknown shop" {2}\(\d+\.\d\d ms\)$/);
    // The Services are not in the file: noted, as the proxy would report them, but no failure.
    assert.match(r.stderr, /note: RouteScript shop\/tenant-shards: ServiceNotFound at backends\/shard-a/);
  });

  it('runs onResponse after each request on the response the client would get', async () => {
    const code = `export function onRequest(req) { return req.path === '/old' ? { redirect: { status: 301, location: '/new' } } : null; }
export function onResponse(res) { return res.status >= 500 ? { respond: { status: 503, body: 'later' } } : { setHeaders: { 'x-status': String(res.status) } }; }`;
    const path = await file('on-response.yaml', [routeScript('on-response', spec(code))]);
    const r = await scriptTest([path, '--request', '{"path": "/old"}', '--request', '{"response": {"status": 502}}', '--request', '{"response": {"status": 204}}']);
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n').map((line) => line.replace(/ {2}\(\d+\.\d\d ms\)$/, ''));
    assert.deepEqual(lines, [
      '#1 GET example.com/old -> redirect 301 /new',
      '#1 response 301 -> setHeaders={"x-status":"301"}',
      '#2 GET example.com/ -> default routing',
      '#2 response 502 -> respond 503 "later"',
      '#3 GET example.com/ -> default routing',
      '#3 response 204 -> setHeaders={"x-status":"204"}',
    ]);
    const json = await scriptTest([path, '--json', '--request', '{"response": {"status": 500, "headers": {"Server": "x"}}}']);
    const out = JSON.parse(json.stdout) as { response: unknown; responseOutcome: { decision: unknown } };
    assert.deepEqual(out.response, { status: 500, headers: { server: 'x' } });
    assert.deepEqual(out.responseOutcome.decision, { respond: { status: 503, body: 'later' } });
    const bad = await scriptTest([path, '--request', '{"response": {"status": 99}}']);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /request #1.*response: status must be an integer from 100 to 599/);
  });

  it('prints one JSON line per request with --json', async () => {
    const path = await file('shards-json.yaml', TENANT_SHARDS);
    const r = await scriptTest([path, '--json', '--request', JSON.stringify({ host: 'Shop.Example:8443', path: '/cart?item=1&item=2', headers: { 'X-Shop-Id': '2', Cookie: 'sid=abc' } })]);
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { request: unknown; outcome: { ok: boolean; decision: unknown; cpuMs: number } };
    assert.deepEqual(out.request, {
      method: 'GET',
      host: 'shop.example',
      path: '/cart',
      query: { item: ['1', '2'] },
      headers: { 'x-shop-id': '2', cookie: 'sid=abc' },
      cookies: { sid: 'abc' },
      clientIp: '127.0.0.1',
      sni: null,
    });
    assert.equal(out.outcome.ok, true);
    assert.deepEqual(out.outcome.decision, { backend: 'shard-b', setHeaders: { 'x-shard': 'shard-b' } });
    assert.equal(typeof out.outcome.cpuMs, 'number');
  });

  it('runs one default request when none is given', async () => {
    const path = await file('default.yaml', [routeScript('plain', spec('export function onRequest(req) { return req.method === "GET" && req.host === "example.com" ? null : { respond: { status: 500 } }; }'))]);
    const r = await scriptTest([path]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^#1 GET example\.com\/ -> default routing {2}\(\d+\.\d\d ms\)\n$/);
  });

  it('refuses code that does not compile with exit 2, its line:column in the code and the file\'s own line', async () => {
    const path = await file('syntax.yaml', `apiVersion: signalbox.dev/v1alpha1
kind: RouteScript
metadata: {name: broken}
spec:
  targetRefs: [{kind: Ingress, name: web}]
  code: |
    export function onRequest(req) {
      return { backend: ;
    }
`);
    const r = await scriptTest([path]);
    assert.equal(r.status, 2);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, new RegExp(`error: RouteScript default/broken: RouteScriptCompileError at code: code 2:21 \\(${path.replace(/[.\\/]/g, '\\$&')} line 8, column 25\\): SyntaxError`));
  });

  it('takes a directory: the RouteScript and the Services and ConfigMap it names in files of their own, without notes', async () => {
    const tree = join(dir, 'shop-tree');
    const services = ['shop-a', 'shop-b'].map((name) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'shop' }, spec: { ports: [{ port: 80 }] } }));
    const ingressObjects = [
      { apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: 'signalbox' }, spec: { controller: 'signalbox.dev/ingress-controller' } },
      { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'storefront', namespace: 'shop' }, spec: { ingressClassName: 'signalbox', rules: [{ http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'shop-a', port: { number: 80 } } } }] } }] } },
    ];
    const configMap = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'shards', namespace: 'shop' }, data: { shards: '{"shards": {"1": "shard-b"}}' } };
    await mkdir(join(tree, 'data'), { recursive: true });
    await writeManifests(tree, '10-services.yaml', services);
    await writeManifests(tree, '20-ingress.yaml', ingressObjects);
    await writeFile(join(tree, 'data', '30-configmap.yaml'), YAML.stringify(configMap));
    // The example, with its data from the ConfigMap (and a budget for a loaded machine).
    const routeScriptText = TENANT_SHARDS.replace('  data:\n    shards: {"1": "shard-a", "2": "shard-b"}\n', '  dataFrom: {configMapRef: {name: shards, key: shards}}\n').replace('timeoutMs: 5,', 'timeoutMs: 1000,');
    await writeFile(join(tree, '40-routescript.yaml'), routeScriptText);
    const r = await scriptTest([tree, '--request', shopRequest('1')]);
    assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
    assert.equal(r.stderr, '', 'every name resolves: nothing to note');
    assert.match(r.stdout, /^#1 GET example\.com\/ -> backend=shard-b setHeaders=\{"x-shard":"shard-b"\} {2}\(/);
  });

  it('refuses an invalid field with exit 2, naming the field', async () => {
    const path = await file('invalid.yaml', [routeScript('zero', spec('export function onRequest() { return null; }', { limits: { timeoutMs: 0 } }))]);
    const r = await scriptTest([path]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /RouteScriptInvalid at limits\/timeoutMs: spec\.limits\.timeoutMs: must be an integer from 1 to 1000, got 0/);
    assert.match(r.stderr, /signalbox: RouteScript default\/zero is invalid/);
  });

  it('reports an infinite loop as a timeout with exit 1, and what the failure policy does', async () => {
    const loop = 'export function onRequest() { for (;;) {} }';
    const path = await file('loops.yaml', [
      routeScript('falls-back', spec(loop, { limits: { timeoutMs: 10 } })),
      routeScript('rejects', spec(loop, { limits: { timeoutMs: 5 }, failurePolicy: 'reject', rejectStatus: 502 })),
    ]);
    const [fallback, reject, unnamed] = await Promise.all([scriptTest([path, '--name', 'falls-back']), scriptTest([path, '--name', 'default/rejects', '--json']), scriptTest([path])]);
    assert.equal(fallback.status, 1);
    assert.equal(fallback.stdout, "#1 GET example.com/ -> FAILED timeout: the script exceeded its 10 ms budget (failurePolicy fallback: the route's normal backend would serve it)\n");
    assert.equal(reject.status, 1);
    assert.deepEqual((JSON.parse(reject.stdout) as { outcome: unknown }).outcome, {
      ok: false,
      cause: 'timeout',
      message: 'the script exceeded its 5 ms budget',
      failurePolicy: 'reject',
      rejectStatus: 502,
    });
    assert.equal(unnamed.status, 2);
    assert.match(unnamed.stderr, /several RouteScripts; choose one with --name \(default\/falls-back, default\/rejects\)/);
  });

  it('answers ctx.lookup from --lookup, and ctx.log goes to stderr', async () => {
    const code = 'export async function onRequest(req, ctx) {\n  const shard = await ctx.lookup(req.headers["x-shop-id"]);\n  ctx.log("shop", req.headers["x-shop-id"], "->", shard);\n  return shard === null ? { respond: { status: 404 } } : { backend: shard };\n}\n';
    const lookup = { service: { name: 'directory', port: { number: 80 } }, path: '/shops/{key}' };
    const backends = { 'shard-a': { service: { name: 'shop-a', port: { number: 80 } } } };
    const path = await file('lookup.yaml', [routeScript('looked-up', spec(code, { lookup, backends }))]);
    const [given, none] = await Promise.all([
      scriptTest([path, '--lookup', '7=shard-a', '--request', shopRequest('7'), '--request', shopRequest('8')]),
      scriptTest([path, '--request', shopRequest('7')]),
    ]);
    assert.equal(given.status, 0, given.stderr);
    assert.match(given.stdout, /^#1 GET example\.com\/ -> backend=shard-a {2}\(.*\)\n#2 GET example\.com\/ -> respond 404 {2}\(.*\)\n$/);
    assert.match(given.stderr, /^#1 log: shop 7 -> shard-a$/m);
    assert.match(given.stderr, /^#2 log: shop 8 -> null$/m);
    assert.equal(none.status, 0, none.stderr);
    assert.match(none.stdout, /-> respond 404/);
    assert.match(none.stderr, /note: spec\.lookup is declared but neither --lookup nor --lookups was given/);
  });

  it('feeds dataFrom from a ConfigMap in the same file', async () => {
    const configMap = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'tenants', namespace: 'default' }, data: { shards: 'acme: shard-b\n' } };
    const code = 'export function onRequest(req, ctx) { return { setHeaders: { "x-shard": ctx.data[req.query.tenant] ?? "none" } }; }';
    const path = await file('configmap.yaml', [configMap, routeScript('from-map', spec(code, { dataFrom: { configMapRef: { name: 'tenants', key: 'shards' } } }))]);
    const r = await scriptTest([path, '--request', '{"path": "/?tenant=acme"}']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^#1 GET example\.com\/\?tenant=acme -> setHeaders=\{"x-shard":"shard-b"\} {2}/);

    const missing = await file('configmap-missing.yaml', [routeScript('from-map', spec(code, { dataFrom: { configMapRef: { name: 'absent' } } }))]);
    const m = await scriptTest([missing]);
    assert.equal(m.status, 2);
    assert.match(m.stderr, /error: RouteScript default\/from-map: ConfigMapNotFound at dataFrom: ConfigMap default\/absent not found/);
  });

  it('keeps ctx.state across the requests of one run: a throttle answers 429 on the third', async () => {
    const code = 'export function onRequest(req, ctx) {\n  const n = ctx.state.incr("hits:" + req.clientIp, 1, 60000);\n  return n > 2 ? { respond: { status: 429, body: "slow down" } } : null;\n}\n';
    const path = await file('throttle.yaml', [routeScript('throttle', spec(code))]);
    const requests = await file('requests.jsonl', '{}\n{"path": "/b"}\n{"path": "/c"}\n{"clientIp": "10.0.0.1"}\n');
    const r = await scriptTest([path, '--requests', requests]);
    assert.equal(r.status, 0, r.stderr);
    const outcomes = r.stdout.trimEnd().split('\n').map((line) => line.replace(/^#\d+ \S+ \S+ -> /, '').replace(/ {2}\(.*\)$/, ''));
    assert.deepEqual(outcomes, ['default routing', 'default routing', 'respond 429 "slow down"', 'default routing']);
  });

  it('says that an operator\'s pause would hold the requests before the script runs', async () => {
    const path = await file('paused.yaml', TENANT_SHARDS.replace('  failurePolicy: fallback\n', '  failurePolicy: fallback\n  pause: {enabled: true, maxWaitSeconds: 90}\n'));
    const r = await scriptTest([path, '--request', shopRequest('1')]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /note: spec\.pause\.enabled is true: in the proxy every request of its routes is held \(up to 90 s\)/);
    assert.match(r.stdout, /backend=shard-a/);
  });

  it('refuses a bad request with exit 2, naming it', async () => {
    const path = await file('requests-bad.yaml', TENANT_SHARDS);
    const list = await file('requests.yaml', '- path: /ok\n- headers: {x-shop-id: 1}\n');
    const [notJson, unknownKey, wrongType] = await Promise.all([
      scriptTest([path, '--request', '{}', '--request', '{"path": "/"']),
      scriptTest([path, '--request', '{"header": {}}']),
      scriptTest([path, '--requests', list]),
    ]);
    assert.equal(notJson.status, 2);
    assert.match(notJson.stderr, /^signalbox: request #2: --request is not JSON/m);
    assert.equal(unknownKey.status, 2);
    assert.match(unknownKey.stderr, /request #1: unknown field "header"/);
    assert.equal(wrongType.status, 2);
    assert.match(wrongType.stderr, /request #2 \(.*requests\.yaml item 2\): headers\.x-shop-id must be a string, got number 1/);
    for (const r of [notJson, unknownKey, wrongType]) assert.equal(r.stdout, '');
  });
});
