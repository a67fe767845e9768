import type { Logger } from '../log.ts';
import type { Diagnostic } from '../model/table.ts';
import type { ObjectSource } from '../source/object-source.ts';
import type { KubeApi } from './kube-api.ts';
import { Reflector, type KubeObject } from './reflector.ts';
import { selectedStreams, WATCHED, type ResourceType } from './resources.ts';
import { BUILT_IN_REF_FINDERS, wantedRefs, type ReferringObject, type RefFinder } from './object-refs.ts';

/** Counts reflector errors and lists by kind, for `signalbox_kube_watch_errors_total` and `signalbox_kube_lists_total`. */
export interface KubeSourceCounters {
  error(kind: string): void;
  listed(kind: string): void;
}

/**
 * The Kubernetes API as an {@link ObjectSource}: one {@link Reflector} per watched kind, in one
 * namespace or all. `load` resolves only once every kind has been listed completely, so no table is
 * ever built from a partial view (an Ingress whose Service is not listed yet would look broken).
 * Errors never empty the caches: with the API server gone, the last objects stay in force.
 */
export class KubeSource implements ObjectSource {
  readonly #reflectors: Reflector[];
  readonly #log: Logger;
  readonly #listeners: (() => void)[] = [];
  readonly #synced: Promise<void>;
  #markSynced: () => void = () => {};

  /**
   * `pinnedConfigMaps`: `namespace/name` of ConfigMaps cached whatever references them — the ones
   * flags name, such as `--tcp-services-configmap` and `--udp-services-configmap`.
   * `refFinders`: what names the Secrets and ConfigMaps to cache, besides the built-in finders
   * (object-refs.ts) — a front end's own fields, such as annotations that become backend TLS
   * overrides.
   */
  constructor(api: KubeApi, namespace: string | null, log: Logger, counters: KubeSourceCounters = { error: () => {}, listed: () => {} }, types: readonly ResourceType[] = WATCHED, pinnedConfigMaps: readonly string[] = [], refFinders: readonly RefFinder[] = []) {
    this.#log = log;
    this.#pinnedConfigMaps = pinnedConfigMaps;
    this.#finders = [...BUILT_IN_REF_FINDERS, ...refFinders];
    const referring = new Set(this.#finders.map((f) => f.kind));
    this.#synced = new Promise((resolve) => (this.#markSynced = resolve));
    const events = {
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
        counters.error(type.kind);
        this.#log.warn({ kind: type.kind, err: (error as Error).message, retryInMs }, 'list/watch failed; retrying');
      },
    };
    // RouteScripts are optional: without the CRD installed the rest still serves. A kind with
    // several field selectors (Secrets: TLS and Opaque) has a reflector for each.
    this.#reflectors = types.flatMap(selectedStreams).map((type) => new Reflector(api, type, namespace, events, log, type.kind === 'RouteScript'));
    // Secrets and ConfigMaps are cached only when a finder names them (an Ingress's tls, a
    // RouteScript's dataFrom, a Service's backend TLS annotations, a front end's backend TLS
    // overrides): a cluster's other Secrets and ConfigMaps never sit in this process's memory.
    this.#secrets = this.#reflectorsOf('Secret');
    this.#configMaps = this.#reflectorsOf('ConfigMap');
    for (const r of this.#secrets) r.setKeep((o) => this.#wanted.secrets.has(keyOf(o)));
    for (const r of this.#configMaps) r.setKeep((o) => this.#wanted.configMaps.has(keyOf(o)));
  }

  readonly #pinnedConfigMaps: readonly string[];
  readonly #finders: readonly RefFinder[];
  readonly #secrets: readonly Reflector[];
  readonly #configMaps: readonly Reflector[];
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

  async load(): Promise<void> {
    // Ingresses and RouteScripts first: they say which Secrets and ConfigMaps to keep.
    const referencing = this.#reflectors.filter((r) => !this.#secrets.includes(r) && !this.#configMaps.includes(r));
    for (const reflector of referencing) reflector.start();
    await new Promise<void>((resolve) => {
      const check = (): void => (referencing.every((r) => r.synced) ? resolve() : void setTimeout(check, 20));
      check();
    });
    this.#updateWanted();
    for (const r of [...this.#secrets, ...this.#configMaps]) r.start();
    await this.#synced;
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
    await Promise.all(this.#reflectors.map((r) => r.stop()));
  }
}

function keyOf(object: KubeObject): string {
  return `${object.metadata?.namespace ?? ''}/${object.metadata?.name ?? ''}`;
}
