import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { connect as h2connect, type ClientHttp2Session, type OutgoingHttpHeaders } from 'node:http2';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ingress, ingressClass, removeDir, routeScript, serviceWithEndpoints, tempManifestDir, writeManifests } from '../helpers/manifests.ts';
import { metric } from '../helpers/metrics.ts';
import { startProxy, type TestProxy } from '../helpers/proxy.ts';
import { startScripted, type ScriptedEnv } from '../helpers/scripted.ts';
import { startSingleRoute } from '../helpers/single-route.ts';
import { rawRequest } from '../helpers/raw-http.ts';
import { startUpstream, type TestUpstream } from '../helpers/upstreams.ts';

/**
 * Requests that try to reach a backend by another path or host than the one they were routed on.
 * `shop.test` sends `/admin` to the `admin` upstream and everything else to `app`; `admin.test` is
 * another tenant, served by `admin` only. A request dodges the admin route when it lands on `app`
 * with a path or Host that `app` (a backend that decodes `%2F`, strips `;` parameters, treats `\`
 * as `/` or serves by Host) reads as the admin's. Each test reads the upstreams' own logs.
 */
describe('request targets, paths and hosts', () => {
  let app: TestUpstream;
  let admin: TestUpstream;
  let dir: string;
  let proxy: TestProxy;
  let port: number;
  let h2: ClientHttp2Session;

  before(async () => {
    app = await startUpstream('app');
    admin = await startUpstream('admin');
    dir = await tempManifestDir();
    await writeManifests(dir, 'a.yaml', [
      ingressClass(),
      ...serviceWithEndpoints('app', [{ port: app.port }]),
      ...serviceWithEndpoints('admin', [{ port: admin.port }]),
      ingress('shop', 'shop.test', [{ path: '/admin', service: 'admin' }, { path: '/', service: 'app' }]),
      ingress('tenant', 'admin.test', [{ path: '/', service: 'admin' }]),
    ]);
    proxy = await startProxy(dir);
    port = Number(new URL(proxy.http).port);
    h2 = h2connect(proxy.https, { rejectUnauthorized: false });
  });
  after(async () => {
    h2.close();
    await proxy.stop();
    await app.close();
    await admin.close();
    await removeDir(dir);
  });

  /** Sends one raw HTTP/1.1 request head (Connection: close added). */
  function get(target: string, headers = 'Host: shop.test\r\n'): ReturnType<typeof rawRequest> {
    return rawRequest(port, `GET ${target} HTTP/1.1\r\n${headers}Connection: close\r\n\r\n`);
  }

  /** How many requests the upstreams have logged so far. */
  function logged(): number {
    return app.seen.length + admin.seen.length;
  }

  async function assertRefused(response: Promise<{ status: number; headers: Record<string, string> }>): Promise<void> {
    const before = logged();
    const res = await response;
    assert.equal(res.status, 400);
    assert.equal(res.headers['x-signalbox-error'], 'bad-request');
    assert.equal(logged(), before, 'nothing reached an upstream');
  }

  const refusedTargets: [why: string, target: string][] = [
    ['a fragment in the path', '/admin#x'],
    ['a fragment after the query', '/?q=1#x'],
    ['a raw backslash', '/public\\..\\admin'],
    ['an encoded slash that a decoding backend reads as a separator', '/public/..%2Fadmin'],
    ['an encoded slash inside a segment', '/admin%2fusers'],
    ['an encoded backslash', '/public/..%5Cadmin'],
    ['path parameters on a segment (a Java server serves /admin)', '/admin;x=1'],
    ['path parameters on a dot segment (a Java server climbs)', '/public/..;/admin'],
    ['an absolute-form target with a bad port', 'http://shop.test:admin/admin'],
    ['an absolute-form target with user information', 'http://app@shop.test/admin'],
  ];
  for (const [why, target] of refusedTargets) {
    it(`refuses ${why} with 400 (HTTP/1.1): ${target}`, () => assertRefused(get(target)));
  }

  it('merges repeated slashes before matching: //admin is /admin, and the upstream receives /admin', async () => {
    const before = app.seen.length;
    for (const target of ['//admin', '/admin//users', '///admin///users/']) {
      const res = await get(target);
      assert.equal(res.status, 200, target);
      assert.equal(res.headers['x-upstream'], 'admin', `${target} is the admin route's`);
    }
    assert.deepEqual(admin.seen.slice(-3).map((r) => r.url), ['/admin', '/admin/users', '/admin/users/']);
    assert.equal(app.seen.length, before, 'none went to the catch-all route');
  });

  it('applies the same rules to an upgrade (WebSocket) request', async () => {
    const upgrade = 'Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n';
    for (const [target, headers] of [['/public/..%2Fadmin', 'Host: shop.test\r\n'], ['/public/..;/admin', 'Host: shop.test\r\n'], ['/', 'Host: shop.test\r\nHost: admin.test\r\n']] as const) {
      await assertRefused(rawRequest(port, `GET ${target} HTTP/1.1\r\n${headers}${upgrade}\r\n`));
    }
  });

  const refusedHosts: [why: string, headers: string][] = [
    ['two Host fields', 'Host: shop.test\r\nHost: admin.test\r\n'],
    ['two Host fields, the same value', 'Host: shop.test\r\nhost: shop.test\r\n'],
    ['a path in Host', 'Host: admin.test/x\r\n'],
    ['user information in Host', 'Host: shop.test@admin.test\r\n'],
    ['a port that is not digits', 'Host: shop.test:8o\r\n'],
    ['a port out of range', 'Host: shop.test:65536\r\n'],
    ['two ports', 'Host: shop.test:80:80\r\n'],
    ['an empty name with a port', 'Host: :80\r\n'],
    ['an unclosed IP literal', 'Host: [::1\r\n'],
    ['an IP literal that is no IPv6 address', 'Host: [shop.test]\r\n'],
    ['a malformed percent escape', 'Host: shop%zz.test\r\n'],
    ['a backslash', 'Host: shop.test\\admin\r\n'],
  ];
  for (const [why, headers] of refusedHosts) {
    it(`refuses ${why} with 400: ${JSON.stringify(headers)}`, () => assertRefused(get('/', headers)));
  }

  it('refuses two Host fields even with an absolute-form target', () => assertRefused(get('http://shop.test/', 'Host: shop.test\r\nHost: admin.test\r\n')));

  it('still routes valid hosts: case, a port, an empty port, IP addresses, absolute form', async () => {
    const cases: [headers: string, target: string, upstream: string, host: string][] = [
      ['Host: SHOP.test:8080\r\n', '/admin', 'admin', 'SHOP.test:8080'],
      ['Host: shop.test:\r\n', '/admin', 'admin', 'shop.test:'],
      ['Host: admin.test.\r\n', '/x', 'admin', 'admin.test.'],
      ['Host: shop.test\r\n', 'http://admin.test/x', 'admin', 'admin.test'],
    ];
    for (const [headers, target, upstream, host] of cases) {
      const res = await get(target, headers);
      assert.equal(res.status, 200, `${headers} ${target}`);
      assert.equal(res.headers['x-upstream'], upstream);
      const seen = (upstream === 'admin' ? admin : app).seen.at(-1)!;
      assert.equal(seen.headers.host, host, 'the upstream Host is the routed host');
      assert.equal(seen.headers['x-forwarded-host'], host);
    }
    // Hosts no route names still reach no route (404), not a 400.
    for (const host of ['127.0.0.1:80', '[::1]:8080', '[v1.x]', 'a-b_c~d.test']) {
      const res = await get('/', `Host: ${host}\r\n`);
      assert.equal(res.status, 404, host);
      assert.equal(res.headers['x-signalbox-error'], 'no-route');
    }
  });

  it('counts the refusals as bad-request errors', async () => {
    const count = await metric(proxy, /signalbox_proxy_errors_total\{reason="bad-request"\} (\d+)/);
    assert.ok(count >= refusedTargets.length + refusedHosts.length, `${count} bad-request errors counted`);
  });

  /** One HTTP/2 request; its status, headers and body. */
  function h2get(headers: OutgoingHttpHeaders): Promise<{ status: number; headers: Record<string, string>; body: string }> {
    return new Promise((resolve, reject) => {
      const stream = h2.request({ ':authority': 'shop.test', ...headers });
      let status = 0;
      let received: Record<string, string> = {};
      let body = '';
      stream.on('response', (h) => {
        status = Number(h[':status']);
        received = h as Record<string, string>;
      });
      stream.on('data', (c: Buffer) => (body += c));
      stream.on('end', () => resolve({ status, headers: received, body }));
      stream.on('error', reject);
      stream.end();
    });
  }

  it('refuses a fragment, a backslash and an encoded slash in an HTTP/2 :path with 400', async () => {
    for (const path of ['/admin#x', '/public\\..\\admin', '/public/..%2Fadmin', '/public/..;/admin']) await assertRefused(h2get({ ':path': path }));
  });

  it('merges slashes in an HTTP/2 :path', async () => {
    const res = await h2get({ ':path': '//admin//x' });
    assert.equal(res.status, 200);
    assert.equal(admin.seen.at(-1)!.url, '/admin/x');
  });

  it('refuses an HTTP/2 request whose host field names another authority than :authority', async () => {
    // Routed on one, forwarded with the other: the app would serve the admin tenant.
    await assertRefused(h2get({ ':path': '/', ':authority': 'admin.test', host: 'shop.test' }));
    await assertRefused(h2get({ ':path': '/', ':authority': 'shop.test', host: 'admin.test' }));
    await assertRefused(h2get({ ':path': '/', ':authority': 'shop.test:8443', host: 'shop.test' }));
  });

  it('refuses an HTTP/2 :authority that is not host[:port]', async () => {
    await assertRefused(h2get({ ':path': '/', ':authority': 'shop.test:x' }));
    await assertRefused(h2get({ ':path': '/', ':authority': 'shop.test:99999' }));
  });

  it('routes and forwards an HTTP/2 request on one host: :authority, with a host field that agrees', async () => {
    for (const [authority, host] of [['admin.test', undefined], ['admin.test', 'ADMIN.test'], ['admin.test', 'admin.test:443']] as const) {
      const res = await h2get({ ':path': '/x', ':authority': authority, ...(host === undefined ? {} : { host }) });
      assert.equal(res.status, 200, `${authority} ${host}`);
      assert.equal(res.headers['x-upstream'], 'admin');
      const seen = admin.seen.at(-1)!;
      assert.equal(seen.headers.host, authority, 'the upstream Host is :authority');
      assert.equal(seen.headers['x-forwarded-host'], authority);
      assert.equal(seen.rawHeaders.filter((_, i) => i % 2 === 0 && seen.rawHeaders[i]!.toLowerCase() === 'host').length, 1, 'one Host upstream');
    }
  });
});

