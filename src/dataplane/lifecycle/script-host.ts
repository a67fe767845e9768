import type { Logger } from '../../log.ts';
import type { DataplaneMetrics } from '../../metrics/metrics.ts';
import type { CompiledScript, CompiledScriptLookup, Route } from '../../model/table.ts';
import { HttpLookup, isolateCallsSettled, RouteState, ScriptEngine, StateStore, type LoadedScript, type LookupEndpoint, type ScriptSource, type ScriptStatus } from '../../script/index.ts';
import type { PreparedCluster } from '../upstream/prepared-cluster.ts';
import type { RouteContext } from './route-context.ts';
import { ScriptBinding } from './script-binding.ts';

/** Longest a "not found" answer of a lookup service is cached, whatever the script's TTL. */
const MAX_NEGATIVE_TTL_MS = 5_000;

/** What a table being prepared gives the host to bind a script to a route. */
export interface BindRequest {
  readonly route: Route;
  readonly script: CompiledScript;
  /** The route context for `route` served by cluster `name` (a declared backend). */
  readonly contextFor: (cluster: string) => RouteContext;
  /** The prepared cluster `name` of the table (for the lookup service). */
  readonly clusterFor: (cluster: string) => PreparedCluster;
}

/** Scripts of one prepared table, to {@link ScriptHost.commit} once it is swapped in. */
export interface PreparedScripts {
  /** Ids of the scripts the table runs. */
  readonly ids: Set<string>;
  /** `ctx.state` keys the table uses (see {@link stateKey}). */
  readonly stateKeys: Set<string>;
  /** The lookup service of each script that declares one, with its prepared cluster. */
  readonly lookups: Map<string, { readonly lookup: CompiledScriptLookup; readonly cluster: PreparedCluster }>;
  /** Each script loaded once per table, however many routes run it. */
  readonly loaded: Map<string, LoadedScript>;
}

/**
 * The RouteScript side of a data-plane worker: one {@link ScriptEngine} for the thread, the
 * `ctx.state` of each route (kept across table swaps while the route runs the same script), and
 * `ctx.lookup` through the lookup Service each script declares, balanced over its usable endpoints.
 *
 * Per swap: {@link begin}, {@link bind} each scripted route while the table is prepared (a script
 * whose content did not change is the same compiled script; a changed one gets its isolate set up
 * now, before any request needs it), swap, then {@link commit} — scripts and states the new table no
 * longer uses are let go, and requests still running on the old table finish with what they hold.
 */
export class ScriptHost {
  readonly engine: ScriptEngine;
  readonly #lookup: HttpLookup;
  readonly #metrics: DataplaneMetrics;
  readonly #states = new Map<string, RouteState>();
  /** The `ctx.state` store of each script id: one byte budget for all the routes it runs on. */
  readonly #stores = new Map<string, StateStore>();
  readonly #stateBytes: number;
  #lookups: PreparedScripts['lookups'] = new Map();
  /** What was last reported for each script id (state, slow), so that a replaced script reports its own. */
  readonly #reported = new Map<string, string>();
  readonly #onStatus: (status: ScriptStatus) => void;

  /** @param stateBytes the `ctx.state` budget of each RouteScript in this worker, all its routes together. */
  constructor(log: Logger, metrics: DataplaneMetrics, onStatus: (status: ScriptStatus) => void, stateBytes: number) {
    this.#metrics = metrics;
    this.#stateBytes = stateBytes;
    this.#onStatus = onStatus;
    this.#lookup = new HttpLookup({ endpoints: (id) => this.#lookupEndpoint(id) });
    this.engine = new ScriptEngine({
      log,
      lookup: this.#lookup.fetch,
      onStatus: (status) => this.#report(status),
    });
  }

  /** A fresh set of scripts for a table about to be prepared. */
  begin(): PreparedScripts {
    return { ids: new Set(), stateKeys: new Set(), lookups: new Map(), loaded: new Map() };
  }

