/**
 * BackendTLSPolicies (apis/v1/backendtlspolicy_types.go): TLS from the gateway to a Service's
 * endpoints, verified against a CA bundle (a ConfigMap's `ca.crt`) or the system's roots, with
 * `hostname` as SNI and as the name checked — or, when `subjectAltNames` lists names, as SNI only,
 * the certificate then having to carry one of those (BackendTLSPolicySANValidation). Every Gateway API route backend of the targeted
 * Service (or of its port named by `sectionName`) gets the policy as cluster overrides: HTTPS (or
 * HTTP/2 over TLS for a GRPCRoute), verified. Of two policies for one target the older wins; the
 * other is Conflicted. A policy that cannot be applied as written (a subject alternative name
 * that is not a hostname or an absolute URI; no usable CA) fails its backends closed: they answer
 * 500 rather than reach the Service in clear text or unchecked.
 */
import type { BackendSubjectAltName, BackendTlsOverrides } from '../../model/policy.ts';
import type { Condition, ObjectStatus, ParentReference } from '../../model/table.ts';
import { compareAge, withAge } from '../shared/age.ts';
import { guarded, type DiagnosticSink } from '../shared/diagnostics.ts';
import { field, isRecord } from '../shared/guards.ts';
import { indexObjects, type Identified, type ObjectIdentity } from '../shared/objects.ts';
import { isFalse, isTrue } from './conditions.ts';
import { isGatewayHostname } from './hostnames.ts';

/** What a policy asks for one target: TLS settings, or that its backends fail closed. */
export type BackendTls = { readonly tls: BackendTlsOverrides; readonly policy: string } | { readonly refused: string; readonly policy: string };

/** The accepted policies by target, and what their status needs. */
export class BackendTlsPolicies {
  /** Every policy for a target, oldest first: the first is applied, the others are Conflicted. */
  readonly #byTarget = new Map<string, BackendTls[]>();
  readonly #records: { id: ObjectIdentity; accepted: Condition; resolved: Condition; targets: string[] }[] = [];
  /** Policy provenance → the Gateways whose routes use one of its targets. */
  readonly #ancestors = new Map<string, Map<string, ParentReference>>();

