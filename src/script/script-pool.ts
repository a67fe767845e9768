import { contentKey } from './content-key.ts';
import type { FailurePolicy } from './failure-tracker.ts';
import { LoadedScript } from './loaded-script.ts';
import { messageOf, type OutcomeRecorder } from './outcome-recorder.ts';
import { ScriptIsolate, type HostDispatch } from './script-isolate.ts';
import { failure } from './script-result.ts';
import type { ScriptSource } from './types.ts';

/** What a {@link ScriptPool} is built with. */
export interface ScriptPoolOptions {
  /** Most warm isolates kept; the least recently used idle ones go first. */
  readonly maxIsolates: number;
  readonly policy: FailurePolicy;
  readonly logLinesPerSecond: number;
  readonly now: () => number;
  readonly recorder: OutcomeRecorder;
  /** The host side of `ctx` for the isolates of `script` (the call queue's). */
  readonly dispatch: (script: LoadedScript) => HostDispatch;
}

/**
 * The load/retire half of the engine: which versions of which RouteScripts are loaded (one per
 * content key), which one serves a request while a new version loads, and the bounded set of warm
 * isolates behind them — set up off the event loop, evicted least recently used first, disposed
 * once a retired version has nothing left in flight.
 */
export class ScriptPool {
  readonly #options: ScriptPoolOptions;
  /** Loaded scripts by content key. */
  readonly #scripts = new Map<string, LoadedScript>();
  /** The most recently loaded script of each id: the one `retain` keeps. */
  readonly #latest = new Map<string, LoadedScript>();
  /** Skips hashing when the proxy loads the very same source object again. */
  #bySource = new WeakMap<ScriptSource, LoadedScript>();
  /** Scripts with a warm isolate, least recently used first. */
  readonly #warm = new Set<LoadedScript>();
  /** The last entry of {@link #warm}, to skip re-inserting it on every request of a busy script. */
  #mostRecent: LoadedScript | null = null;
  #isolatesCreated = 0;
  #disposed = false;

  constructor(options: ScriptPoolOptions) {
    this.#options = options;
  }

  /** True once {@link dispose} has run: nothing is set up or run any more. */
  get disposed(): boolean {
    return this.#disposed;
  }

