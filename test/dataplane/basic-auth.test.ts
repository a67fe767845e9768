/**
 * ingress-nginx's `auth-type: basic` end to end on real sockets: htpasswd Secrets (auth-file and
 * auth-map) read by the compile, the 401 challenge for every request without the right
 * credentials, 503 for an Ingress whose Secret is missing — and, in the upstream's own log, that
 * no refused request ever arrived and that allowed ones arrive without the client's credentials.
 * A changed Secret takes effect with the next table, whatever the workers remembered.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect as h2connect, type IncomingHttpHeaders } from 'node:http2';
import { after, before, describe, it } from 'node:test';
import { removeDir, serviceWithEndpoints, tempManifestDir, writeManifests } from '../helpers/manifests.ts';
import { startProxy, type TestProxy } from '../helpers/proxy.ts';
import { rawRequest, type RawResponse } from '../helpers/raw-http.ts';
import { startUpstream, type TestUpstream } from '../helpers/upstreams.ts';

const NGINX = 'nginx.ingress.kubernetes.io/';

// openssl passwd -apr1 -salt aL1c3xYz alice-pw, -apr1 -salt n3wS4lt0 alice-new,
// -6 -salt b0bS4lt 'bob:pw:with:colons'; htpasswd -nbB -C 5 erin erin-pw.
const ALICE = 'alice:$apr1$aL1c3xYz$UOfcQxcl6XqerHNzNmg9m1';
const ALICE_NEW = 'alice:$apr1$n3wS4lt0$U7McxB2UJBQ1EQN.yheqQ1';
const BOB = 'bob:$6$b0bS4lt$qcugZu2Ou3WpEYJZd52wbYg7ZL4/d.FS6My9F02373.l1FcFqmtAAJHD8D2EU73hA6nbh0uBwx.0FHEAZwQ400';
const ERIN = 'erin:$2y$05$N77PhixS5J/bFHLY9x14pO0YuaupXhbY3ibaUGrenA1Q1TxoioClu';

function ingress(name: string, host: string, annotations: Record<string, string>): object {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name, namespace: 'default', creationTimestamp: '2024-01-01T00:00:00Z', annotations: Object.fromEntries(Object.entries(annotations).map(([k, v]) => [NGINX + k, v])) },
    spec: { ingressClassName: 'nginx', rules: [{ host, http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'app', port: { number: 80 } } } }] } }] },
  };
}

function secret(name: string, data: Record<string, string>): object {
  return { apiVersion: 'v1', kind: 'Secret', type: 'Opaque', metadata: { name, namespace: 'default' }, data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')])) };
}

const basic = (user: string, password: string): string => `Authorization: Basic ${Buffer.from(`${user}:${password}`).toString('base64')}\r\n`;

describe('basic authentication from ingress-nginx annotations', () => {
  let dir: string;
  let proxy: TestProxy;
  let port: number;
  let app: TestUpstream;

  const get = (host: string, path: string, headers = ''): Promise<RawResponse> =>
    rawRequest(port, `GET ${path} HTTP/1.1\r\nHost: ${host}\r\n${headers}Connection: close\r\n\r\n`);

  const objects = (users: string): object[] => [
    { apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: 'nginx' }, spec: { controller: 'k8s.io/ingress-nginx' } },
    ...serviceWithEndpoints('app', [{ port: app.port }]),
    secret('htpasswd', { auth: `# the team\n${users}\n${BOB}:a comment\n${ERIN}\n` }),
    secret('map', { carol: '$5$c4r0l$pV3czQK93ds0on2dcB2URnsnTFbP5OQ7GuE/59rW8W5', dave: '{SHA}uE1+cBGmURe+4zihKsjfuHZgJbQ=' }),
    ingress('private', 'private.example', { 'auth-type': 'basic', 'auth-secret': 'htpasswd', 'auth-realm': 'Team only' }),
    ingress('mapped', 'mapped.example', { 'auth-type': 'basic', 'auth-secret': 'default/map', 'auth-secret-type': 'auth-map' }),
    ingress('missing', 'missing.example', { 'auth-type': 'basic', 'auth-secret': 'nobody' }),
  ];

  before(async () => {
    app = await startUpstream('app');
    dir = await tempManifestDir();
    await writeManifests(dir, 'a.yaml', objects(ALICE));
    proxy = await startProxy(dir, { compile: { ingressClass: 'nginx', controllerName: 'k8s.io/ingress-nginx' } });
    port = Number(new URL(proxy.http).port);
  });
  after(async () => {
    await proxy.stop();
    await app.close();
    await removeDir(dir);
  });

  it('answers 401 with the challenge to every request without the right credentials, none reaching the upstream', async () => {
    const seen = app.seen.length;
    const refused: [string, string][] = [
      ['no credentials', ''],
      ['a wrong password', basic('alice', 'alice-pw2')],
      ['an unknown user', basic('mallory', 'alice-pw')],
      ['another scheme', 'Authorization: Bearer alice-pw\r\n'],
      ['malformed base64', 'Authorization: Basic YWxpY2U6YWxpY2UtcHc*\r\n'],
      ['no colon', `Authorization: Basic ${Buffer.from('alice').toString('base64')}\r\n`],
      ['a bcrypt user with a wrong password', basic('erin', 'erin-pw2')],
      ['the user name in another case', basic('Alice', 'alice-pw')],
    ];
    for (const [what, headers] of refused) {
      const res = await get('private.example', '/reports', headers);
      assert.equal(res.status, 401, what);
      assert.equal(res.headers['www-authenticate'], 'Basic realm="Team only"', what);
      assert.equal(res.headers['x-signalbox-error'], 'unauthorized', what);
    }
    assert.deepEqual(app.seen.slice(seen), [], 'no refused request reached the upstream');
  });

  it('lets users of the Secret in, and the upstream never sees their credentials', async () => {
    const seen = app.seen.length;
    assert.equal((await get('private.example', '/a', basic('alice', 'alice-pw'))).status, 200);
    // bcrypt, as htpasswd -B writes it (ingress-nginx's own examples use it).
    assert.equal((await get('private.example', '/e', basic('erin', 'erin-pw'))).status, 200);
    // A password may hold colons: only the first one ends the user-id (RFC 7617).
    assert.equal((await get('private.example', '/b', basic('bob', 'bob:pw:with:colons'))).status, 200);
    // Again, answered from the worker's cache of verified credentials.
    assert.equal((await get('private.example', '/c', basic('alice', 'alice-pw'))).status, 200);
    assert.deepEqual(app.seen.slice(seen).map((s) => [s.url, s.headers.authorization]), [['/a', undefined], ['/e', undefined], ['/b', undefined], ['/c', undefined]]);
  });

  it('reads an auth-map Secret: each key a user, each value its hash', async () => {
    assert.equal((await get('mapped.example', '/', basic('carol', 'carol-pw'))).status, 200);
    assert.equal((await get('mapped.example', '/', basic('dave', 'dave-pw'))).status, 200);
    const wrong = await get('mapped.example', '/', basic('dave', 'carol-pw'));
    assert.equal(wrong.status, 401);
    assert.equal(wrong.headers['www-authenticate'], 'Basic realm=""');
  });

  it('answers 503 for an Ingress whose Secret is missing, right credentials or not', async () => {
    const seen = app.seen.length;
    for (const headers of ['', basic('alice', 'alice-pw')]) {
      const res = await get('missing.example', '/', headers);
      assert.equal(res.status, 503);
      assert.equal(res.headers['x-signalbox-error'], 'auth-unavailable');
    }
    assert.deepEqual(app.seen.slice(seen), []);
  });

  it('refuses an upgrade without credentials before it goes anywhere', async () => {
    const seen = app.seen.length;
    const res = await rawRequest(port, 'GET /ws HTTP/1.1\r\nHost: private.example\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n');
    assert.equal(res.status, 401);
    assert.equal(res.headers['www-authenticate'], 'Basic realm="Team only"');
    assert.deepEqual(app.seen.slice(seen), []);
  });

  it('checks HTTP/2 requests the same way, and the 401 there carries the challenge too', async () => {
    const session = h2connect(proxy.https, { rejectUnauthorized: false });
    try {
      const ask = async (headers: Record<string, string>): Promise<IncomingHttpHeaders> => {
        const stream = session.request({ ':authority': 'private.example', ':method': 'GET', ':path': '/h2', ...headers }, { endStream: true });
        const response = once(stream, 'response') as Promise<[IncomingHttpHeaders]>;
        const closed = once(stream, 'close');
        stream.resume();
        const [head] = await response;
        await closed;
        return head;
      };
      const seen = app.seen.length;
      const denied = await ask({ authorization: `Basic ${Buffer.from('alice:nope').toString('base64')}` });
      assert.equal(denied[':status'], 401);
      assert.equal(denied['www-authenticate'], 'Basic realm="Team only"');
      assert.equal(app.seen.length, seen);
      const allowed = await ask({ authorization: `Basic ${Buffer.from('alice:alice-pw').toString('base64')}` });
      assert.equal(allowed[':status'], 200);
      assert.equal(app.seen.at(-1)!.headers.authorization, undefined);
    } finally {
      session.close();
    }
  });

  it('shows the users in /debug/table without their hashes', async () => {
    const text = await (await fetch(`${proxy.debug}/debug/table`)).text();
    assert.ok(!text.includes('$apr1$') && !text.includes('{SHA}') && !text.includes('$5$c4r0l'), 'no hash is shown');
    const table = JSON.parse(text) as { table: { virtualHosts: { host: string; routes: { filters: { type: string; users?: unknown }[] }[] }[] } };
    const mapped = table.table.virtualHosts.find((v) => v.host === 'mapped.example')!;
    const filter = mapped.routes[0]!.filters.find((f) => f.type === 'BasicAuth')!;
    assert.deepEqual(filter.users, [{ name: 'carol', hash: '(redacted)', scheme: 'sha256-crypt' }, { name: 'dave', hash: '(redacted)', scheme: 'sha1' }]);
  });

  it('takes a changed password with the next table: the remembered one no longer works', async () => {
    assert.equal((await get('private.example', '/', basic('alice', 'alice-pw'))).status, 200);
    const applied = proxy.nextTable();
    await writeManifests(dir, 'a.yaml', objects(ALICE_NEW));
    await applied;
    assert.equal((await get('private.example', '/', basic('alice', 'alice-pw'))).status, 401);
    assert.equal((await get('private.example', '/', basic('alice', 'alice-new'))).status, 200);
    assert.equal((await get('private.example', '/', basic('bob', 'bob:pw:with:colons'))).status, 200);
  });
});
