import type { Logger } from '../log.ts';
import { CallQueue } from './call-queue.ts';
import { DEFAULT_FAILURE_POLICY, type FailurePolicy } from './failure-tracker.ts';
import type { LoadedScript } from './loaded-script.ts';
import { messageOf, OutcomeRecorder } from './outcome-recorder.ts';
import type { RouteState } from './route-state.ts';
import { requestPayload, responsePayload } from './request-encoding.ts';
import { ScriptPool } from './script-pool.ts';
import { failure } from './script-result.ts';
import type { LookupFetcher, Outcome, ResponseOutcome, ScriptRequest, ScriptResponse, ScriptSource, ScriptStatus } from './types.ts';

export { MAX_LOOKUPS_PER_REQUEST } from './call-queue.ts';

/** Options for {@link ScriptEngine}. */
export interface ScriptEngineOptions {
  readonly log: Logger;
  /** Most warm isolates this engine (one worker thread) keeps; the least recently used go first. Default 32. */
  readonly maxIsolates?: number;
  /** Answers `ctx.lookup`; without it `ctx.lookup` throws. */
  readonly lookup?: LookupFetcher;
  /** Clock in ms for backoffs and the log rate limit; injected by tests. Default `Date.now`. */
  readonly now?: () => number;
  /** When a script counts as failing; see failure-tracker.ts. */
  readonly failurePolicy?: Partial<FailurePolicy>;
  /** `ctx.log` lines per second per script (also the burst). Default 10. */
  readonly logLinesPerSecond?: number;
  /** Called when a script starts failing or recovers, so the proxy can count and report it. */
  readonly onStatus?: (status: ScriptStatus) => void;
}

/** Counters for tests and the debug endpoint. */
export interface ScriptEngineStats {
  /** Isolates created since the engine started (setups, including re-creations). */
  readonly isolatesCreated: number;
  /** Isolates warm now. */
  readonly warmIsolates: number;
  /** Scripts loaded and not retired. */
  readonly loadedScripts: number;
  /** Runs in flight (async scripts awaiting a lookup). */
  readonly runsInFlight: number;
  /** Calls into isolates that ran requests; each runs every request queued for its script in one turn of the event loop. */
  readonly batches: number;
  /** Requests those calls ran (a request put off by a call's soft limit counts once, where it ran). */
  readonly batchedRequests: number;
}

/** The outcome of a hook the script does not have: nothing decided, nothing spent. */
const NOTHING = Object.freeze({ ok: true, decision: null, cpuMs: 0 } as const);

/**
 * The RouteScript host of one worker thread. `load` a script when a table is prepared (same content
 * → same {@link LoadedScript}, no recompilation), `run` its `onRequest` per request with the route's
 * {@link RouteState} and `runResponse` its `onResponse` per response (when `loaded.hooks` says it
 * has one), `retain` the ids of the table just swapped in, `dispose` at shutdown.
 *
 * Every failure of a script — a throw, its time budget, its memory limit, an invalid decision —
 * becomes the outcome of that request only; `run` never rejects.
 *
 * Two halves do the work: the {@link ScriptPool} (script-pool.ts) loads versions, keeps the warm
 * isolates and retires what a swap left behind; the {@link CallQueue} (call-queue.ts) batches runs
 * into isolate calls and answers the scripts' `ctx`.
 */
export class ScriptEngine {
  readonly #pool: ScriptPool;
  readonly #queue: CallQueue;

