/**
 * `compile` with a safety net: the table is checked against its invariants (checkTable) before
 * anyone serves it. The front ends are written to produce only sound tables — the golden, corpus
 * and robustness tests hold them to that — so a violation is a bug in signalbox, triggered by some
 * object. Rather than hand the workers a table whose filters they would have to second-guess (an
 * address list that does not parse would let everyone in), the objects a violation's provenance
 * names are left out of the snapshot and the rest is compiled again, like invalid objects: every
 * other route keeps serving, and each left-out object gets a `TableInvariantViolated` diagnostic
 * (log, metric, status, Event) saying what broke. A violation that names no object it could leave
 * out makes the result {@link GuardedResult.unsafe}: it must not be published (the one before it
 * keeps serving).
 *
 * Pure, like compile: the same snapshot gives the same result.
 */
import { checkTable, type TableViolation } from '../model/check-table.ts';
import type { CompileOptions, Snapshot } from '../model/snapshot.ts';
import type { CompileResult, Diagnostic } from '../model/table.ts';
import { compile } from './compile.ts';

/** A compile result, and the violations still in its table (empty when it is sound). */
export interface GuardedResult extends CompileResult {
  readonly unsafe: readonly TableViolation[];
}

/** At most this many compiles: each round leaves out at least one more object. */
const MAX_ROUNDS = 4;

/** The snapshot lists objects of a kind are in. */
const LISTS: Readonly<Record<string, keyof Snapshot>> = {
  Ingress: 'ingresses',
  Service: 'services',
  EndpointSlice: 'endpointSlices',
  Secret: 'secrets',
  ConfigMap: 'configMaps',
  RouteScript: 'routeScripts',
  Gateway: 'gateways',
  ListenerSet: 'listenerSets',
  XListenerSet: 'listenerSets',
  HTTPRoute: 'httpRoutes',
  GRPCRoute: 'grpcRoutes',
  TLSRoute: 'tlsRoutes',
  TCPRoute: 'tcpRoutes',
  UDPRoute: 'udpRoutes',
  ReferenceGrant: 'referenceGrants',
  BackendTLSPolicy: 'backendTLSPolicies',
};

/** The namespaced object a provenance starts with (`Kind/namespace/name/...`), or null. */
function objectOf(provenance: string): { kind: string; namespace: string; name: string } | null {
  const [kind, namespace, name] = provenance.split('/');
  if (kind === undefined || namespace === undefined || name === undefined || name === '') return null;
  return Object.hasOwn(LISTS, kind) ? { kind, namespace, name } : null;
}

/** `snapshot` without the objects keyed `Kind/namespace/name` in `out`. */
function without(snapshot: Snapshot, out: ReadonlySet<string>): Snapshot {
  const lists = new Set(Object.values(LISTS));
  const next: Record<string, unknown> = { ...snapshot };
  for (const key of lists) {
    const list = snapshot[key] as ReadonlyArray<{ kind?: string; metadata?: { namespace?: string; name?: string } }> | undefined;
    if (list === undefined) continue;
    next[key] = list.filter((o) => !out.has(`${o.kind}/${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`));
  }
  return next as unknown as Snapshot;
}

/**
 * Compiles `snapshot` and checks the table; objects whose translation broke an invariant are left
 * out and the rest compiled again. `compileFn` is for tests (a front end with a bug on demand).
 */
export function compileGuarded(snapshot: Snapshot, options: CompileOptions, compileFn: typeof compile = compile): GuardedResult {
  const leftOut = new Map<string, TableViolation>();
  let current = snapshot;
  for (let round = 1; ; round++) {
    const result = compileFn(current, options);
    const violations = checkTable(result.table);
    const blamed = new Map<string, TableViolation>();
    let unblamed = false;
    for (const v of violations) {
      const object = objectOf(v.provenance);
      if (object === null) unblamed = true;
      else {
        const key = `${object.kind}/${object.namespace}/${object.name}`;
        if (!blamed.has(key) && !leftOut.has(key)) blamed.set(key, v);
      }
    }
    if (violations.length === 0 || unblamed || blamed.size === 0 || round === MAX_ROUNDS) {
      const diagnostics: Diagnostic[] = [...result.diagnostics];
      for (const [key, v] of leftOut) diagnostics.push(violationDiagnostic(key, v));
      return { ...result, diagnostics, unsafe: violations };
    }
    for (const [key, v] of blamed) leftOut.set(key, v);
    current = without(snapshot, new Set(leftOut.keys()));
  }
}

function violationDiagnostic(key: string, v: TableViolation): Diagnostic {
  const [kind, namespace, name] = key.split('/') as [string, string, string];
  return {
    kind,
    namespace,
    name,
    code: 'TableInvariantViolated',
    severity: 'error',
    message: `signalbox translated this object into a table that breaks its own rules (${v.at}: ${v.message}); the object is left out until that is fixed. This is a bug in signalbox: please report it with this message`,
    path: v.provenance,
  };
}
