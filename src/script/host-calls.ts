import type { Logger } from '../log.ts';
import { budgetMessage, type Invocation, isolateFailure } from './invocation.ts';
import type { AnyOutcome, LoadedScript } from './loaded-script.ts';
import { messageOf } from './outcome-recorder.ts';
import type { StateValue } from './route-state.ts';
import type { HostDispatch } from './script-isolate.ts';
import { failure } from './script-result.ts';
import type { LookupFetcher } from './types.ts';

const MAX_LOOKUP_KEY_LENGTH = 1024;
/** Lookups one request may start: each holds a fetch and a promise in the proxy until it settles. */
export const MAX_LOOKUPS_PER_REQUEST = 16;

/** What the host side of `ctx` needs from the runs in flight (the call queue's). */
export interface RunControl {
  /** The run a host call's request id names, while it has not ended. */
  invocation(id: number): Invocation | undefined;
  /** Ends a run with `outcome` (once). */
  finish(inv: Invocation, outcome: AnyOutcome): void;
  /** An async run's result arrived (in `inv.settled`): finish it once no call that may settle it runs. */
  settled(inv: Invocation): void;
  /** Finishes the runs whose results arrived meanwhile. */
  drain(): void;
}

/**
 * The host side of every request's `ctx`: `ctx.state` on the run's route state, `ctx.log` through
 * the script's rate limit, `ctx.lookup` through the lookup service (answers delivered back into the
 * isolate within the run's budget), and the settling of async results. Calls arrive tagged with the
 * request id the prelude baked into that request's `ctx`; a call for a run that has ended throws.
 */
export class HostCalls {
  readonly #log: Logger;
  readonly #lookup: LookupFetcher | undefined;
  readonly #control: RunControl;
  #nextTicket = 1;

  constructor(log: Logger, lookup: LookupFetcher | undefined, control: RunControl) {
    this.#log = log;
    this.#lookup = lookup;
    this.#control = control;
  }

  /** The dispatcher for the isolates of `script`. */
  dispatch(script: LoadedScript): HostDispatch {
    return (op, id, a, b, c) => this.#call(script, op, id, a, b, c);
  }

  /** The host side of the prelude's dispatcher; what it throws, the script sees as an exception. */
  #call(script: LoadedScript, op: string, id: number, a: unknown, b: unknown, c: unknown): unknown {
    if (op === 'log') {
      // Sent without waiting (`notify`): it may arrive after its request has ended, and still counts.
      const dropped = script.logLimiter.admit();
      if (dropped >= 0) this.#log.info(dropped > 0 ? { script: script.id, droppedBefore: dropped } : { script: script.id }, String(a));
      return undefined;
    }
    const inv = this.#control.invocation(id);
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
        this.#control.settled(inv);
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
      this.#control.finish(inv, isolateFailure(null, inv));
      return;
    }
    if (performance.now() >= inv.deadline) {
      this.#control.finish(inv, failure('timeout', budgetMessage(inv)));
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
        this.#control.drain();
      },
      (error: unknown) => {
        inv.calls--;
        inv.cpuMs += inv.isolate.runningMs(ranBefore) - ranBefore;
        this.#control.finish(inv, isolateFailure(error, inv));
        this.#control.drain();
      },
    );
  }
}