describe('request paths with the normalisation flags relaxed', () => {
  let app: TestUpstream;
  let dir: string;
  let proxy: TestProxy;
  let port: number;

  before(async () => {
    app = await startUpstream('app');
    dir = await tempManifestDir();
    await writeManifests(dir, 'a.yaml', [ingressClass(), ...serviceWithEndpoints('app', [{ port: app.port }]), ingress('app', null, [{ path: '/', service: 'app' }])]);
    proxy = await startProxy(dir, { dataplane: { paths: { mergeSlashes: false, allowEncodedSlashes: true, allowPathParameters: true } } });
    port = Number(new URL(proxy.http).port);
  });
  after(async () => {
    await proxy.stop();
    await app.close();
    await removeDir(dir);
  });

  it('forwards repeated slashes, encoded slashes and path parameters as they are', async () => {
    for (const target of ['//a//b', '/group%2Fproject/raw', '/app/page;jsessionid=1?x=1']) {
      const res = await rawRequest(port, `GET ${target} HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n`);
      assert.equal(res.status, 200, target);
      assert.equal(app.seen.at(-1)!.url, target);
    }
  });

  it('still refuses a dot segment with parameters, a fragment and a backslash', async () => {
    const before = app.seen.length;
    for (const target of ['/public/..;/admin', '/a#b', '/a\\b']) {
      const res = await rawRequest(port, `GET ${target} HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n`);
      assert.equal(res.status, 400, target);
    }
    assert.equal(app.seen.length, before);
  });
});