  /** Isolates created so far, warm now, and scripts loaded and not retired. */
  get counts(): { readonly isolatesCreated: number; readonly warmIsolates: number; readonly loadedScripts: number } {
    return { isolatesCreated: this.#isolatesCreated, warmIsolates: this.#warm.size, loadedScripts: this.#scripts.size };
  }

  /** Every loaded version, for the engine's shutdown. */
  loaded(): IterableIterator<LoadedScript> {
    return this.#scripts.values();
  }

  /** See `ScriptEngine.load`. */
  load(source: ScriptSource): LoadedScript {
    const known = this.#bySource.get(source);
    if (known !== undefined && !known.retired) {
      this.#latest.set(source.id, known);
      return known;
    }
    const key = contentKey(source);
    let script = this.#scripts.get(key);
    if (script === undefined) {
      script = new LoadedScript(source, key, this.#options.policy, this.#options.logLinesPerSecond, this.#options.now);
      this.#scripts.set(key, script);
      const before = this.#latest.get(source.id);
      const previous = before === undefined ? null : before.loadState === 'ready' ? before : before.predecessor;
      if (previous !== null) {
        script.predecessor = previous;
        previous.standingIn++;
      }
      const loading = script;
      // `ready` settles once the failure is recorded, so whoever waits for it sees the script failing.
      this.setUp(loading).catch((error: unknown) => {
        this.#options.recorder.record(loading, failure('unavailable', messageOf(error)), false, true);
        loading.markReady();
      });
    }
    this.#latest.set(source.id, script);
    this.#bySource.set(source, script);
    return script;
  }

  /**
   * The version that serves a request for `script`: itself, or while it loads (or after it failed
   * to load) its predecessor; a failed one is set up again in the background once its backoff ends.
   */
  serving(script: LoadedScript): LoadedScript {
    const previous = script.predecessor;
    if (previous === null) return script;
    if (script.loadState === 'failed' && script.setup === null && script.tracker.admit() === 'trial') {
      const recorder = this.#options.recorder;
      this.setUp(script).then(
        () => recorder.record(script, { ok: true, decision: null, cpuMs: 0 }, true),
        (error: unknown) => recorder.record(script, failure('unavailable', messageOf(error)), true, true),
      );
    }
    return previous;
  }

  /** See `ScriptEngine.retain`. */
  retain(ids: ReadonlySet<string>): void {
    for (const [key, script] of this.#scripts) {
      if (ids.has(script.id) && this.#latest.get(script.id) === script) continue;
      this.#scripts.delete(key);
      script.retired = true;
      this.#dropPredecessor(script);
      this.releaseIfIdle(script);
    }
    for (const id of [...this.#latest.keys()]) if (!ids.has(id)) this.#latest.delete(id);
  }

  /** The latest loaded version of the RouteScript `id`. */
  latest(id: string): LoadedScript | undefined {
    return this.#latest.get(id);
  }

  /** The script's warm isolate, marked most recently used; null when it has none (never set up, disposed, being set up). */
  warmIsolate(script: LoadedScript): ScriptIsolate | null {
    const current = script.isolate;
    // The busy script's isolate is only ever disposed through release (V8's memory-limit disposal
    // is noticed by the run it interrupts), so the fast path skips asking isolated-vm.
    if (script === this.#mostRecent && current !== null) return current;
    if (current === null || current.disposed) {
      script.isolate = null;
      return null;
    }
    this.#mostRecent = script;
    this.#warm.delete(script);
    this.#warm.add(script);
    return current;
  }

  /**
   * Sets up an isolate for `script` on isolated-vm's threads; once it is up the script is warm
   * (evicting the least recently used beyond the bound) and its first version `ready`. The caller
   * records a failure.
   */
  setUp(script: LoadedScript): Promise<ScriptIsolate> {
    const setup = ScriptIsolate.create(script.source, this.#options.dispatch(script)).then(
      (isolate) => {
        script.setup = null;
        this.#isolatesCreated++;
        if (this.#disposed) {
          isolate.dispose();
          throw new Error('the script engine is shut down');
        }
        script.isolate = isolate;
        this.#mostRecent = script;
        this.#warm.add(script);
        for (const other of this.#warm) {
          if (this.#warm.size <= this.#options.maxIsolates) break;
          if (other !== script && other.active === 0) this.release(other);
        }
        if (script.loadState === 'loading' || script.loadState === 'failed') {
          script.loadState = 'ready';
          script.markReady();
          this.#dropPredecessor(script);
        }
        this.releaseIfIdle(script);
        return isolate;
      },
      (error: unknown) => {
        script.setup = null;
        if (script.loadState === 'loading') script.loadState = 'failed';
        throw error;
      },
    );
    script.setup = setup;
    return setup;
  }

  /** Disposes a retired script's isolate once no run of it is queued or in flight and no new version serves through it. */
  releaseIfIdle(script: LoadedScript): void {
    if (script.retired && script.active === 0 && script.standingIn === 0) this.release(script);
  }

  /** Disposes the script's isolate now (it is set up again on demand). */
  release(script: LoadedScript): void {
    if (this.#mostRecent === script) this.#mostRecent = null;
    script.isolate?.dispose();
    script.isolate = null;
    this.#warm.delete(script);
  }

  /** From now on nothing is set up or run; what is in flight is failed by the engine, then {@link dispose}. */
  close(): void {
    this.#disposed = true;
  }

  /** Disposes every isolate and forgets every script (closing the pool first if need be). */
  dispose(): void {
    this.#disposed = true;
    for (const script of [...this.#warm]) this.release(script);
    this.#scripts.clear();
    this.#latest.clear();
    this.#bySource = new WeakMap();
  }

  /** Ends `script`'s stand-in: its predecessor's isolate goes once nothing else needs it. */
  #dropPredecessor(script: LoadedScript): void {
    const previous = script.predecessor;
    if (previous === null) return;
    script.predecessor = null;
    previous.standingIn--;
    this.releaseIfIdle(previous);
  }
}
