/**
 * TLS material and checks for bench/protocols.ts: one CA and one server certificate (EC P-256) shared
 * by every server that terminates TLS, so nginx and signalbox present the same key; and a probe that
 * says which TLS version, cipher and ALPN protocol a server negotiates with OpenSSL's default client.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { HOST } from './net.ts';

/** The name in the server certificate, which the proxies verify the TLS upstream against. */
export const TLS_NAME = 'upstream.bench.local';

/** Paths of the PEM files in the run's temp dir. */
export interface BenchPki {
  caFile: string;
  certFile: string;
  keyFile: string;
  caPem: string;
}

/** Makes the CA and a server certificate for {@link TLS_NAME} (and `bench.local`) in `dir`, with openssl. */
export function makeBenchPki(dir: string): BenchPki {
  const run = (...args: string[]): void => void execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  run('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=signalbox bench CA', '-addext', 'basicConstraints=critical,CA:true', '-addext', 'keyUsage=critical,keyCertSign');
  run('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', `/CN=${TLS_NAME}`);
  writeFileSync(join(dir, 'server.ext'), `subjectAltName=DNS:${TLS_NAME},DNS:bench.local\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:false\n`);
  run('x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '2', '-extfile', 'server.ext');
  const caFile = join(dir, 'ca.crt');
  return { caFile, certFile: join(dir, 'server.crt'), keyFile: join(dir, 'server.key'), caPem: readFileSync(caFile, 'utf8') };
}

/** What a TLS handshake settled on. */
export interface Negotiated {
  protocol: string;
  cipher: string;
  alpn: string;
}

/**
 * Handshakes with Node's TLS client (its TLS 1.3 suites in OpenSSL's default order, as wrk offers
 * them) offering `alpn`, and reads back the version, cipher and protocol chosen.
 */
export function probeTls(port: number, alpn: string[] = ['h2', 'http/1.1']): Promise<Negotiated> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: HOST, port, ALPNProtocols: alpn, rejectUnauthorized: false, servername: 'bench.local' }, () => {
      const result = { protocol: socket.getProtocol() ?? 'none', cipher: socket.getCipher().standardName, alpn: socket.alpnProtocol || 'none' };
      socket.destroy();
      resolve(result);
    });
    socket.once('error', reject);
    socket.setTimeout(5_000, () => socket.destroy(new Error(`TLS handshake with port ${port} timed out`)));
  });
}
