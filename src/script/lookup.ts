import { Agent, request, type Dispatcher } from 'undici';
import type { LookupFetcher } from './types.ts';

/** Where one script's `ctx.lookup(key)` goes, and how long answers are kept. */
export interface LookupEndpoint {
  /** `host:port` of the lookup service (an address the proxy can reach, e.g. a Service's). */
  readonly endpoint: string;
  /**
   * Path template with `{key}`, e.g. `/shards/{key}`; the key is percent-encoded into it (see
   * {@link lookupKeyInPath}), so that it stays one segment of this path whatever it holds.
   */
  readonly path: string;
  /** How long a found value is cached. Default 30 s. */
  readonly ttlMs?: number;
  /** How long "not found" (404) is cached. Default 5 s. */
  readonly negativeTtlMs?: number;
  /** Per-fetch timeout, whatever the script's budget. Default 1 s. */
  readonly timeoutMs?: number;
}

/** Options for {@link HttpLookup}. */
export interface HttpLookupOptions {
  /** The endpoint of a script, by script id; undefined when the script declares no lookup. */
  readonly endpoints: (scriptId: string) => LookupEndpoint | undefined;
  /** Most cached answers over all scripts; the least recently used go first. Default 10,000. */
  readonly maxEntries?: number;
  /** Largest answer body in bytes; larger ones fail the lookup. Default 16 KiB. */
  readonly maxBodyBytes?: number;
  /** Clock in ms, for cache expiry; injected by tests. Default `Date.now`. */
  readonly now?: () => number;
  /** The undici dispatcher to use; by default one owned (and closed) by this lookup. */
  readonly dispatcher?: Dispatcher;
}

interface CacheEntry {
  readonly value: string | null;
  readonly expiresAt: number;
}

/**
 * The real `ctx.lookup`: a GET of `http://<endpoint><path with the key>` through undici. `200` is
 * the value (the body as text), `404` is null; anything else, a network error or the timeout
 * rejects (and is not cached, so the next request tries again). Answers are cached per script and
 * key with a TTL, "not found" with its own shorter one, and concurrent lookups of one key share one
 * fetch — a shard directory is read once per key per TTL per worker, not once per request.
 */
export class HttpLookup {
  /** The function to give {@link ScriptEngine} as its `lookup`. */
  readonly fetch: LookupFetcher;
  readonly #endpoints: (scriptId: string) => LookupEndpoint | undefined;
  readonly #maxEntries: number;
  readonly #maxBodyBytes: number;
  readonly #now: () => number;
  readonly #dispatcher: Dispatcher;
  readonly #ownsDispatcher: boolean;
  readonly #cache = new Map<string, CacheEntry>();
  readonly #inFlight = new Map<string, Promise<string | null>>();
  #fetches = 0;

  constructor(options: HttpLookupOptions) {
    this.#endpoints = options.endpoints;
    this.#maxEntries = options.maxEntries ?? 10_000;
    this.#maxBodyBytes = options.maxBodyBytes ?? 16 * 1024;
    this.#now = options.now ?? Date.now;
    this.#ownsDispatcher = options.dispatcher === undefined;
    this.#dispatcher = options.dispatcher ?? new Agent({ connections: 16, keepAliveTimeout: 30_000 });
    this.fetch = (scriptId, key) => this.#lookup(scriptId, key);
  }

  /** How many HTTP requests were made (cache misses that were not deduplicated). */
  get fetches(): number {
    return this.#fetches;
  }

  /** Drops every cached answer (kept fetches in flight still complete). */
  clear(): void {
    this.#cache.clear();
  }

