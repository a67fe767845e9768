/**
 * The RouteScript processor: validating each RouteScript against the rules of its CRD
 * (crds/routescript.yaml, defaults included), checking that its code compiles (`checkScript`, no
 * code runs), reading its data (inline or from a ConfigMap), resolving its named backends and
 * lookup service to clusters, and attaching it to the routes it targets.
 *
 * A RouteScript with any invalid field, code that does not compile, or data it cannot read is
 * dropped whole (an error diagnostic says why): its routes keep their normal routing — unless its
 * targetRefs are valid and its failurePolicy is reject: then it fails closed, listed in the table as
 * `invalid` and attached as usual, and its routes answer its rejectStatus. A valid one
 * is listed in `table.scripts` and named by a `RouteScript` filter of each route it attaches to:
 * - `{kind: Ingress, name, host?, path?}`: the routes of that Ingress in the script's namespace
 *   (the default route too when neither host nor path is given); `host` keeps only the routes of
 *   that virtual host (compared lower-case; `*` for rules without host), `path` only the routes
 *   with exactly that path as written;
 * - `{kind: Service, name}`: every route, of any of our Ingresses in the script's namespace, whose
 *   backend is that Service (any port), the default route included.
 * A route targeted by several RouteScripts runs them all, as a chain in a declared order
 * (route-script-chains.ts): one `RouteScript` filter each, in that order. A targetRef that
 * matches no route is a warning.
 *
 * With a memory budget (the per-worker sum of `limits.memoryMiB` the proxy allows, a compile
 * option), valid scripts that run somewhere are admitted oldest first while their limits fit (a
 * chain of three scripts on one route holds three isolates per worker, so each counts); one
 * that does not fit gets `RouteScriptOverMemoryBudget` and is dropped as if it were invalid (its
 * routes serve as if they had no script, or answer its rejectStatus with failurePolicy reject), so
 * a new RouteScript can never push the scripts already running out of the budget.
 */
import YAML from 'yaml';
import type { CompiledScript, Condition, Diagnostic, ObjectStatus, Route } from '../model/table.ts';
import { checkScript } from '../script/index.ts';
import { compareAge, withAge, type Aged } from './shared/age.ts';
import { parseBackend } from './ingress/backend.ts';
import type { ClusterNamer } from './shared/cluster-names.ts';
import type { RankedOwner as RankedIngress, ServiceRef } from './shared/candidates.ts';
import { guarded, DiagnosticSink } from './shared/diagnostics.ts';
import { field, isRecord, isUnset, type Dict } from './shared/guards.ts';
import { describe, indexObjects, type Identified, type ObjectIdentity } from './shared/objects.ts';
import { compareStrings } from './shared/order.ts';
import { ingressRoute } from './ingress/ingress-route.ts';
import { acceptedCondition, byReference, objectStatus, resolvedRefs, SERVICE_REFERENCE_CODES, summarise } from './shared/object-status.ts';
import type { PlacedRoute } from './shared/placed-route.ts';
import { RouteChains, type ParsedTargetRef, type TargetableRoute } from './route-script-chains.ts';

export type { TargetableRoute } from './route-script-chains.ts';

/** Limits of the CRD schema, mirrored. */
const MAX_TARGET_REFS = 16;
const MAX_BACKENDS = 64;
const MAX_CODE_LENGTH = 262_144;
/** Largest `data` accepted (as JSON), inline or from a ConfigMap (a ConfigMap holds at most 1 MiB). */
const MAX_DATA_LENGTH = 1_048_576;
const MAX_DATA_DEPTH = 32;
/** How long an operator's pause holds a request when `pause.maxWaitSeconds` is not set. */
const DEFAULT_PAUSE_SECONDS = 30;
/** The ConfigMap key read when `dataFrom.configMapRef.key` is not set. */
export const DEFAULT_DATA_KEY = 'data';

const SPEC_FIELDS = new Set(['targetRefs', 'order', 'backends', 'data', 'dataFrom', 'limits', 'failurePolicy', 'rejectStatus', 'code', 'lookup', 'pause']);
/** Bounds of `spec.order`. */
const MIN_ORDER = -1000;
const MAX_ORDER = 1000;

