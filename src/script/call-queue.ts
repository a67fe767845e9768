import type { Logger } from '../log.ts';
import { alignedTimeoutMs, enforcedMs, setupTimeoutMs } from './budget.ts';
import { HostCalls } from './host-calls.ts';
import { budgetMessage, Invocation, isolateFailure } from './invocation.ts';
import type { AnyOutcome, LoadedScript, QueuedRun } from './loaded-script.ts';
import { messageOf, type OutcomeRecorder } from './outcome-recorder.ts';
import { frameRequest, splitResults, type HostDispatch } from './script-isolate.ts';
import type { ScriptPool } from './script-pool.ts';
import { failure, readResponseResult, readResult } from './script-result.ts';
import type { LookupFetcher } from './types.ts';

export { MAX_LOOKUPS_PER_REQUEST } from './host-calls.ts';

/** What a {@link CallQueue} is built with. */
export interface CallQueueOptions {
  readonly log: Logger;
  readonly pool: ScriptPool;
  readonly recorder: OutcomeRecorder;
  /** Answers `ctx.lookup`; without it `ctx.lookup` throws. */
  readonly lookup: LookupFetcher | undefined;
}

/**
 * The calling half of the engine: runs queued per script and made at the end of the turn of the
 * event loop, one isolate call at a time per script, each call a batch of requests with its own
 * deadline (synchronous or on isolated-vm's threads, call-mode.ts), and how each run ends. The host
 * side of `ctx` is host-calls.ts. Every failure becomes an outcome.
 */
export class CallQueue {
  readonly #log: Logger;
  readonly #pool: ScriptPool;
  readonly #recorder: OutcomeRecorder;
  readonly #hosts: HostCalls;
  readonly #invocations = new Map<number, Invocation>();
  /** Scripts with queued runs, in the order their first run was queued. */
  #due: LoadedScript[] = [];
  #flushScheduled = false;
  /** Async runs whose result arrived during an isolate call, to finish once that call returns. */
  #settled: Invocation[] = [];
  #nextId = 1;
  #batches = 0;
  #batchedRequests = 0;

  constructor(options: CallQueueOptions) {
    this.#log = options.log;
    this.#pool = options.pool;
    this.#recorder = options.recorder;
    this.#hosts = new HostCalls(options.log, options.lookup, {
      invocation: (id) => this.#invocations.get(id),
      finish: (inv, outcome) => this.#finish(inv, outcome),
      settled: (inv) => {
        this.#settled.push(inv);
        // Settled without waiting (`notify`): this may arrive after the call that settled it returned.
        if (inv.calls === 0) queueMicrotask(() => this.#drainSettled());
      },
      drain: () => this.#drainSettled(),
    });
  }

  /** Runs in flight (async scripts awaiting a lookup), isolate calls made, and the requests they ran. */
  get counts(): { readonly runsInFlight: number; readonly batches: number; readonly batchedRequests: number } {
    return { runsInFlight: this.#invocations.size, batches: this.#batches, batchedRequests: this.#batchedRequests };
  }

  /** Queues a run of `script` (the version that serves it) for the end of this turn; see `ScriptEngine.run`. */
  enqueue(script: LoadedScript, run: Omit<QueuedRun, 'resolve' | 'trial'>): Promise<AnyOutcome> {
    return new Promise<AnyOutcome>((resolve) => {
      script.active++;
      if (script.queue.length === 0) this.#due.push(script);
      script.queue.push({ ...run, resolve, trial: false });
      if (!this.#flushScheduled) {
        this.#flushScheduled = true;
        setImmediate(this.#flush);
      }
    });
  }

  /** The host side of the prelude's dispatcher for `script`'s isolates. */
  dispatch(script: LoadedScript): HostDispatch {
    return this.#hosts.dispatch(script);
  }

  /** Fails every run queued or in flight with `outcome` (at shutdown; the pool is closed). */
  failAll(outcome: AnyOutcome): void {
    for (const inv of [...this.#invocations.values()]) this.#finish(inv, outcome);
    for (const script of [...this.#due, ...this.#pool.loaded()]) {
      const queued = script.queue;
      script.queue = [];
      for (const run of queued) this.#settleQueued(script, run, outcome);
    }
    this.#due = [];
  }

  /** Starts a call for every script with queued requests and no call running. */
  readonly #flush = (): void => {
    this.#flushScheduled = false;
    const due = this.#due;
    this.#due = [];
    for (const script of due) this.#drive(script);
  };

  /**
   * One isolate call at a time per script, off the event loop: the requests queued while a call
   * runs are the next call, made as soon as it returns.
   */
  #drive(script: LoadedScript): void {
    if (script.calling || script.queue.length === 0) return;
    const queued = script.queue;
    script.queue = [];
    if (this.#pool.disposed) {
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
    let isolate = this.#pool.warmIsolate(script);
    if (isolate === null) {
      // Set up (again) off the event loop; the failure of a setup someone else started is recorded by it.
      const own = script.setup === null;
      const trial = runs.some((run) => run.trial);
      try {
        isolate = await (script.setup ?? this.#pool.setUp(script));
      } catch (error) {
        const outcome = failure('unavailable', messageOf(error));
        if (own || trial) this.#recorder.record(script, outcome, trial, true);
        for (const run of runs) this.#settleQueued(script, run, outcome);
        return [];
      }
    }
    if (this.#pool.disposed) {
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
      const inv = new Invocation(this.#nextId++, script, isolate, run, start + timeoutMs);
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
      const outcome = isolateFailure(error, invs[0]!);
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
      if (tagged !== 'p') this.#finish(inv, outcomeOf(inv, tagged, share));
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
  #settleQueued(script: LoadedScript, run: QueuedRun, outcome: AnyOutcome): void {
    script.active--;
    this.#pool.releaseIfIdle(script);
    run.resolve(outcome);
  }

  /** Ends a run once: records it, frees what it held and wakes its waiter. */
  #finish(inv: Invocation, outcome: AnyOutcome): AnyOutcome {
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
    this.#recorder.record(script, outcome, inv.trial);
    if (!outcome.ok && outcome.cause === 'memory') {
      // V8 disposed the isolate; the runs still waiting in it cannot finish there.
      if (script.isolate === inv.isolate) this.#pool.release(script);
      for (const other of [...this.#invocations.values()]) if (other.isolate === inv.isolate) this.#finish(other, outcome);
    }
    this.#pool.releaseIfIdle(script);
    inv.resolve(outcome);
    return outcome;
  }

  #drainSettled(): void {
    while (this.#settled.length > 0) {
      const settled = this.#settled;
      this.#settled = [];
      for (const inv of settled) this.#finish(inv, outcomeOf(inv, inv.settled, inv.cpuMs));
    }
  }
}

/**
 * The outcome of a run from its tagged result, checked for its hook. A response decision's
 * `respond` replaces only an error response: a script must not turn a success into something else
 * (a cache or a client would keep it), while answering for a failed upstream is what it is for.
 */
function outcomeOf(inv: Invocation, tagged: unknown, cpuMs: number): AnyOutcome {
  const script = inv.script;
  if (inv.responseStatus === null) return readResult(tagged, script.backends, script.decisions, cpuMs);
  const outcome = readResponseResult(tagged, script.responseDecisions, cpuMs);
  if (outcome.ok && outcome.decision?.respond !== undefined && inv.responseStatus < 400) {
    return failure('invalid-decision', `respond may replace only an error response (status 400 or more), not a ${inv.responseStatus}`);
  }
  return outcome;
}
