/**
 * TLS handshakes for the SNI names whose host has TLS parameters of its own (a cipher list,
 * versions, the server's cipher order: ingress-nginx's `ssl-ciphers`, `ssl-prefer-server-ciphers`).
 *
 * OpenSSL takes a handshake's versions and cipher list from the context the TLS socket starts
 * with; the context the SNI callback switches to only brings its certificate. So, as for client
 * certificates (client-auth-handshakes.ts), a connection whose ClientHello names such a host (read
 * by the passthrough gate) is handed to a second TLS server that never listens, made with the
 * host's parameters — one per distinct set, shared by the hosts that have it — whose SNI callback
 * chooses the certificate as the HTTPS server's does. Its TLS socket then goes to the HTTPS
 * server's HTTP layer (HTTP/2 or HTTP/1.1 by ALPN) as any terminated connection does.
 */
import type { Socket } from 'node:net';
import { createServer, type Server as TlsServer, type TLSSocket } from 'node:tls';
import { hostTlsParametersKey, tlsParameterOptions, type HostTlsParameters, type TlsVersion } from '../../../model/tls-parameters.ts';
import type { SniContexts } from './sni-contexts.ts';

/** Hands connections to the TLS server of their host's parameters. */
export interface HostTlsHandshakes {
  /** Terminates TLS on `socket` (its ClientHello unread) with `parameters`. */
  take(socket: Socket, parameters: HostTlsParameters): void;
}

/** Distinct parameter sets kept at once; past it, the servers are made afresh (a few hosts set any). */
const MAX_SERVERS = 64;

/**
 * The Node options of a handshake server for `parameters`, on top of the listener's: its oldest
 * version unless the host asks for a newer one.
 */
export function handshakeOptions(parameters: HostTlsParameters | null, minVersion: TlsVersion): { minVersion: TlsVersion; maxVersion?: TlsVersion; ciphers?: string; honorCipherOrder?: boolean } {
  if (parameters === null) return { minVersion };
  return { minVersion, ...tlsParameterOptions(parameters), ...(parameters.preferServerCiphers === true ? { honorCipherOrder: true } : {}) };
}

/**
 * The parameter servers of the HTTPS server `https`, whose certificates `sni` chooses: each
 * handshake's socket is then emitted as `https`'s 'secureConnection'. `timeoutMs` bounds a handshake.
 */
export function hostTlsHandshakes(https: TlsServer, sni: SniContexts, options: { readonly minVersion: TlsVersion; readonly timeoutMs: number }): HostTlsHandshakes {
  const servers = new Map<string, TlsServer>();
  const serverFor = (parameters: HostTlsParameters): TlsServer => {
    const key = hostTlsParametersKey(parameters);
    let server = servers.get(key);
    if (server !== undefined) return server;
    if (servers.size >= MAX_SERVERS) servers.clear();
    server = createServer({
      ALPNProtocols: ['h2', 'http/1.1'],
      ...handshakeOptions(parameters, options.minVersion),
      handshakeTimeout: options.timeoutMs > 0 ? options.timeoutMs : 30_000,
      SNICallback: sni.callback,
    });
    server.on('secureConnection', (socket: TLSSocket) => https.emit('secureConnection', socket));
    // A failed handshake has nothing to answer: Node has destroyed the socket.
    server.on('tlsClientError', () => {});
    servers.set(key, server);
    return server;
  };
  return { take: (socket, parameters) => void serverFor(parameters).emit('connection', socket) };
}
