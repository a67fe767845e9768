import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { HotCounter, HotHistogram, type MetricJson } from './hot-metrics.ts';

/**
 * Every metric signalbox exports, defined in one place. The data plane's metrics live in each
 * worker thread's own registry; the admin server in the main thread collects them from every worker
 * and adds them up (prom-client's AggregatorRegistry), together with the control plane's metrics.
 */

/** Latency buckets in seconds, from 0.5 ms to 60 s. */
const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
/** Script run-time buckets in seconds, from 10 µs (a typical sharding script) to 1 s (the largest budget). */
const SCRIPT_BUCKETS = [0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];

/** Metrics owned by a data-plane worker. */
export interface DataplaneMetrics {
  readonly registry: Registry;
  /** Requests answered, by route (provenance), cluster and status code. */
  readonly requests: HotCounter;
  /** Time from request start to the end of the response, by route and cluster. */
  readonly requestDuration: HotHistogram;
  /** Time to open a TCP connection to an upstream endpoint. */
  readonly upstreamConnectDuration: Histogram<'cluster'>;
  /** Time from dispatching a request upstream to receiving its response headers. */
  readonly upstreamHeaderDuration: HotHistogram;
  /** Responses signalbox generated itself instead of proxying, by reason (no-route, upstream-timeout…). */
  readonly proxyErrors: Counter<'reason'>;
  /** Client connections open now, by listener (http, https). */
  readonly activeConnections: Gauge<'listener'>;
  /** Client connections accepted, by listener. */
  readonly connections: Counter<'listener'>;
  /** Client connections refused because the worker was at `--max-connections`, by listener. */
  readonly connectionsRefused: Counter<'listener'>;
  /**
   * Ports the table's listeners declare (apart from the data plane's own) that a worker could not
   * serve, by port (`<address>:<port>`, `[<v6>]:<port>`, for a socket of listener addresses) and
   * reason: the system's error code when binding (`EADDRINUSE`, `EADDRNOTAVAIL`, `EACCES`, …),
   * retried on the next table, or `own-port-protocol` (an HTTPS or TLS listener on the own HTTP
   * port, or an HTTP one on the own HTTPS port).
   */
  readonly listenerErrors: Counter<'port' | 'reason'>;
  /**
   * Declared ports open now, by port (`<address>:<port>` for a socket of listener addresses,
   * `[<v6>]:<port>`) and protocol (`http`, `https`): summed, the workers that serve it.
   */
  readonly listenerPorts: Gauge<'port' | 'protocol'>;
  /**
   * Client connections closed by `--proxy-protocol` before any request, by listener and reason:
   * `untrusted` (a PROXY header from a peer not in --trusted-proxies), `missing` (a trusted peer
   * without one), `malformed` (broken or oversized) and `timeout` (not sent in time).
   */
  readonly proxyProtocolRefused: Counter<'listener' | 'reason'>;
  /**
   * Upgrade requests (WebSocket…), by outcome: `tunnelled` (the endpoint answered 101),
   * `refused-by-upstream` (it answered otherwise; the connection stays HTTP), `not-allowed` and
   * `with-body` (served as plain requests), `script-respond`, `redirect`, `cors-preflight` (answered by
   * a route's filter), `external-auth` (refused or redirected by an ExternalAuth filter), or the error
   * reason signalbox answered.
   */
  readonly upgrades: Counter<'outcome'>;
  /**
   * ExternalAuth subrequests, by outcome: `allowed` (2xx), `unauthorized` (401), `signin` (401
   * answered with the sign-in redirect), `forbidden` (403), `error-status` (any other status),
   * `timeout`, `unreachable` (connection refused or broken), `too-large` (an answer past the bound),
   * `client-gone` (the client left while it was pending: the subrequest is cancelled).
   */
  readonly externalAuth: Counter<'outcome'>;
  /**
   * Answers a DefaultBackend filter replaced, by outcome: `page` (the error backend's page was
   * sent), `failed` (it could not be had: signalbox's own answer for that was sent instead).
   */
  readonly errorPages: Counter<'outcome'>;
  /** The HTTP/2 guard's metrics. */
  readonly http2: Http2Metrics;
  /** Layer-4 forwarding: TLS passthrough, TCP and UDP. */
  readonly streams: StreamMetrics;
  /** The routing table version this worker serves. */
  readonly workerTableVersion: Gauge<string>;
  /** Endpoints ejected by passive outlier detection, by cluster. */
  readonly ejections: Counter<'cluster'>;
  /** 1 while an endpoint is ejected in a worker (summed over workers: how many have it ejected). */
  readonly endpointEjected: Gauge<'cluster' | 'endpoint'>;
  /** Retries sent, by cluster and reason (connect-failure, reset, status). */
  readonly retries: Counter<'cluster' | 'reason'>;
  /** Retries not sent because the retry budget was spent. */
  readonly retryBudgetExhausted: Counter<'cluster'>;
  /** Requests refused fast by a circuit-breaker limit, by cluster and limit (requests, pending). */
  readonly circuitBreakerRejections: Counter<'cluster' | 'limit'>;
  /** Requests routed while no endpoint was usable (all failing health checks or ejected). */
  readonly panicRouting: Counter<'cluster'>;
  /** RouteScript runs, by script (`namespace/name`). */
  readonly scriptInvocations: HotCounter;
  /**
   * RouteScript decisions by script and kind: one count per field of the decision (`backend`,
   * `setHeaders`, `removeHeaders`, `hashKey`, `respond`, `pause`), or `default` for none.
   */
  readonly scriptDecisions: HotCounter;
  /** RouteScript runs that failed, by script and cause (throw, timeout, memory, invalid-decision, unavailable). */
  readonly scriptErrors: HotCounter;
  /** Wall time of RouteScript runs that produced a decision, by script. */
  readonly scriptDuration: HotHistogram;
  /** 1 while a RouteScript is failing (backing off) in a worker; summed over workers. */
  readonly scriptFailing: Gauge<'script'>;
  /** Bytes a RouteScript's `ctx.state` holds (its estimate, every route together); summed over workers. */
  readonly scriptStateBytes: Gauge<'script'>;
  /** Keys a RouteScript's `ctx.state` holds, every route together; summed over workers. */
  readonly scriptStateKeys: Gauge<'script'>;
  /** `ctx.state` entries let go to make room, by script and reason (`expired`, `budget`: least recently used). */
  readonly scriptStateEvictions: Counter<'script' | 'reason'>;
  /**
   * 1 while a RouteScript keeps using most of its time budget in a worker (at least 10% of its
   * last 50 runs took half its timeoutMs or more); summed over workers.
   */
  readonly scriptSlow: Gauge<'script'>;
  /** The pause gates' metrics. */
  readonly pause: PauseMetrics;
  /** Every metric of this worker in prom-client JSON form, for aggregation across workers. */
  collect(): Promise<unknown[]>;
}