  /** Drops the cached answers of one script (its lookup service or path changed). */
  forget(scriptId: string): void {
    const prefix = `${scriptId}\n`;
    for (const key of [...this.#cache.keys()]) if (key.startsWith(prefix)) this.#cache.delete(key);
  }

  /** Closes the dispatcher if this lookup made it. */
  async close(): Promise<void> {
    if (this.#ownsDispatcher) await this.#dispatcher.close();
  }

  #lookup(scriptId: string, key: string): Promise<string | null> {
    // The cache first: a cached answer needs no endpoint, so it still serves while the lookup
    // service has none ready.
    const cacheKey = `${scriptId}\n${key}`;
    const cached = this.#cache.get(cacheKey);
    if (cached !== undefined) {
      this.#cache.delete(cacheKey);
      if (cached.expiresAt > this.#now()) {
        this.#cache.set(cacheKey, cached);
        return Promise.resolve(cached.value);
      }
    }
    const pending = this.#inFlight.get(cacheKey);
    if (pending !== undefined) return pending;
    let endpoint: LookupEndpoint | undefined;
    try {
      endpoint = this.#endpoints(scriptId);
    } catch (error) {
      return Promise.reject(error);
    }
    if (endpoint === undefined) return Promise.reject(new Error('this script has no lookup service configured'));
    const fetched = this.#get(endpoint, key).then(
      (value) => {
        this.#inFlight.delete(cacheKey);
        const ttl = value === null ? (endpoint.negativeTtlMs ?? 5_000) : (endpoint.ttlMs ?? 30_000);
        if (ttl > 0) this.#remember(cacheKey, { value, expiresAt: this.#now() + ttl });
        return value;
      },
      (error: unknown) => {
        this.#inFlight.delete(cacheKey);
        throw error;
      },
    );
    this.#inFlight.set(cacheKey, fetched);
    return fetched;
  }

  async #get(endpoint: LookupEndpoint, key: string): Promise<string | null> {
    const timeoutMs = endpoint.timeoutMs ?? 1_000;
    const encoded = lookupKeyInPath(key);
    const path = endpoint.path.replaceAll('{key}', encoded);
    const url = `http://${endpoint.endpoint}${path.startsWith('/') ? '' : '/'}${path}`;
    this.#fetches++;
    let response: Dispatcher.ResponseData;
    try {
      response = await request(url, {
        method: 'GET',
        dispatcher: this.#dispatcher,
        signal: AbortSignal.timeout(timeoutMs),
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      });
    } catch (error) {
      throw lookupError(error, timeoutMs);
    }
    if (response.statusCode === 404) {
      await response.body.dump();
      return null;
    }
    if (response.statusCode !== 200) {
      await response.body.dump();
      throw new Error(`the lookup service answered ${response.statusCode}`);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      for await (const chunk of response.body) {
        size += (chunk as Buffer).length;
        if (size > this.#maxBodyBytes) {
          response.body.destroy();
          throw new Error(`the lookup answer is larger than ${this.#maxBodyBytes} bytes`);
        }
        chunks.push(chunk as Buffer);
      }
    } catch (error) {
      throw lookupError(error, timeoutMs);
    }
    return Buffer.concat(chunks).toString('utf8');
  }

  #remember(cacheKey: string, entry: CacheEntry): void {
    this.#cache.delete(cacheKey);
    this.#cache.set(cacheKey, entry);
    if (this.#cache.size > this.#maxEntries) {
      const oldest = this.#cache.keys().next();
      if (!oldest.done) this.#cache.delete(oldest.value);
    }
  }
}

/**
 * `key` as one segment of the lookup service's path: every character but the unreserved ones
 * (RFC 3986 §2.3) percent-encoded as UTF-8, so `/`, `\`, `?`, `#`, `%` and `;` cannot end the
 * segment, start a query or smuggle an escape. An empty key (the collection itself), `.` and `..`
 * are refused — the lookup fails, nothing is fetched: no spelling of a dot segment is safe, since
 * servers that decode `%2E` before resolving dot segments (signalbox's own routing among them)
 * would still climb with `%2E%2E`.
 * @throws Error naming the problem, for the script, when the key cannot be a segment.
 */
export function lookupKeyInPath(key: string): string {
  if (key === '' || key === '.' || key === '..') throw new Error(`the lookup key ${JSON.stringify(key)} cannot name a resource`);
  if (!key.isWellFormed()) throw new Error('the lookup key is not well-formed Unicode');
  return encodeURIComponent(key).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** A short message for the script: it sees only `error.message`. */
function lookupError(error: unknown, timeoutMs: number): Error {
  if (error instanceof Error) {
    if (error.name === 'TimeoutError' || error.name === 'AbortError' || /timeout/i.test(error.name + (error as { code?: string }).code)) {
      return new Error(`the lookup timed out after ${timeoutMs} ms`);
    }
    if (error.message.startsWith('the lookup')) return error;
    return new Error(`the lookup failed: ${error.message}`);
  }
  return new Error('the lookup failed');
}
