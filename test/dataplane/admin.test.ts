import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { rename, writeFile } from 'node:fs/promises';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { generateSelfSignedCertificate } from '../../src/dataplane/server/tls/self-signed.ts';
import { ingress, ingressClass, removeDir, routeScript, serviceWithEndpoints, tempManifestDir, tlsSecret, writeManifests } from '../helpers/manifests.ts';
import { startProxy, type TestProxy } from '../helpers/proxy.ts';
import { startUpstream, type TestUpstream } from '../helpers/upstreams.ts';

const BIN = fileURLToPath(new URL('../../bin/signalbox.js', import.meta.url));

/** The API key a RouteScript checks requests against: in its `data`, which nobody but the proxy should print. */
const API_KEY = 'k-7Qz9xSECRETapikey31f';
/** A value of the ConfigMap a second RouteScript reads through `dataFrom`. */
const CONFIGMAP_SECRET = 'cm-SECRET-token-88aa41';
/** What a ConfigMap that does not parse holds: its diagnostic must say where, not what. */
const UNPARSABLE_SECRET = 'bad-SECRET-alias-5e6f';

/** The api-keys recipe of docs/routescripts.md: a request without a known `x-api-key` never reaches the backend. */
const API_KEYS_CODE = `
export function onRequest(req, ctx) {
  const key = req.headers['x-api-key'];
  const user = key !== undefined && Object.hasOwn(ctx.data.keys, key) ? ctx.data.keys[key] : undefined;
  if (user === undefined) return { respond: { status: 401, body: 'missing or unknown API key' } };
  return { removeHeaders: ['x-api-key'], setHeaders: { 'x-user': user } };
}`;

/** An address of this machine that is not loopback, as another host on its network would reach it; else loopback. */
function networkAddress(): string {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.1';
}

async function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  const res = await request(url, { headers });
  return { status: res.statusCode, headers: res.headers, body: await res.body.text() };
}

/** Runs `signalbox ARGS…` until it exits, for start-up refusals. */
async function runToExit(args: readonly string[]): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, ['--no-node-snapshot', BIN, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearTimeout(timer);
  return { code, stderr };
}