/** What the RouteScripts add to a compile. */
export interface RouteScriptsResult {
  /** Valid scripts by `namespace/name`, keys sorted. */
  readonly scripts: Record<string, CompiledScript>;
  /**
   * The script keys of each route scripts attach to (by route object), in chain order: the order
   * in which their `RouteScript` filters run.
   */
  readonly attached: ReadonlyMap<Route, readonly string[]>;
  /** Pseudo-routes for the backends and lookup services of valid scripts, so that their clusters are built. */
  readonly clusterUses: readonly PlacedRoute[];
  /** Every identified RouteScript, for statuses. */
  readonly identities: readonly ObjectIdentity[];
}

/** Compiles the RouteScripts of a snapshot; see the module comment for the rules. */
export function compileRouteScripts(
  routeScripts: unknown,
  configMaps: unknown,
  routes: readonly TargetableRoute[],
  clusterOf: ClusterNamer,
  sink: DiagnosticSink,
  memoryBudgetMiB: number | null = null,
): RouteScriptsResult {
  const aged = [...indexObjects(routeScripts, 'RouteScript', true, sink).values()]
    .map((item) => guarded(sink, item.id, { ...item, created: null }, () => withAge(item, sink)))
    .sort(compareAge);
  // ConfigMaps are read only when a script names one, so problems of the others stay silent.
  const maps = indexObjects(configMaps, 'ConfigMap', true, new DiagnosticSink());
  const scripts: Record<string, CompiledScript> = {};
  const chains = new RouteChains(routes, sink);
  const clusterUses: PlacedRoute[] = [];
  let memoryMiB = 0;
  for (const item of aged) {
    const owner: RankedIngress = { id: item.id, rank: -1, created: item.created };
    const outcome = guarded(sink, item.id, null, () => parseRouteScript(item, maps, sink));
    if (outcome === null) continue;
    if ('rejecting' in outcome) {
      scripts[item.id.key] = rejectingScript(item.id, outcome.rejectStatus);
      chains.attach(item, outcome.targetRefs, outcome.order);
      continue;
    }
    const parsed = outcome;
    if (memoryBudgetMiB !== null && chains.matchesAny(item, parsed.targetRefs)) {
      if (memoryMiB + parsed.limits.memoryMiB > memoryBudgetMiB) {
        const consequence = parsed.failurePolicy === 'reject' ? `its routes answer ${parsed.rejectStatus} (failurePolicy reject)` : 'its routes are served as if it had no script';
        sink.report(item.id, 'RouteScriptOverMemoryBudget', 'error',
          `limits.memoryMiB ${parsed.limits.memoryMiB} does not fit in the script memory budget: older RouteScripts use ${memoryMiB} of ${memoryBudgetMiB} MiB per worker (--script-memory-budget); the RouteScript is ignored and ${consequence}`,
          `${item.id.provenance}/limits/memoryMiB`);
        if (parsed.failurePolicy === 'reject') {
          scripts[item.id.key] = rejectingScript(item.id, parsed.rejectStatus);
          chains.attach(item, parsed.targetRefs, parsed.order);
        }
        continue;
      }
      memoryMiB += parsed.limits.memoryMiB;
    }
    const backends: Record<string, string> = {};
    for (const [name, ref] of parsed.backends) {
      const cluster = clusterOf(item.id.namespace, ref);
      backends[name] = cluster;
      clusterUses.push({ owner, ref, route: pseudoRoute(cluster, `${item.id.provenance}/backends/${name}`) });
    }
    let lookup: CompiledScript['lookup'] = null;
    if (parsed.lookup !== null) {
      const cluster = clusterOf(item.id.namespace, parsed.lookup.ref);
      lookup = { cluster, path: parsed.lookup.path, cacheTtlMs: parsed.lookup.cacheTtlMs, timeoutMs: parsed.lookup.timeoutMs };
      clusterUses.push({ owner, ref: parsed.lookup.ref, route: pseudoRoute(cluster, `${item.id.provenance}/lookup`) });
    }
    scripts[item.id.key] = {
      name: item.id.key,
      code: parsed.code,
      data: parsed.data,
      limits: parsed.limits,
      failurePolicy: parsed.failurePolicy,
      rejectStatus: parsed.rejectStatus,
      backends,
      lookup,
      pause: parsed.pause,
      invalid: false,
      provenance: item.id.provenance,
    };
    chains.attach(item, parsed.targetRefs, parsed.order);
  }
  const sorted: Record<string, CompiledScript> = {};
  for (const key of Object.keys(scripts).sort(compareStrings)) sorted[key] = scripts[key]!;
  return { scripts: sorted, attached: chains.ordered(), clusterUses, identities: aged.map((a) => a.id) };
}