/**
 * Request pausing, by gate: `kind` is `no-endpoint` (automatic, `gate` = the cluster), `operator`
 * (a RouteScript's `spec.pause`, `gate` = the RouteScript) or `script` (a script's pause decision).
 */
export interface PauseMetrics {
  /** Requests held now. */
  readonly held: Gauge<'kind' | 'gate'>;
  /** How long requests were held, whatever ended the wait. */
  readonly holdDuration: Histogram<'kind' | 'gate'>;
  /** Held requests released upstream. */
  readonly released: Counter<'kind' | 'gate'>;
  /** Held requests that reached their maximum wait (503 with Retry-After). */
  readonly expired: Counter<'kind' | 'gate'>;
  /** Requests refused because the gate's queue was full (`bound`: requests or bytes). */
  readonly rejected: Counter<'kind' | 'gate' | 'bound'>;
  /** Held requests whose client went away. */
  readonly abandoned: Counter<'kind' | 'gate'>;
  /** The release rate of a gate that is letting its backlog go, in requests per second (0 otherwise). */
  readonly releaseRate: Gauge<'kind' | 'gate'>;
}

/**
 * What layer-4 forwarding (src/dataplane/streams/) counts: TLS passthrough, TCP and UDP.
 * `listener` is the table's listener name (`tls-passthrough`, `tcp-9000`, `udp-5353`).
 */