describe('admin port and debug listener', () => {
  let dir: string;
  let proxy: TestProxy;
  let up: TestUpstream;
  let keyPem: string;
  /** The key of a Secret whose tls.crt has the key pasted in after the certificate (a common mistake). */
  let bundledKeyPem: string;

  before(async () => {
    up = await startUpstream('up');
    dir = await tempManifestDir();
    const cert = generateSelfSignedCertificate({ commonName: 'a.test', dnsNames: ['a.test'] });
    keyPem = cert.keyPem;
    const bundled = generateSelfSignedCertificate({ commonName: 'c.test', dnsNames: ['c.test'] });
    bundledKeyPem = bundled.keyPem;
    await writeManifests(dir, 'a.yaml', [
      ingressClass(),
      ...serviceWithEndpoints('up', [{ port: up.port }]),
      tlsSecret('a-cert', cert.certPem, cert.keyPem),
      tlsSecret('c-cert', `${bundled.certPem}\n${bundled.keyPem}`, bundled.keyPem),
      ingress('bundle', 'c.test', [{ path: '/', service: 'up' }], { tls: [{ hosts: ['c.test'], secretName: 'c-cert' }] }),
      ingress('up', 'a.test', [{ path: '/', service: 'up' }, { path: '/api', service: 'up' }, { path: '/other', service: 'up' }], { tls: [{ hosts: ['a.test'], secretName: 'a-cert' }] }),
      routeScript('api-keys', {
        targetRefs: [{ kind: 'Ingress', name: 'up', path: '/api' }],
        data: { keys: { [API_KEY]: 'alice' }, realm: 'shop' },
        failurePolicy: 'reject',
        code: API_KEYS_CODE,
      }),
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'tenants', namespace: 'default' }, data: { data: JSON.stringify({ token: CONFIGMAP_SECRET }) } },
      routeScript('from-configmap', {
        targetRefs: [{ kind: 'Ingress', name: 'up', path: '/other' }],
        dataFrom: { configMapRef: { name: 'tenants' } },
        code: 'export function onRequest() { return null; }',
      }),
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'unparsable', namespace: 'default' }, data: { data: `token: *${UNPARSABLE_SECRET}\n` } },
      routeScript('from-unparsable', {
        targetRefs: [{ kind: 'Ingress', name: 'up', path: '/other' }],
        dataFrom: { configMapRef: { name: 'unparsable' } },
        code: 'export function onRequest() { return null; }',
      }),
      { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'broken', namespace: 'default' }, spec: { rules: [{ host: 'b.test', http: { paths: [{ path: 'no-slash', pathType: 'Prefix', backend: { service: { name: 'up', port: { number: 80 } } } }] } }] } },
    ]);
    // The admin port as in a pod: on every address, where the kubelet and Prometheus reach it.
    proxy = await startProxy(dir, { workers: 2, adminBind: '0.0.0.0' });
  });
  after(async () => {
    await proxy.stop();
    await up.close();
    await removeDir(dir);
  });

  it('answers /healthz and /readyz once the table is live', async () => {
    assert.equal((await request(`${proxy.admin}/healthz`)).statusCode, 200);
    const ready = await request(`${proxy.admin}/readyz`);
    assert.equal(ready.statusCode, 200);
    assert.equal(await ready.body.text(), 'ready\n');
  });

  it('attack: a client that reaches the admin port cannot read a RouteScript\'s API key from /debug/table and use it', async () => {
    // The attacker is anyone who can reach the pod's admin port: here, this machine's network address.
    const adminPort = new URL(proxy.admin).port;
    const stolen = await get(`http://${networkAddress()}:${adminPort}/debug/table`);
    // The attacker takes whatever looks like an API key from the answer and calls the protected route with it.
    const found = /k-[A-Za-z0-9]{8,}/.exec(stolen.body)?.[0] ?? 'k-guess';
    const attempt = await get(`${proxy.http}/api/orders`, { host: 'a.test', 'x-api-key': found });
    const reached = up.seen.filter((r) => r.url.startsWith('/api'));
    assert.deepEqual(reached.map((r) => `${r.method} ${r.url} as ${String(r.headers['x-user'])}`), [], 'the upstream received the attacker\'s request');
    assert.equal(attempt.status, 401);
    assert.ok(!stolen.body.includes(API_KEY), 'the admin port handed out the API key of a RouteScript\'s data');
    assert.ok(!stolen.body.includes(CONFIGMAP_SECRET), 'the admin port handed out a ConfigMap value');
    assert.ok(!stolen.body.includes(keyPem.split('\n')[1]!), 'the admin port handed out a private key');
    assert.equal(stolen.status, 404);
    assert.match(stolen.body, /\/debug\/\* is not served on the admin port; it moved to the debug listener on 127\.0\.0\.1:\d+/);
    // The owner of the key still gets through: the script works, only the table no longer leaks it.
    const owner = await get(`${proxy.http}/api/orders`, { host: 'a.test', 'x-api-key': API_KEY });
    assert.equal(owner.status, 200);
    assert.equal(up.seen.filter((r) => r.url === '/api/orders').at(-1)?.headers['x-user'], 'alice');
    assert.equal((await get(`${proxy.admin}/debug/scripts`)).status, 404);
  });

  it('shows the table, its version and diagnostics on the debug listener, with data and private keys as their shape only', async () => {
    const res = await request(`${proxy.debug}/debug/table`);
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['content-type'], 'application/json');
    assert.equal(res.headers['cache-control'], 'no-store');
    const text = await res.body.text();
    assert.ok(!text.includes(API_KEY), 'no value of a RouteScript\'s data');
    assert.ok(!text.includes(CONFIGMAP_SECRET), 'no value of a ConfigMap read through dataFrom');
    assert.ok(!text.includes('alice'), 'not even the harmless values');
    assert.ok(!text.includes(UNPARSABLE_SECRET), 'no text of a ConfigMap that does not parse, in its diagnostic either');
    for (const line of keyPem.split('\n').filter((l) => l !== '' && !l.startsWith('-----'))) assert.ok(!text.includes(line), 'no line of the private key');
    for (const line of bundledKeyPem.split('\n').filter((l) => l !== '' && !l.startsWith('-----'))) assert.ok(!text.includes(line), 'no line of a key pasted into tls.crt');
    assert.ok(!text.includes('PRIVATE KEY'), 'no PEM private key of any kind');
    const body = JSON.parse(text) as {
      version: number;
      table: {
        virtualHosts: { host: string }[];
        certificates: { name: string; keyPem: string; certPem?: string; chain: { subject: string; subjectAltName: string; fingerprint256: string; validTo: string }[] }[];
        scripts: Record<string, { code: string; data: { redacted: boolean; bytes: number; sha256: string; keys: Record<string, { type: string; bytes: number }> } }>;
      };
      diagnostics: { kind: string; name: string; severity: string }[];
    };
    assert.equal(body.version, 1);
    assert.deepEqual(body.table.virtualHosts.map((v) => v.host), ['a.test', 'c.test']);
    assert.deepEqual(body.table.certificates.map((c) => c.name), ['default/a-cert', 'default/c-cert']);
    const [a, c] = body.table.certificates;
    assert.equal(a?.keyPem, '(redacted)');
    assert.equal(a?.certPem, undefined, 'the PEM as a summary of its chain, not as text');
    assert.equal(a?.chain.length, 1);
    assert.match(a?.chain[0]?.subject ?? '', /CN=a\.test/);
    assert.equal(a?.chain[0]?.subjectAltName, 'DNS:a.test');
    assert.match(a?.chain[0]?.fingerprint256 ?? '', /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    assert.equal(c?.chain.length, 1, 'only the CERTIFICATE blocks of a tls.crt are read');
    const keys = body.table.scripts['default/api-keys']!.data;
    const json = JSON.stringify({ keys: { [API_KEY]: 'alice' }, realm: 'shop' });
    assert.deepEqual(keys, {
      redacted: true,
      bytes: Buffer.byteLength(json),
      sha256: (await import('node:crypto')).createHash('sha256').update(json).digest('hex'),
      keys: { keys: { type: 'object', bytes: Buffer.byteLength(JSON.stringify({ [API_KEY]: 'alice' })) }, realm: { type: 'string', bytes: 4 } },
    });
    assert.deepEqual(body.table.scripts['default/from-configmap']!.data.keys, { token: { type: 'string', bytes: CONFIGMAP_SECRET.length } });
    assert.match(body.table.scripts['default/api-keys']!.code, /onRequest/, 'the code is shown: it is not where secrets go');
    assert.ok(body.diagnostics.some((d) => d.kind === 'Ingress' && d.name === 'broken' && d.severity === 'error'));
    assert.ok(body.diagnostics.some((d) => d.kind === 'RouteScript' && d.name === 'from-unparsable' && d.severity === 'error'), 'the unparsable data is reported');

    const scripts = (await (await request(`${proxy.debug}/debug/scripts`)).body.json()) as { id: string; state: string }[];
    assert.deepEqual(scripts.map((s) => [s.id, s.state]), [['default/api-keys', 'ok'], ['default/from-configmap', 'ok']]);
    assert.equal((await get(`${proxy.debug}/metrics`)).status, 404, 'the debug listener serves /debug/* only');
  });

  it('exports request, latency, connection, table and diagnostics metrics summed over all workers', async () => {
    for (let i = 0; i < 10; i++) {
      const res = await request(`${proxy.http}/m`, { headers: { host: 'a.test' }, reset: true });
      await res.body.text();
    }
    const text = await (await request(`${proxy.admin}/metrics`)).body.text();
    const requests = /signalbox_http_requests_total\{route="Ingress\/default\/up\/rule\/0\/path\/0",cluster="[^"]+",code="200"\} (\d+)/.exec(text);
    assert.equal(requests?.[1], '10', 'the count adds up across both workers');
    assert.match(text, /signalbox_http_request_duration_seconds_bucket\{le="[^"]+",route="Ingress\/default\/up\/rule\/0\/path\/0"/);
    assert.match(text, /signalbox_upstream_connect_duration_seconds_count\{cluster="[^"]+"\} [1-9]/);
    assert.match(text, /signalbox_upstream_response_header_duration_seconds_count\{cluster="[^"]+"\} (1\d|[2-9]\d)/);
    assert.match(text, /signalbox_connections_total\{listener="http"\} (1\d|[2-9]\d)/);
    assert.match(text, /signalbox_active_connections\{listener="http"\} \d/);
    assert.match(text, /signalbox_table_version 1/);
    assert.match(text, /signalbox_compile_duration_seconds_count [1-9]/);
    assert.match(text, /signalbox_diagnostics\{severity="error",code="[A-Za-z]+"\} 1/);
    assert.match(text, /signalbox_workers 2/);
  });

  it('fails readiness as soon as shutdown begins', async () => {
    const dir2 = await tempManifestDir();
    await writeManifests(dir2, 'a.yaml', [ingressClass()]);
    const other = await startProxy(dir2, { drainMs: 500 });
    try {
      assert.equal((await request(`${other.admin}/readyz`)).statusCode, 200);
      const stopping = other.stop();
      const during = await request(`${other.admin}/readyz`);
      assert.equal(during.statusCode, 503);
      await during.body.text();
      await stopping;
    } finally {
      await removeDir(dir2);
    }
  });
});

describe('debug listener open to the network, behind a bearer token', () => {
  const TOKEN = 'dbg-0123456789abcdefABCDEF';
  const ROTATED = 'dbg-rotated-fedcba9876543210';
  let dir: string;
  let tokenFile: string;
  let proxy: TestProxy;

  before(async () => {
    dir = await tempManifestDir();
    await writeManifests(dir, 'a.yaml', [ingressClass(), routeScript('api-keys', { targetRefs: [{ kind: 'Ingress', name: 'none' }], data: { keys: { [API_KEY]: 'alice' } }, code: API_KEYS_CODE })]);
    tokenFile = join(dir, 'token');
    await writeFile(tokenFile, `${TOKEN}\n`);
    proxy = await startProxy(dir, { debug: { bind: '0.0.0.0', port: 0, tokenFile } });
  });
  after(async () => {
    await proxy.stop();
    await removeDir(dir);
  });

  const debugUrl = (path: string): string => `http://${networkAddress()}:${new URL(proxy.debug).port}${path}`;

  it('answers 401 with a Bearer challenge without a token or with a wrong one, and the table with the right one', async () => {
    const none = await get(debugUrl('/debug/table'));
    assert.equal(none.status, 401);
    assert.equal(none.headers['www-authenticate'], 'Bearer realm="signalbox-debug"');
    assert.ok(!none.body.includes(API_KEY));
    const wrong = await get(debugUrl('/debug/table'), { authorization: `Bearer ${TOKEN.slice(0, -1)}x` });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.headers['www-authenticate'], 'Bearer realm="signalbox-debug", error="invalid_token"');
    assert.ok(!wrong.body.includes(API_KEY));
    // The token as a query parameter or in another scheme is not a bearer credential.
    assert.equal((await get(debugUrl(`/debug/table?access_token=${TOKEN}`))).status, 401);
    assert.equal((await get(debugUrl('/debug/table'), { authorization: `Basic ${Buffer.from(`x:${TOKEN}`).toString('base64')}` })).status, 401);
    // Unknown paths are refused the same way: without the token nothing is learnt.
    assert.equal((await get(debugUrl('/nothing-here'))).status, 401);

    const right = await get(debugUrl('/debug/table'), { authorization: `Bearer ${TOKEN}` });
    assert.equal(right.status, 200);
    assert.ok(!right.body.includes(API_KEY), 'even with the token, data is shown as its shape');
    assert.equal((JSON.parse(right.body) as { version: number }).version, 1);
    assert.equal((await get(debugUrl('/debug/scripts'), { authorization: `bearer ${TOKEN}` })).status, 200, 'the scheme is case-insensitive');

    const metrics = (await get(`${proxy.admin}/metrics`)).body;
    assert.match(metrics, /signalbox_debug_unauthorized_total\{reason="missing-token"\} 4/);
    assert.match(metrics, /signalbox_debug_unauthorized_total\{reason="wrong-token"\} 1/);
  });

  it('takes a rotated token as soon as the file is replaced, as the kubelet does with a Secret', async () => {
    const next = join(dir, 'token.next');
    await writeFile(next, `${ROTATED}\n`);
    await rename(next, tokenFile);
    assert.equal((await get(debugUrl('/debug/table'), { authorization: `Bearer ${TOKEN}` })).status, 401, 'the old token no longer works');
    assert.equal((await get(debugUrl('/debug/table'), { authorization: `Bearer ${ROTATED}` })).status, 200);
    // A file that becomes unusable keeps the last good token rather than opening or locking the door.
    await writeFile(next, 'short\n');
    await rename(next, tokenFile);
    assert.equal((await get(debugUrl('/debug/table'), { authorization: 'Bearer short' })).status, 401);
    assert.equal((await get(debugUrl('/debug/table'), { authorization: `Bearer ${ROTATED}` })).status, 200);
  });
});