/** The table entry of an invalid RouteScript that fails closed: nothing to run, only its answer. */
function rejectingScript(id: ObjectIdentity, rejectStatus: number): CompiledScript {
  return {
    name: id.key,
    code: '',
    data: {},
    limits: { timeoutMs: 5, memoryMiB: 16 },
    failurePolicy: 'reject',
    rejectStatus,
    backends: {},
    lookup: null,
    pause: null,
    invalid: true,
    provenance: id.provenance,
  };
}

function pseudoRoute(cluster: string, provenance: string): Route {
  return ingressRoute('Prefix', '/', cluster, provenance);
}

interface ParsedScript {
  readonly targetRefs: readonly ParsedTargetRef[];
  /** `spec.order`: its place among the scripts of a route's chain at the same tier. */
  readonly order: number;
  readonly backends: readonly (readonly [string, ServiceRef])[];
  readonly data: unknown;
  readonly limits: CompiledScript['limits'];
  readonly failurePolicy: CompiledScript['failurePolicy'];
  readonly rejectStatus: number;
  readonly code: string;
  readonly lookup: { readonly ref: ServiceRef; readonly path: string; readonly cacheTtlMs: number; readonly timeoutMs: number } | null;
  readonly pause: CompiledScript['pause'];
}

/** An invalid RouteScript whose failure policy is reject: its targets are known and answer `rejectStatus`. */
interface RejectingScript {
  readonly rejecting: true;
  readonly targetRefs: readonly ParsedTargetRef[];
  readonly order: number;
  readonly rejectStatus: number;
}

/**
 * Validates one RouteScript, reporting every problem (each with the path of its field); null when
 * there is any error, so the script is dropped.
 */
