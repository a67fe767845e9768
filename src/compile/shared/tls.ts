/**
 * The Secret processor: turning `spec.tls` entries into certificates. A certificate that cannot be
 * used drops only its TLS entry; the routes of the Ingress are still served over plain HTTP.
 */
import { X509Certificate, createPrivateKey } from 'node:crypto';
import type { Certificate } from '../../model/table.ts';
import { guarded, type DiagnosticSink } from './diagnostics.ts';
import type { RankedOwner, TLSCandidate } from './candidates.ts';
import type { Identified } from './objects.ts';
import { winnerName } from './virtual-hosts.ts';
import { field, isUnset } from './guards.ts';
import { comparePaths, compareStrings } from './order.ts';

/** The Secret type for a certificate and its key. */
export const TLS_SECRET_TYPE = 'kubernetes.io/tls';

/** A usable key pair, or why a Secret is not one. */
export type KeyPair = { readonly certPem: string; readonly keyPem: string } | { readonly code: 'TLSSecretNotFound' | 'TLSSecretInvalid'; readonly message: string };

const UNREADABLE: KeyPair = { code: 'TLSSecretInvalid', message: 'the Secret could not be read' };

interface Building {
  readonly name: string;
  readonly pair: { readonly certPem: string; readonly keyPem: string };
  readonly hosts: Set<string>;
  readonly provenance: Set<string>;
}

interface HostClaim {
  readonly certificate: string;
  readonly owner: RankedOwner;
  readonly provenance: string;
}

/**
 * Builds the certificates from TLS entries given in claim order (Ingresses: oldest first). A Secret referenced by
 * several entries or Ingresses is one certificate serving the union of their hosts. A host claimed
 * through two different Secrets goes to the oldest Ingress (or the earlier entry of one Ingress);
 * the other entry loses that host with `TLSHostConflict`. Certificates left without hosts are
 * omitted. Sorted by name, hosts sorted.
 */
export function buildCertificates(
  entries: readonly TLSCandidate[],
  secrets: ReadonlyMap<string, Identified>,
  sink: DiagnosticSink,
): Certificate[] {
  const pairs = new Map<string, KeyPair>();
  const building = new Map<string, Building>();
  const claims = new Map<string, HostClaim>();
  for (const entry of entries) {
    const { owner } = entry;
    const name = `${entry.namespace ?? owner.id.namespace}/${entry.secretName}`;
    let pair = pairs.get(name);
    if (pair === undefined) {
      const secret = secrets.get(name);
      pair = guarded(sink, { kind: 'Secret', namespace: entry.namespace ?? owner.id.namespace, name: entry.secretName }, UNREADABLE, () => readKeyPair(name, secret));
      pairs.set(name, pair);
    }
    if ('code' in pair) {
      sink.report(owner.id, pair.code, 'error', `${pair.message}; the TLS entry is ignored and its hosts are served over HTTPS with the default certificate`, entry.provenance);
      continue;
    }
    let certificate = building.get(name);
    if (certificate === undefined) {
      certificate = { name, pair, hosts: new Set(), provenance: new Set() };
      building.set(name, certificate);
    }
    for (const host of entry.hosts) {
      const claim = claims.get(host);
      if (claim !== undefined && claim.certificate !== name) {
        const by = claim.owner.id.provenance === owner.id.provenance ? `an earlier TLS entry of this ${owner.id.kind}` : winnerName(claim.owner, owner);
        sink.report(
          owner.id,
          'TLSHostConflict',
          'error',
          `host "${host}" is already served with Secret ${claim.certificate} by ${by} (${claim.provenance}); Secret ${name} does not serve it`,
          entry.provenance,
        );
        continue;
      }
      if (claim === undefined) claims.set(host, { certificate: name, owner, provenance: entry.provenance });
      certificate.hosts.add(host);
      certificate.provenance.add(entry.provenance);
    }
  }
  return [...building.values()]
    .filter((c) => c.hosts.size > 0)
    .sort((a, b) => compareStrings(a.name, b.name))
    .map((c) => ({
      name: c.name,
      hosts: [...c.hosts].sort(compareStrings),
      certPem: c.pair.certPem,
      keyPem: c.pair.keyPem,
      provenance: [...c.provenance].sort(comparePaths),
    }));
}

/**
 * Reads and checks a TLS Secret: type `kubernetes.io/tls` (or none), `tls.crt` and `tls.key` from
 * `stringData` (plain, wins like it does on the API server) or `data` (base64); the certificate and
 * key must parse and belong together. Parsing with node:crypto is pure computation.
 */
export function readKeyPair(name: string, secret: Identified | undefined): KeyPair {
  if (secret === undefined) return { code: 'TLSSecretNotFound', message: `Secret ${name} not found` };
  const invalid = (message: string): KeyPair => ({ code: 'TLSSecretInvalid', message: `Secret ${name} ${message}` });
  const type = field(secret.obj, 'type');
  if (!isUnset(type) && type !== TLS_SECRET_TYPE) {
    return invalid(`has type ${JSON.stringify(type) ?? String(type)}, not ${TLS_SECRET_TYPE}`);
  }
  const certPem = readKey(secret, 'tls.crt');
  const keyPem = readKey(secret, 'tls.key');
  if (typeof certPem !== 'string') return invalid(certPem.problem);
  if (typeof keyPem !== 'string') return invalid(keyPem.problem);
  let certificate: X509Certificate;
  try {
    if (!certPem.includes('-----BEGIN CERTIFICATE-----')) throw new Error('not PEM');
    certificate = new X509Certificate(certPem);
  } catch {
    return invalid('has a tls.crt that is not a PEM certificate');
  }
  try {
    if (!certificate.checkPrivateKey(createPrivateKey(keyPem))) return invalid('has a tls.key that does not match its tls.crt');
  } catch {
    return invalid('has a tls.key that is not an unencrypted PEM private key');
  }
  return { certPem, keyPem };
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Key `key` of a Secret: from `stringData` (plain) or `data` (base64), or why it cannot be read. */
export function readKey(secret: Identified, key: string): string | { readonly problem: string } {
  const plain = field(field(secret.obj, 'stringData'), key);
  if (typeof plain === 'string' && plain !== '') return plain;
  const encoded = field(field(secret.obj, 'data'), key);
  if (typeof encoded !== 'string' || encoded === '') return { problem: `has no ${key}` };
  const compact = encoded.replace(/\s+/g, '');
  if (compact.length % 4 !== 0 || !BASE64.test(compact)) return { problem: `has a data.${key} that is not base64` };
  return Buffer.from(compact, 'base64').toString('utf8');
}
