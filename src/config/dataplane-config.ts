import { BlockList, isIP } from 'node:net';
import { ConfigError } from '../errors.ts';
import { DEFAULT_PATH_OPTIONS, type PathOptions } from '../router/normalize-path.ts';

/**
 * Static settings of the data plane: plain data, validated once, and posted as it is to every
 * worker thread. Durations are in milliseconds; 0 turns a timeout off.
 */
export interface DataplaneConfig {
  /** Address the traffic listeners bind to. */
  readonly bindAddress: string;
  /** Plain HTTP port; 0 picks a free port. */
  readonly httpPort: number;
  /** HTTPS (HTTP/1.1 and HTTP/2 by ALPN) port; 0 picks a free port; null turns HTTPS off. */
  readonly httpsPort: number | null;
  /** Addresses (CIDR or single IPs) whose X-Forwarded-* headers are believed. */
  readonly trustedProxies: readonly string[];
  /**
   * Read a PROXY protocol header (v1 or v2) at the start of every client connection from a trusted
   * proxy, which must send one; its source address is the client's (see docs/security.md#proxy-protocol).
   */
  readonly proxyProtocol: boolean;
  readonly timeouts: Timeouts;
  readonly limits: Limits;
  /** How request paths are normalised before matching and forwarding (see normalize-path.ts). */
  readonly paths: PathOptions;
  readonly http2: Http2Limits;
  /**
   * Serve HTTP/2 with prior knowledge (h2c, RFC 9113 §3.3) on the plain-HTTP ports beside HTTP/1.1:
   * a connection that starts with the HTTP/2 preface is HTTP/2 (gRPC clients without TLS speak it).
   */
  readonly http2Cleartext: boolean;
  /** `stdout`, `stderr`, `off`, or a file path to append JSON access-log lines to. */
  readonly accessLog: string;
  /** pino level for the worker's own log lines. */
  readonly logLevel: string;
  /** PEM certificate and key served for SNI names without a Secret; null generates a self-signed one. */
  readonly defaultCertificate: { readonly certPem: string; readonly keyPem: string } | null;
  /** Bytes each RouteScript's `ctx.state` may hold in one worker, all its routes together. */
  readonly scriptStateBytes: number;
  /** Each worker thread's V8 heap limit (old generation) in MiB; null: Node.js's default. */
  readonly workerHeapMiB: number | null;
}

/** Timeouts, in milliseconds. */
export interface Timeouts {
  /** Opening a TCP connection to an upstream. Exceeding it answers 504. */
  readonly connectMs: number;
  /** From sending a request upstream until its response headers arrive. Exceeding it answers 504. */
  readonly responseHeadersMs: number;
  /** Longest silence on a client connection or an upstream response body before it is closed. */
  readonly idleMs: number;
  /** Time a client has to send the request line and headers. Exceeding it answers 408. */
  readonly requestHeadersMs: number;
  /** How long an idle keep-alive client connection is kept open. */
  readonly keepAliveMs: number;
  /**
   * Longest gap between two chunks of a request body while the proxy is reading it (nginx's
   * `client_body_timeout`). Exceeding it answers 408, or closes the connection when the response
   * has started, and aborts the upstream request.
   */
  readonly requestBodyIdleMs: number;
  /** Longest time for a whole request body, from when the proxy starts reading it; past it as above. */
  readonly requestBodyMs: number;
  /**
   * Longest silence, both ways, on a TLS passthrough or TCP connection before both sides are closed
   * (ingress-nginx's `proxy-stream-timeout`), unless its stream route sets its own.
   */
  readonly streamIdleMs: number;
  /** How long a UDP session (a client address and its upstream socket) lives without a datagram. */
  readonly udpIdleMs: number;
}

/** Request limits. */
export interface Limits {
  /** Largest request head (request line + headers) accepted, in bytes; beyond it 431. */
  readonly maxHeaderBytes: number;
  /** Most request header fields accepted; beyond it 431. */
  readonly maxHeaderCount: number;
  /**
   * Most client connections one worker holds open, HTTP and HTTPS together (an HTTP/2 connection
   * counts once, whatever its streams); 0 for no cap. Past it, new connections are refused. The
   * command line's default is {@link defaultMaxConnections}; {@link DEFAULT_DATAPLANE_CONFIG} has
   * its upper bound.
   */
  readonly maxConnections: number;
  /** Most UDP sessions (client addresses) one worker keeps per UDP port; datagrams of new clients past it are dropped. */
  readonly maxUdpSessions: number;
}