function parseRouteScript(item: Identified, maps: ReadonlyMap<string, Identified>, sink: DiagnosticSink): ParsedScript | RejectingScript | null {
  const { id } = item;
  let failed = false;
  const invalid = (at: string, message: string): undefined => {
    failed = true;
    const where = at === '' ? 'spec' : `spec.${at}`;
    sink.report(id, 'RouteScriptInvalid', 'error', `${where}: ${message}; the RouteScript is ignored`, at === '' ? undefined : `${id.provenance}/${at.replaceAll('.', '/')}`);
    return undefined;
  };
  const spec = field(item.obj, 'spec');
  if (!isRecord(spec)) {
    invalid('', `must be an object, got ${describe(spec)}`);
    return null;
  }
  for (const key of Object.keys(spec).sort(compareStrings)) {
    if (!SPEC_FIELDS.has(key)) sink.report(id, 'RouteScriptFieldUnknown', 'warning', `spec.${key} is not a field of RouteScript v1alpha1; it is ignored (the API server would prune it)`);
  }
  const int = (at: string, value: unknown, min: number, max: number, fallback: number): number => {
    if (isUnset(value)) return fallback;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      invalid(at, `must be an integer from ${min} to ${max}, got ${JSON.stringify(value) ?? describe(value)}`);
      return fallback;
    }
    return value;
  };
  const str = (at: string, value: unknown, min: number, max: number): string | undefined => {
    if (typeof value !== 'string') return invalid(at, `must be a string, got ${describe(value)}`);
    if (value.length < min || value.length > max) return invalid(at, `must be ${min} to ${max} characters long, got ${value.length}`);
    return value;
  };
  const object = (at: string, value: unknown): Dict | undefined => {
    if (isUnset(value)) return undefined;
    if (!isRecord(value)) return invalid(at, `must be an object, got ${describe(value)}`);
    return value;
  };

  // targetRefs
  const targetRefs: ParsedTargetRef[] = [];
  const rawRefs = field(spec, 'targetRefs');
  if (!Array.isArray(rawRefs)) invalid('targetRefs', isUnset(rawRefs) ? 'is required' : `must be a list, got ${describe(rawRefs)}`);
  else if (rawRefs.length < 1 || rawRefs.length > MAX_TARGET_REFS) invalid('targetRefs', `must have 1 to ${MAX_TARGET_REFS} entries, got ${rawRefs.length}`);
  else {
    (rawRefs as readonly unknown[]).forEach((raw, i) => {
      const at = `targetRefs.${i}`;
      if (!isRecord(raw)) return invalid(at, `must be an object, got ${describe(raw)}`);
      const kind = field(raw, 'kind');
      if (kind !== 'Ingress' && kind !== 'Service' && kind !== 'HTTPRoute' && kind !== 'GRPCRoute') return invalid(`${at}.kind`, `must be Ingress, Service, HTTPRoute or GRPCRoute, got ${JSON.stringify(kind) ?? describe(kind)}`);
      const name = str(`${at}.name`, field(raw, 'name'), 1, 253);
      const host = isUnset(field(raw, 'host')) ? undefined : str(`${at}.host`, field(raw, 'host'), 1, 253);
      const path = isUnset(field(raw, 'path')) ? undefined : str(`${at}.path`, field(raw, 'path'), 1, 4096);
      const sectionName = isUnset(field(raw, 'sectionName')) ? undefined : str(`${at}.sectionName`, field(raw, 'sectionName'), 1, 253);
      if (kind !== 'Ingress' && (host !== undefined || path !== undefined)) return invalid(at, 'host and path apply only to Ingress targets');
      if (kind !== 'HTTPRoute' && kind !== 'GRPCRoute' && sectionName !== undefined) return invalid(at, 'sectionName applies only to HTTPRoute and GRPCRoute targets');
      if (name === undefined) return;
      targetRefs.push({ kind, name, ...(host === undefined ? {} : { host }), ...(path === undefined ? {} : { path }), ...(sectionName === undefined ? {} : { sectionName }) });
    });
  }

  // order: where the script runs in a chain; a bad one fails the script (closed, with reject, at 0).
  const order = int('order', field(spec, 'order'), MIN_ORDER, MAX_ORDER, 0);

  // Whether the script's targets are known whatever else is wrong: needed to fail closed.
  const refsOk = !failed;

  // backends
  const backends: [string, ServiceRef][] = [];
  const rawBackends = object('backends', field(spec, 'backends'));
  if (rawBackends !== undefined) {
    const names = Object.keys(rawBackends).sort(compareStrings);
    if (names.length > MAX_BACKENDS) invalid('backends', `must have at most ${MAX_BACKENDS} entries, got ${names.length}`);
    for (const name of names) {
      const ref = parseBackend(rawBackends[name]);
      if ('code' in ref) invalid(`backends.${name}`, ref.message);
      else backends.push([name, ref]);
    }
  }

  // limits, failure policy
  const limits = object('limits', field(spec, 'limits'));
  const timeoutMs = int('limits.timeoutMs', field(limits, 'timeoutMs'), 1, 1000, 5);
  const memoryMiB = int('limits.memoryMiB', field(limits, 'memoryMiB'), 8, 512, 16);
  const rawPolicy = field(spec, 'failurePolicy');
  let failurePolicy: CompiledScript['failurePolicy'] = 'fallback';
  if (rawPolicy === 'reject' || rawPolicy === 'fallback') failurePolicy = rawPolicy;
  else if (!isUnset(rawPolicy)) invalid('failurePolicy', `must be fallback or reject, got ${JSON.stringify(rawPolicy) ?? describe(rawPolicy)}`);
  const rejectStatus = int('rejectStatus', field(spec, 'rejectStatus'), 400, 599, 503);
  // A broken script whose policy is reject must not open its routes: they answer rejectStatus.
  const failsClosed = refsOk && rawPolicy === 'reject';
  const consequence = failsClosed ? `its routes answer ${rejectStatus} until it is fixed (failurePolicy reject)` : 'its routes keep their normal routing';
  const broken = (): RejectingScript | null => {
    if (!failsClosed) return null;
    sink.report(id, 'RouteScriptRejecting', 'error', `failurePolicy is reject: the routes it targets answer ${rejectStatus} until the RouteScript is fixed`, `${id.provenance}/failurePolicy`);
    return { rejecting: true, targetRefs, order, rejectStatus };
  };

  // lookup
  let lookup: ParsedScript['lookup'] = null;
  const rawLookup = object('lookup', field(spec, 'lookup'));
  if (rawLookup !== undefined) {
    const ref = parseBackend({ service: field(rawLookup, 'service') });
    const path = str('lookup.path', field(rawLookup, 'path'), 1, 1024);
    if ('code' in ref) invalid('lookup.service', ref.message);
    if (path !== undefined && (!path.startsWith('/') || !path.includes('{key}'))) invalid('lookup.path', `must start with / and contain {key}, got ${JSON.stringify(path)}`);
    const cacheTtlSeconds = int('lookup.cacheTtlSeconds', field(rawLookup, 'cacheTtlSeconds'), 0, 86_400, 60);
    const lookupTimeout = int('lookup.timeoutMs', field(rawLookup, 'timeoutMs'), 1, 1000, 50);
    if (!('code' in ref) && path !== undefined) lookup = { ref, path, cacheTtlMs: cacheTtlSeconds * 1000, timeoutMs: lookupTimeout };
  }

  // pause: an operator's hold on every request of the script's routes
  const rawPause = object('pause', field(spec, 'pause'));
  let pause: CompiledScript['pause'] = null;
  if (rawPause !== undefined) {
    const enabled = field(rawPause, 'enabled');
    if (!isUnset(enabled) && typeof enabled !== 'boolean') invalid('pause.enabled', `must be a boolean, got ${describe(enabled)}`);
    const seconds = int('pause.maxWaitSeconds', field(rawPause, 'maxWaitSeconds'), 1, 3600, DEFAULT_PAUSE_SECONDS);
    if (enabled === true) pause = { maxWaitMs: seconds * 1000 };
  }

  // data
  const rawData = field(spec, 'data');
  let data: unknown = {};
  if (!isUnset(rawData)) {
    const problem = jsonProblem(rawData, 0);
    if (!isRecord(rawData)) invalid('data', `must be an object, got ${describe(rawData)}`);
    else if (problem !== null) invalid('data', problem);
    else if (JSON.stringify(rawData).length > MAX_DATA_LENGTH) invalid('data', `is larger than ${MAX_DATA_LENGTH} bytes as JSON`);
    else data = JSON.parse(JSON.stringify(rawData));
  }
  const dataFrom = object('dataFrom', field(spec, 'dataFrom'));
  let configMapRef: { name: string; key: string } | null = null;
  if (dataFrom !== undefined) {
    const ref = field(dataFrom, 'configMapRef');
    if (!isRecord(ref)) invalid('dataFrom.configMapRef', isUnset(ref) ? 'is required' : `must be an object, got ${describe(ref)}`);
    else {
      const name = str('dataFrom.configMapRef.name', field(ref, 'name'), 1, 253);
      const key = isUnset(field(ref, 'key')) ? DEFAULT_DATA_KEY : str('dataFrom.configMapRef.key', field(ref, 'key'), 1, 253);
      if (name !== undefined && key !== undefined) configMapRef = { name, key };
    }
  }

  // code
  const code = str('code', field(spec, 'code'), 1, MAX_CODE_LENGTH);
  if (code !== undefined) {
    const check = checkScript(code, id.key);
    if (!check.ok) {
      failed = true;
      sink.report(id, 'RouteScriptCompileError', 'error', `code ${check.line}:${check.column}: ${check.message}; the RouteScript is ignored and ${consequence}`, `${id.provenance}/code`);
    }
  }
  if (failed || code === undefined) return broken();

  if (configMapRef !== null) {
    const read = readConfigMapData(id, configMapRef, maps);
    if ('problem' in read) {
      sink.report(id, read.code, 'error', `${read.problem}; the RouteScript is ignored and ${consequence}`, `${id.provenance}/dataFrom`);
      return broken();
    }
    data = read.data;
  }
  return { targetRefs, order, backends, data, limits: { timeoutMs, memoryMiB }, failurePolicy, rejectStatus, code, lookup, pause };
}

