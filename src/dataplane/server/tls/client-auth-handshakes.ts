/**
 * TLS handshakes that ask for a client certificate, for the SNI names whose host checks one.
 *
 * Node sets "request a certificate" per TLS server, not per secure context, and asking every
 * client would make browsers prompt for a certificate on every host. So a connection whose
 * ClientHello names such a host (read by the passthrough gate, passthrough.ts) is handed to a
 * second TLS server that never listens: it asks for a certificate (without refusing a handshake
 * that sends none or a bad one: the request is answered instead, as nginx does; or, for a check
 * that says so, refusing it, as the Gateway API's AllowValidOnly asks), with a context
 * holding the host's certificate and its CA bundle and CRL, so that OpenSSL verifies the chain.
 * Its TLS socket then goes to the HTTPS server's HTTP layer as any terminated connection does
 * (HTTP/2 or HTTP/1.1 by ALPN), carrying what was verified ({@link verifiedClient}).
 */
import { X509Certificate } from 'node:crypto';
import type { Socket } from 'node:net';
import { createServer, type SecureContext, type TLSSocket } from 'node:tls';
import type { Server as TlsServer } from 'node:tls';
import type { ClientAuthHost } from './client-auth-hosts.ts';
import { NO_RESUMPTION, type SniContexts } from './sni-contexts.ts';
import { hostTlsParametersKey, type HostTlsParameters, type TlsVersion } from '../../../model/tls-parameters.ts';
import { handshakeOptions } from './host-tls-handshakes.ts';

/** What the handshake of a connection said about the client's certificate. */
export interface VerifiedClient {
  /** The host (and check) the connection was verified for: only that host is served on it. */
  readonly host: ClientAuthHost;
  /** Sent a certificate. */
  readonly present: boolean;
  /** Sent one that OpenSSL verified against the CA bundle (and CRL), within the depth. */
  readonly verified: boolean;
  /** nginx's `$ssl_client_verify`: `SUCCESS`, `FAILED:<reason>` or `NONE`. */
  readonly verify: string;
  /** The subject DN, RFC 2253 (`CN=client,O=Example`); '' without a certificate. */
  readonly subjectDN: string;
  /** The issuer DN, RFC 2253; '' without a certificate. */
  readonly issuerDN: string;
  /** The certificate, PEM; null without one. */
  readonly certPem: string | null;
}

const VERIFIED = Symbol('signalbox.verifiedClient');
const PENDING = Symbol('signalbox.clientAuthHost');

type Marked = { [VERIFIED]?: VerifiedClient; [PENDING]?: ClientAuthHost };

/**
 * What the handshake of the connection `socket` belongs to verified; undefined when it asked for
 * no certificate. `socket` may be an HTTP/2 session's socket proxy, which reads through.
 */
export function verifiedClient(socket: unknown): VerifiedClient | undefined {
  return socket === null || typeof socket !== 'object' ? undefined : (socket as Marked)[VERIFIED];
}

/** Hands connections to the certificate-asking TLS server of {@link clientAuthHandshakes}. */
export interface ClientAuthHandshakes {
  /**
   * Terminates TLS on `socket` (its ClientHello unread) asking for a client certificate, with the
   * host's TLS parameters when it has some (null: the listener's), refusing a handshake without a
   * verified certificate when `strict` (the host check's `rejectUnverified`).
   */
  take(socket: Socket, parameters?: HostTlsParameters | null, strict?: boolean): void;
}

/**
 * The certificate-asking TLS server of the HTTPS server `https`, whose contexts `sni` gives: each
 * handshake's socket is then emitted as `https`'s 'secureConnection'. `timeoutMs` bounds a
 * handshake (as the request-header timeout bounds the rest).
 */