  /** Loads the route's script and binds it to the route. */
  bind(prepared: PreparedScripts, { route, script, contextFor, clusterFor }: BindRequest): ScriptBinding {
    let loaded = prepared.loaded.get(script.name) ?? null;
    if (loaded === null && !script.invalid) {
      const source: ScriptSource = { id: script.name, code: script.code, data: script.data, limits: script.limits, backends: Object.keys(script.backends) };
      loaded = this.engine.load(source);
      prepared.loaded.set(script.name, loaded);
    }
    const key = stateKey(script.name, route.provenance);
    let state = this.#states.get(key);
    if (state === undefined) {
      state = new RouteState({ store: this.#storeOf(script.name), scope: route.provenance });
      this.#states.set(key, state);
    }
    const backends = new Map<string, RouteContext>();
    for (const [name, cluster] of Object.entries(script.backends)) backends.set(name, contextFor(cluster));
    prepared.ids.add(script.name);
    prepared.stateKeys.add(key);
    if (script.lookup !== null && !prepared.lookups.has(script.name)) {
      prepared.lookups.set(script.name, { lookup: script.lookup, cluster: clusterFor(script.lookup.cluster) });
    }
    return new ScriptBinding(script, loaded, state, backends, this.#metrics);
  }

  /** After the swap: the new table's scripts, states and lookups are the ones kept. */
  commit(prepared: PreparedScripts): void {
    this.engine.retain(prepared.ids);
    for (const [key, state] of this.#states) {
      if (prepared.stateKeys.has(key)) continue;
      this.#states.delete(key);
      state.store.dropScope(key.slice(key.indexOf('\n') + 1));
    }
    for (const id of this.#stores.keys()) {
      if (prepared.ids.has(id)) continue;
      this.#stores.delete(id);
      this.#metrics.scriptStateBytes.remove(id);
      this.#metrics.scriptStateKeys.remove(id);
    }
    // Answers cached from another lookup service or path are not answers of this one.
    for (const [id, { lookup }] of prepared.lookups) {
      const before = this.#lookups.get(id)?.lookup;
      if (before !== undefined && (before.cluster !== lookup.cluster || before.path !== lookup.path)) this.#lookup.forget(id);
    }
    this.#lookups = prepared.lookups;
    // A new version of a failing script starts healthy (and the other way round): say so.
    for (const loaded of prepared.loaded.values()) {
      const status = loaded.status;
      if ((this.#reported.get(status.id) ?? reportKey(HEALTHY)) !== reportKey(status)) this.#report(status);
    }
    for (const id of this.#reported.keys()) {
      if (prepared.ids.has(id)) continue;
      this.#reported.delete(id);
      this.#metrics.scriptFailing.remove(id);
      this.#metrics.scriptSlow.remove(id);
    }
  }

  /** Sets the `ctx.state` gauges (bytes and keys per script) to what the stores hold now; before a metrics collection. */
  reportState(): void {
    for (const [id, store] of this.#stores) {
      this.#metrics.scriptStateBytes.labels(id).set(store.bytes);
      this.#metrics.scriptStateKeys.labels(id).set(store.size);
    }
  }

  /** The `ctx.state` store of script `id`, made on its first route. */
  #storeOf(id: string): StateStore {
    let store = this.#stores.get(id);
    if (store === undefined) {
      const evictions = this.#metrics.scriptStateEvictions;
      store = new StateStore({ maxBytes: this.#stateBytes, onEvict: (reason, count) => evictions.labels(id, reason).inc(count) });
      this.#stores.set(id, store);
    }
    return store;
  }

  #report(status: ScriptStatus): void {
    this.#reported.set(status.id, reportKey(status));
    this.#metrics.scriptFailing.labels(status.id).set(status.state === 'failing' ? 1 : 0);
    this.#metrics.scriptSlow.labels(status.id).set(status.slow ? 1 : 0);
    this.#onStatus(status);
  }

  /** Stops every script (runs in flight end `unavailable`) and closes the lookup client. */
  async dispose(): Promise<void> {
    this.engine.dispose();
    // The worker must not exit while an isolate call is still out on isolated-vm's threads: its
    // report would land in a torn-down thread and abort the process. Disposed isolates end theirs
    // at once; one still being set up may take its setup budget. Bounded to stay within the
    // worker pool's wait before it terminates the thread.
    await isolateCallsSettled(1_500);
    await this.#lookup.close();
  }

  /** Where a lookup of script `id` goes now: one usable endpoint of its lookup Service. */
  #lookupEndpoint(id: string): LookupEndpoint | undefined {
    const entry = this.#lookups.get(id);
    if (entry === undefined) return undefined;
    const upstream = entry.cluster.pick(null);
    if (upstream === null) throw new Error(`the lookup service ${entry.lookup.cluster} has no ready endpoint`);
    const { path, cacheTtlMs, timeoutMs } = entry.lookup;
    return { endpoint: upstream.id, path, ttlMs: cacheTtlMs, negativeTtlMs: Math.min(cacheTtlMs, MAX_NEGATIVE_TTL_MS), timeoutMs };
  }
}

/** What a script that was never reported is taken to be. */
const HEALTHY = { state: 'ok', slow: false, previousVersionServing: false } as const;

/** The part of a status whose change is worth a report. */
function reportKey(status: Pick<ScriptStatus, 'state' | 'slow' | 'previousVersionServing'>): string {
  return `${status.state} ${status.slow} ${status.previousVersionServing}`;
}

/** The key of a route's `ctx.state`: a route that changes script starts with an empty state. */
function stateKey(script: string, route: string): string {
  return `${script}\n${route}`;
}
