import { DEFAULT_RAMP, ReleaseRamp, type RampSettings } from './release-ramp.ts';

/** Why requests wait at a gate; see {@link PauseGate}. */
export type GateKind = 'no-endpoint' | 'operator' | 'script';

/** A gate's queue bounds, per worker. */
export interface GateBounds {
  readonly maxRequests: number;
  readonly maxBodyBytes: number;
}

/** A request as a gate holds it: what it weighs, until when it may wait, and what to do next. */
export interface HeldRequest {
  /** Request-body bytes it counts against the gate's byte bound. */
  readonly bytes: number;
  /** `performance.now()` ms at which it stops waiting ({@link expire}). */
  readonly deadline: number;
  /**
   * A delay rather than a hold: reaching the deadline is how it is meant to end (it then goes on),
   * so it counts as released, not expired.
   */
  readonly delay?: boolean;
  /** The gate opened and the ramp let this request go. */
  release(): void;
  /** The deadline passed first. */
  expire(): void;
}

/** What {@link PauseGate.admit} answers: a ticket to cancel the wait, or the bound that refused it. */
export type Admission = { readonly held: true; cancel(): void } | { readonly held: false; readonly bound: 'requests' | 'bytes' };

/** Events a gate reports, for metrics. */
export interface GateObserver {
  held(gate: PauseGate, delta: number): void;
  left(gate: PauseGate, outcome: 'released' | 'expired' | 'abandoned', heldMs: number): void;
  rate(gate: PauseGate, perSecond: number): void;
  /** The gate holds nothing and is not releasing: the registry may drop it. */
  idle(gate: PauseGate): void;
}

interface Entry {
  readonly request: HeldRequest;
  readonly heldAt: number;
  timer: NodeJS.Timeout | null;
  done: boolean;
}

/** How often a releasing gate looks at its ramp. */
const TICK_MS = 10;

/**
 * One place where requests wait, in arrival order, within bounds: at most `maxRequests` requests
 * and `maxBodyBytes` declared body bytes at once (a request beyond either is refused at once), each
 * until its own deadline. {@link open} lets them go through a {@link ReleaseRamp}; a request that
 * arrives while the gate is releasing queues behind the backlog instead of overtaking it.
 * {@link close} stops releasing (the condition came back). A cancelled request (its client left)
 * frees its place at once.
 */
export class PauseGate {
  readonly kind: GateKind;
  readonly name: string;
  bounds: GateBounds;
  /** What the owner needs to decide when to open the gate (e.g. the script version it waits on). */
  tag: unknown = null;
  readonly #observer: GateObserver;
  readonly #ramp: RampSettings;
  readonly #now: () => number;
  #queue: Entry[] = [];
  #head = 0;
  #requests = 0;
  #bytes = 0;
  /** Entries that left without being released and still sit in the queue. */
  #dead = 0;
  #releasing: ReleaseRamp | null = null;
  #tick: NodeJS.Timeout | null = null;

  constructor(kind: GateKind, name: string, bounds: GateBounds, observer: GateObserver, ramp: RampSettings = DEFAULT_RAMP, now: () => number = performance.now.bind(performance)) {
    this.kind = kind;
    this.name = name;
    this.bounds = bounds;
    this.#observer = observer;
    this.#ramp = ramp;
    this.#now = now;
  }

  /** Requests waiting now. */
  get size(): number {
    return this.#requests;
  }

  /** Declared body bytes of the requests waiting now. */
  get bytes(): number {
    return this.#bytes;
  }

  /** True while the gate lets its backlog go. */
  get releasing(): boolean {
    return this.#releasing !== null;
  }

  /** Queues `request` unless a bound refuses it; while releasing, it joins the end of the backlog. */
  admit(request: HeldRequest): Admission {
    if (this.#requests + 1 > this.bounds.maxRequests) return { held: false, bound: 'requests' };
    if (request.bytes > 0 && this.#bytes + request.bytes > this.bounds.maxBodyBytes) return { held: false, bound: 'bytes' };
    const now = this.#now();
    const entry: Entry = { request, heldAt: now, timer: null, done: false };
    entry.timer = setTimeout(() => this.#leave(entry, 'expired'), Math.max(0, request.deadline - now));
    this.#queue.push(entry);
    this.#requests++;
    this.#bytes += request.bytes;
    this.#observer.held(this, 1);
    if (this.#releasing !== null) this.#schedule();
    return { held: true, cancel: () => this.#leave(entry, 'abandoned') };
  }

  /** Starts letting the backlog go, in order, through a fresh ramp (no-op while already releasing). */
  open(): void {
    if (this.#releasing !== null) return;
    this.#releasing = new ReleaseRamp(this.#ramp, this.#now());
    this.#drain();
  }

  /** Stops releasing: whatever is still queued waits again (until its deadline or the next open). */
  close(): void {
    this.#releasing = null;
    if (this.#tick !== null) clearTimeout(this.#tick);
    this.#tick = null;
    this.#observer.rate(this, 0);
  }

  /** Ends every wait now as expired (shutdown: the client should retry elsewhere). */
  expireAll(): void {
    this.close();
    // A copy: leaving compacts the queue.
    for (const entry of this.#queue.slice(this.#head)) this.#leave(entry, 'expired');
  }

  #drain(): void {
    this.#tick = null;
    const ramp = this.#releasing;
    if (ramp === null) return;
    const now = this.#now();
    let allowed = ramp.available(now);
    let released = 0;
    while (allowed > 0 && this.#head < this.#queue.length) {
      const entry = this.#queue[this.#head++]!;
      if (entry.done) {
        this.#dead--;
        continue;
      }
      this.#leave(entry, 'released');
      allowed--;
      released++;
    }
    ramp.took(released);
    this.#compact();
    if (this.#requests === 0) {
      this.close();
      this.#observer.idle(this);
      return;
    }
    this.#observer.rate(this, ramp.rateAt(now));
    this.#schedule();
  }

  #schedule(): void {
    this.#tick ??= setTimeout(() => this.#drain(), TICK_MS);
  }

  #leave(entry: Entry, outcome: 'released' | 'expired' | 'abandoned'): void {
    if (entry.done) return;
    entry.done = true;
    if (entry.timer !== null) clearTimeout(entry.timer);
    this.#requests--;
    this.#bytes -= entry.request.bytes;
    this.#observer.held(this, -1);
    this.#observer.left(this, outcome === 'expired' && entry.request.delay === true ? 'released' : outcome, this.#now() - entry.heldAt);
    if (outcome !== 'released') {
      this.#dead++;
      this.#compact();
    }
    if (outcome === 'released') entry.request.release();
    else if (outcome === 'expired') entry.request.expire();
    if (this.#requests === 0 && this.#releasing === null) this.#observer.idle(this);
  }

  /**
   * Drops the released front of the queue and the entries that left early, now and then, so that a
   * long pause with many clients giving up does not grow the queue beyond its live requests.
   */
  #compact(): void {
    if (this.#head > 64 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
    if (this.#dead > 64 && this.#dead > this.#requests) {
      this.#queue = this.#queue.slice(this.#head).filter((e) => !e.done);
      this.#head = 0;
      this.#dead = 0;
    }
  }
}
