import ivm from 'isolated-vm';
import { setupTimeoutMs } from './budget.ts';
import { SANDBOX_MEMORY_GUARD } from './sandbox-memory.ts';
import { SANDBOX_PRELUDE } from './sandbox-prelude.ts';
import type { ScriptSource } from './types.ts';

/**
 * The host side of the prelude's dispatcher: `ctx.state`, `ctx.log`, `ctx.lookup` and the settling
 * of async results all arrive here, tagged with the request id the prelude's `ctx` was made for.
 */
export type HostDispatch = (op: string, requestId: number, a: unknown, b: unknown, c: unknown) => unknown;

type RunBatchEntry = ivm.Reference<(input: string, softLimitMs: number, sync: boolean) => string>;
type CollectEntry = ivm.Reference<() => string>;
type DeliverEntry = ivm.Reference<(ticket: number, ok: boolean, value: string | null) => void>;
type ForgetEntry = ivm.Reference<(id: number) => void>;
/** The prelude's entries the host calls, in the order of the constructor's tuple. */
const ENTRY_NAMES = ['runBatch', 'collect', 'deliver', 'forget'] as const;

/** isolated-vm refuses smaller heaps. */
const MIN_MEMORY_MIB = 8;


/** A script that cannot be set up in an isolate; the message says why and is shown to users. */
export class ScriptSetupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScriptSetupError';
  }
}

/**
 * One warm isolate running one script: its own heap (capped at the script's memory limit), one
 * context, the prelude, the evaluated module. Every entry is one of isolated-vm's asynchronous
 * calls: the script runs on isolated-vm's thread pool while the worker's event loop goes on serving
 * every other route, so a script that spins to the end of its budget delays its own requests only
 * (README.md, "CPU isolation"). An async call costs ~40 µs against ~3 µs for a synchronous one, which
 * is why one call runs a batch of requests: under load, the requests that arrive while a call runs
 * are the next call. isolated-vm runs the calls into one isolate in the order they were made.
 *
 * Module-level variables of the script persist for the life of this isolate: across requests, until
 * the isolate is disposed (memory limit hit, evicted from the pool, script replaced). Like an edge
 * worker's globals, they are a per-worker cache, never shared state.
 */
/**
 * Every asynchronous call into an isolate that has not settled, in this thread. isolated-vm runs
 * them on its own threads and reports back to the thread that made them: a worker that exits (or a
 * process that ends) while one is still out makes that report land in a torn-down environment,
 * which aborts the whole process. Shutdown therefore waits for them ({@link isolateCallsSettled}).
 */
const outstanding = new Set<Promise<unknown>>();

/** Counts `call` among the {@link outstanding} ones until it settles; returns it unchanged. */
function tracked<T>(call: Promise<T>): Promise<T> {
  outstanding.add(call);
  const settle = (): void => {
    outstanding.delete(call);
  };
  call.then(settle, settle);
  return call;
}

/**
 * Resolves once every asynchronous isolate call made by this thread has settled (disposing the
 * isolates first makes the running ones end at once), or after `maxWaitMs`, whichever is first.
 */
export async function isolateCallsSettled(maxWaitMs: number): Promise<void> {
  const deadline = Date.now() + maxWaitMs;
  while (outstanding.size > 0 && Date.now() < deadline) {
    const wait = new Promise<void>((resolve) => setTimeout(resolve, Math.max(1, deadline - Date.now())).unref());
    await Promise.race([Promise.allSettled([...outstanding]), wait]);
  }
}

export class ScriptIsolate {
  readonly #isolate: ivm.Isolate;
  readonly #context: ivm.Context;
  readonly #runBatch: RunBatchEntry;
  readonly #collect: CollectEntry;
  readonly #deliver: DeliverEntry;
  readonly #forget: ForgetEntry;