/** The data of a ConfigMap key: JSON, or else YAML (core schema), which must hold an object. */
function readConfigMapData(
  id: ObjectIdentity,
  ref: { name: string; key: string },
  maps: ReadonlyMap<string, Identified>,
): { data: unknown } | { code: 'ConfigMapNotFound' | 'ConfigMapKeyNotFound' | 'RouteScriptDataInvalid'; problem: string } {
  const mapName = `${id.namespace}/${ref.name}`;
  const map = maps.get(mapName);
  if (map === undefined) return { code: 'ConfigMapNotFound', problem: `ConfigMap ${mapName} not found` };
  const text = field(field(map.obj, 'data'), ref.key);
  if (typeof text !== 'string') return { code: 'ConfigMapKeyNotFound', problem: `ConfigMap ${mapName} has no key ${JSON.stringify(ref.key)} in data` };
  if (text.length > MAX_DATA_LENGTH) return { code: 'RouteScriptDataInvalid', problem: `ConfigMap ${mapName} key ${ref.key} is larger than ${MAX_DATA_LENGTH} bytes` };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    try {
      value = YAML.parse(text, { schema: 'core', maxAliasCount: 100 });
    } catch (error) {
      // The first line, without what follows a ": " (the yaml library quotes the input there, e.g. an
      // unresolved alias's name): a diagnostic is shown at /debug/table, the data it came from is not.
      const detail = (error instanceof Error ? error.message.split('\n')[0]! : String(error)).split(': ')[0];
      return { code: 'RouteScriptDataInvalid', problem: `ConfigMap ${mapName} key ${ref.key} is neither JSON nor YAML (${detail})` };
    }
  }
  if (!isRecord(value)) return { code: 'RouteScriptDataInvalid', problem: `ConfigMap ${mapName} key ${ref.key} must hold an object, got ${describe(value)}` };
  const problem = jsonProblem(value, 0);
  if (problem !== null) return { code: 'RouteScriptDataInvalid', problem: `ConfigMap ${mapName} key ${ref.key}: ${problem}` };
  return { data: JSON.parse(JSON.stringify(value)) };
}

