/**
 * A Gateway's client-certificate validation (`spec.tls.frontend`, apis/v1/gateway_types.go
 * FrontendTLSConfig): `default` applies to every HTTPS listener of the Gateway, an entry of
 * `perPort` replaces it for the HTTPS listeners of its port. Each is read into the
 * {@link ClientCertificateAuth} the virtual hosts of those listeners carry, so that two ports of
 * one Gateway verify against different CAs (or one not at all): the data plane indexes client
 * checks per socket, and Gateway virtual hosts are per listener.
 *
 * - `AllowValidOnly` (the default): a handshake without a certificate that verifies is refused.
 * - `AllowInsecureFallback`: a certificate is asked for, and the request is served whatever came
 *   (the upstream sees `ssl-client-verify`); the Gateway says so (InsecureFrontendValidationMode).
 *
 * A CA reference that cannot be used makes ResolvedRefs False on the listeners of its port
 * (InvalidCACertificateKind, InvalidCACertificateRef, RefNotPermitted); with none usable they are
 * not served at all (Accepted False, NoValidCACertificate) rather than served unchecked.
 */
import { X509Certificate } from 'node:crypto';
import type { ClientCertificateAuth } from '../../model/table.ts';
import type { RankedOwner } from '../shared/candidates.ts';
import type { DiagnosticSink } from '../shared/diagnostics.ts';
import { field, isPortNumber } from '../shared/guards.ts';
import type { Identified } from '../shared/objects.ts';
import { readKey } from '../shared/tls.ts';
import { isFalse } from './conditions.ts';
import type { GatewayListener } from './gateways.ts';
import { GATEWAY_API_GROUP } from './names.ts';
import type { ReferenceGrants } from './reference-grants.ts';

/** A CA reference that could not be used, with the listener condition reason the spec gives it. */
export interface CaRefProblem {
  readonly reason: 'InvalidCACertificateKind' | 'InvalidCACertificateRef' | 'RefNotPermitted';
  readonly message: string;
}

/** The validation of one port's HTTPS listeners. */
export interface PortValidation {
  /** The check made, from the usable references; null when none was usable (the listeners are refused). */
  readonly auth: ClientCertificateAuth | null;
  /** The references that could not be used, in order. */
  readonly problems: readonly CaRefProblem[];
}

/** A Gateway's frontend validation, by port. */
export interface FrontendValidation {
  /** What the HTTPS listeners on `port` verify; null: they ask for no certificate. */
  forPort(port: number): PortValidation | null;
  /** Some port (or the default) lets unverified clients through: InsecureFrontendValidationMode. */
  readonly insecure: boolean;
}

const NONE: FrontendValidation = Object.freeze({ forPort: () => null, insecure: false });

// The Gateway API leaves the depth to the implementation: OpenSSL's own default limit.
const DEPTH = 100;

/** Reads `spec.tls.frontend` of the Gateway `owner` (`spec` is its spec, any shape). */
export function readFrontendValidation(owner: RankedOwner, spec: unknown, configMaps: ReadonlyMap<string, Identified>, secrets: ReadonlyMap<string, Identified>, grants: ReferenceGrants, sink: DiagnosticSink): FrontendValidation {
  const frontend = field(field(spec, 'tls'), 'frontend');
  if (frontend === undefined || frontend === null) return NONE;
  const at = `${owner.id.provenance}/spec/tls/frontend`;
  const read = (config: unknown, where: string): PortValidation | null => {
    const validation = field(config, 'validation');
    if (validation === undefined || validation === null) return null;
    return readValidation(owner, validation, where, configMaps, secrets, grants, sink);
  };
  const fallback = read(field(frontend, 'default'), `${at}/default`);
  const perPort = new Map<number, PortValidation | null>();
  const entries = field(frontend, 'perPort');
  for (const [i, entry] of (Array.isArray(entries) ? (entries as unknown[]) : []).entries()) {
    const port = field(entry, 'port');
    // The CRD makes ports unique; a manifest file need not: the first entry of a port holds.
    if (!isPortNumber(port) || perPort.has(port)) continue;
    perPort.set(port, read(field(entry, 'tls'), `${at}/perPort/${i}/tls`));
  }
  const all = [fallback, ...perPort.values()];
  return {
    forPort: (port) => (perPort.has(port) ? perPort.get(port)! : fallback),
    insecure: all.some((v) => v?.auth?.verify === 'optional_no_ca'),
  };
}

/**
 * An HTTPS listener (of the Gateway, or of a ListenerSet attached to it: the validation is the
 * port's, whoever declares a listener on it) with the client-certificate check of its port: ResolvedRefs False for every CA
 * reference that could not be used, and refused (NoValidCACertificate) when none could, rather
 * than served without the check.
 */