export function clientAuthHandshakes(https: TlsServer, sni: SniContexts, options: { readonly minVersion: TlsVersion; readonly timeoutMs: number }): ClientAuthHandshakes {
  // A plain function: Node calls the SNI callback on the TLS socket of the handshake.
  const callbackFor = (strict: boolean) =>
    function SNICallback(this: unknown, servername: string, cb: (err: Error | null, ctx?: SecureContext) => void): void {
      const chosen = sni.clientAuthContext(servername);
      if (chosen === null) return cb(new Error(`no client-certificate check for ${servername}`));
      // A swap since the ClientHello changed whether the host refuses: the server was made for the other answer.
      if ((chosen.host.auth.rejectUnverified ?? false) !== strict) return cb(new Error(`the client-certificate check of ${servername} changed`));
      // The check whose CA the context holds: what the connection is verified for, whatever swap comes next.
      if (this !== null && typeof this === 'object') (this as Marked)[PENDING] = chosen.host;
      cb(null, chosen.context);
    };
  // What every such server does with a handshake's socket.
  const listen = (server: TlsServer): void => {
    server.on('secureConnection', (socket: TLSSocket) => {
      // Only a handshake whose context the SNI callback chose was verified against the host's CA.
      const host = (socket as Marked)[PENDING];
      if (host === undefined) return void socket.destroy();
      (socket as Marked)[VERIFIED] = verification(socket, host);
      https.emit('secureConnection', socket);
    });
    // A failed handshake has nothing to answer: Node has destroyed the socket.
    server.on('tlsClientError', () => {});
  };
  // One server per set of TLS parameters (host-tls-handshakes.ts says why); most use the listener's.
  const servers = new Map<string, TlsServer>();
  const serverFor = (parameters: HostTlsParameters | null, strict: boolean): TlsServer => {
    // Node refuses unverified clients per server, not per context: a strict check has servers of its own.
    const key = `${strict ? 'strict' : 'lenient'} ${parameters === null ? '' : hostTlsParametersKey(parameters)}`;
    let server = servers.get(key);
    if (server !== undefined) return server;
    if (servers.size >= 64) servers.clear();
    server = createServer({
      requestCert: true,
      rejectUnauthorized: strict,
      ALPNProtocols: ['h2', 'http/1.1'],
      ...handshakeOptions(parameters, options.minVersion),
      handshakeTimeout: options.timeoutMs > 0 ? options.timeoutMs : 30_000,
      // A resumed session would be served without the SNI callback choosing the host's CA.
      secureOptions: NO_RESUMPTION,
      SNICallback: callbackFor(strict),
    });
    listen(server);
    servers.set(key, server);
    return server;
  };
  return { take: (socket, parameters = null, strict = false) => void serverFor(parameters, strict).emit('connection', socket) };
}

/** What `socket`'s handshake verified, in nginx's terms. */
function verification(socket: TLSSocket, host: ClientAuthHost): VerifiedClient {
  const cert = socket.getPeerX509Certificate();
  if (cert === undefined) return { host, present: false, verified: false, verify: 'NONE', subjectDN: '', issuerDN: '', certPem: null };
  let failure = socket.authorized ? null : String(socket.authorizationError ?? 'UNKNOWN');
  // Node gives no way to set OpenSSL's verify depth: the chain OpenSSL accepted is measured instead.
  if (failure === null && chainLength(cert, socket, host.auth.caPem) - 1 > host.auth.depth) failure = 'CERT_CHAIN_TOO_LONG';
  return {
    host,
    present: true,
    verified: failure === null,
    verify: failure === null ? 'SUCCESS' : `FAILED:${failure}`,
    subjectDN: rfc2253(cert.subject),
    issuerDN: rfc2253(cert.issuer),
    certPem: cert.toString(),
  };
}

/**
 * How many certificates the chain OpenSSL accepted has, from the client's to the CA it ends at:
 * each step is the certificate of the bundle (or of those the client sent) that issued and signed
 * the one before, until a self-signed one. Only measured after OpenSSL verified the chain.
 */
function chainLength(leaf: X509Certificate, socket: TLSSocket, caPem: string): number {
  const pool = [...bundle(caPem), ...sentChain(socket)];
  let n = 1;
  for (let current = leaf; n <= pool.length + 1; n++) {
    if (current.checkIssued(current) && current.verify(current.publicKey)) return n;
    const issuer = pool.find((c) => c !== current && current.checkIssued(c) && current.verify(c.publicKey));
    if (issuer === undefined) return n;
    current = issuer;
  }
  return n;
}

/** The intermediates the client sent after its own certificate. */
function sentChain(socket: TLSSocket): X509Certificate[] {
  const out: X509Certificate[] = [];
  const seen = new Set<unknown>();
  let c = socket.getPeerCertificate(true) as { raw?: Buffer; issuerCertificate?: unknown } | undefined;
  for (c = c?.issuerCertificate as typeof c; c?.raw !== undefined && !seen.has(c); c = c.issuerCertificate as typeof c) {
    seen.add(c);
    out.push(new X509Certificate(c.raw));
  }
  return out;
}

const bundles = new Map<string, X509Certificate[]>();

/** The certificates of a CA bundle, parsed once. */
function bundle(caPem: string): X509Certificate[] {
  let certs = bundles.get(caPem);
  if (certs === undefined) {
    certs = (caPem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []).flatMap((pem) => {
      try {
        return [new X509Certificate(pem)];
      } catch {
        return [];
      }
    });
    if (bundles.size >= 64) bundles.clear();
    bundles.set(caPem, certs);
  }
  return certs;
}

/**
 * Node's one-attribute-a-line DN (`C=US\nO=Example\, Inc.\nCN=client`: the certificate's order,
 * values already escaped as RFC 2253 says) as RFC 2253 writes it, as nginx's `$ssl_client_s_dn`:
 * the last RDN first, comma-separated (`CN=client,O=Example\, Inc.,C=US`).
 */
export function rfc2253(dn: string): string {
  return dn.split('\n').filter((line) => line !== '').reverse().join(',');
}
