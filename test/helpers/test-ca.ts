import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A test certificate authority, one server certificate it signed, and the client certificates asked for. */
export interface TestPki {
  readonly caPem: string;
  readonly certPem: string;
  readonly keyPem: string;
  /** Client certificates (extendedKeyUsage clientAuth) by common name, signed by the same CA. */
  readonly clients: Readonly<Record<string, { readonly certPem: string; readonly keyPem: string }>>;
}

/**
 * Makes a CA (CA:true) and a server certificate for `dnsName` signed by it, with the openssl CLI,
 * so that upstreams can be verified the way real ones are: by a chain, not a pinned certificate;
 * and a client certificate with each of `clientNames` as its CN, for upstreams that require mTLS.
 * `moreAltNames` adds subject alternative names to the server certificate (`URI:spiffe://…`, `DNS:…`).
 */
export function makeTestPki(dnsName: string, clientNames: readonly string[] = [], moreAltNames: readonly string[] = []): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'signalbox-pki-'));
  try {
    const run = (...args: string[]): void => {
      execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
    };
    run('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=signalbox test CA', '-addext', 'basicConstraints=critical,CA:true', '-addext', 'keyUsage=critical,keyCertSign');
    run('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'leaf.key', '-out', 'leaf.csr', '-subj', `/CN=${dnsName}`);
    writeFileSync(join(dir, 'leaf.ext'), `subjectAltName=${[`DNS:${dnsName}`, ...moreAltNames].join(',')}\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:false\n`);
    run('x509', '-req', '-in', 'leaf.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'leaf.crt', '-days', '2', '-extfile', 'leaf.ext');
    const read = (name: string): string => readFileSync(join(dir, name), 'utf8');
    writeFileSync(join(dir, 'client.ext'), 'extendedKeyUsage=clientAuth\nbasicConstraints=CA:false\n');
    const clients: Record<string, { certPem: string; keyPem: string }> = {};
    clientNames.forEach((cn, i) => {
      run('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `client${i}.key`, '-out', `client${i}.csr`, '-subj', `/CN=${cn}`);
      run('x509', '-req', '-in', `client${i}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `client${i}.crt`, '-days', '2', '-extfile', 'client.ext');
      clients[cn] = { certPem: read(`client${i}.crt`), keyPem: read(`client${i}.key`) };
    });
    return { caPem: read('ca.crt'), certPem: read('leaf.crt'), keyPem: read('leaf.key'), clients };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
