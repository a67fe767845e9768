import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect as h2connect, type IncomingHttpHeaders } from 'node:http2';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { request } from 'undici';
import { ingress, ingressClass, removeDir, serviceWithEndpoints, tempManifestDir, writeManifests } from '../helpers/manifests.ts';
import { metric } from '../helpers/metrics.ts';
import { startProxy, type TestProxy } from '../helpers/proxy.ts';
import { parseRawResponse, type RawResponse } from '../helpers/raw-http.ts';
import { editRoutes } from '../helpers/table-edits.ts';
import { startUpstream, type TestUpstream } from '../helpers/upstreams.ts';

/**
 * The proxy listens on `::`, so that one port takes IPv4 clients (seen by Node as IPv4-mapped
 * `::ffff:127.0.0.1`) and IPv6 ones (`::1`); only `::1` is a trusted proxy, whose X-Forwarded-For
 * names the client.
 */
describe('ClientAddress', () => {
  let dir: string;
  let proxy: TestProxy;
  let app: TestUpstream;
  let v4: string;
  let v6: string;

  before(async () => {
    app = await startUpstream('app');
    dir = await tempManifestDir();
    const paths = ['/office', '/no-loopback6', '/mixed', '/partners', '/deny-only'];
    await writeManifests(dir, 'a.yaml', [ingressClass(), ...serviceWithEndpoints('app', [{ port: app.port }]), ingress('f', null, paths.map((path) => ({ path, service: 'app' })))]);
    proxy = await startProxy(dir, {
      dataplane: { bindAddress: '::', trustedProxies: ['::1/128'] },
      editTable: editRoutes({
        '/office': () => ({ filters: [{ type: 'ClientAddress', allow: ['127.0.0.0/8', '10.0.0.0/8'] }] }),
        '/no-loopback6': () => ({ filters: [{ type: 'ClientAddress', deny: ['::1/128'] }] }),
        // The deny list wins over the allow list.
        '/mixed': () => ({ filters: [{ type: 'ClientAddress', allow: ['127.0.0.0/8', '::1/128'], deny: ['127.0.0.1/32'] }] }),
        '/partners': () => ({ filters: [{ type: 'ClientAddress', allow: ['203.0.113.0/24', '2001:db8::/32'] }] }),
        // An empty allow list restricts nothing.
        '/deny-only': () => ({ filters: [{ type: 'ClientAddress', allow: [], deny: ['192.0.2.0/24'] }] }),
      }),
    });
    const port = new URL(proxy.http).port;
    v4 = `http://127.0.0.1:${port}`;
    v6 = `http://[::1]:${port}`;
  });
  after(async () => {
    await proxy.stop();
    await app.close();
    await removeDir(dir);
  });

  /** The status and signalbox error of a GET, and whether the upstream's own log shows it. */
  async function get(base: string, path: string, headers: Record<string, string> = {}): Promise<{ status: number; error: string | undefined; reached: boolean }> {
    const before = app.seen.length;
    const res = await request(`${base}${path}`, { headers });
    await res.body.text();
    const error = res.headers['x-signalbox-error'];
    return { status: res.statusCode, error: typeof error === 'string' ? error : undefined, reached: app.seen.slice(before).some((s) => s.url === path) };
  }

  it('admits an address in allow and refuses one outside it with 403 client-address, never sent upstream', async () => {
    assert.deepEqual(await get(v4, '/office'), { status: 200, error: undefined, reached: true }, 'an IPv4 client, seen as ::ffff:127.0.0.1, compares as 127.0.0.1');
    assert.deepEqual(await get(v6, '/office'), { status: 403, error: 'client-address', reached: false }, '::1 is in no IPv4 block');
  });

  it('refuses an address in deny, IPv6 included, and admits the others', async () => {
    assert.deepEqual(await get(v6, '/no-loopback6'), { status: 403, error: 'client-address', reached: false });
    assert.deepEqual(await get(v4, '/no-loopback6'), { status: 200, error: undefined, reached: true });
  });

  it('lets deny win over allow', async () => {
    assert.deepEqual(await get(v4, '/mixed'), { status: 403, error: 'client-address', reached: false });
    assert.deepEqual(await get(v6, '/mixed'), { status: 200, error: undefined, reached: true });
  });

  it('judges the client a trusted proxy names in X-Forwarded-For, and ignores the header from anyone else', async () => {
    assert.deepEqual(await get(v6, '/partners', { 'x-forwarded-for': '203.0.113.7' }), { status: 200, error: undefined, reached: true });
    assert.deepEqual(await get(v6, '/partners', { 'x-forwarded-for': '203.0.113.7, 2001:db8::5' }), { status: 200, error: undefined, reached: true }, 'the right-most untrusted hop');
    assert.deepEqual(await get(v6, '/partners', { 'x-forwarded-for': '203.0.113.7, 198.51.100.1' }), { status: 403, error: 'client-address', reached: false });
    assert.deepEqual(await get(v4, '/partners', { 'x-forwarded-for': '203.0.113.7' }), { status: 403, error: 'client-address', reached: false }, '127.0.0.1 is no trusted proxy: its header is not believed');
  });

  it('restricts nothing with an empty allow list', async () => {
    assert.deepEqual(await get(v4, '/deny-only'), { status: 200, error: undefined, reached: true });
    assert.deepEqual(await get(v6, '/deny-only', { 'x-forwarded-for': '192.0.2.9' }), { status: 403, error: 'client-address', reached: false });
  });

  it('refuses an HTTP/2 client too', async () => {
    const session = h2connect(proxy.https.replace('127.0.0.1', '[::1]'), { rejectUnauthorized: false });
    session.on('error', () => {});
    try {
      const stream = session.request({ ':path': '/no-loopback6', host: 'shop.test' });
      stream.end();
      const [headers] = (await once(stream, 'response')) as [IncomingHttpHeaders];
      for await (const _ of stream);
      assert.equal(headers[':status'], 403);
      assert.equal(headers['x-signalbox-error'], 'client-address');
    } finally {
      session.close();
    }
  });

  it('counts the refusals as proxy errors', async () => {
    assert.equal(await metric(proxy, /signalbox_proxy_errors_total\{reason="client-address"\} (\d+)/), 7, 'one per refusal above');
  });
});

