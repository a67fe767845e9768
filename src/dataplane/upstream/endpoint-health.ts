import { RetryBudget } from './retry-budget.ts';

/**
 * Whether one endpoint of one cluster may take new requests, in this worker: the verdict of the
 * active health checks (sent by the control plane, which probes each endpoint once per process)
 * and of passive outlier detection (this worker's own view of the endpoint's recent failures).
 * `usable` combines both so that the balancer's check per request is one field read.
 */
export class EndpointHealth {
  /** False while the active health checks fail the endpoint. */
  activeHealthy = true;
  /** True while passive outlier detection has the endpoint ejected. */
  ejected = false;
  /** `activeHealthy && !ejected`. */
  usable = true;
  /** 5xx responses (gRPC calls: by their grpc-status) and connection failures in a row, reset by any other response. */
  consecutiveFailures = 0;
  /** Ejections so far; each lasts longer than the one before. Forgotten after a quiet spell. */
  ejections = 0;
  /** When the last ejection ended (performance.now() ms), to forget old ejections. */
  lastEjectionEnd = 0;
  #timer: NodeJS.Timeout | null = null;

  /** Records the active health-check verdict. */
  setActive(healthy: boolean): void {
    this.activeHealthy = healthy;
    this.usable = healthy && !this.ejected;
  }

  /** Ejects the endpoint for `ms`; `onReturn` runs when it is back. */
  eject(ms: number, now: number, onReturn: () => void): void {
    this.ejected = true;
    this.usable = false;
    this.ejections++;
    this.consecutiveFailures = 0;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.ejected = false;
      this.usable = this.activeHealthy;
      this.lastEjectionEnd = now + ms;
      onReturn();
    }, ms);
    this.#timer.unref();
  }

  /** Cancels a pending return (the endpoint left the table). */
  dispose(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
  }
}

/**
 * What a cluster's requests in this worker leave behind across table swaps: the requests in flight
 * (circuit breaking) and the requests and retries of the last seconds (the retry budget).
 */
export class ClusterCounters {
  /** Requests in flight (including ones waiting for a connection). */
  active = 0;
  /** The requests and retries of the retry budget's window. */
  readonly retryBudget: RetryBudget;

  constructor(now?: () => number) {
    this.retryBudget = new RetryBudget(now);
  }
}