export interface StreamMetrics {
  /** Connections (UDP: sessions) accepted, by listener and cluster. */
  readonly connections: Counter<'listener' | 'cluster'>;
  /** Connections (UDP: sessions) open now, by listener. */
  readonly active: Gauge<'listener'>;
  /** Bytes relayed, by listener and direction: `upstream` (client to backend) or `downstream`. */
  readonly bytes: Counter<'listener' | 'direction'>;
  /** Connects to an endpoint that failed or timed out (another endpoint is tried), by cluster. */
  readonly connectFailures: Counter<'cluster'>;
  /** Connections closed (UDP: sessions forgotten) for silence past their idle timeout, by listener. */
  readonly idleCloses: Counter<'listener'>;
  /**
   * Connections closed before reaching a backend, by listener and reason: `no-endpoint` (no
   * usable endpoint, or every connect failed), `malformed` / `timeout` / `too-large` (a ClientHello
   * on a TLS port that could not be read), `no-route` (a TLS-only declared port: no passthrough
   * route takes the SNI name, and nothing there terminates TLS), `session-limit` (UDP).
   */
  readonly refused: Counter<'listener' | 'reason'>;
}

function createStreamMetrics(registers: Registry[]): StreamMetrics {
  return {
    connections: new Counter({ name: 'signalbox_stream_connections_total', help: 'Layer-4 connections (UDP: sessions) accepted, by listener and cluster.', labelNames: ['listener', 'cluster'] as const, registers }),
    active: new Gauge({ name: 'signalbox_stream_active_connections', help: 'Layer-4 connections (UDP: sessions) open now, by listener.', labelNames: ['listener'] as const, registers }),
    bytes: new Counter({ name: 'signalbox_stream_bytes_total', help: 'Bytes relayed by layer-4 listeners, by listener and direction (upstream: client to backend).', labelNames: ['listener', 'direction'] as const, registers }),
    connectFailures: new Counter({ name: 'signalbox_stream_connect_failures_total', help: 'Layer-4 connects to an endpoint that failed or timed out, by cluster.', labelNames: ['cluster'] as const, registers }),
    idleCloses: new Counter({ name: 'signalbox_stream_idle_closes_total', help: 'Layer-4 connections (UDP: sessions) closed for silence past their idle timeout, by listener.', labelNames: ['listener'] as const, registers }),
    refused: new Counter({ name: 'signalbox_stream_refused_total', help: 'Layer-4 connections closed before reaching a backend, by listener and reason.', labelNames: ['listener', 'reason'] as const, registers }),
  };
}

/** What the HTTP/2 guard (src/dataplane/server/http2-guard.ts) counts. */
export interface Http2Metrics {
  /** HTTP/2 streams open now. */
  readonly activeStreams: Gauge<string>;
  /**
   * Streams refused with RST_STREAM before reaching routing, by reason: `worker-limit` (the worker's
   * open streams are at `--http2-max-streams-per-worker`), `connection-limit` (over
   * SETTINGS_MAX_CONCURRENT_STREAMS before the client acknowledged it), `headers-too-large`.
   */
  readonly streamsRefused: Counter<'reason'>;
  /** Connections ended with GOAWAY for abusing the protocol, by kind (rapid-reset, ping-flood…). */
  readonly abuse: Counter<'kind'>;
}

function createHttp2Metrics(registers: Registry[]): Http2Metrics {
  return {
    activeStreams: new Gauge({ name: 'signalbox_http2_active_streams', help: 'HTTP/2 streams open now.', registers }),
    streamsRefused: new Counter({ name: 'signalbox_http2_streams_refused_total', help: 'HTTP/2 streams refused with RST_STREAM before routing, by reason.', labelNames: ['reason'] as const, registers }),
    abuse: new Counter({ name: 'signalbox_http2_abuse_total', help: 'HTTP/2 connections ended with GOAWAY for abusing the protocol, by kind.', labelNames: ['kind'] as const, registers }),
  };
}

/** Hold-time buckets in seconds, from 10 ms to an hour (the longest wait). */
const HOLD_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600];