describe('refused request targets in the access log', () => {
  it('logs each refusal as bad-request with the host the request claimed', async () => {
    const logDir = await tempManifestDir();
    const logFile = join(logDir, 'access.log');
    const env = await startSingleRoute('app', undefined, { dataplane: { accessLog: logFile } });
    try {
      assert.equal((await rawRequest(env.port, 'GET /admin;x HTTP/1.1\r\nHost: shop.test\r\nConnection: close\r\n\r\n')).status, 400);
      assert.equal((await rawRequest(env.port, 'GET http://admin.test/x HTTP/1.1\r\nHost: shop.test\r\nHost: b.test\r\nConnection: close\r\n\r\n')).status, 400);
      const session = h2connect(env.proxy.https, { rejectUnauthorized: false });
      await new Promise<void>((resolve, reject) => {
        const stream = session.request({ ':path': '/x', ':authority': 'admin.test', host: 'shop.test' });
        stream.on('response', () => stream.resume());
        stream.on('end', resolve);
        stream.on('error', reject);
        stream.end();
      });
      session.close();
    } finally {
      await env.close(); // stopping flushes the access log
    }
    try {
      const lines = (await readFile(logFile, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
      assert.deepEqual(lines.map(({ status, error, host, path }) => ({ status, error, host, path })), [
        { status: 400, error: 'bad-request', host: 'shop.test', path: '/admin;x' },
        { status: 400, error: 'bad-request', host: 'admin.test', path: 'http://admin.test/x' },
        { status: 400, error: 'bad-request', host: 'admin.test', path: '/x' },
      ]);
      assert.equal(env.up.seen.length, 0, 'nothing reached the upstream');
    } finally {
      await removeDir(logDir);
    }
  });
});

describe('a RouteScript guarding a path of an app', () => {
  // One app behind two Ingresses: /admin with a RouteScript that lets nobody in, and the rest.
  let env: ScriptedEnv;
  let port: number;
  before(async () => {
    env = await startScripted({
      upstreams: { app: null },
      objects: () => [
        ingress('admin', 'shop.test', [{ path: '/admin', service: 'app' }]),
        ingress('site', 'shop.test', [{ path: '/', service: 'app' }]),
        routeScript('guard', { targetRefs: [{ kind: 'Ingress', name: 'admin' }], code: "export function onRequest() { return { respond: { status: 403, body: 'admins only' } }; }" }),
      ],
    });
    port = Number(new URL(env.proxy.http).port);
  });
  after(() => env.close());

  it('cannot be dodged by another spelling of its path: each is the script\'s, or refused', async () => {
    const app = env.ups.app!;
    const before = app.seen.length;
    const outcomes: Record<string, number> = {};
    for (const target of ['/admin/users', '//admin/users', '/admin//users', '/%61dmin/users', '/site/../admin/users', '/admin;x/users', '/site/..;/admin/users', '/site/..%2Fadmin/users', '/site\\..\\admin/users', '/admin#/users']) {
      outcomes[target] = (await rawRequest(port, `GET ${target} HTTP/1.1\r\nHost: shop.test\r\nConnection: close\r\n\r\n`)).status;
    }
    assert.deepEqual(outcomes, {
      '/admin/users': 403, '//admin/users': 403, '/admin//users': 403, '/%61dmin/users': 403, '/site/../admin/users': 403,
      '/admin;x/users': 400, '/site/..;/admin/users': 400, '/site/..%2Fadmin/users': 400, '/site\\..\\admin/users': 400, '/admin#/users': 400,
    });
    assert.deepEqual(app.seen.slice(before).map((r) => r.url), [], 'the app was asked for none of them');
    // The rest of the app is still served.
    assert.equal((await rawRequest(port, 'GET /site//page HTTP/1.1\r\nHost: shop.test\r\nConnection: close\r\n\r\n')).status, 200);
    assert.equal(app.seen.at(-1)!.url, '/site/page');
  });
});
