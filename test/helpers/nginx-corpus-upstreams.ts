/**
 * The upstreams of the ingress-nginx corpus test: one small server per Service port, logging what
 * it got (path, Host, headers, protocol, TLS, body size) and answering as the app it stands for
 * (oauth2-proxy and Authelia's auth endpoints, a TLS app, argocd-server's HTTP/1.1-and-h2c port,
 * a WebSocket app, a slow report).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createH2cServer } from 'node:http2';
import { createServer as createHttpsServer } from 'node:https';
import { connect as netConnect, createServer as createNetServer, type AddressInfo, type Server as NetServer } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { CorpusBackend } from './nginx-corpus.ts';
import type { TestPki } from './test-ca.ts';
import { addWebSocketEcho } from './websocket-echo.ts';

/** What an upstream logged of one request. */
export interface Seen {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
  readonly httpVersion: string;
  readonly tls: boolean;
  /** The CN of the client certificate the proxy presented, if any. */
  readonly clientCertificate: string | null;
  readonly bodyBytes: number;
}

/** How a Service's upstream behaves, when not as a plain HTTP/1.1 app. */
type Kind = 'https' | 'mtls' | 'passthrough' | 'h1-and-h2c' | 'websocket' | 'oauth2-proxy' | 'authelia' | 'slow';

const KINDS: Record<string, Kind> = {
  // argocd-server terminates TLS itself on https (passed through) and speaks HTTP/1.1 and h2c on http.
  'argocd/argocd-server:https': 'passthrough',
  'argocd/argocd-server:http': 'h1-and-h2c',
  'identity/keycloak:https': 'https',
  // Vault with tls_require_and_verify_client_cert: only clients with a certificate of its CA.
  'vault/vault-tls-active:8200': 'mtls',
  'kubernetes-dashboard/kubernetes-dashboard:443': 'https',
  'home/home-assistant:8123': 'websocket',
  'auth/oauth2-proxy:4180': 'oauth2-proxy',
  'authelia/authelia:80': 'authelia',
  'bi/reports:80': 'slow',
};

/** A running corpus upstream. */
export interface Upstream {
  readonly port: number;
  readonly seen: Seen[];
  close(): void;
}

/** The app side of every upstream: logs the request with its body's size, then answers as its kind does. */
function handler(key: string, kind: Kind | undefined, seen: Seen[]): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    let bodyBytes = 0;
    req.on('data', (c: Buffer) => (bodyBytes += c.length));
    req.on('end', () => {
      const url = req.url ?? '';
      const tls = 'encrypted' in req.socket;
      const peer = tls ? (req.socket as TLSSocket).getPeerCertificate() : null;
      const clientCertificate = peer !== null && peer.subject !== undefined ? String(peer.subject.CN) : null;
      seen.push({ method: req.method ?? '', url, headers: req.headers, httpVersion: req.httpVersion, tls, clientCertificate, bodyBytes });
      // oauth2-proxy's /oauth2/auth: 202 with the user for a valid session cookie, else 401.
      if (kind === 'oauth2-proxy' && url.startsWith('/oauth2/auth')) {
        const ok = /(^|; )_oauth2_proxy=valid(;|$)/.test(req.headers.cookie ?? '');
        res.writeHead(ok ? 202 : 401, ok ? { 'x-auth-request-user': 'alice', 'x-auth-request-email': 'alice@example.com' } : {});
        return res.end();
      }
      // Authelia's /api/verify: 200 with the Remote-* fields for a session, else 401.
      if (kind === 'authelia' && (url.startsWith('/api/verify') || url.startsWith('/api/authz/auth-request'))) {
        const ok = /(^|; )authelia_session=good(;|$)/.test(req.headers.cookie ?? '');
        res.writeHead(ok ? 200 : 401, ok ? { 'remote-user': 'bob', 'remote-groups': 'admins,dev', 'remote-email': 'bob@example.com' } : {});
        return res.end();
      }
      const answer = (): void => {
        if (req.headers['content-type'] === 'application/grpc') {
          res.writeHead(200, { 'content-type': 'application/grpc' });
          res.addTrailers({ 'grpc-status': '0' });
          return void res.end(Buffer.from([0, 0, 0, 0, 0]));
        }
        // Keycloak's login sets cookies bigger than nginx's default proxy-buffer-size (4k): why
        // its Ingress sets 128k.
        if (url.includes('/openid-connect/auth')) res.setHeader('set-cookie', `KC_RESTART=${'k'.repeat(24 * 1024)}; Path=/realms/master/; Secure; HttpOnly`);
        // Every app has pages it does not know: its own 404.
        res.writeHead(url.startsWith('/missing') ? 404 : 200, { 'content-type': 'text/plain', 'x-upstream': key });
        res.end(`${key} ${req.method} ${url}`);
      };
      // A report that takes longer than its Ingress's proxy-read-timeout (1 s).
      if (kind === 'slow' && url.startsWith('/slow')) setTimeout(answer, 1_500).unref();
      else answer();
    });
  };
}

async function listen(server: Server | NetServer): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

/**
 * The upstream of one Service port: `pki`'s certificate where the app speaks TLS, `argoPki`'s for
 * argocd-server's passed-through port.
 */
export async function startCorpusUpstream(b: CorpusBackend, pki: TestPki, argoPki: TestPki): Promise<Upstream> {
  const kind = KINDS[b.key];
  const seen: Seen[] = [];
  const app = handler(b.key, kind, seen);
  if (kind === 'https' || kind === 'mtls' || kind === 'passthrough') {
    const tls = kind === 'passthrough' ? argoPki : pki;
    const mtls = kind === 'mtls' ? { requestCert: true, rejectUnauthorized: true, ca: pki.caPem } : {};
    const server = createHttpsServer({ cert: tls.certPem, key: tls.keyPem, ...mtls }, app);
    return { port: await listen(server), seen, close: () => { server.closeAllConnections(); server.close(); } };
  }
  if (kind === 'h1-and-h2c') {
    // Like argocd-server's connection multiplexer: the HTTP/2 preface picks h2c, anything else
    // HTTP/1.1 (relayed to the inner server of that protocol, which reads its own socket).
    const h1 = createServer(app);
    const h2 = createH2cServer(app as never);
    const [h1Port, h2Port] = [await listen(h1), await listen(h2)];
    const mux = createNetServer((socket) => {
      socket.on('error', () => socket.destroy());
      socket.once('data', (chunk: Buffer) => {
        const inner = netConnect(chunk.subarray(0, 3).toString() === 'PRI' ? h2Port : h1Port, '127.0.0.1');
        inner.on('error', () => socket.destroy());
        inner.write(chunk);
        socket.pipe(inner).pipe(socket);
      });
    });
    return { port: await listen(mux), seen, close: () => { h1.closeAllConnections(); h1.close(); h2.close(); mux.close(); } };
  }
  const server = createServer(app);
  if (kind === 'websocket') addWebSocketEcho(server);
  return { port: await listen(server), seen, close: () => { server.closeAllConnections(); server.close(); } };
}