function createPauseMetrics(registers: Registry[]): PauseMetrics {
  const labelNames = ['kind', 'gate'] as const;
  return {
    held: new Gauge({ name: 'signalbox_pause_held_requests', help: 'Requests held by a pause gate now.', labelNames, registers }),
    holdDuration: new Histogram({ name: 'signalbox_pause_hold_duration_seconds', help: 'How long requests were held by a pause gate.', labelNames, buckets: HOLD_BUCKETS, registers }),
    released: new Counter({ name: 'signalbox_pause_released_total', help: 'Held requests released upstream.', labelNames, registers }),
    expired: new Counter({ name: 'signalbox_pause_expired_total', help: 'Held requests that reached their maximum wait and got 503.', labelNames, registers }),
    rejected: new Counter({ name: 'signalbox_pause_rejected_total', help: 'Requests refused with 503 because the pause queue was full, by bound.', labelNames: ['kind', 'gate', 'bound'] as const, registers }),
    abandoned: new Counter({ name: 'signalbox_pause_abandoned_total', help: 'Held requests whose client disconnected.', labelNames, registers }),
    releaseRate: new Gauge({ name: 'signalbox_pause_release_rate', help: 'Release rate of a pause gate letting its backlog go, in requests per second.', labelNames, registers }),
  };
}

