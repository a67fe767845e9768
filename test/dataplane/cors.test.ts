/**
 * The CORS filter on real sockets, as a browser's requests meet it: preflights answered by the
 * proxy, the Access-Control fields on the upstream's responses and on the proxy's own error
 * answers for allowed origins, and nothing at all for the others.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect as h2connect, type IncomingHttpHeaders } from 'node:http2';
import { after, before, describe, it } from 'node:test';
import { request } from 'undici';
import type { CorsFilter } from '../../src/model/table.ts';
import { ingress, ingressClass, removeDir, serviceWithEndpoints, tempManifestDir, writeManifests } from '../helpers/manifests.ts';
import { startProxy, type TestProxy } from '../helpers/proxy.ts';
import { editRoutes } from '../helpers/table-edits.ts';
import { startUpstream, type TestUpstream } from '../helpers/upstreams.ts';

/** ingress-nginx's defaults for methods and headers, with a list of origins and credentials. */
const LISTED: CorsFilter = {
  type: 'CORS',
  allowOrigins: ['https://app.example.com', 'https://*.example.com:8443'],
  allowMethods: ['GET', 'PUT', 'POST', 'DELETE', 'PATCH', 'OPTIONS'],
  allowHeaders: ['DNT', 'Keep-Alive', 'User-Agent', 'X-Requested-With', 'If-Modified-Since', 'Cache-Control', 'Content-Type', 'Range', 'Authorization'],
  exposeHeaders: ['X-Request-Id'],
  allowCredentials: true,
  maxAgeSeconds: 1728000,
};

/** Every origin, without credentials or exposed headers. */
/** The Gateway API's HTTPCORSFilter as the Gateway front end writes it. */
const GATEWAY: CorsFilter = { type: 'CORS', allowOrigins: ['https://*.example.com'], allowMethods: ['GET'], allowHeaders: [], exposeHeaders: [], allowCredentials: false, maxAgeSeconds: 5, wildcardLabels: 'any', answerEveryPreflight: true };
/** `*` everywhere, with credentials: what a browser is told is the request's own origin, method and headers. */
const GATEWAY_ANY: CorsFilter = { type: 'CORS', allowOrigins: ['*'], allowMethods: ['*'], allowHeaders: ['*'], exposeHeaders: [], allowCredentials: true, maxAgeSeconds: 5, wildcardLabels: 'any', answerEveryPreflight: true, echoWildcards: true };
const ANY: CorsFilter = { type: 'CORS', allowOrigins: ['*'], allowMethods: ['GET', 'POST'], allowHeaders: ['Content-Type'], exposeHeaders: [], allowCredentials: false, maxAgeSeconds: 600 };

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

/** The Access-Control-* fields of an answer, by name. */
function corsFields(a: Answer): Record<string, string | string[] | undefined> {
  return Object.fromEntries(Object.entries(a.headers).filter(([name]) => name.startsWith('access-control-')));
}