describe('ClientAddress behind a PROXY protocol load balancer', () => {
  let dir: string;
  let proxy: TestProxy;
  let app: TestUpstream;

  before(async () => {
    app = await startUpstream('app');
    dir = await tempManifestDir();
    await writeManifests(dir, 'a.yaml', [ingressClass(), ...serviceWithEndpoints('app', [{ port: app.port }]), ingress('f', null, [{ path: '/partners', service: 'app' }])]);
    proxy = await startProxy(dir, {
      dataplane: { trustedProxies: ['127.0.0.1/32'], proxyProtocol: true },
      editTable: editRoutes({ '/partners': () => ({ filters: [{ type: 'ClientAddress', allow: ['203.0.113.0/24'] }] }) }),
    });
  });
  after(async () => {
    await proxy.stop();
    await app.close();
    await removeDir(dir);
  });

  /** A request on a connection whose PROXY v1 header names `client`. */
  async function viaBalancer(client: string): Promise<RawResponse> {
    const socket = connect(Number(new URL(proxy.http).port), '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.write(`PROXY TCP4 ${client} 10.0.0.1 51000 80\r\nGET /partners HTTP/1.1\r\nhost: shop.test\r\nconnection: close\r\n\r\n`);
    await once(socket, 'close');
    return parseRawResponse(Buffer.concat(chunks).toString('latin1'));
  }

  it("judges the client the PROXY header names, not the balancer's address", async () => {
    const before = app.seen.length;
    assert.equal((await viaBalancer('203.0.113.7')).status, 200);
    const refused = await viaBalancer('198.51.100.1');
    assert.equal(refused.status, 403);
    assert.equal(refused.headers['x-signalbox-error'], 'client-address');
    assert.equal(app.seen.length, before + 1, 'only the allowed request reached the upstream');
  });
});