/** Creates the data-plane metrics in a fresh registry. */
export function createDataplaneMetrics(): DataplaneMetrics {
  const registry = new Registry();
  const registers = [registry];
  const requests = new HotCounter('signalbox_http_requests_total', 'HTTP requests answered, by route, cluster and status code.', ['route', 'cluster', 'code']);
  const requestDuration = new HotHistogram(
    'signalbox_http_request_duration_seconds',
    'Time from the start of a request to the end of its response.',
    ['route', 'cluster'],
    LATENCY_BUCKETS,
  );
  const upstreamHeaderDuration = new HotHistogram(
    'signalbox_upstream_response_header_duration_seconds',
    'Time from sending a request upstream to receiving its response headers.',
    ['cluster'],
    LATENCY_BUCKETS,
  );
  const scriptInvocations = new HotCounter('signalbox_script_invocations_total', 'RouteScript runs, by script.', ['script']);
  const scriptDecisions = new HotCounter('signalbox_script_decisions_total', 'RouteScript decisions, by script and kind (default: route as usual).', ['script', 'decision']);
  const scriptErrors = new HotCounter('signalbox_script_errors_total', 'RouteScript runs that failed, by script and cause; the failure policy then applies.', ['script', 'cause']);
  const scriptDuration = new HotHistogram('signalbox_script_duration_seconds', 'Wall time of RouteScript runs that produced a decision.', ['script'], SCRIPT_BUCKETS);
  const hot = [requests, requestDuration, upstreamHeaderDuration, scriptInvocations, scriptDecisions, scriptErrors, scriptDuration];
  return {
    registry,
    requests,
    requestDuration,
    upstreamHeaderDuration,
    scriptInvocations,
    scriptDecisions,
    scriptErrors,
    scriptDuration,
    pause: createPauseMetrics(registers),
    http2: createHttp2Metrics(registers),
    streams: createStreamMetrics(registers),
    scriptFailing: new Gauge({
      name: 'signalbox_script_failing',
      help: 'Workers in which a RouteScript is failing and backing off (not run) right now.',
      labelNames: ['script'] as const,
      registers,
    }),
    scriptStateBytes: new Gauge({
      name: 'signalbox_script_state_bytes',
      help: "Estimated bytes a RouteScript's ctx.state holds in the workers, all its routes together.",
      labelNames: ['script'] as const,
      registers,
    }),
    scriptStateKeys: new Gauge({
      name: 'signalbox_script_state_keys',
      help: "Keys a RouteScript's ctx.state holds in the workers, all its routes together.",
      labelNames: ['script'] as const,
      registers,
    }),
    scriptStateEvictions: new Counter({
      name: 'signalbox_script_state_evictions_total',
      help: "ctx.state entries let go to stay within the RouteScript's state budget, by reason (expired, budget).",
      labelNames: ['script', 'reason'] as const,
      registers,
    }),
    scriptSlow: new Gauge({
      name: 'signalbox_script_slow',
      help: 'Workers in which a RouteScript keeps using most of its time budget: 10% of its last 50 runs took half its timeoutMs or more.',
      labelNames: ['script'] as const,
      registers,
    }),
    async collect() {
      const json: unknown[] = await registry.getMetricsAsJSON();
      for (const metric of hot) json.push(metric.toJSON() satisfies MetricJson);
      return json;
    },
    upstreamConnectDuration: new Histogram({
      name: 'signalbox_upstream_connect_duration_seconds',
      help: 'Time to open a connection to an upstream endpoint.',
      labelNames: ['cluster'] as const,
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    proxyErrors: new Counter({
      name: 'signalbox_proxy_errors_total',
      help: 'Responses generated by signalbox instead of an upstream, by reason.',
      labelNames: ['reason'] as const,
      registers,
    }),
    activeConnections: new Gauge({
      name: 'signalbox_active_connections',
      help: 'Client connections open now, by listener.',
      labelNames: ['listener'] as const,
      registers,
    }),
    connections: new Counter({
      name: 'signalbox_connections_total',
      help: 'Client connections accepted, by listener.',
      labelNames: ['listener'] as const,
      registers,
    }),
    connectionsRefused: new Counter({
      name: 'signalbox_connections_refused_total',
      help: 'Client connections refused because the worker held --max-connections already, by listener.',
      labelNames: ['listener'] as const,
      registers,
    }),
    listenerErrors: new Counter({
      name: 'signalbox_listener_errors_total',
      help: 'Ports declared by the table that a worker could not serve, by port (<address>:<port> for a listener address) and reason (EADDRINUSE, EADDRNOTAVAIL, EACCES, own-port-protocol).',
      labelNames: ['port', 'reason'] as const,
      registers,
    }),
    listenerPorts: new Gauge({
      name: 'signalbox_listener_ports',
      help: 'Ports declared by the table open now, by port (<address>:<port> for a listener address) and protocol (summed over workers: the workers serving it).',
      labelNames: ['port', 'protocol'] as const,
      registers,
    }),
    proxyProtocolRefused: new Counter({
      name: 'signalbox_proxy_protocol_refused_total',
      help: 'Client connections closed for their PROXY protocol header, by listener and reason: untrusted, missing, malformed, timeout.',
      labelNames: ['listener', 'reason'] as const,
      registers,
    }),
    externalAuth: new Counter({
      name: 'signalbox_external_auth_total',
      help: 'ExternalAuth subrequests, by outcome: allowed, unauthorized, signin, forbidden, error-status, timeout, unreachable, too-large, client-gone; and cached, a decision taken from an answer kept for auth-cache-key, without a subrequest.',
      labelNames: ['outcome'] as const,
      registers,
    }),
    errorPages: new Counter({
      name: 'signalbox_error_pages_total',
      help: 'Answers replaced by an error page of a default backend (custom-http-errors), by outcome: page, failed.',
      labelNames: ['outcome'] as const,
      registers,
    }),
    upgrades: new Counter({
      name: 'signalbox_upgrades_total',
      help: 'Upgrade requests (WebSocket and others), by outcome: tunnelled, refused-by-upstream, not-allowed, with-body, script-respond, redirect, cors-preflight, external-auth, basic-auth, or an error reason.',
      labelNames: ['outcome'] as const,
      registers,
    }),
    ejections: new Counter({ name: 'signalbox_outlier_ejections_total', help: 'Endpoints ejected by passive outlier detection.', labelNames: ['cluster'] as const, registers }),
    endpointEjected: new Gauge({
      name: 'signalbox_endpoint_ejected',
      help: 'Workers that have an endpoint ejected by outlier detection right now.',
      labelNames: ['cluster', 'endpoint'] as const,
      registers,
    }),
    retries: new Counter({ name: 'signalbox_retries_total', help: 'Requests retried on another endpoint, by reason (connect-failure, reset, status; for gRPC calls refused, grpc-status), or handed to a newer table (rerouted).', labelNames: ['cluster', 'reason'] as const, registers }),
    retryBudgetExhausted: new Counter({
      name: 'signalbox_retry_budget_exhausted_total',
      help: 'Retries not attempted because the retry budget was spent.',
      labelNames: ['cluster'] as const,
      registers,
    }),
    circuitBreakerRejections: new Counter({
      name: 'signalbox_circuit_breaker_rejections_total',
      help: 'Requests refused with 503 because a circuit-breaker limit was reached.',
      labelNames: ['cluster', 'limit'] as const,
      registers,
    }),
    panicRouting: new Counter({
      name: 'signalbox_panic_routing_total',
      help: 'Requests sent to an endpoint although none was usable (all failing health checks or ejected).',
      labelNames: ['cluster'] as const,
      registers,
    }),
    workerTableVersion: new Gauge({
      name: 'signalbox_worker_table_version_min',
      help: 'The oldest routing table version any data-plane worker serves.',
      registers,
      aggregator: 'min',
    }),
  };
}

/** Metrics owned by the control plane (main thread). */
export interface ControlMetrics {
  readonly registry: Registry;
  /** Version of the newest published routing table. */
  readonly tableVersion: Gauge<string>;
  /** Time to compile a snapshot into a table. */
  readonly compileDuration: Histogram<string>;
  /** Tables published to the data plane. */
  readonly tablePublishes: Counter<string>;
  /** Compiled tables not published because they broke the table's invariants with no object to leave out (a bug; the table before keeps serving). */
  readonly tableRefusals: Counter<string>;
  /** Diagnostics of the current table, by severity and code. */
  readonly diagnostics: Gauge<'severity' | 'code'>;
  /** Manifest files that failed to load, by reason; their last good content is kept. */
  readonly sourceErrors: Counter<'reason'>;
  /** Data-plane workers running now. */
  readonly workers: Gauge<string>;
  /** Data-plane worker restarts after a crash. */
  readonly workerRestarts: Counter<string>;
  /** Data-plane workers replaced, then drained, because their heap was nearly full. */
  readonly workerRecycles: Counter<string>;
  /** List/watch errors against the Kubernetes API, by kind (each is retried with backoff). */
  readonly watchErrors: Counter<'kind'>;
  /** Full lists of a kind from the Kubernetes API: the first, and each relist after 410 Gone. */
  readonly kubeLists: Counter<'kind'>;
  /** 1 while this replica holds the leader lease (and writes status). */
  readonly leader: Gauge<string>;
  /** Requests the debug listener refused for want of the right bearer token, by reason (`missing-token`, `wrong-token`). */
  readonly debugUnauthorized: Counter<'reason'>;
}

/** Creates the control-plane metrics in a fresh registry. */
export function createControlMetrics(): ControlMetrics {
  const registry = new Registry();
  const registers = [registry];
  return {
    registry,
    tableVersion: new Gauge({ name: 'signalbox_table_version', help: 'Version of the newest published routing table.', registers }),
    compileDuration: new Histogram({
      name: 'signalbox_compile_duration_seconds',
      help: 'Time to compile the object store into a routing table.',
      buckets: [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
      registers,
    }),
    tablePublishes: new Counter({ name: 'signalbox_table_publishes_total', help: 'Routing tables published to the data plane.', registers }),
    tableRefusals: new Counter({ name: 'signalbox_table_refusals_total', help: 'Compiled tables not published because they broke the table invariants (a bug in signalbox; the table before keeps serving).', registers }),
    diagnostics: new Gauge({
      name: 'signalbox_diagnostics',
      help: 'Diagnostics (invalid or conflicting input) in the current table, by severity and code.',
      labelNames: ['severity', 'code'] as const,
      registers,
    }),
    sourceErrors: new Counter({
      name: 'signalbox_source_errors_total',
      help: 'Manifest files that failed to load; the last good content of each is kept.',
      labelNames: ['reason'] as const,
      registers,
    }),
    workers: new Gauge({ name: 'signalbox_workers', help: 'Data-plane worker threads running.', registers }),
    workerRestarts: new Counter({ name: 'signalbox_worker_restarts_total', help: 'Data-plane worker threads restarted after a crash.', registers }),
    workerRecycles: new Counter({ name: 'signalbox_worker_recycles_total', help: 'Data-plane worker threads replaced, then drained, because their heap was nearly full.', registers }),
    watchErrors: new Counter({ name: 'signalbox_kube_watch_errors_total', help: 'List/watch errors against the Kubernetes API, by kind; each is retried with backoff.', labelNames: ['kind'] as const, registers }),
    kubeLists: new Counter({ name: 'signalbox_kube_lists_total', help: 'Full lists of a kind from the Kubernetes API: the first, then one per 410 Gone.', labelNames: ['kind'] as const, registers }),
    leader: new Gauge({ name: 'signalbox_leader', help: '1 while this replica holds the leader lease and writes status.', registers }),
    debugUnauthorized: new Counter({
      name: 'signalbox_debug_unauthorized_total',
      help: 'Requests the debug listener refused (401) for want of the right bearer token, by reason.',
      labelNames: ['reason'] as const,
      registers,
    }),
  };
}
