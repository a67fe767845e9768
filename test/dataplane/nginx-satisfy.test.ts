/**
 * ingress-nginx's `satisfy` with an address list and basic authentication, on real sockets, every
 * combination: with `all` (the default) both must admit the request; with `any` either one
 * suffices, and a request neither admits gets the 401 challenge; with `auth-url` as well, the
 * service is asked only when neither admitted the request. The client is 127.0.0.1: one
 * Ingress's allowlist takes it, the other's does not. The upstream's log says what reached it,
 * and that the client's Authorization never does.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { nginxIngress, removeDir, serviceWithEndpoints, tempManifestDir, writeManifests } from '../helpers/manifests.ts';
import { startProxy, type TestProxy } from '../helpers/proxy.ts';
import { rawRequest } from '../helpers/raw-http.ts';
import { startUpstream, type TestUpstream } from '../helpers/upstreams.ts';

const GOOD = `Authorization: Basic ${Buffer.from('alice:secret').toString('base64')}\r\n`;
const BAD = `Authorization: Basic ${Buffer.from('alice:wrong').toString('base64')}\r\n`;

/** An nginx-class Ingress routing `host`'s `/` to Service `app`. */
const ingress = (name: string, host: string, annotations: Record<string, string>, created: string): object => nginxIngress(name, host, 'app', annotations, created);

