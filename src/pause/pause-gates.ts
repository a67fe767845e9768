import type { PauseMetrics } from '../metrics/metrics.ts';
import { PauseGate, type GateBounds, type GateKind, type GateObserver } from './pause-gate.ts';
import type { RampSettings } from './release-ramp.ts';

/**
 * The pause gates of one worker thread, by kind and name. They outlive table swaps — a request held
 * under one table is released under a later one — and go away once empty. The data plane decides
 * when a gate opens (the condition it waits on is about the table); this registry keeps the gates,
 * their metrics, and stops them all at shutdown.
 */
export class PauseGates {
  readonly #gates = new Map<string, PauseGate>();
  /** Gates still releasing a backlog after {@link retire}. */
  readonly #retired = new Set<PauseGate>();
  readonly #observer: GateObserver;
  readonly #ramp: RampSettings | undefined;
  readonly #rejected: (gate: PauseGate, bound: 'requests' | 'bytes') => void;
  #stopped = false;

  constructor(metrics: PauseMetrics, ramp?: RampSettings) {
    this.#ramp = ramp;
    this.#observer = {
      held: (gate, delta) => metrics.held.labels(gate.kind, gate.name).inc(delta),
      left: (gate, outcome, heldMs) => {
        metrics.holdDuration.labels(gate.kind, gate.name).observe(heldMs / 1000);
        metrics[outcome].labels(gate.kind, gate.name).inc();
      },
      rate: (gate, perSecond) => metrics.releaseRate.labels(gate.kind, gate.name).set(perSecond),
      idle: (gate) => {
        this.#retired.delete(gate);
        if (this.#gates.get(keyOf(gate.kind, gate.name)) === gate && gate.size === 0 && !gate.releasing) this.#gates.delete(keyOf(gate.kind, gate.name));
      },
    };
    this.#rejected = (gate, bound) => metrics.rejected.labels(gate.kind, gate.name, bound).inc();
  }

  /** True once {@link stop} ran: nothing is held any more. */
  get stopped(): boolean {
    return this.#stopped;
  }

  /** The gate `kind`/`name`, created when missing; its bounds become `bounds` (the newest table's). */
  gate(kind: GateKind, name: string, bounds: GateBounds): PauseGate {
    const key = keyOf(kind, name);
    let gate = this.#gates.get(key);
    if (gate === undefined) {
      gate = new PauseGate(kind, name, bounds, this.#observer, this.#ramp);
      this.#gates.set(key, gate);
    } else {
      gate.bounds = bounds;
    }
    return gate;
  }

  /** The gate `kind`/`name` if it exists (holding or releasing requests). */
  find(kind: GateKind, name: string): PauseGate | undefined {
    return this.#gates.get(keyOf(kind, name));
  }

  /**
   * Lets `gate` release its backlog on its own, while new requests of its kind and name start a
   * new gate: for a wait that ends once (a script's condition), those who waited go, later
   * arrivals wait for the next time.
   */
  retire(gate: PauseGate): void {
    const key = keyOf(gate.kind, gate.name);
    if (this.#gates.get(key) === gate) this.#gates.delete(key);
    if (gate.size === 0) return;
    this.#retired.add(gate);
    gate.open();
  }

  /** Counts a request a full gate refused. */
  rejected(gate: PauseGate, bound: 'requests' | 'bytes'): void {
    this.#rejected(gate, bound);
  }

  /** Every gate, for the data plane to decide which may open after a table swap. */
  all(): IterableIterator<PauseGate> {
    return this.#gates.values();
  }

  /** Ends every wait (503 with Retry-After, so clients retry elsewhere) and refuses new ones. */
  stop(): void {
    this.#stopped = true;
    for (const gate of [...this.#gates.values(), ...this.#retired]) gate.expireAll();
    this.#gates.clear();
  }
}

function keyOf(kind: GateKind, name: string): string {
  return `${kind}\n${name}`;
}
