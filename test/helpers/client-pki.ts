import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A certificate and its key, PEM. */
export interface Pair {
  readonly certPem: string;
  readonly keyPem: string;
}

/** Everything a client-certificate test needs, made with the openssl CLI as an operator would. */
export interface ClientPki {
  /** The CA client certificates are verified against (ca.crt of the Secret). */
  readonly caPem: string;
  /** A CRL of that CA revoking {@link revoked}. */
  readonly crlPem: string;
  /** A server certificate for every name in `serverNames` (self-signed: the tests do not verify it). */
  readonly server: Pair;
  /** Signed by the CA: subject `O=Example, CN=client1`. */
  readonly client: Pair;
  /** Signed by the CA: subject `CN=client2`. */
  readonly other: Pair;
  /** Signed by the CA, expired. */
  readonly expired: Pair;
  /** Signed by the CA, and revoked in {@link crlPem}. */
  readonly revoked: Pair;
  /** Signed by a CA of its own, which the Secret does not hold. */
  readonly stranger: Pair;
  /** Signed by an intermediate CA that the CA signed; the bundle {@link chainCaPem} holds both. */
  readonly chained: Pair;
  /** The CA and the intermediate, PEM: a Secret's ca.crt for {@link chained}. */
  readonly chainCaPem: string;
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/** Makes a {@link ClientPki}; `serverNames` go into the server certificate's subjectAltName. */
export function makeClientPki(serverNames: readonly string[]): ClientPki {
  const dir = mkdtempSync(join(tmpdir(), 'signalbox-client-pki-'));
  try {
    const run = (...args: string[]): void => void execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
    const read = (name: string): string => readFileSync(join(dir, name), 'utf8');
    const ca = (name: string, cn: string): void => run('req', '-x509', ...EC, '-keyout', `${name}.key`, '-out', `${name}.crt`, '-days', '2', '-subj', `/CN=${cn}`, '-addext', 'basicConstraints=critical,CA:true', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
    writeFileSync(join(dir, 'client.ext'), 'extendedKeyUsage=clientAuth\nbasicConstraints=CA:false\n');
    writeFileSync(join(dir, 'inter.ext'), 'basicConstraints=critical,CA:true\nkeyUsage=critical,keyCertSign,cRLSign\n');
    const sign = (name: string, subject: string, issuer: string, extra: string[] = ['-days', '2'], ext = 'client.ext'): Pair => {
      run('req', ...EC, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject);
      run('x509', '-req', '-in', `${name}.csr`, '-CA', `${issuer}.crt`, '-CAkey', `${issuer}.key`, '-CAcreateserial', '-out', `${name}.crt`, ...extra, '-extfile', ext);
      return { certPem: read(`${name}.crt`), keyPem: read(`${name}.key`) };
    };
    ca('ca', 'signalbox client CA');
    ca('strange', 'someone else\'s CA');
    run('req', '-x509', ...EC, '-keyout', 'server.key', '-out', 'server.crt', '-days', '2', '-subj', `/CN=${serverNames[0]}`, '-addext', `subjectAltName=${serverNames.map((n) => `DNS:${n}`).join(',')}`);
    const client = sign('client', '/O=Example/CN=client1', 'ca');
    const other = sign('other', '/CN=client2', 'ca');
    // openssl ca's database: for a validity in the past (openssl x509 -days cannot go back) and the CRL.
    writeFileSync(join(dir, 'index.txt'), '');
    writeFileSync(join(dir, 'crlnumber'), '01\n');
    writeFileSync(join(dir, 'serial'), '1000\n');
    writeFileSync(join(dir, 'ca.cnf'), '[ca]\ndefault_ca=d\n[d]\ndatabase=index.txt\ncrlnumber=crlnumber\nserial=serial\nnew_certs_dir=.\ndefault_md=sha256\ndefault_crl_days=2\npolicy=p\n[p]\ncommonName=supplied\n');
    run('req', ...EC, '-keyout', 'expired.key', '-out', 'expired.csr', '-subj', '/CN=expired');
    run('ca', '-batch', '-config', 'ca.cnf', '-keyfile', 'ca.key', '-cert', 'ca.crt', '-in', 'expired.csr', '-out', 'expired.crt', '-notext', '-startdate', '20200101000000Z', '-enddate', '20200102000000Z', '-extfile', 'client.ext');
    const expired = { certPem: read('expired.crt'), keyPem: read('expired.key') };
    const revoked = sign('revoked', '/CN=revoked', 'ca');
    const stranger = sign('stranger', '/CN=client1', 'strange');
    sign('inter', '/CN=signalbox intermediate CA', 'ca', ['-days', '2'], 'inter.ext');
    const chained = sign('chained', '/CN=chained', 'inter');
    run('ca', '-config', 'ca.cnf', '-keyfile', 'ca.key', '-cert', 'ca.crt', '-revoke', 'revoked.crt');
    run('ca', '-config', 'ca.cnf', '-keyfile', 'ca.key', '-cert', 'ca.crt', '-gencrl', '-out', 'ca.crl');
    return {
      caPem: read('ca.crt'),
      crlPem: read('ca.crl'),
      server: { certPem: read('server.crt'), keyPem: read('server.key') },
      client,
      other,
      expired,
      revoked,
      stranger,
      chained,
      chainCaPem: read('ca.crt') + read('inter.crt'),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