export function withFrontendValidation(l: GatewayListener, frontend: FrontendValidation): GatewayListener {
  if (l.protocol !== 'HTTPS' || !l.accepted) return l;
  const validation = frontend.forPort(l.port);
  if (validation === null) return l;
  let conditions = l.conditions;
  const first = validation.problems[0];
  if (first !== undefined) {
    const message = validation.problems.map((p) => p.message).join('; ');
    conditions = conditions.map((c) => (c.type !== 'ResolvedRefs' ? c : c.status === 'True' ? isFalse('ResolvedRefs', first.reason, message) : { ...c, message: `${c.message}; ${message}` }));
  }
  if (validation.auth === null) {
    const message = `No CA certificate of spec.tls.frontend for port ${l.port} can be used: ${validation.problems.map((p) => p.message).join('; ')}.`;
    conditions = conditions.map((c) => (c.type === 'Accepted' ? isFalse('Accepted', 'NoValidCACertificate', message) : c.type === 'Programmed' ? isFalse('Programmed', 'Invalid', message) : c));
    return { ...l, accepted: false, programmed: false, conditions, holdsPort: true };
  }
  return { ...l, conditions, clientAuth: validation.auth };
}

function readValidation(owner: RankedOwner, validation: unknown, at: string, configMaps: ReadonlyMap<string, Identified>, secrets: ReadonlyMap<string, Identified>, grants: ReferenceGrants, sink: DiagnosticSink): PortValidation {
  const problems: CaRefProblem[] = [];
  const names: string[] = [];
  const pems: string[] = [];
  const refs = field(validation, 'caCertificateRefs');
  for (const [i, ref] of (Array.isArray(refs) ? (refs as unknown[]) : []).entries()) {
    const group = field(ref, 'group') ?? '';
    const kind = field(ref, 'kind');
    const name = field(ref, 'name');
    const namespace = field(ref, 'namespace') ?? owner.id.namespace;
    if (group !== '' || (kind !== 'ConfigMap' && kind !== 'Secret')) {
      problems.push({ reason: 'InvalidCACertificateKind', message: `caCertificateRefs[${i}]: ${group === '' ? '' : `${String(group)}/`}${String(kind)} is not a kind signalbox reads CA certificates from (a core ConfigMap or Secret)` });
      continue;
    }
    if (typeof name !== 'string' || typeof namespace !== 'string') {
      problems.push({ reason: 'InvalidCACertificateRef', message: `caCertificateRefs[${i}] names no object` });
      continue;
    }
    if (namespace !== owner.id.namespace && !grants.allows({ group: GATEWAY_API_GROUP, kind: 'Gateway', namespace: owner.id.namespace }, { group: '', kind, namespace, name })) {
      problems.push({ reason: 'RefNotPermitted', message: `caCertificateRefs[${i}]: ${kind} ${namespace}/${name} is in another namespace and no ReferenceGrant there allows it` });
      continue;
    }
    const object = (kind === 'ConfigMap' ? configMaps : secrets).get(`${namespace}/${name}`);
    const pem = caCertificate(kind, object);
    if (pem === null) {
      problems.push({ reason: 'InvalidCACertificateRef', message: `caCertificateRefs[${i}]: ${kind} ${namespace}/${name} ${object === undefined ? 'not found' : 'has no PEM certificates in ca.crt'}` });
      continue;
    }
    names.push(`${namespace}/${name}`);
    pems.push(pem);
  }
  if (!Array.isArray(refs) || refs.length === 0) problems.push({ reason: 'InvalidCACertificateRef', message: 'validation.caCertificateRefs names no CA certificate' });
  for (const p of problems) {
    sink.report(owner.id, 'GatewayFrontendValidationInvalid', 'error', `${at.slice(owner.id.provenance.length + 1)}: ${p.message}${names.length === 0 ? '; the HTTPS listeners of its port are not served' : ''}`, at);
  }
  const mode = field(validation, 'mode') ?? 'AllowValidOnly';
  // The CRD admits only the two modes; anything else is read as the strict one, never as no check.
  const insecure = mode === 'AllowInsecureFallback';
  if (mode !== 'AllowValidOnly' && !insecure) sink.report(owner.id, 'GatewayFrontendValidationInvalid', 'error', `validation.mode ${JSON.stringify(mode)} is neither AllowValidOnly nor AllowInsecureFallback: read as AllowValidOnly`, `${at}/validation/mode`);
  if (names.length === 0) return { auth: null, problems };
  const auth: ClientCertificateAuth = {
    secret: names.join(','),
    caPem: pems.join(''),
    crlPem: null,
    verify: insecure ? 'optional_no_ca' : 'on',
    depth: DEPTH,
    errorPage: null,
    passCertificate: false,
    matchCN: null,
    ...(insecure ? {} : { rejectUnverified: true }),
    provenance: `${at}/validation`,
  };
  return { auth, problems };
}

const CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/**
 * The PEM CA bundle in `ca.crt` of a ConfigMap (`data`) or Secret (`stringData`, or `data` in
 * base64), each certificate checked to parse (OpenSSL would refuse the whole context otherwise);
 * null: none, or one that does not parse.
 */
function caCertificate(kind: 'ConfigMap' | 'Secret', object: Identified | undefined): string | null {
  if (object === undefined) return null;
  const raw = kind === 'Secret' ? readKey(object, 'ca.crt') : field(field(object.obj, 'data'), 'ca.crt');
  if (typeof raw !== 'string') return null;
  const blocks = raw.match(CERTIFICATE) ?? [];
  if (blocks.length === 0) return null;
  try {
    for (const block of blocks) new X509Certificate(block);
  } catch {
    return null;
  }
  return blocks.join('\n') + '\n';
}
