import { createHash, X509Certificate } from 'node:crypto';
import { hashFormat } from '../../model/password-hash-schemes.ts';
import type { Certificate, Cluster, CompiledScript, CompiledScriptLookup, Filter, Route, RoutingTable } from '../../model/table.ts';

/** The shape of a value that is not printed: its type and size. */
export interface ValueShape {
  readonly type: 'object' | 'array' | 'string' | 'number' | 'boolean' | 'null';
  /** A string's UTF-8 length; for any other value, the length of its JSON. */
  readonly bytes: number;
}

/** What is printed of a RouteScript's `data` instead of its values. */
export interface RedactedData {
  readonly redacted: true;
  /** Length of the whole data as JSON (what the workers receive). */
  readonly bytes: number;
  /** SHA-256 of that JSON, hex: tells whether two replicas, or two versions, hold the same data. */
  readonly sha256: string;
  /** Each top-level key with the shape of its value; deeper keys are not shown (they are often data too). */
  readonly keys: Readonly<Record<string, ValueShape>>;
}

/** What is printed of one certificate of a chain instead of its PEM. */
export interface CertificateSummary {
  readonly subject: string;
  readonly issuer: string;
  readonly subjectAltName: string | null;
  readonly validFrom: string;
  readonly validTo: string;
  readonly serialNumber: string;
  readonly fingerprint256: string;
}

/** What {@link redactTable} leaves out. */
export interface RedactionOptions {
  /** Print RouteScript `data` as it is (the offline `compile --show-data`); private keys never are. */
  readonly showData?: boolean;
}

/**
 * The routing table as it may be shown to a person: `/debug/table` and `signalbox compile` print
 * this, never the table itself. Left out:
 * - certificates' private keys (`keyPem`, from a TLS Secret): `(redacted)`; and the certificate's
 *   PEM (`tls.crt`), summarised as its chain (subject, issuer, validity, fingerprint): only the
 *   `CERTIFICATE` blocks of it are read, since a `tls.crt` with the key pasted in is a common mistake;
 * - the private key of a cluster's client certificate (`signalbox.dev/backend-tls-client-certificate`),
 *   the same way: `keyPem` reads `(redacted)`, and its PEM is summarised as its chain;
 * - every RouteScript's `data` (inline `spec.data` or a ConfigMap's key through `dataFrom`: where
 *   tenants' tokens and the like live): its {@link RedactedData} shape instead;
 * - the values of a lookup path's query parameters (`?token=…`), other than a bare `{key}`;
 * - the password hashes of BasicAuth users (from an htpasswd Secret, `{PLAIN}` ones being the
 *   passwords themselves): `(redacted)`, with the user's name and the hash's `scheme` kept.
 * Everything else in the table comes from Ingresses, Services, EndpointSlices and RouteScripts'
 * other fields, which anyone allowed to read those objects sees anyway.
 */
export function redactTable(table: RoutingTable, options: RedactionOptions = {}): unknown {
  if (options.showData === true) return redact(table, options);
  // A published table never changes, and hashing its data and parsing its certificates is most of
  // the cost of a /debug/table answer: each table is redacted once, however often it is asked for.
  let redacted = REDACTED.get(table);
  if (redacted === undefined) REDACTED.set(table, (redacted = redact(table, options)));
  return redacted;
}

const REDACTED = new WeakMap<RoutingTable, unknown>();

function redact(table: RoutingTable, options: RedactionOptions): unknown {
  const scripts: Record<string, unknown> = {};
  for (const [key, script] of Object.entries(table.scripts)) scripts[key] = redactScript(script, options);
  const clusters: Record<string, unknown> = {};
  for (const [key, cluster] of Object.entries(table.clusters)) clusters[key] = redactCluster(cluster);
  return {
    ...table,
    virtualHosts: table.virtualHosts.map((v) => (v.routes.some(hasBasicAuth) ? { ...v, routes: v.routes.map(redactRoute) } : v)),
    defaultRoute: table.defaultRoute === null ? null : redactRoute(table.defaultRoute),
    clusters,
    certificates: table.certificates.map(redactCertificate),
    scripts,
  };
}

