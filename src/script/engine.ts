import type { Logger } from '../log.ts';
import { contentKey } from './content-key.ts';
import { DEFAULT_FAILURE_POLICY, type FailurePolicy } from './failure-tracker.ts';
import { Invocation } from './invocation.ts';
import { LoadedScript, type QueuedRun } from './loaded-script.ts';
import type { RouteState, StateValue } from './route-state.ts';
import { encodeRequest } from './request-encoding.ts';
import { alignedTimeoutMs, enforcedMs, setupTimeoutMs } from './budget.ts';
import { frameRequest, ScriptIsolate, splitResults } from './script-isolate.ts';
import { failure, readResult } from './script-result.ts';
import type { LookupFetcher, Outcome, ScriptRequest, ScriptSource, ScriptStatus } from './types.ts';

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

const MAX_LOOKUP_KEY_LENGTH = 1024;
/** Lookups one request may start: each holds a fetch and a promise in the proxy until it settles. */
export const MAX_LOOKUPS_PER_REQUEST = 16;


/**
 * The RouteScript host of one worker thread. `load` a script when a table is prepared (same content
 * → same {@link LoadedScript}, no recompilation), `run` it per request with the route's
 * {@link RouteState}, `retain` the ids of the table just swapped in, `dispose` at shutdown.
 *
 * Every failure of a script — a throw, its time budget, its memory limit, an invalid decision —
 * becomes the outcome of that request only; `run` never rejects.
 */
export class ScriptEngine {
  readonly #log: Logger;
  readonly #maxIsolates: number;
  readonly #lookup: LookupFetcher | undefined;
  readonly #now: () => number;
  readonly #policy: FailurePolicy;
  readonly #logRate: number;
  readonly #onStatus: ((status: ScriptStatus) => void) | undefined;
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
  readonly #invocations = new Map<number, Invocation>();
  /** Scripts with queued runs, in the order their first run was queued. */
  #due: LoadedScript[] = [];
  #flushScheduled = false;
  /** Async runs whose result arrived during an isolate call, to finish once that call returns. */
  #settled: Invocation[] = [];
  #nextId = 1;
  #nextTicket = 1;
  #isolatesCreated = 0;
  #batches = 0;
  #batchedRequests = 0;
  #disposed = false;