describe('satisfy with an address list and basic authentication', () => {
  let dir: string;
  let proxy: TestProxy;
  let app: TestUpstream;
  let auth: TestUpstream;

  before(async () => {
    app = await startUpstream('app');
    // X-Token ok: allowed, naming the user; no: 403; none: 401 with a Bearer challenge.
    auth = await startUpstream('auth', (req, res) => {
      const token = req.headers['x-token'];
      if (token === 'ok') return void res.writeHead(200, { 'x-auth-request-user': 'carol' }).end();
      if (token === 'no') return void res.writeHead(403).end();
      res.writeHead(401, { 'www-authenticate': 'Bearer' }).end();
    });
    dir = await tempManifestDir();
    const basic = { 'auth-type': 'basic', 'auth-secret': 'htpasswd' };
    const inside = { 'allowlist-source-range': '127.0.0.1/32' };
    const outside = { 'allowlist-source-range': '10.0.0.0/8' };
    // A deny list alone admits nobody under satisfy any (nginx's access module declines an address
    // no rule names): the password is still asked of every address it does not deny.
    const denyOthers = { 'denylist-source-range': '10.0.0.0/8' };
    const external = { 'auth-url': `http://127.0.0.1:${auth.port}/verify`, 'auth-response-headers': 'X-Auth-Request-User' };
    await writeManifests(dir, 'a.yaml', [
      { apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: 'nginx' }, spec: { controller: 'k8s.io/ingress-nginx' } },
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'ingress-nginx-controller', namespace: 'ingress-nginx' }, data: { 'ssl-redirect': 'false' } },
      { apiVersion: 'v1', kind: 'Secret', type: 'Opaque', metadata: { name: 'htpasswd', namespace: 'default' }, data: { auth: Buffer.from('alice:{PLAIN}secret\n').toString('base64') } },
      ...serviceWithEndpoints('app', [{ port: app.port }]),
      ingress('all-in', 'all-in.example', { ...basic, ...inside }, '2024-01-01T00:00:00Z'),
      ingress('all-out', 'all-out.example', { ...basic, ...outside, satisfy: 'all' }, '2024-01-02T00:00:00Z'),
      ingress('any-in', 'any-in.example', { ...basic, ...inside, satisfy: 'any' }, '2024-01-03T00:00:00Z'),
      ingress('any-out', 'any-out.example', { ...basic, ...outside, satisfy: 'any' }, '2024-01-04T00:00:00Z'),
      ingress('ext-in', 'ext-in.example', { ...basic, ...inside, ...external, satisfy: 'any' }, '2024-01-05T00:00:00Z'),
      ingress('ext-out', 'ext-out.example', { ...basic, ...outside, ...external, satisfy: 'any' }, '2024-01-06T00:00:00Z'),
      ingress('ext-signin', 'ext-signin.example', { ...basic, ...outside, ...external, 'auth-signin': 'https://login.example/start', satisfy: 'any' }, '2024-01-07T00:00:00Z'),
      ingress('ext-only', 'ext-only.example', { ...outside, ...external, satisfy: 'any' }, '2024-01-08T00:00:00Z'),
      ingress('deny-any', 'deny-any.example', { ...basic, ...denyOthers, satisfy: 'any' }, '2024-01-09T00:00:00Z'),
    ]);
    proxy = await startProxy(dir, { compile: { ingressClass: 'nginx', controllerName: 'k8s.io/ingress-nginx' } });
  });
  after(async () => {
    await proxy.stop();
    await Promise.all([app.close(), auth.close()]);
    await removeDir(dir);
  });

  it('admits by each combination as nginx does', async () => {
    const port = Number(new URL(proxy.http).port);
    const cases: [host: string, credentials: string, status: number][] = [
      // satisfy all: the address and the password must both pass.
      ['all-in.example', '', 401], ['all-in.example', BAD, 401], ['all-in.example', GOOD, 200],
      ['all-out.example', '', 403], ['all-out.example', GOOD, 403],
      // satisfy any: the address suffices, else the password; neither: the challenge.
      ['any-in.example', '', 200], ['any-in.example', BAD, 200], ['any-in.example', GOOD, 200],
      ['any-out.example', '', 401], ['any-out.example', BAD, 401], ['any-out.example', GOOD, 200],
      // satisfy any with a deny list alone: an address it does not name still needs the password.
      ['deny-any.example', '', 401], ['deny-any.example', BAD, 401], ['deny-any.example', GOOD, 200],
    ];
    const pathOf = (host: string, credentials: string): string => `/${host.split('.')[0]}/${credentials === '' ? 'none' : credentials === GOOD ? 'good' : 'bad'}`;
    const got: string[] = [];
    for (const [host, credentials] of cases) {
      const path = pathOf(host, credentials);
      const res = await rawRequest(port, `GET ${path} HTTP/1.1\r\nHost: ${host}\r\n${credentials}Connection: close\r\n\r\n`);
      got.push(`${path} ${res.status}`);
      if (res.status === 401 && host !== 'any-ext.example') assert.equal(res.headers['www-authenticate'], 'Basic realm=""', path);
    }
    assert.deepEqual(got, cases.map(([host, credentials, status]) => `${pathOf(host, credentials)} ${status}`));
    assert.deepEqual(app.seen.map((s) => s.url), ['/all-in/good', '/any-in/none', '/any-in/bad', '/any-in/good', '/any-out/good', '/deny-any/good']);
    for (const s of app.seen) assert.equal(s.headers.authorization, undefined, `${s.url}: the credentials stay at the proxy`);
  });

  it('with auth-url too: an admitted address or password asks no service; else the service decides, a 401 over its 403', async () => {
    const port = Number(new URL(proxy.http).port);
    const get = (host: string, path: string, headers: string) => rawRequest(port, `GET ${path} HTTP/1.1\r\nHost: ${host}\r\n${headers}X-Auth-Request-User: mallory\r\nConnection: close\r\n\r\n`);
    const a0 = auth.seen.length;
    const u0 = app.seen.length;
    assert.equal((await get('ext-in.example', '/ext-in/address', '')).status, 200);
    assert.equal((await get('ext-out.example', '/ext-out/password', GOOD)).status, 200);
    assert.equal(auth.seen.length, a0, 'no subrequest once an earlier check admitted the request');
    assert.equal((await get('ext-out.example', '/ext-out/token', 'X-Token: ok\r\n')).status, 200);
    const forbidden = await get('ext-out.example', '/ext-out/forbidden', 'X-Token: no\r\n');
    assert.equal(forbidden.status, 401, 'the refused password\'s 401 outweighs the service\'s 403');
    assert.equal(forbidden.headers['www-authenticate'], 'Basic realm=""');
    const challenged = await get('ext-out.example', '/ext-out/none', '');
    assert.equal(challenged.status, 401);
    assert.equal(challenged.headers['www-authenticate'], 'Bearer');
    const signin = await get('ext-signin.example', '/ext-signin/forbidden', 'X-Token: no\r\n');
    assert.equal(signin.status, 302, 'the final 401 goes to sign-in, as nginx\'s error_page 401');
    assert.equal((await get('ext-only.example', '/ext-only/forbidden', 'X-Token: no\r\n')).status, 403);
    assert.equal((await get('ext-only.example', '/ext-only/token', 'X-Token: ok\r\n')).status, 200);
    assert.deepEqual(auth.seen.slice(a0).map((s) => s.headers['x-original-uri']), ['/ext-out/token', '/ext-out/forbidden', '/ext-out/none', '/ext-signin/forbidden', '/ext-only/forbidden', '/ext-only/token']);
    const reached = app.seen.slice(u0);
    assert.deepEqual(reached.map((s) => s.url), ['/ext-in/address', '/ext-out/password', '/ext-out/token', '/ext-only/token']);
    // The client's own X-Auth-Request-User never passes: removed when the service was not asked.
    assert.deepEqual(reached.map((s) => s.headers['x-auth-request-user']), [undefined, undefined, 'carol', 'carol']);
    for (const s of reached) assert.equal(s.headers.authorization, undefined, `${s.url}: the credentials stay at the proxy`);
  });
});
