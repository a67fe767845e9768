import type { Logger } from '../log.ts';
import type { Diagnostic } from '../model/table.ts';
import type { ObjectSource } from '../source/object-source.ts';
import type { KubeApi } from './kube-api.ts';
import { Reflector } from './reflector.ts';
import { WATCHED, type ResourceType } from './resources.ts';

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

  constructor(api: KubeApi, namespace: string | null, log: Logger, counters: KubeSourceCounters = { error: () => {}, listed: () => {} }, types: readonly ResourceType[] = WATCHED) {
    this.#log = log;
    this.#synced = new Promise((resolve) => (this.#markSynced = resolve));
    const events = {
      changed: () => {
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
    // RouteScripts are optional: without the CRD installed the rest still serves.
    this.#reflectors = types.map((type) => new Reflector(api, type, namespace, events, log, type.kind === 'RouteScript'));
  }

  /** True once every kind has been listed. */
  get synced(): boolean {
    return this.#reflectors.every((r) => r.synced);
  }

  async load(): Promise<void> {
    for (const reflector of this.#reflectors) reflector.start();
    await this.#synced;
  }

  objects(): unknown[] {
    const all: unknown[] = [];
    for (const reflector of this.#reflectors) for (const object of reflector.objects()) all.push(object);
    return all;
  }

  /** The cached object of `kind` named `namespace/name`. */
  get(kind: string, namespace: string, name: string): Record<string, unknown> | undefined {
    return this.#reflectors.find((r) => r.type.kind === kind)?.get(namespace, name);
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