  constructor(options: ScriptEngineOptions) {
    this.#log = options.log;
    this.#maxIsolates = options.maxIsolates ?? 32;
    if (!Number.isInteger(this.#maxIsolates) || this.#maxIsolates < 1) throw new RangeError('ScriptEngine: maxIsolates must be a positive integer');
    this.#lookup = options.lookup;
    this.#now = options.now ?? Date.now;
    this.#policy = { ...DEFAULT_FAILURE_POLICY, ...options.failurePolicy };
    this.#logRate = options.logLinesPerSecond ?? 10;
    this.#onStatus = options.onStatus;
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
    if (this.#disposed) throw new Error('ScriptEngine: load after dispose');
    const known = this.#bySource.get(source);
    if (known !== undefined && !known.retired) {
      this.#latest.set(source.id, known);
      return known;
    }
    const key = contentKey(source);
    let script = this.#scripts.get(key);
    if (script === undefined) {
      script = new LoadedScript(source, key, this.#policy, this.#logRate, this.#now);
      this.#scripts.set(key, script);
      const before = this.#latest.get(source.id);
      const previous = before === undefined ? null : before.loadState === 'ready' ? before : before.predecessor;
      if (previous !== null) {
        script.predecessor = previous;
        previous.standingIn++;
      }
      const loading = script;
      // `ready` settles once the failure is recorded, so whoever waits for it sees the script failing.
      this.#setUp(loading).catch((error: unknown) => {
        this.#record(loading, failure('unavailable', messageOf(error)), false, true);
        loading.markReady();
      });
    }
    this.#latest.set(source.id, script);
    this.#bySource.set(source, script);
    return script;
  }

  /**
   * Runs `script` for one request. Never rejects: failures are outcomes.
   *
   * The run is queued and made at the end of this turn of the event loop (`setImmediate`), in one
   * isolate call with every other request queued for the same script meanwhile: entering an
   * isolate and leaving it again costs more than a typical script, and a busy proxy parses many
   * requests per turn. Each request still gets its own `ctx`, its own outcome and its own deadline
   * (see {@link #runBatch}); a request that arrives alone waits for nothing but the end of the turn.
   */
  run(script: LoadedScript, req: ScriptRequest, state: RouteState): Promise<Outcome> {
    if (this.#disposed) return Promise.resolve(failure('unavailable', 'the script engine is shut down'));
    let payload: string;
    try {
      payload = encodeRequest(req);
    } catch (error) {
      return Promise.resolve(failure('unavailable', `the request could not be given to the script: ${messageOf(error)}`));
    }
    script = this.#serving(script);
    return new Promise<Outcome>((resolve) => {
      script.active++;
      if (script.queue.length === 0) this.#due.push(script);
      script.queue.push({ payload, state, resolve, trial: false });
      if (!this.#flushScheduled) {
        this.#flushScheduled = true;
        setImmediate(this.#flush);
      }
    });
  }

  /** Starts a call for every script with queued requests and no call running. */
  readonly #flush = (): void => {
    this.#flushScheduled = false;
    const due = this.#due;
    this.#due = [];
    for (const script of due) this.#drive(script);
  };

  /**
   * The version that serves a request for `script`: itself, or while it loads (or after it failed
   * to load) its predecessor; a failed one is set up again in the background once its backoff ends.
   */
  #serving(script: LoadedScript): LoadedScript {
    const previous = script.predecessor;
    if (previous === null) return script;
    if (script.loadState === 'failed' && script.setup === null && script.tracker.admit() === 'trial') {
      this.#setUp(script).then(
        () => this.#record(script, { ok: true, decision: null, cpuMs: 0 }, true),
        (error: unknown) => this.#record(script, failure('unavailable', messageOf(error)), true, true),
      );
    }
    return previous;
  }

  /**
   * One isolate call at a time per script, off the event loop: the requests queued while a call
   * runs are the next call, made as soon as it returns.
   */
  #drive(script: LoadedScript): void {
    if (script.calling || script.queue.length === 0) return;
    const queued = script.queue;
    script.queue = [];
    if (this.#disposed) {
      for (const run of queued) this.#settleQueued(script, run, failure('unavailable', 'the script engine is shut down'));
      return;
    }
    const runs = this.#admit(script, queued);
    if (runs.length === 0) return;
    script.calling = true;
    this.#runBatch(script, runs).then(
      (rest) => {
        script.calling = false;
        if (rest.length > 0) script.queue = rest.concat(script.queue);
        this.#drive(script);
      },
      (error: unknown) => {
        // Not expected (#runBatch turns every failure into outcomes); the script must not stall.
        this.#log.error({ err: error, script: script.id }, 'RouteScript call failed unexpectedly');
        script.calling = false;
        this.#drive(script);
      },
    );
  }

  /**
   * The queued requests the script's failure record lets run now; the others are refused at once,
   * as if each had come alone: a script that starts failing within a batch stops being run.
   */
  #admit(script: LoadedScript, queued: readonly QueuedRun[]): QueuedRun[] {
    const admitted: QueuedRun[] = [];
    for (const run of queued) {
      // A trial put off by a call's soft limit stays the trial (the tracker waits for its report).
      const admission = run.trial ? 'trial' : script.tracker.admit();
      if (admission !== 'refuse') {
        run.trial = admission === 'trial';
        admitted.push(run);
        continue;
      }
      const last = script.tracker.lastFailure;
      this.#settleQueued(script, run, failure('unavailable', `the script is failing and backing off${last ? ` (last: ${last.cause}: ${last.message})` : ''}`));
    }
    return admitted;
  }

  /**
   * One isolate call for `runs`, in order; returns those it did not get to. The call's deadline is
   * one request's ({@link enforcedMs}, or the setup budget for the first call into a fresh isolate),
   * and the prelude starts no further request once the budget itself has passed, so every request
   * it starts has at least budget + 10 ms before the deadline; an async request ends the call (see
   * sandbox-prelude.ts). When the deadline cuts the call off, the request that was running fails
   * with `timeout`, those finished before it keep their results and those after it are returned to
   * run in the next call. The time of the call is shared evenly
   * among the requests it ran.
   */
  async #runBatch(script: LoadedScript, runs: readonly QueuedRun[]): Promise<QueuedRun[]> {
    let isolate = this.#warmIsolate(script);
    if (isolate === null) {
      // Set up (again) off the event loop; the failure of a setup someone else started is recorded by it.
      const own = script.setup === null;
      const trial = runs.some((run) => run.trial);
      try {
        isolate = await (script.setup ?? this.#setUp(script));
      } catch (error) {
        const outcome = failure('unavailable', messageOf(error));
        if (own || trial) this.#record(script, outcome, trial, true);
        for (const run of runs) this.#settleQueued(script, run, outcome);
        return [];
      }
    }
    if (this.#disposed) {
      for (const run of runs) this.#settleQueued(script, run, failure('unavailable', 'the script engine is shut down'));
      return [];
    }
    // The first request in a fresh isolate also compiles the prelude's and the script's functions
    // (measured: 0.4-2 ms against 0.05-0.1 ms after, several ms on a loaded machine), so its call
    // gets the setup budget once instead of timing out a script that is merely cold.
    const timeoutMs = isolate.calls++ === 0 ? setupTimeoutMs(script.timeoutMs) : enforcedMs(script.timeoutMs);
    const start = performance.now();
    // The time the call spent running in the isolate, not waiting for a thread or for this event
    // loop to take its result: that is what a run costs, and what the slow report judges.
    const ranBefore = isolate.runningMs();
    const cpuBefore = isolate.cpuMs();
    const invs: Invocation[] = [];
    let input = '';
    for (const run of runs) {
      const inv = new Invocation(this.#nextId++, script, isolate, run.state, start + timeoutMs, run.trial, run.resolve);
      this.#invocations.set(inv.id, inv);
      inv.calls++;
      invs.push(inv);
      input += frameRequest(inv.id, run.payload);
    }
    let output: unknown;
    let cutOff = false;
    this.#batches++;
    try {
      // Synchronous only for a script that has earned it, and never behind an asynchronous call
      // still running in its isolate (the event loop would wait for that one too).
      output = script.mode.sync && isolate.pending === 0
        ? isolate.runBatchSync(input, script.timeoutMs, alignedTimeoutMs(start, timeoutMs))
        : await isolate.runBatch(input, script.timeoutMs, alignedTimeoutMs(start, timeoutMs));
    } catch (error) {
      const outcome = this.#isolateFailure(error, invs[0]!);
      if (!outcome.ok && outcome.cause === 'timeout') {
        cutOff = true;
        try {
          output = await isolate.collect();
        } catch {
          output = '';
        }
      } else {
        const ran = isolate.runningMs(performance.now() - start + ranBefore) - ranBefore;
        for (const inv of invs) inv.cpuMs = ran / invs.length;
        for (const inv of invs) this.#finish(inv, outcome);
        this.#batchedRequests += invs.length;
        this.#drainSettled();
        return [];
      }
    }
    for (const inv of invs) inv.calls--;
    const elapsed = isolate.runningMs(performance.now() - start + ranBefore) - ranBefore;
    // CPU, not wall time: a cheap script whose thread was descheduled on a busy machine stays cheap.
    script.mode.observe(isolate.cpuMs() - cpuBefore, invs.length);
    const results = splitResults(output, invs.length);
    if (results === null) {
      for (const inv of invs) this.#finish(inv, failure('invalid-decision', 'the script returned an unexpected result'));
      this.#batchedRequests += invs.length;
      this.#drainSettled();
      return [];
    }
    // Cut off while a request's own code ran, rather than in the continuations of the async request
    // that ended the call (that request fails by its own deadline timer).
    const cutMidRequest = cutOff && results.length < invs.length && results.at(-1) !== 'p';
    const ran = results.length + (cutMidRequest ? 1 : 0);
    this.#batchedRequests += ran;
    const share = elapsed / Math.max(1, ran);
    for (let i = 0; i < results.length; i++) {
      const inv = invs[i]!;
      inv.cpuMs = share;
      const tagged = results[i]!;
      if (tagged !== 'p') this.#finish(inv, readResult(tagged, script.backends, script.decisions, share));
      else if (!inv.done) inv.timer = setTimeout(() => this.#finish(inv, failure('timeout', budgetMessage(inv))), inv.remainingMs());
    }
    if (cutMidRequest) {
      const inv = invs[results.length]!;
      inv.cpuMs = share;
      this.#finish(inv, failure('timeout', budgetMessage(inv)));
    }
    // Not started: forgotten under their ids here, run in the next call.
    for (let i = ran; i < invs.length; i++) this.#invocations.delete(invs[i]!.id);
    const rest = runs.slice(ran);
    this.#drainSettled(); // a request's promise may have settled during this call
    return rest;
  }

  /** Ends a run that never reached an isolate. */
  #settleQueued(script: LoadedScript, run: QueuedRun, outcome: Outcome): void {
    script.active--;
    this.#releaseIfIdle(script);
    run.resolve(outcome);
  }

  /**
   * Keeps the scripts whose ids are in `ids` (their latest loaded version) and retires the rest:
   * their isolates are disposed as soon as no run of theirs is in flight. Call it after a swap.
   */
  retain(ids: ReadonlySet<string>): void {
    for (const [key, script] of this.#scripts) {
      if (ids.has(script.id) && this.#latest.get(script.id) === script) continue;
      this.#scripts.delete(key);
      script.retired = true;
      this.#dropPredecessor(script);
      this.#releaseIfIdle(script);
    }
    for (const id of [...this.#latest.keys()]) if (!ids.has(id)) this.#latest.delete(id);
  }

  /** The health of the latest loaded script with `id`. */
  status(id: string): ScriptStatus | undefined {
    return this.#latest.get(id)?.status;
  }

  get stats(): ScriptEngineStats {
    return {
      isolatesCreated: this.#isolatesCreated,
      warmIsolates: this.#warm.size,
      loadedScripts: this.#scripts.size,
      runsInFlight: this.#invocations.size,
      batches: this.#batches,
      batchedRequests: this.#batchedRequests,
    };
  }

  /** Fails the runs in flight (`unavailable`) and disposes every isolate. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    const shutDown = failure('unavailable', 'the script engine is shut down');
    for (const inv of [...this.#invocations.values()]) this.#finish(inv, shutDown);
    for (const script of [...this.#due, ...this.#scripts.values()]) {
      const queued = script.queue;
      script.queue = [];
      for (const run of queued) this.#settleQueued(script, run, shutDown);
    }
    this.#due = [];
    for (const script of [...this.#warm]) this.#release(script);
    this.#scripts.clear();
    this.#latest.clear();
    this.#bySource = new WeakMap();
  }

  /** The script's warm isolate, marked most recently used; null when it has none (never set up, disposed, being set up). */
  #warmIsolate(script: LoadedScript): ScriptIsolate | null {
    const current = script.isolate;
    // The busy script's isolate is only ever disposed through #release (V8's memory-limit disposal
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
  #setUp(script: LoadedScript): Promise<ScriptIsolate> {
    const setup = ScriptIsolate.create(script.source, (op, id, a, b, c) => this.#hostCall(script, op, id, a, b, c)).then(
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
          if (this.#warm.size <= this.#maxIsolates) break;
          if (other !== script && other.active === 0) this.#release(other);
        }
        if (script.loadState === 'loading' || script.loadState === 'failed') {
          script.loadState = 'ready';
          script.markReady();
          this.#dropPredecessor(script);
        }
        this.#releaseIfIdle(script);
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

  /** Ends `script`'s stand-in: its predecessor's isolate goes once nothing else needs it. */
  #dropPredecessor(script: LoadedScript): void {
    const previous = script.predecessor;
    if (previous === null) return;
    script.predecessor = null;
    previous.standingIn--;
    this.#releaseIfIdle(previous);
  }

  /** Disposes a retired script's isolate once no run of it is queued or in flight and no new version serves through it. */
  #releaseIfIdle(script: LoadedScript): void {
    if (script.retired && script.active === 0 && script.standingIn === 0) this.#release(script);
  }

  #release(script: LoadedScript): void {
    if (this.#mostRecent === script) this.#mostRecent = null;
    script.isolate?.dispose();
    script.isolate = null;
    this.#warm.delete(script);
  }

  /** Ends a run once: records it, frees what it held and wakes its waiter. */
  #finish(inv: Invocation, outcome: Outcome): Outcome {
    if (inv.done) return outcome;
    inv.done = true;
    this.#invocations.delete(inv.id);
    if (inv.timer !== null) clearTimeout(inv.timer);
    const script = inv.script;
    script.active--;
    if (inv.lookups > 0) {
      try {
        inv.isolate.forget(inv.id);
      } catch {
        // Disposed or out of time: either way nothing of this request can run again.
      }
    }
    this.#record(script, outcome, inv.trial);
    if (!outcome.ok && outcome.cause === 'memory') {
      // V8 disposed the isolate; the runs still waiting in it cannot finish there.
      if (script.isolate === inv.isolate) this.#release(script);
      for (const other of [...this.#invocations.values()]) if (other.isolate === inv.isolate) this.#finish(other, outcome);
    }
    this.#releaseIfIdle(script);
    inv.resolve(outcome);
    return outcome;
  }

  #drainSettled(): void {
    while (this.#settled.length > 0) {
      const settled = this.#settled;
      this.#settled = [];
      for (const inv of settled) this.#finish(inv, readResult(inv.settled, inv.script.backends, inv.script.decisions, inv.cpuMs));
    }
  }

  #isolateFailure(error: unknown, inv: Invocation): Outcome {
    const limits = inv.script.source.limits;
    if (inv.isolate.disposed) return failure('memory', `the script exceeded its memory limit of ${limits.memoryMiB} MiB; its isolate was disposed`);
    const message = messageOf(error);
    if (/timed out/i.test(message)) return failure('timeout', budgetMessage(inv));
    return failure('throw', message);
  }

  #record(script: LoadedScript, outcome: Outcome, trial: boolean, immediate = false): void {
    let changed: boolean;
    if (outcome.ok) changed = script.tracker.succeeded(trial);
    else if (outcome.cause !== 'unavailable' || immediate) changed = script.tracker.failed(outcome.cause, outcome.message, trial, immediate);
    else changed = false;
    // The share of the budget a run used: a timeout used all of it; runs that never ran (cpuMs 0) say nothing.
    const share = outcome.ok ? (outcome.cpuMs > 0 ? outcome.cpuMs / script.timeoutMs : -1) : outcome.cause === 'timeout' ? 1 : -1;
    const slowChanged = share >= 0 && script.budget.observe(share);
    if (!changed && !slowChanged) return;
    const status = script.status;
    if (changed && status.state === 'failing') this.#log.warn({ script: script.id, lastFailure: status.lastFailure, retryAt: status.retryAt }, 'RouteScript is failing; not running it until its backoff ends');
    else if (changed) this.#log.info({ script: script.id }, 'RouteScript recovered');
    if (slowChanged && status.slow) this.#log.warn({ script: script.id, budgetUsedP90: status.budgetUsedP90, timeoutMs: script.source.limits.timeoutMs }, 'RouteScript keeps using most of its time budget');
    else if (slowChanged) this.#log.info({ script: script.id }, 'RouteScript no longer uses most of its time budget');
    try {
      this.#onStatus?.(status);
    } catch (error) {
      this.#log.error({ err: error }, 'RouteScript status callback threw');
    }
  }

  /** The host side of the prelude's dispatcher; what it throws, the script sees as an exception. */
  #hostCall(script: LoadedScript, op: string, id: number, a: unknown, b: unknown, c: unknown): unknown {
    if (op === 'log') {
      // Sent without waiting (`notify`): it may arrive after its request has ended, and still counts.
      const dropped = script.logLimiter.admit();
      if (dropped >= 0) this.#log.info(dropped > 0 ? { script: script.id, droppedBefore: dropped } : { script: script.id }, String(a));
      return undefined;
    }
    const inv = this.#invocations.get(id);
    if (inv === undefined || inv.script !== script) throw new Error('this ctx belongs to a request that has ended');
    switch (op) {
      case 'get':
        return inv.state.get(a as string);
      case 'set':
        inv.state.set(a as string, b as StateValue, c as number | undefined);
        return undefined;
      case 'incr':
        return inv.state.incr(a as string, b === undefined ? 1 : (b as number), c as number | undefined);
      case 'delete':
        return inv.state.delete(a as string);
      case 'lookup':
        return this.#startLookup(inv, a);
      case 'settle':
        inv.settled = String(a);
        this.#settled.push(inv);
        // Settled without waiting (`notify`): this may arrive after the call that settled it returned.
        if (inv.calls === 0) queueMicrotask(() => this.#drainSettled());
        return undefined;
      default:
        throw new Error(`unknown host call ${op}`);
    }
  }

  /** Starts `ctx.lookup(key)` and returns the ticket the prelude waits on. */
  #startLookup(inv: Invocation, key: unknown): number {
    const lookup = this.#lookup;
    if (lookup === undefined) throw new Error('ctx.lookup is not available: no lookup service is configured');
    if (typeof key !== 'string' || key.length === 0 || key.length > MAX_LOOKUP_KEY_LENGTH) {
      throw new TypeError(`ctx.lookup: the key must be a string of 1 to ${MAX_LOOKUP_KEY_LENGTH} characters`);
    }
    if (inv.lookups >= MAX_LOOKUPS_PER_REQUEST) throw new RangeError(`ctx.lookup: at most ${MAX_LOOKUPS_PER_REQUEST} lookups per request`);
    const ticket = this.#nextTicket++;
    inv.lookups++;
    let pending: Promise<string | null>;
    try {
      pending = lookup(inv.script.id, key);
    } catch (error) {
      pending = Promise.reject(error);
    }
    pending.then(
      (value) => this.#deliver(inv, ticket, value === null || typeof value === 'string', value === null || typeof value === 'string' ? value : 'the lookup returned a non-string'),
      (error: unknown) => this.#deliver(inv, ticket, false, messageOf(error)),
    );
    return ticket;
  }

  /** Hands a lookup's answer to the script; its continuation runs now, within the rest of the budget. */
  #deliver(inv: Invocation, ticket: number, ok: boolean, value: string | null): void {
    if (inv.done) return;
    if (inv.isolate.disposed) {
      this.#finish(inv, this.#isolateFailure(null, inv));
      return;
    }
    if (performance.now() >= inv.deadline) {
      this.#finish(inv, failure('timeout', budgetMessage(inv)));
      return;
    }
    const ranBefore = inv.isolate.runningMs();
    const cpuBefore = inv.isolate.cpuMs();
    inv.calls++;
    inv.isolate.deliver(ticket, ok, value, inv.remainingMs()).then(
      () => {
        inv.calls--;
        const ran = inv.isolate.runningMs(ranBefore) - ranBefore;
        inv.cpuMs += ran;
        inv.script.mode.observe(inv.isolate.cpuMs() - cpuBefore, 1); // a continuation that spins costs the script its synchronous calls too
        this.#drainSettled();
      },
      (error: unknown) => {
        inv.calls--;
        inv.cpuMs += inv.isolate.runningMs(ranBefore) - ranBefore;
        this.#finish(inv, this.#isolateFailure(error, inv));
        this.#drainSettled();
      },
    );
  }
}

function budgetMessage(inv: Invocation): string {
  return `the script exceeded its ${inv.script.source.limits.timeoutMs} ms budget`;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
