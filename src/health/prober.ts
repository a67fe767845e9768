import type { HealthCheckPolicy } from '../model/policy.ts';
import { HealthState } from './health-state.ts';
import { hostPort, HTTP1_PROBE, probe, type ProbeOutcome, type ProbeTransport } from './probe.ts';

/** What a prober reports to its owner. */
export interface ProberEvents {
  /** After every probe, with its duration in milliseconds. */
  result(prober: Prober, outcome: ProbeOutcome, durationMs: number): void;
  /** When the verdict flips; `outcome` is the probe that flipped it. */
  transition(prober: Prober, outcome: ProbeOutcome): void;
}

/** Clock and randomness, injectable for tests. */
export interface ProberClock {
  /** Uniform in [0, 1). */
  readonly random: () => number;
  /** Milliseconds, monotonic. */
  readonly now: () => number;
}

/** The share of the interval by which each period is jittered, either way. */
const JITTER = 0.1;

/**
 * The identity of a prober: endpoint plus every setting of the check. Clusters whose checks are
 * configured alike share the prober of an endpoint; any difference (even a threshold) gets a
 * prober of its own, because the verdict depends on it.
 */
export function proberKey(address: string, port: number, check: HealthCheckPolicy, transport: ProbeTransport = HTTP1_PROBE): string {
  const ranges = check.expectedStatuses.map(([low, high]) => `${low}-${high}`).join(',');
  const base = `${hostPort(address, port)} ${check.intervalMs}/${check.timeoutMs}/${check.healthyThreshold}/${check.unhealthyThreshold} ${ranges} ${check.path}`;
  // A TCP connect knows no protocol above it.
  if (check.kind === 'tcp') return `${base} tcp`;
  if (transport.protocol === 'http1') return base;
  // The protocol and the certificate checks decide the verdict too.
  return `${base} ${transport.protocol} ${JSON.stringify(transport.tls)}`;
}

/**
 * Probes one endpoint with one check, forever until stopped. The first probe comes at a random
 * point within the first interval, so that many probers started together (a new table, a restart)
 * spread their probes; after that one probe starts every interval ± 10 %, measured start to start.
 * A probe never overlaps the previous one: when a probe outlasts the interval (a timeout longer than
 * the interval), the next one starts as soon as it ends. Every timer is unref'd.
 */
export class Prober {
  readonly key: string;
  readonly address: string;
  readonly port: number;
  /** `address:port`, IPv6 in brackets. */
  readonly endpoint: string;
  readonly check: HealthCheckPolicy;
  /** The cluster's protocol, which its probes speak. */
  readonly transport: ProbeTransport;
  /** The clusters this prober decides for; kept up to date by the owner. */
  readonly clusters = new Set<string>();
  readonly #state: HealthState;
  readonly #events: ProberEvents;
  readonly #clock: ProberClock;
  readonly #intervalMs: number;
  #timer: NodeJS.Timeout | null = null;
  #inFlight: AbortController | null = null;
  #stopped = false;

  constructor(address: string, port: number, check: HealthCheckPolicy, events: ProberEvents, clock: ProberClock, transport: ProbeTransport = HTTP1_PROBE) {
    this.key = proberKey(address, port, check, transport);
    this.transport = transport;
    this.address = address;
    this.port = port;
    this.endpoint = hostPort(address, port);
    this.check = check;
    this.#state = new HealthState(check.healthyThreshold, check.unhealthyThreshold);
    this.#events = events;
    this.#clock = clock;
    // The compiler allows ≥ 1 s; anything positive works here, and nonsense cannot spin the loop.
    this.#intervalMs = Number.isFinite(check.intervalMs) && check.intervalMs > 0 ? check.intervalMs : 1_000;
  }

  /** The current verdict; a new prober is healthy. */
  get healthy(): boolean {
    return this.#state.healthy;
  }

  /** Schedules the first probe at a random point within one interval. */
  start(): void {
    if (this.#stopped || this.#timer !== null || this.#inFlight !== null) return;
    this.#schedule(this.#clock.random() * this.#intervalMs);
  }

  /** Cancels the next probe and aborts the one in flight; nothing is reported afterwards. */
  stop(): void {
    this.#stopped = true;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    this.#inFlight?.abort();
    this.#inFlight = null;
  }

  #schedule(delayMs: number): void {
    this.#timer = setTimeout(() => void this.#run(), Math.max(0, delayMs));
    this.#timer.unref();
  }

  async #run(): Promise<void> {
    this.#timer = null;
    const controller = new AbortController();
    this.#inFlight = controller;
    const started = this.#clock.now();
    const outcome = await probe(this, controller.signal);
    if (this.#stopped) return;
    this.#inFlight = null;
    const durationMs = this.#clock.now() - started;
    const period = this.#intervalMs * (1 - JITTER + 2 * JITTER * this.#clock.random());
    this.#schedule(period - durationMs);
    this.#events.result(this, outcome, durationMs);
    if (this.#state.record(outcome.pass)) this.#events.transition(this, outcome);
  }
}
