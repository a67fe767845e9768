import type { Logger } from '../log.ts';
import { KubeApiError, type KubeApi, type WatchEvent } from './kube-api.ts';
import { collectionPath, type ResourceType } from './resources.ts';

/** Objects per list page: big clusters are listed in pages instead of one huge response. */
const PAGE_SIZE = 500;
/** First and longest wait before retrying after an error. */
const MIN_BACKOFF_MS = 250;
const MAX_BACKOFF_MS = 30_000;

/** A Kubernetes object as the API returns it. */
export type KubeObject = Record<string, unknown> & { metadata?: { name?: string; namespace?: string; resourceVersion?: string } };

/** What a reflector reports besides its objects. */
export interface ReflectorEvents {
  /** The objects of `type` changed (an event, or a relist that found differences). */
  changed(type: ResourceType): void;
  /** An error on the way (it retries by itself), for logs and metrics. */
  error(type: ResourceType, error: unknown, retryInMs: number): void;
  /** A full list was done (the first, or a relist after 410 Gone). */
  listed?(type: ResourceType): void;
}

/**
 * The list-then-watch loop of one kind, the way client-go's reflector does it: list (in pages)
 * and replace the cache, then watch from the list's resourceVersion with bookmarks. A watch that
 * ends is resumed from the last version seen; one the server answers with 410 Gone (the version is
 * too old) starts over with a list; any other error is retried with a jittered, doubling backoff.
 * The cache keeps the last objects through every error, so a lost API server leaves the proxy
 * serving what it last knew. {@link synced} is false until the first list has been applied.
 */
export class Reflector {
  readonly type: ResourceType;
  readonly #api: KubeApi;
  readonly #namespace: string | null;
  readonly #events: ReflectorEvents;
  readonly #log: Logger;
  readonly #objects = new Map<string, KubeObject>();
  readonly #optional: boolean;
  readonly #forbiddenIsAbsent: boolean;
  #synced = false;
  #resourceVersion = '';
  #abort = new AbortController();
  /** Aborts the watch in flight (and only it), for {@link refresh}. */
  #watchAbort: AbortController | null = null;
  #mustList = true;
  /** Which objects to keep; the rest are not cached at all. */
  #keep: ((object: KubeObject) => boolean) | null = null;
  #stopped = false;
  #running: Promise<void> | null = null;
  /** Lists done, for tests and metrics (a relist after 410 counts). */
  lists = 0;

  /**
   * @param optional a kind whose API may be missing (a CRD not installed): a 404 then counts as an
   * empty, synced list, and the list is retried with backoff until the API appears.
   * @param forbiddenIsAbsent a 403 counts as a 404 too (for an optional kind the controller's RBAC
   * may not grant yet, such as the Gateway API's after an upgrade of the binary alone): the rest
   * keeps serving, and the error is reported at every retry.
   */
  constructor(api: KubeApi, type: ResourceType, namespace: string | null, events: ReflectorEvents, log: Logger, optional = false, forbiddenIsAbsent = false) {
    this.#optional = optional;
    this.#forbiddenIsAbsent = forbiddenIsAbsent;
    this.#api = api;
    this.type = type;
    this.#namespace = namespace;
    this.#events = events;
    this.#log = log;
  }

  /** True once the first full list is in the cache. */
  get synced(): boolean {
    return this.#synced;
  }

  /** How many objects are cached. */
  get size(): number {
    return this.#objects.size;
  }

  /** The cached objects (stamped with kind and apiVersion). */
  objects(): IterableIterator<KubeObject> {
    return this.#objects.values();
  }

  /** The cached object `namespace/name` ('' namespace for cluster-scoped kinds). */
  get(namespace: string, name: string): KubeObject | undefined {
    return this.#objects.get(`${namespace}/${name}`);
  }

