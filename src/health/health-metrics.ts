import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/**
 * The metrics of active health checking. They live here rather than in metrics/metrics.ts because
 * the checker registers them in whichever registry its owner passes (the control plane's, in
 * practice); they follow the same conventions. Each is safe to aggregate with worker registries
 * (prom-client's AggregatorRegistry): the gauge takes the minimum, so a copy of it anywhere that
 * says unhealthy wins, and the counters and histogram add up.
 */
export interface HealthMetrics {
  /** 1 while an actively checked endpoint passes its check, 0 while it fails; by cluster and `address:port`. */
  readonly endpointHealthy: Gauge<'cluster' | 'endpoint'>;
  /** Probes, by cluster and result (`pass`, `fail`). A probe shared by clusters counts for each. */
  readonly checks: Counter<'cluster' | 'result'>;
  /** Probe duration in seconds (a timed-out probe counts its timeout), by cluster. */
  readonly checkDuration: Histogram<'cluster'>;
}

/** Creates the health-check metrics in `registry`. */
export function createHealthMetrics(registry: Registry): HealthMetrics {
  const registers = [registry];
  return {
    endpointHealthy: new Gauge({
      name: 'signalbox_endpoint_healthy',
      help: 'Whether an actively health-checked endpoint passes its check (1) or fails it (0).',
      labelNames: ['cluster', 'endpoint'] as const,
      aggregator: 'min',
      registers,
    }),
    checks: new Counter({
      name: 'signalbox_health_checks_total',
      help: 'Active health-check probes, by cluster and result (pass or fail).',
      labelNames: ['cluster', 'result'] as const,
      registers,
    }),
    checkDuration: new Histogram({
      name: 'signalbox_health_check_duration_seconds',
      help: 'Time an active health-check probe took, up to its timeout.',
      labelNames: ['cluster'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
  };
}