/** Why a value is not plain JSON (null, booleans, finite numbers, strings, arrays, plain objects), or null. */
function jsonProblem(value: unknown, depth: number): string | null {
  if (depth > MAX_DATA_DEPTH) return `is nested deeper than ${MAX_DATA_DEPTH} levels`;
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return null;
  if (typeof value === 'number') return Number.isFinite(value) ? null : `holds a number that is not finite`;
  if (Array.isArray(value)) {
    for (const v of value as readonly unknown[]) {
      const p = jsonProblem(v, depth + 1);
      if (p !== null) return p;
    }
    return null;
  }
  if (isRecord(value) && Object.getPrototypeOf(value) === Object.prototype) {
    for (const v of Object.values(value)) {
      const p = jsonProblem(v, depth + 1);
      if (p !== null) return p;
    }
    return null;
  }
  return `holds ${describe(value)} that is not plain JSON`;
}

/** Codes that mean a reference (Service, port, ConfigMap) could not be used. */
const REFERENCE_CODES: ReadonlySet<string> = new Set([...SERVICE_REFERENCE_CODES, 'ConfigMapNotFound', 'ConfigMapKeyNotFound']);

/**
 * The status of one RouteScript, from its diagnostics (sorted) and whether it is in the table.
 * - `Accepted`: False, with the first error code as reason, when the script was dropped; else
 *   True/`Accepted` without problems, True/`AcceptedWithWarnings` with warnings only (a target
 *   matching nothing), True/`PartiallyAccepted` with errors that did not drop it.
 * - `ResolvedRefs`: False, with the first such code, when a backend or lookup Service, a port or
 *   the ConfigMap is missing or unusable; True otherwise.
 */
export function routeScriptStatus(id: ObjectIdentity, diagnostics: readonly Diagnostic[], inTable: boolean): ObjectStatus {
  const { references, others } = byReference(diagnostics, REFERENCE_CODES);
  // A script left out of the table is refused for whatever dropped it, a reference problem included.
  const accepted: Condition = inTable
    ? acceptedCondition(id, others, true, 'The RouteScript is valid and compiles.')
    : { type: 'Accepted', status: 'False', reason: diagnostics.find((d) => d.severity === 'error')?.code ?? 'Invalid', message: summarise(id, diagnostics) };
  return objectStatus('RouteScript', id, accepted, resolvedRefs(id, references, 'Services and ConfigMaps'));
}