  constructor(options: ScriptEngineOptions) {
    const maxIsolates = options.maxIsolates ?? 32;
    if (!Number.isInteger(maxIsolates) || maxIsolates < 1) throw new RangeError('ScriptEngine: maxIsolates must be a positive integer');
    const recorder = new OutcomeRecorder(options.log, options.onStatus);
    this.#pool = new ScriptPool({
      maxIsolates,
      policy: { ...DEFAULT_FAILURE_POLICY, ...options.failurePolicy },
      logLinesPerSecond: options.logLinesPerSecond ?? 10,
      now: options.now ?? Date.now,
      recorder,
      dispatch: (script) => this.#queue.dispatch(script),
    });
    this.#queue = new CallQueue({ log: options.log, pool: this.#pool, recorder, lookup: options.lookup });
  }

  /**
   * The compiled script for `source`: the one already loaded when id, code, data, limits and
   * backends are unchanged (cheap), otherwise a new one whose isolate starts being set up now, on
   * isolated-vm's threads (`ready` settles when it is). Until it is, the previous version of the
   * same RouteScript keeps serving its requests, and keeps doing so if the new one fails to set up
   * (then failing, and retried in the background when its backoff ends); a new RouteScript's
   * requests wait for it. A script that fails to set up is failing, with the reason.
   */
  load(source: ScriptSource): LoadedScript {
    if (this.#pool.disposed) throw new Error('ScriptEngine: load after dispose');
    return this.#pool.load(source);
  }

  /**
   * Runs `script` for one request. Never rejects: failures are outcomes.
   *
   * The run is queued and made at the end of this turn of the event loop (`setImmediate`), in one
   * isolate call with every other request queued for the same script meanwhile: entering an
   * isolate and leaving it again costs more than a typical script, and a busy proxy parses many
   * requests per turn. Each request still gets its own `ctx`, its own outcome and its own deadline
   * (see call-queue.ts); a request that arrives alone waits for nothing but the end of the turn.
   */
  run(script: LoadedScript, req: ScriptRequest, state: RouteState): Promise<Outcome> {
    // A script without onRequest decides nothing about requests: nothing to enter the isolate for.
    if (script.hooks?.onRequest === false) return Promise.resolve(NOTHING);
    return this.#enqueue(script, state, null, 'request', () => requestPayload(req)) as Promise<Outcome>;
  }

  /**
   * Runs `script`'s `onResponse` for one response, on its way to the client: with the same
   * budget, failure record, metrics and isolation as {@link run}, and the same route state. The
   * proxy calls it only for a script whose {@link LoadedScript.hooks} has `onResponse`; for any
   * other it answers "send it as it is" at once. Never rejects: failures are outcomes, and what a
   * failure means for the response is the script's failurePolicy, as for a request.
   */
  runResponse(script: LoadedScript, res: ScriptResponse, state: RouteState): Promise<ResponseOutcome> {
    if (script.hooks?.onResponse === false) return Promise.resolve(NOTHING);
    const status = res.status;
    if (!Number.isInteger(status) || status < 100 || status > 599) return Promise.resolve(failure('unavailable', `the response status ${status} could not be given to the script`));
    return this.#enqueue(script, state, status, 'response', () => responsePayload(res)) as Promise<ResponseOutcome>;
  }

  #enqueue(script: LoadedScript, state: RouteState, responseStatus: number | null, what: string, encode: () => string): Promise<Outcome | ResponseOutcome> {
    if (this.#pool.disposed) return Promise.resolve(failure('unavailable', 'the script engine is shut down'));
    let payload: string;
    try {
      payload = encode();
    } catch (error) {
      return Promise.resolve(failure('unavailable', `the ${what} could not be given to the script: ${messageOf(error)}`));
    }
    return this.#queue.enqueue(this.#pool.serving(script), { payload, responseStatus, state });
  }

  /**
   * Keeps the scripts whose ids are in `ids` (their latest loaded version) and retires the rest:
   * their isolates are disposed as soon as no run of theirs is in flight. Call it after a swap.
   */
  retain(ids: ReadonlySet<string>): void {
    this.#pool.retain(ids);
  }

  /** The health of the latest loaded script with `id`. */
  status(id: string): ScriptStatus | undefined {
    return this.#pool.latest(id)?.status;
  }

  get stats(): ScriptEngineStats {
    return { ...this.#pool.counts, ...this.#queue.counts };
  }

  /** Fails the runs in flight (`unavailable`) and disposes every isolate. */
  dispose(): void {
    if (this.#pool.disposed) return;
    this.#pool.close();
    this.#queue.failAll(failure('unavailable', 'the script engine is shut down'));
    this.#pool.dispose();
  }
}