  private constructor(isolate: ivm.Isolate, context: ivm.Context, entries: readonly [RunBatchEntry, CollectEntry, DeliverEntry, ForgetEntry]) {
    this.#isolate = isolate;
    this.#context = context;
    [this.#runBatch, this.#collect, this.#deliver, this.#forget] = entries;
  }

  /**
   * Creates the isolate, runs the prelude with the script's data, compiles and evaluates the module
   * and binds its `onRequest`, all on isolated-vm's threads: a module whose top level spins for its
   * whole setup budget delays nothing but its own first requests. Rejects with
   * {@link ScriptSetupError}; the isolate is disposed then.
   */
  static create(source: ScriptSource, dispatch: HostDispatch): Promise<ScriptIsolate> {
    return tracked(ScriptIsolate.#create(source, dispatch));
  }

  static async #create(source: ScriptSource, dispatch: HostDispatch): Promise<ScriptIsolate> {
    const isolate = new ivm.Isolate({ memoryLimit: Math.max(MIN_MEMORY_MIB, Math.ceil(source.limits.memoryMiB)) });
    const timeout = setupTimeoutMs(source.limits.timeoutMs);
    try {
      const context = await isolate.createContext();
      await context.eval(SANDBOX_MEMORY_GUARD, { timeout, filename: 'signalbox:memory-guard' });
      const entries = (await context.evalClosure(
        SANDBOX_PRELUDE,
        [new ivm.Callback(dispatch), JSON.stringify(source.data ?? null), new ivm.Callback(dispatch, { ignored: true })],
        { timeout, filename: 'signalbox:prelude', result: { reference: true } },
      )) as ivm.Reference<Record<string, unknown>>;
      const module = await isolate.compileModule(source.code, { filename: scriptFilename(source.id) });
      if (module.dependencySpecifiers.length > 0) throw new ScriptSetupError('imports are not supported in a RouteScript');
      await module.instantiate(context, () => {
        throw new Error('imports are not supported in a RouteScript');
      });
      await module.evaluate({ timeout });
      const bind = (await entries.get('bind', { reference: true })) as ivm.Reference<(namespace: unknown) => string>;
      const problem = await bind.apply(undefined, [module.namespace.derefInto()], { timeout });
      if (problem !== '') throw new ScriptSetupError(problem);
      const bound = await Promise.all(ENTRY_NAMES.map((name) => entries.get(name, { reference: true })));
      return new ScriptIsolate(isolate, context, bound as unknown as [RunBatchEntry, CollectEntry, DeliverEntry, ForgetEntry]);
    } catch (error) {
      const disposedByLimit = isolate.isDisposed;
      if (!isolate.isDisposed) isolate.dispose();
      if (error instanceof ScriptSetupError) throw error;
      const message = error instanceof Error ? error.message : String(error);
      throw new ScriptSetupError(disposedByLimit ? `the script exceeded its memory limit while loading: ${message}` : `the script failed to load: ${message}`);
    }
  }

  /** True once the isolate is gone: disposed here, or by V8 when the script hit its memory limit. */
  get disposed(): boolean {
    return this.#isolate.isDisposed;
  }

  /**
   * Milliseconds the isolate has spent running code since it was created (isolated-vm's
   * `wallTime`: from entering it to leaving it, host calls included, waiting for a thread not);
   * `whenDisposed` once it is gone and cannot say.
   */
  runningMs(whenDisposed = 0): number {
    if (this.#isolate.isDisposed) return whenDisposed;
    return Number(this.#isolate.wallTime) / 1e6;
  }

  /**
   * CPU milliseconds the isolate has used since it was created (isolated-vm's `cpuTime`): unlike
   * {@link runningMs}, time the thread was descheduled does not count. 0 once disposed.
   */
  cpuMs(): number {
    return this.#isolate.isDisposed ? 0 : Number(this.#isolate.cpuTime) / 1e6;
  }

  /** Requests this isolate has started (the engine gives the first one the setup budget). */
  calls = 0;

  /**
   * Runs `onRequest` for a batch of requests (`input` framed as the prelude's `runBatch` takes it,
   * see {@link frameRequest}); resolves to their framed tagged results, possibly fewer than were
   * given when `softLimitMs` ran out. Rejects with isolated-vm's errors: a timeout, or the isolate's
   * disposal at its memory limit. `timeoutMs` counts from when the call starts running in the
   * isolate, not from when it was made.
   */
  runBatch(input: string, softLimitMs: number, timeoutMs: number): Promise<string> {
    return tracked(this.#runBatch.apply(undefined, [input, softLimitMs, false], { timeout: timeoutMs }));
  }

  /**
   * {@link runBatch} on the calling thread, for a script that has earned it (call-mode.ts): it
   * blocks the event loop while it runs, and waits first for any asynchronous call still running
   * in this isolate (the engine makes none while one is: {@link pending}).
   */
  runBatchSync(input: string, softLimitMs: number, timeoutMs: number): string {
    return this.#runBatch.applySync(undefined, [input, softLimitMs, true], { timeout: timeoutMs });
  }

  /** After {@link runBatch} was cut off at its deadline: the framed results finished before it. */
  collect(): Promise<string> {
    return tracked(this.#collect.apply(undefined, [], { timeout: 50 }));
  }

  /** Asynchronous calls made into this isolate that have not returned (lookup deliveries, forgets). */
  pending = 0;

  /** Settles the script's `ctx.lookup` promise `ticket`; its continuation runs then, within `timeoutMs`. */
  deliver(ticket: number, ok: boolean, value: string | null, timeoutMs: number): Promise<void> {
    this.pending++;
    return tracked(this.#deliver.apply(undefined, [ticket, ok, value], { timeout: timeoutMs })).finally(() => this.pending--);
  }

  /** Drops the lookups request `requestId` still waits for, so their promises never settle (queued behind the calls before it). */
  forget(requestId: number): void {
    if (this.disposed) return;
    this.pending++;
    tracked(this.#forget.apply(undefined, [requestId], { timeout: 50 })).then(
      () => this.pending--,
      () => this.pending--, // disposed or out of time: either way nothing of that request runs again
    );
  }

  /** Frees the isolate and everything in it at once (idempotent). */
  dispose(): void {
    if (!this.#isolate.isDisposed) {
      this.#context.release();
      this.#isolate.dispose();
    }
  }
}

/** One request as the prelude's `runBatch` reads it: `id ␠ length ␠ payload`. */
export function frameRequest(requestId: number, payload: string): string {
  return `${requestId} ${payload.length} ${payload}`;
}

/**
 * The tagged results in `output`, framed `length ␠ result` by the prelude; null when the framing is
 * broken (the script has replaced the string builtins the prelude's parser uses) or holds more than
 * `max` results.
 */
export function splitResults(output: unknown, max: number): string[] | null {
  if (typeof output !== 'string') return null;
  const results: string[] = [];
  let at = 0;
  while (at < output.length) {
    const space = output.indexOf(' ', at);
    if (space <= at || space - at > 9) return null;
    const length = Number(output.slice(at, space));
    const end = space + 1 + length;
    if (!Number.isInteger(length) || end > output.length || results.length === max) return null;
    results.push(output.slice(space + 1, end));
    at = end;
  }
  return results;
}

/** The module's name in stack traces and syntax errors. */
export function scriptFilename(id: string): string {
  return `routescript:///${id}.js`;
}