/**
 * Bounds on what one HTTP/2 client may make the proxy do (see docs/security.md#http2). Budgets are
 * token buckets: a connection may spend the whole budget at once and earns a tenth of it back per
 * second, so that ordinary browsing (a burst of cancelled image loads, a PING now and then) never
 * comes near them while a loop of them ends its connection with GOAWAY ENHANCE_YOUR_CALM.
 */
export interface Http2Limits {
  /** SETTINGS_MAX_CONCURRENT_STREAMS advertised to each client: its open streams at once. */
  readonly maxConcurrentStreams: number;
  /** Open HTTP/2 streams of all connections of one worker; a stream past it gets RST_STREAM REFUSED_STREAM. */
  readonly maxStreamsPerWorker: number;
  /** Streams a connection may reset (RST_STREAM from the client) at once; a tenth of it more per second. */
  readonly maxResets: number;
  /** SETTINGS frames, and PING frames, a connection may send at once (each type on its own); a tenth more per second. */
  readonly maxControlFrames: number;
}

/** Defaults for {@link DataplaneConfig}. */
export const DEFAULT_DATAPLANE_CONFIG: DataplaneConfig = Object.freeze({
  bindAddress: '0.0.0.0',
  httpPort: 8080,
  httpsPort: 8443,
  trustedProxies: [],
  proxyProtocol: false,
  timeouts: Object.freeze({ connectMs: 5_000, responseHeadersMs: 60_000, idleMs: 60_000, requestHeadersMs: 30_000, keepAliveMs: 60_000, requestBodyIdleMs: 60_000, requestBodyMs: 300_000, streamIdleMs: 600_000, udpIdleMs: 30_000 }),
  limits: Object.freeze({ maxHeaderBytes: 16 * 1024, maxHeaderCount: 100, maxConnections: 16_384, maxUdpSessions: 16_384 }),
  paths: DEFAULT_PATH_OPTIONS,
  http2: Object.freeze({ maxConcurrentStreams: 100, maxStreamsPerWorker: 10_000, maxResets: 200, maxControlFrames: 100 }),
  http2Cleartext: true,
  accessLog: 'stdout',
  logLevel: 'info',
  defaultCertificate: null,
  scriptStateBytes: 8 * 1024 * 1024,
  workerHeapMiB: null,
});

/**
 * What one idle client connection costs a worker, in bytes of resident memory: measured over
 * HTTP/2 with TLS, the dearest kind (~77 KiB; TLS with HTTP/1.1 ~59 KiB, plain HTTP/1.1 ~22 KiB).
 */
export const CONNECTION_COST_BYTES = 80 * 1024;

/**
 * The default `--max-connections` of each of `workers` workers in `memoryBytes` of memory (the
 * container's limit, else the machine's): as many idle connections as half of it holds at
 * {@link CONNECTION_COST_BYTES} each — the other half is for requests in flight, buffers and
 * scripts — but never more than 16384 (ingress-nginx's `max-worker-connections`) nor fewer than 256.
 */
export function defaultMaxConnections(memoryBytes: number, workers: number): number {
  const fits = Math.floor(memoryBytes / 2 / Math.max(1, workers) / CONNECTION_COST_BYTES);
  return Math.min(DEFAULT_DATAPLANE_CONFIG.limits.maxConnections, Math.max(256, fits));
}

/** The process log's levels, most verbose first (pino's names). */
export const LOG_LEVELS = Object.freeze(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const);

/** Parses `--log-level`: one of {@link LOG_LEVELS}, case-sensitive as pino takes them. */
export function parseLogLevel(flag: string, value: string): string {
  if (!(LOG_LEVELS as readonly string[]).includes(value)) {
    throw new ConfigError(`${flag}: "${value}" is not a log level (one of ${LOG_LEVELS.join(', ')})`);
  }
  return value;
}

/** Parses a port flag: an integer 0..65535. */
export function parsePort(flag: string, value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65535) throw new ConfigError(`${flag}: "${value}" is not a port number (0-65535)`);
  return n;
}

/** Parses a duration: a number with unit ms, s, m or h (`1500ms`, `5s`, `2m`); a bare number is seconds. */
export function parseDuration(flag: string, value: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(value.trim());
  if (!m) throw new ConfigError(`${flag}: "${value}" is not a duration (examples: 500ms, 5s, 2m)`);
  const unit = m[2] ?? 's';
  const factor = unit === 'ms' ? 1 : unit === 's' ? 1_000 : unit === 'm' ? 60_000 : 3_600_000;
  return Math.round(Number(m[1]) * factor);
}

