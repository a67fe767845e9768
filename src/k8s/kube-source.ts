import type { Logger } from '../log.ts';
import type { Diagnostic } from '../model/table.ts';
import type { ObjectSource } from '../source/object-source.ts';
import type { KubeApi } from './kube-api.ts';
import { Reflector, type KubeObject, type ReflectorEvents } from './reflector.ts';
import { GATEWAY_API_WATCHED, NAMESPACES, selectedStreams, WATCHED, type ResourceType } from './resources.ts';
import { BUILT_IN_REF_FINDERS, wantedRefs, type ReferringObject, type RefFinder } from './object-refs.ts';
import { GATEWAY_API_DISCOVERY_MS, servedGatewayApiKinds } from './gateway-api-discovery.ts';
import { GATEWAY_API_REF_FINDERS } from './gateway-secret-refs.ts';

/** Counts reflector errors and lists by kind, for `signalbox_kube_watch_errors_total` and `signalbox_kube_lists_total`. */
export interface KubeSourceCounters {
  /** A list or watch of `kind` failed with `error` (it is retried). */
  error(kind: string, error: unknown): void;
  listed(kind: string): void;
}

/** The Gateway API side of a {@link KubeSource}. */
export interface GatewayApiWatchOptions {
  /** How often to look again for Gateway API kinds not served yet; default 30 s. */
  readonly discoveryMs?: number;
  /**
   * The Gateway API kinds served changed; called once after the first look too, with an empty set
   * when the group is not installed. The status writer reads the CRDs' bundle version then.
   */
  readonly onServed?: (kinds: ReadonlySet<string>) => void;
}

/**
 * The Kubernetes API as an {@link ObjectSource}: one {@link Reflector} per watched kind, in one
 * namespace or all. `load` resolves only once every kind has been listed completely, so no table is
 * ever built from a partial view (an Ingress whose Service is not listed yet would look broken).
 * Errors never empty the caches: with the API server gone, the last objects stay in force.
 *
 * With `gatewayApi` set, the Gateway API kinds that discovery finds are watched as well, and then
 * Namespaces too (listeners select routes' namespaces by label). The group is optional: while it is
 * not served, the source is what it is without it, and discovery asks again every 30 s, so CRDs
 * installed later are watched without a restart (and a table is built only once they are listed).
 */
export class KubeSource implements ObjectSource {
  #reflectors: Reflector[];
  readonly #api: KubeApi;
  readonly #namespace: string | null;
  readonly #events: ReflectorEvents;
  readonly #gatewayApi: GatewayApiWatchOptions | null;
  /** The Gateway API kinds watched (never fewer: a reflector whose CRD goes away just empties). */
  readonly #gatewayKinds = new Set<string>();
  #discovered = false;
  #discovery: ReturnType<typeof setInterval> | null = null;
  #started = false;
  readonly #abort = new AbortController();
  readonly #log: Logger;
  readonly #listeners: (() => void)[] = [];
  readonly #synced: Promise<void>;
  #markSynced: () => void = () => {};