describe('CORS', () => {
  let dir: string;
  let proxy: TestProxy;
  let app: TestUpstream;

  /** Sends `method path` with `headers` to the proxy and reads the whole answer. */
  async function send(method: string, path: string, headers: Record<string, string> = {}): Promise<Answer> {
    const res = await request(`${proxy.http}${path}`, { method, headers: { host: 'api.example.com', ...headers } });
    return { status: res.statusCode, headers: res.headers, body: await res.body.text() };
  }

  before(async () => {
    // The upstream sends CORS fields and a Vary of its own on /api/own: the filter's must replace them.
    app = await startUpstream('app', (req, res) => {
      req.resume();
      req.on('end', () => {
        const own = req.url?.startsWith('/api/own') === true ? { 'access-control-allow-origin': 'https://upstream.example', 'access-control-max-age': '5', vary: 'Accept-Encoding' } : {};
        res.writeHead(200, { 'content-type': 'text/plain', 'x-request-id': 'r-1', ...own });
        res.end(`app ${req.method} ${req.url}`);
      });
    });
    dir = await tempManifestDir();
    await writeManifests(dir, 'a.yaml', [
      ingressClass(),
      ...serviceWithEndpoints('app', [{ port: app.port }]),
      // Pausing off: the 503 comes at once.
      ...serviceWithEndpoints('down', [{ port: 1, ready: false, serving: false }], 'default', { 'signalbox.dev/pause-max-wait': '0' }),
      ingress('cors', 'api.example.com', [
        { path: '/api', service: 'app' },
        { path: '/public', service: 'app' },
        { path: '/down', service: 'down' },
        { path: '/plain', service: 'app' },
        { path: '/gateway', service: 'app' },
        { path: '/gateway-any', service: 'app' },
      ]),
    ]);
    proxy = await startProxy(dir, {
      editTable: editRoutes({
        '/api': () => ({ filters: [LISTED] }),
        '/public': () => ({ filters: [ANY] }),
        '/down': () => ({ filters: [LISTED] }),
        '/gateway': () => ({ filters: [GATEWAY] }),
        '/gateway-any': () => ({ filters: [GATEWAY_ANY] }),
      }),
    });
  });
  after(async () => {
    await proxy.stop();
    await app.close();
    await removeDir(dir);
  });

  it('answers a preflight of an allowed origin with 204 and never sends it upstream', async () => {
    const before = app.seen.length;
    const res = await send('OPTIONS', '/api/items', { origin: 'https://app.example.com', 'access-control-request-method': 'PUT', 'access-control-request-headers': 'content-type' });
    assert.equal(res.status, 204);
    assert.deepEqual(corsFields(res), {
      'access-control-allow-origin': 'https://app.example.com',
      'access-control-allow-credentials': 'true',
      'access-control-allow-methods': 'GET, PUT, POST, DELETE, PATCH, OPTIONS',
      'access-control-allow-headers': 'DNT, Keep-Alive, User-Agent, X-Requested-With, If-Modified-Since, Cache-Control, Content-Type, Range, Authorization',
      'access-control-expose-headers': 'X-Request-Id',
      'access-control-max-age': '1728000',
    });
    assert.equal(res.headers.vary, 'Origin');
    assert.equal(res.headers['content-length'], undefined);
    assert.equal(res.headers['content-type'], undefined);
    assert.equal(res.headers.server, 'signalbox');
    assert.equal(res.body, '');
    assert.equal(app.seen.length, before, 'the upstream saw the preflight');
  });

  it('echoes an allowed origin on the upstream response, with credentials, exposed headers and Vary', async () => {
    const res = await send('GET', '/api/items', { origin: 'https://app.example.com' });
    assert.equal(res.status, 200);
    assert.equal(res.body, 'app GET /api/items');
    assert.equal(res.headers['access-control-allow-origin'], 'https://app.example.com');
    assert.equal(res.headers['access-control-allow-credentials'], 'true');
    assert.equal(res.headers['access-control-expose-headers'], 'X-Request-Id');
    assert.equal(res.headers['x-request-id'], 'r-1');
    assert.equal(res.headers.vary, 'Origin');
  });

  it('replaces the upstream\'s own CORS fields and adds Origin to its Vary', async () => {
    const res = await send('GET', '/api/own', { origin: 'https://app.example.com' });
    assert.equal(res.status, 200);
    assert.equal(res.headers['access-control-allow-origin'], 'https://app.example.com');
    assert.equal(res.headers['access-control-max-age'], '1728000');
    assert.deepEqual(res.headers.vary, ['Accept-Encoding', 'Origin']);
  });

  it('takes one subdomain label for a wildcard origin, with its port, and nothing else', async () => {
    const allowed = await send('GET', '/api/x', { origin: 'https://eu-1.example.com:8443' });
    assert.equal(allowed.headers['access-control-allow-origin'], 'https://eu-1.example.com:8443');
    for (const origin of ['https://a.b.example.com:8443', 'https://eu.example.com', 'https://example.com:8443', 'http://eu.example.com:8443', 'https://eu.example.com:8443.evil.test']) {
      const res = await send('GET', '/api/x', { origin });
      assert.equal(res.status, 200, origin);
      assert.deepEqual(corsFields(res), {}, origin);
    }
  });

  it('compares origins case-insensitively and echoes the one the client sent', async () => {
    const res = await send('GET', '/api/x', { origin: 'HTTPS://App.Example.com' });
    assert.equal(res.headers['access-control-allow-origin'], 'HTTPS://App.Example.com');
  });

  it('gives an origin not allowed the upstream\'s answer without CORS fields, its preflight included', async () => {
    const res = await send('GET', '/api/x', { origin: 'https://evil.test' });
    assert.equal(res.status, 200);
    assert.equal(res.body, 'app GET /api/x');
    assert.deepEqual(corsFields(res), {});
    assert.equal(res.headers.vary, undefined);
    const before = app.seen.length;
    const preflight = await send('OPTIONS', '/api/x', { origin: 'https://evil.test', 'access-control-request-method': 'DELETE' });
    assert.equal(preflight.status, 200);
    assert.equal(preflight.body, 'app OPTIONS /api/x');
    assert.deepEqual(corsFields(preflight), {});
    assert.equal(app.seen.length, before + 1);
  });

  it('as the Gateway API: a wildcard takes one or more labels, and a preflight of another origin is answered too, without CORS fields', async () => {
    for (const origin of ['https://eu.example.com', 'https://a.b.example.com']) {
      const res = await send('GET', '/gateway/x', { origin });
      assert.equal(res.headers['access-control-allow-origin'], origin, origin);
    }
    const none = await send('GET', '/gateway/x', { origin: 'https://example.com' });
    assert.deepEqual(corsFields(none), {});
    const before = app.seen.length;
    const preflight = await send('OPTIONS', '/gateway/x', { origin: 'https://evil.test', 'access-control-request-method': 'GET' });
    assert.equal(preflight.status, 204);
    assert.deepEqual(corsFields(preflight), {});
    assert.equal(app.seen.length, before, 'the preflight never went upstream');
  });

  it('with credentials, answers * with the request\'s own origin, method and headers (a browser refuses * on a credentialed request)', async () => {
    const preflight = await send('OPTIONS', '/gateway-any/x', { origin: 'https://other.foo.com', 'access-control-request-method': 'PUT', 'access-control-request-headers': 'x-header-1, x-header-2' });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers['access-control-allow-origin'], 'https://other.foo.com');
    assert.equal(preflight.headers['access-control-allow-methods'], 'PUT');
    assert.equal(preflight.headers['access-control-allow-headers'], 'x-header-1, x-header-2');
    assert.equal(preflight.headers['access-control-allow-credentials'], 'true');
    const simple = await send('GET', '/gateway-any/x', { origin: 'https://other.foo.com' });
    assert.equal(simple.headers['access-control-allow-origin'], 'https://other.foo.com');
    assert.match(String(simple.headers.vary), /Origin/);
  });

  it('sends a request without Origin on as it is, and an OPTIONS that is no preflight upstream', async () => {
    const plain = await send('GET', '/api/x');
    assert.deepEqual(corsFields(plain), {});
    const before = app.seen.length;
    const options = await send('OPTIONS', '/api/x', { origin: 'https://app.example.com' });
    assert.equal(options.body, 'app OPTIONS /api/x');
    assert.equal(app.seen.length, before + 1);
    assert.equal(options.headers['access-control-allow-origin'], 'https://app.example.com');
  });

  it('answers * to every request when every origin is allowed, without credentials or Vary', async () => {
    const withOrigin = await send('GET', '/public/x', { origin: 'https://anyone.test' });
    assert.deepEqual(corsFields(withOrigin), {
      'access-control-allow-origin': '*',
      'access-control-allow-methods': 'GET, POST',
      'access-control-allow-headers': 'Content-Type',
      'access-control-max-age': '600',
    });
    assert.equal(withOrigin.headers.vary, undefined);
    // ingress-nginx sends * whether or not the request has an Origin.
    const without = await send('GET', '/public/x');
    assert.equal(without.headers['access-control-allow-origin'], '*');
    const preflight = await send('OPTIONS', '/public/x', { origin: 'https://anyone.test', 'access-control-request-method': 'POST' });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers['access-control-allow-origin'], '*');
    assert.equal(preflight.headers['access-control-allow-credentials'], undefined);
  });

  it('puts the CORS fields on the proxy\'s own error answer (503, no endpoint)', async () => {
    const res = await send('GET', '/down', { origin: 'https://app.example.com' });
    assert.equal(res.status, 503);
    assert.equal(res.headers['x-signalbox-error'], 'no-endpoint');
    assert.equal(res.headers['access-control-allow-origin'], 'https://app.example.com');
    assert.equal(res.headers['access-control-allow-credentials'], 'true');
    assert.equal(res.headers.vary, 'Origin');
    const refused = await send('GET', '/down', { origin: 'https://evil.test' });
    assert.equal(refused.status, 503);
    assert.deepEqual(corsFields(refused), {});
  });

  it('answers a preflight over HTTP/2 as over HTTP/1.1, and echoes the origin on the stream\'s response', async () => {
    const session = h2connect(proxy.https, { rejectUnauthorized: false });
    try {
      const ask = async (headers: Record<string, string>): Promise<IncomingHttpHeaders> => {
        const stream = session.request({ ':authority': 'api.example.com', ...headers }, { endStream: true });
        const response = once(stream, 'response') as Promise<[IncomingHttpHeaders]>;
        const closed = once(stream, 'close');
        stream.resume();
        const [head] = await response;
        await closed;
        return head;
      };
      const before = app.seen.length;
      const preflight = await ask({ ':method': 'OPTIONS', ':path': '/api/items', origin: 'https://app.example.com', 'access-control-request-method': 'DELETE' });
      assert.equal(preflight[':status'], 204);
      assert.equal(preflight['access-control-allow-origin'], 'https://app.example.com');
      assert.equal(preflight['access-control-allow-methods'], 'GET, PUT, POST, DELETE, PATCH, OPTIONS');
      assert.equal(app.seen.length, before, 'the upstream saw the preflight');
      const get = await ask({ ':method': 'GET', ':path': '/api/items', origin: 'https://app.example.com' });
      assert.equal(get[':status'], 200);
      assert.equal(get['access-control-allow-origin'], 'https://app.example.com');
      assert.equal(app.seen.length, before + 1);
    } finally {
      session.close();
    }
  });

  it('adds no CORS fields on a route without the filter', async () => {
    const res = await send('GET', '/plain', { origin: 'https://app.example.com' });
    assert.equal(res.status, 200);
    assert.deepEqual(corsFields(res), {});
  });
});