describe('debug listener start-up refusals', () => {
  let dir: string;
  before(async () => {
    dir = await tempManifestDir();
    await writeManifests(dir, 'a.yaml', [ingressClass()]);
  });
  after(() => removeDir(dir));

  const serve = (...extra: string[]): string[] => [
    'serve', '--manifests', dir, '--bind', '127.0.0.1', '--http-port', '0', '--https-port', 'off', '--admin-bind', '127.0.0.1', '--admin-port', '0', '--workers', '1', ...extra,
  ];

  it('refuses a non-loopback bind without a token file, with exit code 2 and a message saying what to do', async () => {
    const { code, stderr } = await runToExit(serve('--debug-bind', '0.0.0.0', '--debug-port', '0'));
    assert.equal(code, 2);
    assert.equal(stderr.trim(), 'signalbox: --debug-bind 0.0.0.0 is not a loopback address: the debug listener then needs --debug-token-file (a bearer token clients must send), or bind it to 127.0.0.1');
  });

  it('refuses the admin port as the debug port', async () => {
    const { code, stderr } = await runToExit(['serve', '--manifests', dir, '--admin-port', '9911', '--debug-port', '9911']);
    assert.equal(code, 2);
    assert.equal(stderr.trim(), 'signalbox: --debug-port 9911 is the admin port: the debug listener needs a port of its own (or --debug-port off)');
  });

  it('refuses a token file that is missing, empty or too short to be a secret', async () => {
    const missing = await runToExit(serve('--debug-bind', '0.0.0.0', '--debug-port', '0', '--debug-token-file', join(dir, 'absent')));
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /--debug-token-file: cannot read .*absent: ENOENT/);
    await writeFile(join(dir, 'short'), 'abc\n');
    const short = await runToExit(serve('--debug-port', '0', '--debug-token-file', join(dir, 'short')));
    assert.equal(short.code, 2);
    assert.match(short.stderr, /the token is shorter than 16 characters/);
  });
});