  /**
   * `pinnedConfigMaps`: `namespace/name` of ConfigMaps cached whatever references them — the ones
   * flags name, such as `--tcp-services-configmap` and `--nginx-configmap` — also when they are
   * outside the one `namespace` watched.
   * `refFinders`: what names the Secrets and ConfigMaps to cache, besides the built-in finders
   * (object-refs.ts) — a front end's own fields, such as annotations that become backend TLS
   * overrides.
   * `gatewayApi`: watch the Gateway API too (null: never, as with `--gateway-controller-name off`).
   */
  constructor(api: KubeApi, namespace: string | null, log: Logger, counters: KubeSourceCounters = { error: () => {}, listed: () => {} }, types: readonly ResourceType[] = WATCHED, pinnedConfigMaps: readonly string[] = [], refFinders: readonly RefFinder[] = [], gatewayApi: GatewayApiWatchOptions | null = null) {
    this.#log = log;
    this.#api = api;
    this.#namespace = namespace;
    this.#gatewayApi = gatewayApi;
    this.#pinnedConfigMaps = pinnedConfigMaps;
    this.#finders = [...BUILT_IN_REF_FINDERS, ...(gatewayApi === null ? [] : GATEWAY_API_REF_FINDERS), ...refFinders];
    const referring = new Set(this.#finders.map((f) => f.kind));
    this.#synced = new Promise((resolve) => (this.#markSynced = resolve));
    const events: ReflectorEvents = {
      changed: (type: ResourceType) => {
        // Only the kinds with a finder (Ingresses, RouteScripts, Services, a front end's own) name
        // Secrets and ConfigMaps; the churn of EndpointSlices must not walk every Ingress.
        if (referring.has(type.kind)) this.#updateWanted();
        if (this.#reflectors.every((r) => r.synced)) {
          this.#markSynced();
          for (const listener of this.#listeners) listener();
        }
      },
      listed: (type: ResourceType) => counters.listed(type.kind),
      error: (type: ResourceType, error: unknown, retryInMs: number) => {
        counters.error(type.kind, error);
        this.#log.warn({ kind: type.kind, err: (error as Error).message, retryInMs }, 'list/watch failed; retrying');
      },
    };
    this.#events = events;
    // RouteScripts are optional: without the CRD installed the rest still serves. A kind with
    // several field selectors (Secrets: TLS and Opaque) has a reflector for each.
    this.#reflectors = types.flatMap(selectedStreams).map((type) => new Reflector(api, type, namespace, events, log, type.kind === 'RouteScript'));
    // Watching one namespace, a ConfigMap a flag names in another (ingress-nginx's controller
    // ConfigMap lives in ingress-nginx's namespace, not the apps') would never be listed: each gets
    // a stream of its own, that one object only (which a Role with resourceNames can grant).
    this.#configMapType = types.find((t) => t.kind === 'ConfigMap') ?? null;
    if (this.#configMapType !== null && namespace !== null) {
      for (const [ns, name] of elsewhere(pinnedConfigMaps, namespace)) {
        const reflector = new Reflector(api, { ...this.#configMapType, fieldSelector: `metadata.name=${name}` }, ns, events, log);
        this.#reflectors.push(reflector);
        this.#single.set(`${ns}/${name}`, reflector);
      }
    }
    // Secrets and ConfigMaps are cached only when a finder names them (an Ingress's tls, a
    // RouteScript's dataFrom, a Service's backend TLS annotations, a front end's backend TLS
    // overrides): a cluster's other Secrets and ConfigMaps never sit in this process's memory.
    this.#secrets = this.#reflectorsOf('Secret');
    this.#configMaps = this.#reflectorsOf('ConfigMap');
    this.#pinnedSingle = new Set(this.#single.keys());
    for (const r of this.#secrets) r.setKeep((o) => this.#wanted.secrets.has(keyOf(o)));
    for (const r of this.#configMaps) r.setKeep((o) => this.#wanted.configMaps.has(keyOf(o)));
  }

  readonly #pinnedConfigMaps: readonly string[];
  readonly #finders: readonly RefFinder[];
  readonly #secrets: readonly Reflector[];
  #configMaps: Reflector[];
  readonly #configMapType: ResourceType | null;
  /** The single-object ConfigMap streams outside the watched namespace, by `namespace/name`. */
  readonly #single = new Map<string, Reflector>();
  /** Those of {@link #single} a flag names: never removed. */
  readonly #pinnedSingle: ReadonlySet<string>;
  /** Secrets and ConfigMaps are being listed (after the first pass of `load`): a new stream starts at once. */
  #refsStarted = false;
  /** `namespace/name` of the Secrets and ConfigMaps referenced now. */
  #wanted = { secrets: new Set<string>(), configMaps: new Set<string>() };

  #reflectorsOf(kind: string): Reflector[] {
    return this.#reflectors.filter((r) => r.type.kind === kind);
  }

  /**
   * Recomputes which Secrets and ConfigMaps are referenced; a reflector whose set grew lists again
   * (what it now needs was not kept), one whose set shrank just lets go of the rest.
   */
  #updateWanted(): void {
    const objectsOf = (kind: string): Iterable<ReferringObject> => this.#reflectorsOf(kind).flatMap((r) => [...r.objects()]) as Iterable<ReferringObject>;
    const { secrets, configMaps } = wantedRefs(this.#finders, objectsOf, this.#pinnedConfigMaps);
    const grew = (before: Set<string>, after: Set<string>): boolean => [...after].some((k) => !before.has(k));
    const previous = this.#wanted;
    this.#wanted = { secrets, configMaps };
    const update = (reflectors: readonly Reflector[], grown: boolean, wanted: () => Set<string>): void => {
      for (const r of reflectors) {
        if (grown) r.refresh();
        else r.setKeep((o) => wanted().has(keyOf(o)));
      }
    };
    update(this.#secrets, grew(previous.secrets, secrets), () => this.#wanted.secrets);
    update(this.#configMaps, grew(previous.configMaps, configMaps), () => this.#wanted.configMaps);
    this.#followElsewhere(configMaps);
  }

  /**
   * Gives each wanted ConfigMap outside the watched namespace a single-object stream, and stops
   * those no longer wanted. What names them (the controller ConfigMap's `proxy-set-headers` and
   * `add-headers`) is only known once it is read, and may change while running. Such a stream is
   * optional, and a 403 counts as none: a Role that does not grant the object leaves it missing
   * (which the compiler reports) instead of holding every later table back.
   */
  #followElsewhere(wanted: ReadonlySet<string>): void {
    if (this.#configMapType === null || this.#namespace === null) return;
    for (const [key, reflector] of this.#single) {
      if (wanted.has(key) || this.#pinnedSingle.has(key)) continue;
      this.#single.delete(key);
      this.#reflectors = this.#reflectors.filter((r) => r !== reflector);
      this.#configMaps = this.#configMaps.filter((r) => r !== reflector);
      void reflector.stop();
      this.#log.info({ configMap: key }, 'no longer watching a ConfigMap outside the watched namespace');
    }
    for (const [ns, name] of elsewhere([...wanted], this.#namespace)) {
      const key = `${ns}/${name}`;
      if (this.#single.has(key)) continue;
      const reflector = new Reflector(this.#api, { ...this.#configMapType, fieldSelector: `metadata.name=${name}` }, ns, this.#events, this.#log, true, true);
      reflector.setKeep((o) => this.#wanted.configMaps.has(keyOf(o)));
      this.#single.set(key, reflector);
      this.#reflectors = [...this.#reflectors, reflector];
      this.#configMaps = [...this.#configMaps, reflector];
      if (this.#refsStarted && !this.#abort.signal.aborted) reflector.start();
      this.#log.info({ configMap: key }, 'watching a ConfigMap outside the watched namespace: a ConfigMap names it');
    }
  }

  /** How many objects of each kind are cached now (Secrets and ConfigMaps: only referenced ones). */
  counts(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const reflector of this.#reflectors) counts[reflector.type.kind] = (counts[reflector.type.kind] ?? 0) + reflector.size;
    return counts;
  }

  /** True once every kind has been listed. */
  get synced(): boolean {
    return this.#reflectors.every((r) => r.synced);
  }

  /** The Gateway API kinds watched now (empty while the group is not served, or with it off). */
  gatewayApiKinds(): ReadonlySet<string> {
    return this.#gatewayKinds;
  }

  /**
   * Asks discovery which Gateway API kinds are served and watches those not watched yet (and
   * Namespaces, with the first). A failed look changes nothing: the next one is 30 s away.
   */
  async #discoverGatewayApi(): Promise<void> {
    const options = this.#gatewayApi!;
    let served: ReadonlySet<string>;
    try {
      served = await servedGatewayApiKinds(this.#api, this.#abort.signal);
    } catch (error) {
      if (this.#abort.signal.aborted) return;
      this.#log.warn({ err: (error as Error).message }, 'Gateway API discovery failed; trying again later');
      return;
    }
    const first = !this.#discovered;
    this.#discovered = true;
    const added = GATEWAY_API_WATCHED.filter((t) => served.has(t.kind) && !this.#gatewayKinds.has(t.kind));
    if (added.length === 0) {
      if (first) {
        if (served.size === 0) this.#log.info({ recheckSeconds: Math.round((options.discoveryMs ?? GATEWAY_API_DISCOVERY_MS) / 1000) }, 'the Gateway API is off: its CRDs are not installed (Ingresses are served as ever; looking again now and then)');
        options.onServed?.(new Set(this.#gatewayKinds));
      }
      return;
    }
    const none = this.#gatewayKinds.size === 0;
    const types = [...added, ...(none ? [NAMESPACES] : [])];
    for (const t of added) this.#gatewayKinds.add(t.kind);
    // Optional: a CRD deleted later only empties its kind. A ClusterRole that does not grant the
    // Gateway API (or Namespaces) yet must not keep the first table from ever being built: a 403
    // counts as "none", reported at every retry, and Ingresses are served meanwhile.
    const reflectors = types.map((type) => new Reflector(this.#api, type, this.#namespace, this.#events, this.#log, true, true));
    this.#reflectors = [...this.#reflectors, ...reflectors];
    if (this.#started) for (const r of reflectors) r.start();
    this.#log.info({ kinds: added.map((t) => t.kind) }, none ? 'the Gateway API is served: watching it' : 'more Gateway API kinds are served: watching them too');
    options.onServed?.(new Set(this.#gatewayKinds));
    if (this.#gatewayKinds.size === GATEWAY_API_WATCHED.length && this.#discovery !== null) {
      clearInterval(this.#discovery);
      this.#discovery = null;
    }
  }

  async load(): Promise<void> {
    // The Gateway API's kinds, when served, are part of the first table like the rest.
    if (this.#gatewayApi !== null) await this.#discoverGatewayApi();
    this.#started = true;
    // Ingresses and RouteScripts first: they say which Secrets and ConfigMaps to keep.
    const referencing = this.#reflectors.filter((r) => !this.#secrets.includes(r) && !this.#configMaps.includes(r));
    for (const reflector of referencing) reflector.start();
    await new Promise<void>((resolve) => {
      const check = (): void => (referencing.every((r) => r.synced) ? resolve() : void setTimeout(check, 20));
      check();
    });
    this.#updateWanted();
    this.#refsStarted = true;
    for (const r of [...this.#secrets, ...this.#configMaps]) r.start();
    await this.#synced;
    if (this.#gatewayApi !== null && this.#gatewayKinds.size < GATEWAY_API_WATCHED.length && !this.#abort.signal.aborted) {
      // One discovery request per period is all a cluster without the CRDs costs.
      let looking = false;
      this.#discovery = setInterval(() => {
        if (looking) return;
        looking = true;
        void this.#discoverGatewayApi().finally(() => (looking = false));
      }, this.#gatewayApi.discoveryMs ?? GATEWAY_API_DISCOVERY_MS);
      this.#discovery.unref();
    }
  }

  objects(): unknown[] {
    const all: unknown[] = [];
    for (const reflector of this.#reflectors) for (const object of reflector.objects()) all.push(object);
    return all;
  }

  /** The cached object of `kind` named `namespace/name`. */
  get(kind: string, namespace: string, name: string): Record<string, unknown> | undefined {
    for (const r of this.#reflectorsOf(kind)) {
      const object = r.get(namespace, name);
      if (object !== undefined) return object;
    }
    return undefined;
  }

  /** Every cached object of `kind`. */
  list(kind: string): Record<string, unknown>[] {
    return this.#reflectorsOf(kind).flatMap((r) => [...r.objects()]) as unknown as Record<string, unknown>[];
  }

  diagnostics(): Diagnostic[] {
    return [];
  }

  watch(onChange: () => void): void {
    this.#listeners.push(onChange);
  }

  async close(): Promise<void> {
    this.#abort.abort();
    if (this.#discovery !== null) clearInterval(this.#discovery);
    this.#discovery = null;
    await Promise.all(this.#reflectors.map((r) => r.stop()));
  }
}

/** The `namespace/name` keys of `keys` outside `namespace`, split, each once. */
function elsewhere(keys: readonly string[], namespace: string): [string, string][] {
  const out = new Map<string, [string, string]>();
  for (const key of keys) {
    const slash = key.indexOf('/');
    const ns = key.slice(0, slash);
    if (slash > 0 && ns !== namespace) out.set(key, [ns, key.slice(slash + 1)]);
  }
  return [...out.values()];
}

function keyOf(object: KubeObject): string {
  return `${object.metadata?.namespace ?? ''}/${object.metadata?.name ?? ''}`;
}