  constructor(list: unknown, configMaps: ReadonlyMap<string, Identified>, sink: DiagnosticSink) {
    const items = [...indexObjects(list, 'BackendTLSPolicy', true, sink).values()]
      .map((item) => guarded(sink, item.id, { ...item, created: null }, () => withAge(item, sink)))
      .sort(compareAge);
    for (const { id, obj } of items) guarded(sink, id, undefined, () => this.#read(id, obj, configMaps, sink));
  }

  /**
   * The policy for port `port` (number, and its name `portName`) of Service `namespace/service`,
   * recording `gateways` as ancestors of the policy; undefined when none targets it.
   */
  forBackend(namespace: string, service: string, portName: string, gateways: readonly ParentReference[]): BackendTls | undefined {
    const found = (portName === '' ? undefined : this.#byTarget.get(`${namespace}/${service}/${portName}`)) ?? this.#byTarget.get(`${namespace}/${service}/`);
    if (found === undefined) return undefined;
    for (const policy of found) {
      let ancestors = this.#ancestors.get(policy.policy);
      if (ancestors === undefined) this.#ancestors.set(policy.policy, (ancestors = new Map()));
      for (const g of gateways) ancestors.set(`${g.namespace}/${g.name}`, g);
    }
    return found[0];
  }

  /** Each policy's status: its conditions toward every Gateway whose routes use its targets. */
  statuses(): ObjectStatus[] {
    return this.#records.map(({ id, accepted, resolved }) => ({
      kind: 'BackendTLSPolicy',
      namespace: id.namespace,
      name: id.name,
      ...(id.generation === undefined ? {} : { generation: id.generation }),
      conditions: [],
      parents: [...(this.#ancestors.get(id.provenance)?.values() ?? [])]
        .sort((a, b) => (`${a.namespace}/${a.name}` < `${b.namespace}/${b.name}` ? -1 : 1))
        .map((parentRef) => ({ parentRef, conditions: [accepted, resolved] })),
    }));
  }

  #read(id: ObjectIdentity, obj: unknown, configMaps: ReadonlyMap<string, Identified>, sink: DiagnosticSink): void {
    const spec = field(obj, 'spec');
    const validation = field(spec, 'validation');
    const hostname = field(validation, 'hostname');
    let accepted = isTrue('Accepted', 'Accepted', 'The BackendTLSPolicy is accepted.');
    let resolved = isTrue('ResolvedRefs', 'ResolvedRefs', 'All references are resolved.');
    let outcome: { tls: BackendTlsOverrides } | { refused: string };
    const refuse = (reason: string, message: string, refs?: Condition): void => {
      accepted = isFalse('Accepted', reason, message);
      if (refs !== undefined) resolved = refs;
      outcome = { refused: message };
      sink.report(id, 'BackendTlsPolicyInvalid', 'error', `${message}; the backends it targets answer 500 rather than be reached without TLS`);
    };
    outcome = { tls: {} };
    const sans = field(validation, 'subjectAltNames');
    const refs = field(validation, 'caCertificateRefs');
    const wellKnown = field(validation, 'wellKnownCACertificates');
    const altNames = subjectAltNames(sans);
    if (typeof altNames === 'string') refuse('Invalid', altNames);
    else if (!isGatewayHostname(hostname) || hostname.startsWith('*.')) refuse('Invalid', `validation.hostname ${JSON.stringify(hostname)} is not a hostname`);
    else if (Array.isArray(refs) && refs.length > 0) {
      const problems: { reason: string; message: string }[] = [];
      let ca: BackendTlsOverrides['ca'] | undefined;
      for (const [i, ref] of (refs as unknown[]).entries()) {
        const group = field(ref, 'group') ?? '';
        const kind = field(ref, 'kind');
        const name = field(ref, 'name');
        if (group !== '' || kind !== 'ConfigMap' || typeof name !== 'string') {
          problems.push({ reason: 'InvalidKind', message: `caCertificateRefs[${i}] is a ${String(kind)}, not a core ConfigMap` });
          continue;
        }
        const map = configMaps.get(`${id.namespace}/${name}`);
        const pem = field(field(map?.obj, 'data'), 'ca.crt');
        if (typeof pem !== 'string' || !pem.includes('-----BEGIN CERTIFICATE-----')) {
          problems.push({ reason: 'InvalidCACertificateRef', message: `caCertificateRefs[${i}]: ConfigMap ${id.namespace}/${name} ${map === undefined ? 'not found' : 'has no PEM certificate in ca.crt'}` });
          continue;
        }
        ca ??= { kind: 'ConfigMap', name, key: 'ca.crt' };
      }
      if (problems[0] !== undefined) resolved = isFalse('ResolvedRefs', problems[0].reason, problems.map((p) => p.message).join('; '));
      if (ca === undefined) refuse('NoValidCACertificate', problems.map((p) => p.message).join('; '));
      else outcome = { tls: { verify: true, serverName: hostname, ca, ...altNames } };
    } else if (wellKnown === 'System') outcome = { tls: { verify: true, serverName: hostname, ...altNames } };
    else refuse('Invalid', `wellKnownCACertificates ${JSON.stringify(wellKnown)} is not System`);

    const targets: string[] = [];
    for (const [i, t] of (Array.isArray(field(spec, 'targetRefs')) ? (field(spec, 'targetRefs') as unknown[]) : []).entries()) {
      if (!isRecord(t) || (t['group'] ?? '') !== '' || t['kind'] !== 'Service' || typeof t['name'] !== 'string') {
        sink.report(id, 'BackendTlsPolicyInvalid', 'error', `targetRefs[${i}] is not a core Service; that target is ignored`);
        continue;
      }
      const key = `${id.namespace}/${t['name']}/${typeof t['sectionName'] === 'string' ? t['sectionName'] : ''}`;
      const holders = this.#byTarget.get(key);
      if (holders !== undefined) {
        accepted = isFalse('Accepted', 'Conflicted', `${holders[0]!.policy} is older and targets the same Service port`);
        sink.report(id, 'BackendTlsPolicyConflicted', 'warning', `${holders[0]!.policy} already targets Service ${String(t['name'])}${key.endsWith('/') ? '' : ` port ${key.split('/')[2]}`}; this policy is not applied there`);
        holders.push({ ...outcome, policy: id.provenance });
        continue;
      }
      this.#byTarget.set(key, [{ ...outcome, policy: id.provenance }]);
      targets.push(key);
    }
    this.#records.push({ id, accepted, resolved, targets });
  }
}

/**
 * `validation.subjectAltNames` as the IR's names (`{}` when none are listed), or why one cannot be
 * checked: a Hostname entry without a hostname, a URI entry without an absolute URI, another type.
 */
function subjectAltNames(list: unknown): { subjectAltNames?: BackendSubjectAltName[] } | string {
  if (list === undefined || list === null || (Array.isArray(list) && list.length === 0)) return {};
  if (!Array.isArray(list)) return 'validation.subjectAltNames is not a list';
  const out: BackendSubjectAltName[] = [];
  for (const [i, san] of (list as unknown[]).entries()) {
    const type = field(san, 'type');
    const hostname = field(san, 'hostname');
    const uri = field(san, 'uri');
    if (type === 'Hostname' && isGatewayHostname(hostname)) out.push({ type, value: hostname.toLowerCase() });
    // An absolute URI: a scheme, a colon and something after it (RFC 3986, as the API's AbsoluteURI).
    else if (type === 'URI' && typeof uri === 'string' && /^[A-Za-z][A-Za-z0-9+.-]*:[^\s]+$/.test(uri)) out.push({ type, value: uri });
    else return `validation.subjectAltNames[${i}] is not a Hostname with a hostname or a URI with an absolute URI: ${JSON.stringify(san)}`;
  }
  return { subjectAltNames: out };
}