function hasBasicAuth(route: Route): boolean {
  return route.filters.some((f) => f.type === 'BasicAuth');
}

/** A route whose BasicAuth users show their names and hash schemes, never their hashes. */
function redactRoute(route: Route): Route {
  if (!hasBasicAuth(route)) return route;
  const filters = route.filters.map((f): Filter => {
    if (f.type !== 'BasicAuth' || f.users === null) return f;
    return { ...f, users: f.users.map((u) => ({ name: u.name, hash: '(redacted)', scheme: hashFormat(u.hash).scheme })) };
  });
  return { ...route, filters };
}

/** A cluster whose client certificate, if it has a usable one, shows as its chain and no key. */
function redactCluster(cluster: Cluster): unknown {
  const tls = cluster.policy.tls;
  const client = tls?.clientCertificate ?? null;
  if (tls === null || client === null || client.certPem === null) return cluster;
  const { certPem, keyPem: _key, ...rest } = client;
  return { ...cluster, policy: { ...cluster.policy, tls: { ...tls, clientCertificate: { ...rest, chain: chainOf(certPem), keyPem: '(redacted)' } } } };
}

function redactCertificate({ certPem, keyPem: _key, ...rest }: Certificate): unknown {
  return { ...rest, chain: chainOf(certPem), keyPem: '(redacted)' };
}

/** The certificates of a PEM bundle, each as a summary; nothing else of the text. */
function chainOf(pem: string): (CertificateSummary | { readonly unreadable: true })[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\s]*?-----END CERTIFICATE-----/g) ?? [];
  return blocks.map((block) => {
    try {
      const c = new X509Certificate(block);
      return {
        subject: c.subject, issuer: c.issuer, subjectAltName: c.subjectAltName ?? null,
        validFrom: c.validFromDate.toISOString(), validTo: c.validToDate.toISOString(),
        serialNumber: c.serialNumber, fingerprint256: c.fingerprint256,
      };
    } catch {
      return { unreadable: true };
    }
  });
}

function redactScript(script: CompiledScript, options: RedactionOptions): unknown {
  return {
    ...script,
    data: options.showData === true ? script.data : dataShape(script.data),
    lookup: script.lookup === null ? null : redactLookup(script.lookup),
  };
}

/** The shape of a script's data: sizes, a hash, and its top-level keys with their values' shapes. */
export function dataShape(data: unknown): RedactedData {
  const json = JSON.stringify(data) ?? 'null';
  const keys: Record<string, ValueShape> = {};
  if (data !== null && typeof data === 'object' && !Array.isArray(data)) {
    for (const [key, value] of Object.entries(data)) keys[key] = shapeOf(value);
  }
  return { redacted: true, bytes: Buffer.byteLength(json), sha256: createHash('sha256').update(json).digest('hex'), keys };
}

function shapeOf(value: unknown): ValueShape {
  if (typeof value === 'string') return { type: 'string', bytes: Buffer.byteLength(value) };
  const type = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value === 'object' ? 'object' : typeof value === 'number' ? 'number' : 'boolean';
  return { type, bytes: Buffer.byteLength(JSON.stringify(value) ?? 'null') };
}

/** A lookup whose path's query values (a credential, as often as not) read `(redacted)`. */
function redactLookup(lookup: CompiledScriptLookup): CompiledScriptLookup {
  const q = lookup.path.indexOf('?');
  if (q < 0) return lookup;
  const query = lookup.path.slice(q + 1).split('&').map((pair) => {
    const eq = pair.indexOf('=');
    if (eq < 0 || pair.slice(eq + 1) === '{key}') return pair;
    return `${pair.slice(0, eq)}=(redacted)`;
  });
  return { ...lookup, path: `${lookup.path.slice(0, q)}?${query.join('&')}` };
}