  /**
   * Caches only the objects `keep` accepts (from the next list or event on). When what `keep`
   * accepts grows, call {@link refresh}: objects it now wants were not kept and must be listed again.
   */
  setKeep(keep: (object: KubeObject) => boolean): void {
    this.#keep = keep;
    for (const [key, object] of this.#objects) if (!keep(object)) this.#objects.delete(key);
  }

  /** Lists again now (the watch in flight is dropped), e.g. because {@link setKeep} wants more. */
  refresh(): void {
    this.#mustList = true;
    this.#watchAbort?.abort();
  }

  /** Starts the loop (once). */
  start(): void {
    this.#running ??= this.#loop();
  }

  /** Stops the loop and any request in flight; the cache stays readable. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#abort.abort();
    await this.#running;
  }

  async #loop(): Promise<void> {
    let backoff = MIN_BACKOFF_MS;
    while (!this.#stopped) {
      let listing = false;
      try {
        if (this.#mustList) {
          // Cleared before the list, so that a refresh() while it is in flight lists once more;
          // set again if it fails: a watch must never start from a list that did not happen.
          this.#mustList = false;
          listing = true;
          try {
            await this.#list();
          } catch (error) {
            this.#mustList = true;
            throw error;
          }
          listing = false;
        }
        const watched = performance.now();
        await this.#watch();
        if (performance.now() - watched > 1_000) backoff = MIN_BACKOFF_MS;
        else {
          // A watch the server ends at once, again and again, must not become a busy loop.
          await this.#sleep(backoff);
          backoff = Math.min(MAX_BACKOFF_MS, backoff * 2);
        }
      } catch (error) {
        if (this.#stopped) return;
        // A refresh aborted the watch: list again, at once.
        if (!listing && this.#mustList && !(error instanceof KubeApiError)) continue;
        if (error instanceof KubeApiError && error.status === 410) {
          // The version we hold is too old to watch from: list again, at once.
          this.#mustList = true;
          continue;
        }
        if (error instanceof KubeApiError && this.#optional && (error.status === 404 || (error.status === 403 && this.#forbiddenIsAbsent))) {
          if (!this.#synced || this.#objects.size > 0) {
            this.#objects.clear();
            this.#synced = true;
            this.#events.changed(this.type);
          }
          this.#mustList = true;
        }
        const wait = Math.round(backoff * (0.8 + Math.random() * 0.4));
        this.#events.error(this.type, error, wait);
        await this.#sleep(wait);
        backoff = Math.min(MAX_BACKOFF_MS, backoff * 2);
      }
    }
  }

  async #list(): Promise<void> {
    const path = collectionPath(this.type, this.#namespace);
    const fresh = new Map<string, KubeObject>();
    let continueToken: string | undefined;
    let resourceVersion = '';
    do {
      const page = await this.#api.get<{ metadata?: { resourceVersion?: string; continue?: string }; items?: KubeObject[] }>(
        path,
        { limit: PAGE_SIZE, continue: continueToken, fieldSelector: this.type.fieldSelector },
        this.#abort.signal,
      );
      for (const item of page.items ?? []) {
        const object = this.#stamp(item);
        if (this.#keep === null || this.#keep(object)) fresh.set(keyOf(object), object);
      }
      continueToken = page.metadata?.continue || undefined;
      resourceVersion = page.metadata?.resourceVersion ?? resourceVersion;
    } while (continueToken !== undefined);
    this.lists++;
    this.#events.listed?.(this.type);
    const changed = !this.#synced || !sameVersions(this.#objects, fresh);
    this.#objects.clear();
    for (const [key, object] of fresh) this.#objects.set(key, object);
    this.#resourceVersion = resourceVersion;
    this.#synced = true;
    this.#log.debug({ kind: this.type.kind, objects: fresh.size, resourceVersion }, 'listed');
    if (changed) this.#events.changed(this.type);
  }

  async #watch(): Promise<void> {
    const path = collectionPath(this.type, this.#namespace);
    const watchAbort = new AbortController();
    this.#watchAbort = watchAbort;
    const signal = AbortSignal.any([this.#abort.signal, watchAbort.signal]);
    try {
      await this.#api.watch(path, this.#resourceVersion, (event) => this.#apply(event), signal, this.type.fieldSelector);
    } finally {
      this.#watchAbort = null;
    }
  }

  #apply(event: WatchEvent): void {
    const object = event.object as KubeObject;
    const version = object.metadata?.resourceVersion;
    switch (event.type) {
      case 'ADDED':
      case 'MODIFIED': {
        const stamped = this.#stamp(object);
        if (this.#keep === null || this.#keep(stamped)) this.#objects.set(keyOf(stamped), stamped);
        else if (!this.#objects.delete(keyOf(stamped))) {
          // Neither kept before nor now: nothing changed for us.
          if (version !== undefined) this.#resourceVersion = version;
          return;
        }
        break;
      }
      case 'DELETED':
        if (!this.#objects.delete(keyOf(object))) {
          if (version !== undefined) this.#resourceVersion = version;
          return;
        }
        break;
      case 'BOOKMARK':
        if (version !== undefined) this.#resourceVersion = version;
        return;
      case 'ERROR': {
        const status = object as { code?: number; reason?: string; message?: string };
        throw new KubeApiError(status.code ?? 500, status.reason ?? '', status.message ?? 'watch error');
      }
      default:
        return;
    }
    if (version !== undefined) this.#resourceVersion = version;
    this.#events.changed(this.type);
  }

  #stamp(object: KubeObject): KubeObject {
    return { ...object, kind: this.type.kind, apiVersion: this.type.apiVersion };
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.#abort.signal.addEventListener('abort', () => {
        clearTimeout(timer);
        resolve();
      }, { once: true });
    });
  }
}

function keyOf(object: KubeObject): string {
  return `${object.metadata?.namespace ?? ''}/${object.metadata?.name ?? ''}`;
}

/** Whether two caches hold the same objects at the same versions (a relist that changed nothing). */
function sameVersions(a: ReadonlyMap<string, KubeObject>, b: ReadonlyMap<string, KubeObject>): boolean {
  if (a.size !== b.size) return false;
  for (const [key, object] of a) if (b.get(key)?.metadata?.resourceVersion !== object.metadata?.resourceVersion) return false;
  return true;
}
