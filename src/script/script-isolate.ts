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
 * context, the prelude, the evaluated module. Every entry is a synchronous call with a timeout on the
 * calling thread: one costs ~3 µs, where isolated-vm's async calls, which hop to its thread pool and
 * back, cost ~40 µs (README.md, test/script/measure-call-cost.ts); and one call runs a batch of
 * requests, so that a busy proxy enters the isolate once per turn of its event loop. The script's CPU time is therefore
 * spent on the worker's thread, bounded by the timeout.
 *
 * Module-level variables of the script persist for the life of this isolate: across requests, until
 * the isolate is disposed (memory limit hit, evicted from the pool, script replaced). Like an edge
 * worker's globals, they are a per-worker cache, never shared state.
 */
export class ScriptIsolate {
  readonly #isolate: ivm.Isolate;
  readonly #context: ivm.Context;
  readonly #runBatch: ivm.Reference<(input: string, softLimitMs: number) => string>;
  readonly #collect: ivm.Reference<() => string>;
  readonly #deliver: ivm.Reference<(ticket: number, ok: boolean, value: string | null) => void>;
  readonly #forget: ivm.Reference<(id: number) => void>;

  private constructor(
    isolate: ivm.Isolate,
    context: ivm.Context,
    entries: ivm.Reference<Record<string, unknown>>,
  ) {
    this.#isolate = isolate;
    this.#context = context;
    this.#runBatch = entries.getSync('runBatch', { reference: true }) as ivm.Reference<(input: string, softLimitMs: number) => string>;
    this.#collect = entries.getSync('collect', { reference: true }) as ivm.Reference<() => string>;
    this.#deliver = entries.getSync('deliver', { reference: true }) as ivm.Reference<(ticket: number, ok: boolean, value: string | null) => void>;
    this.#forget = entries.getSync('forget', { reference: true }) as ivm.Reference<(id: number) => void>;
  }

  /**
   * Creates the isolate, runs the prelude with the script's data, compiles and evaluates the module
   * and binds its `onRequest`. Synchronous: it runs when a table is prepared, or on the first request
   * after a disposal. Throws {@link ScriptSetupError}; the isolate is disposed then.
   */
  static create(source: ScriptSource, dispatch: HostDispatch): ScriptIsolate {
    const isolate = new ivm.Isolate({ memoryLimit: Math.max(MIN_MEMORY_MIB, Math.ceil(source.limits.memoryMiB)) });
    const timeout = setupTimeoutMs(source.limits.timeoutMs);
    try {
      const context = isolate.createContextSync();
      context.evalSync(SANDBOX_MEMORY_GUARD, { timeout, filename: 'signalbox:memory-guard' });
      const entries = context.evalClosureSync(
        SANDBOX_PRELUDE,
        [new ivm.Callback(dispatch), JSON.stringify(source.data ?? null)],
        { timeout, filename: 'signalbox:prelude', result: { reference: true } },
      ) as ivm.Reference<Record<string, unknown>>;
      const module = isolate.compileModuleSync(source.code, { filename: scriptFilename(source.id) });
      if (module.dependencySpecifiers.length > 0) throw new ScriptSetupError('imports are not supported in a RouteScript');
      module.instantiateSync(context, () => {
        throw new Error('imports are not supported in a RouteScript');
      });
      module.evaluateSync({ timeout });
      const bind = entries.getSync('bind', { reference: true }) as ivm.Reference<(namespace: unknown) => string>;
      const problem = bind.applySync(undefined, [module.namespace.derefInto()], { timeout });
      if (problem !== '') throw new ScriptSetupError(problem);
      return new ScriptIsolate(isolate, context, entries);
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

  /** Requests this isolate has started (the engine gives the first one the setup budget). */
  calls = 0;

  /**
   * Runs `onRequest` for a batch of requests (`input` framed as the prelude's `runBatch` takes it,
   * see {@link frameRequest}); returns their framed tagged results, possibly fewer than were given
   * when `softLimitMs` ran out. Throws isolated-vm's errors: a timeout, or the isolate's disposal
   * at its memory limit.
   */
  runBatch(input: string, softLimitMs: number, timeoutMs: number): string {
    return this.#runBatch.applySync(undefined, [input, softLimitMs], { timeout: timeoutMs });
  }

  /** After {@link runBatch} was cut off at its deadline: the framed results finished before it. */
  collect(): string {
    return this.#collect.applySync(undefined, [], { timeout: 50 });
  }

  /** Settles the script's `ctx.lookup` promise `ticket`; its continuation runs now, within `timeoutMs`. */
  deliver(ticket: number, ok: boolean, value: string | null, timeoutMs: number): void {
    this.#deliver.applySync(undefined, [ticket, ok, value], { timeout: timeoutMs });
  }

  /** Drops the lookups request `requestId` still waits for, so their promises never settle. */
  forget(requestId: number): void {
    if (!this.disposed) this.#forget.applySync(undefined, [requestId], { timeout: 50 });
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