const SIZE_UNITS: Record<string, number> = { '': 1, B: 1, KiB: 1024, Ki: 1024, K: 1000, MiB: 1024 ** 2, Mi: 1024 ** 2, M: 1000 ** 2, GiB: 1024 ** 3, Gi: 1024 ** 3, G: 1000 ** 3 };

/** Parses a size in bytes: a whole number with an optional unit (`512MiB`, `64Ki`, `1G`, `4096`). */
export function parseSize(flag: string, value: string, min = 1): number {
  const m = /^(\d+)\s*([A-Za-z]*)$/.exec(value.trim());
  const factor = m ? SIZE_UNITS[m[2]!] : undefined;
  if (!m || factor === undefined) throw new ConfigError(`${flag}: "${value}" is not a size (examples: 512MiB, 64KiB, 1Gi)`);
  const bytes = Number(m[1]) * factor;
  if (!Number.isSafeInteger(bytes) || bytes < min) throw new ConfigError(`${flag}: "${value}" must be at least ${min} bytes`);
  return bytes;
}

/** Parses a whole-number flag where 0 is allowed (it turns the limit off). */
export function parseCount(flag: string, value: string, max = Number.MAX_SAFE_INTEGER): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > max) throw new ConfigError(`${flag}: "${value}" must be a whole number from 0 to ${max}`);
  return n;
}

/** Parses a positive integer flag. */
export function parsePositiveInt(flag: string, value: string, max = Number.MAX_SAFE_INTEGER): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > max) throw new ConfigError(`${flag}: "${value}" must be a whole number from 1 to ${max}`);
  return n;
}

/**
 * Parses a comma-separated list of trusted proxy addresses: IPs or CIDRs (`10.0.0.0/8`, `::1`).
 * Throws a {@link ConfigError} naming the first bad entry.
 */
export function parseTrustedProxies(value: string): string[] {
  const out: string[] = [];
  for (const raw of value.split(',')) {
    const entry = raw.trim();
    if (entry === '') continue;
    const [addr, bits] = entry.split('/');
    const family = isIP(addr ?? '');
    const max = family === 4 ? 32 : 128;
    if (family === 0 || (bits !== undefined && (!/^\d+$/.test(bits) || Number(bits) > max))) {
      throw new ConfigError(`--trusted-proxies: "${entry}" is not an IP address or CIDR`);
    }
    out.push(entry);
  }
  return out;
}

/**
 * The debug listener (`/debug/table`, `/debug/scripts`): a port of its own, apart from the admin
 * port that the kubelet and Prometheus reach, because what it prints (the whole routing table)
 * is for the operator only. Lives in the main thread, so it is not part of {@link DataplaneConfig}.
 */
export interface DebugListenerConfig {
  /** Address it binds to; loopback by default (reach it with `kubectl port-forward`). */
  readonly bind: string;
  /** Its port; 0 picks a free one. */
  readonly port: number;
  /**
   * File holding the bearer token(s) a request must present, one per line; null for none, which is
   * allowed only on a loopback address.
   */
  readonly tokenFile: string | null;
}

/** Defaults of the debug listener's flags. */
export const DEFAULT_DEBUG_LISTENER = Object.freeze({ bind: '127.0.0.1', port: 9902 });

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/**
 * Whether `address` is a loopback address (127.0.0.0/8, ::1, ::ffff:127.x.x.x, `localhost`): only
 * processes of the same host (in Kubernetes: of the same pod) can connect to a listener bound there.
 */
export function isLoopbackAddress(address: string): boolean {
  if (address.toLowerCase() === 'localhost') return true;
  const family = isIP(address);
  return family !== 0 && LOOPBACK.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/**
 * Parses the debug listener's flags: `--debug-port N|off`, `--debug-bind ADDRESS`,
 * `--debug-token-file FILE`. Null when it is off. A bind address other than loopback without a
 * token file is refused: that would hand the routing table to anyone who can reach the pod.
 */
export function parseDebugListener(port: string, bind: string, tokenFile: string | undefined): DebugListenerConfig | null {
  if (port === 'off') return null;
  const parsed = parsePort('--debug-port', port);
  if (bind.trim() === '') throw new ConfigError('--debug-bind: an address is required');
  const file = tokenFile === undefined || tokenFile === '' ? null : tokenFile;
  if (file === null && !isLoopbackAddress(bind)) {
    throw new ConfigError(`--debug-bind ${bind} is not a loopback address: the debug listener then needs --debug-token-file (a bearer token clients must send), or bind it to 127.0.0.1`);
  }
  return { bind, port: parsed, tokenFile: file };
}
