import { isIP } from 'node:net';
import { readFileSync } from 'node:fs';
import { availableParallelism, totalmem } from 'node:os';
import type { Command } from 'commander';
import {
  DEFAULT_DATAPLANE_CONFIG, DEFAULT_DEBUG_LISTENER, LOG_LEVELS, defaultMaxConnections, parseCount, parseDebugListener, parseDuration, parseLogLevel, parsePort, parsePositiveInt, parseSize, parseTrustedProxies,
  type DataplaneConfig,
} from '../config/dataplane-config.ts';
import { ConfigError } from '../errors.ts';
import { createLogger, type Logger } from '../log.ts';
import { MAX_POOL_ADDRESSES } from '../compile/gateway/addresses.ts';
import { DEFAULT_COMPILE_OPTIONS, DEFAULT_GATEWAY_CONTROLLER_NAME } from '../model/snapshot.ts';
import type { RuntimeOptions } from './runtime.ts';

/** The flags every command that runs the data plane takes (`serve`, `controller`). */
export interface DataplaneFlags {
  bind: string;
  httpPort: string;
  httpsPort: string;
  adminPort: string;
  adminBind: string;
  debugPort: string;
  debugBind: string;
  debugTokenFile?: string;
  workers?: string;
  accessLog: string;
  logLevel: string;
  trustedProxies: string;
  proxyProtocol?: boolean;
  connectTimeout: string;
  responseHeaderTimeout: string;
  idleTimeout: string;
  requestHeaderTimeout: string;
  keepAliveTimeout: string;
  requestBodyIdleTimeout: string;
  requestBodyTimeout: string;
  streamIdleTimeout: string;
  udpIdleTimeout: string;
  tcpServicesConfigmap?: string;
  udpServicesConfigmap?: string;
  maxHeaderBytes: string;
  maxHeaderCount: string;
  maxConnections?: string;
  maxUdpSessions: string;
  mergeSlashes: boolean;
  allowEncodedSlashes?: boolean;
  allowPathParameters?: boolean;
  http2MaxConcurrentStreams: string;
  http2MaxStreamsPerWorker: string;
  http2MaxResets: string;
  http2MaxControlFrames: string;
  http2Cleartext?: boolean;
  defaultCert?: string;
  defaultKey?: string;
  ingressClass: string;
  controllerName: string;
  nginxConfigmap?: string;
  defaultBackendService?: string;
  watchIngressWithoutClass?: boolean;
  gatewayControllerName?: string;
  gatewayOwnPorts?: string;
  gatewayAddresses?: string;
  drain: string;
  grace: string;
  scriptStateBudget: string;
  scriptMemoryBudget: string;
  workerHeapLimit?: string;
}

/**
 * The process logger the flags ask for. Checked before anything else starts so that a wrong
 * `--log-level` is a usage error rather than pino's own exception.
 */
export function flagsLogger(flags: DataplaneFlags): Logger {
  return createLogger({ level: parseLogLevel('--log-level', flags.logLevel) });
}

/** Adds the data-plane flags to `command`. */
export function addDataplaneOptions(command: Command): Command {
  const d = DEFAULT_DATAPLANE_CONFIG;
  return command
    .option('--bind <address>', 'address the traffic listeners bind to', d.bindAddress)
    .option('--http-port <port>', 'plain HTTP port (0 = any free port)', String(d.httpPort))
    .option('--https-port <port>', 'HTTPS port, HTTP/2 and HTTP/1.1 (0 = any free port, "off" = no HTTPS)', String(d.httpsPort))
    .option('--admin-port <port>', 'admin port: /healthz /readyz /metrics', '9901')
    .option('--admin-bind <address>', 'address the admin listener binds to', '0.0.0.0')
    .option('--debug-port <port>', 'debug port: /debug/table /debug/scripts ("off" = none)', String(DEFAULT_DEBUG_LISTENER.port))
    .option('--debug-bind <address>', 'address the debug listener binds to (other than loopback only with --debug-token-file)', DEFAULT_DEBUG_LISTENER.bind)
    .option('--debug-token-file <file>', 'file with the bearer token debug requests must send (one per line; re-read when it changes)')
    .option('--workers <n>', 'data-plane worker threads (default: number of cores)')
    .option('--access-log <target>', 'stdout, stderr, off, or a file path', d.accessLog)
    .option('--log-level <level>', LOG_LEVELS.join(', '), d.logLevel)
    .option('--trusted-proxies <cidrs>', 'comma-separated IPs/CIDRs whose X-Forwarded-* headers are believed', '')
    .option('--proxy-protocol', 'read a PROXY protocol header (v1 or v2) first on every connection from --trusted-proxies, which must send one; its address is the client\'s')
    .option('--connect-timeout <duration>', 'upstream connect timeout (504 past it)', `${d.timeouts.connectMs}ms`)
    .option('--response-header-timeout <duration>', 'wait for upstream response headers (504 past it)', `${d.timeouts.responseHeadersMs}ms`)
    .option('--idle-timeout <duration>', 'longest silence on a client connection or upstream body', `${d.timeouts.idleMs}ms`)
    .option('--request-header-timeout <duration>', 'time a client has to send its request headers (408 past it)', `${d.timeouts.requestHeadersMs}ms`)
    .option('--keep-alive-timeout <duration>', 'idle keep-alive client connections are closed after this', `${d.timeouts.keepAliveMs}ms`)
    .option('--request-body-idle-timeout <duration>', 'longest gap between two request-body chunks (408 past it)', `${d.timeouts.requestBodyIdleMs}ms`)
    .option('--request-body-timeout <duration>', 'longest time for a whole request body (408 past it)', `${d.timeouts.requestBodyMs}ms`)
    .option('--stream-idle-timeout <duration>', 'longest silence on a TLS passthrough or TCP connection before it is closed', `${d.timeouts.streamIdleMs}ms`)
    .option('--udp-idle-timeout <duration>', 'a UDP session without a datagram either way for this long is forgotten', `${d.timeouts.udpIdleMs}ms`)
    .option('--tcp-services-configmap <namespace/name>', 'ConfigMap of TCP services: "PORT": "namespace/service:port[::PROXY]" opens PORT (as ingress-nginx)')
    .option('--udp-services-configmap <namespace/name>', 'ConfigMap of UDP services: "PORT": "namespace/service:port" opens PORT for UDP')
    .option('--max-header-bytes <n>', 'largest request head accepted (431 past it)', String(d.limits.maxHeaderBytes))
    .option('--max-header-count <n>', 'most request header fields accepted (431 past it)', String(d.limits.maxHeaderCount))
    .option('--max-connections <n>', 'most client connections per worker, HTTP and HTTPS together (0 = no cap; default: what half the memory holds, at most 16384)')
    .option('--max-udp-sessions <n>', 'most UDP sessions (client addresses) per UDP port and worker', String(d.limits.maxUdpSessions))
    .option('--no-merge-slashes', 'match and forward request paths with repeated slashes as they are (default: merged, //a → /a)')
    .option('--allow-encoded-slashes', 'accept %2F and %5C in request paths, kept encoded (default: 400)')
    .option('--allow-path-parameters', 'accept ; in request paths, kept as it is (default: 400)')
    .option('--http2-max-concurrent-streams <n>', 'HTTP/2 streams one connection may have open (SETTINGS_MAX_CONCURRENT_STREAMS)', String(d.http2.maxConcurrentStreams))
    .option('--http2-max-streams-per-worker <n>', 'HTTP/2 streams open at once in one worker; past it RST_STREAM REFUSED_STREAM', String(d.http2.maxStreamsPerWorker))
    .option('--http2-max-resets <n>', 'stream resets an HTTP/2 connection may send at once, a tenth more per second; past it GOAWAY', String(d.http2.maxResets))
    .option('--http2-max-control-frames <n>', 'SETTINGS (and PING) frames an HTTP/2 connection may send at once, a tenth more per second; past it GOAWAY', String(d.http2.maxControlFrames))
    .option('--http2-cleartext', 'serve HTTP/2 with prior knowledge (h2c: gRPC without TLS) beside HTTP/1.1 on the plain HTTP ports (the default)')
    .option('--no-http2-cleartext', 'plain HTTP ports speak HTTP/1.1 only')
    .option('--default-cert <file>', 'PEM certificate for SNI names without a Secret (default: self-signed)')
    .option('--default-key <file>', 'PEM key for --default-cert')
    .option('--ingress-class <name>', 'IngressClass name matched by the kubernetes.io/ingress.class annotation', DEFAULT_COMPILE_OPTIONS.ingressClass)
    .option('--controller-name <name>', 'spec.controller value of our IngressClasses (k8s.io/ingress-nginx: the ingress-nginx profile)', DEFAULT_COMPILE_OPTIONS.controllerName)
    .option('--nginx-configmap <namespace/name>', 'the ingress-nginx controller ConfigMap to read ("off": none; default ingress-nginx/ingress-nginx-controller in the ingress-nginx profile)')
    .option('--watch-ingress-without-class', 'also serve Ingresses that name no class when no IngressClass of ours is the default (as ingress-nginx\'s flag)')
    .option('--default-backend-service <namespace/name>', 'the global default backend of ingress-nginx Ingresses: the Service (its first port) that serves the pages of custom-http-errors (as ingress-nginx\'s flag)')
    .option('--gateway-controller-name <name>', `spec.controllerName of our GatewayClasses ("off": no Gateway API; default ${DEFAULT_GATEWAY_CONTROLLER_NAME})`)
    .option('--gateway-addresses <list>', 'IP addresses (and IPv4 CIDRs) to give Gateways one each, their listeners served on it; default: every Gateway on the data plane\'s own address')
    .option('--gateway-own-ports <http,https>', 'the Gateway listener ports --http-port and --https-port serve (the ports a Service maps onto them); other listener ports are opened as declared', '80,443')
    .option('--script-memory-budget <size>', 'most the memoryMiB limits of all RouteScripts may add up to per worker; the youngest past it are refused ("off" = no budget)', '512MiB')
    .option('--script-state-budget <size>', "bytes each RouteScript's ctx.state may hold per worker, all its routes together", '8MiB')
    .option('--worker-heap-limit <size>', "each worker thread's V8 heap limit; past 85% of it a worker is replaced and drained (default: Node.js's own)")
    .option('--drain <duration>', 'on SIGTERM: keep serving with readiness failed for this long', '0s')
    .option('--grace <duration>', 'on SIGTERM: then let requests in flight finish for up to this long', '10s');
}

/** The runtime options the flags say (ports, timeouts, limits, compile options, shutdown). */
export function runtimeOptions(flags: DataplaneFlags, log: Logger): RuntimeOptions {
  const workers = flags.workers === undefined ? availableParallelism() : parsePositiveInt('--workers', flags.workers, 256);
  const adminPort = parsePort('--admin-port', flags.adminPort);
  const debug = parseDebugListener(flags.debugPort, flags.debugBind, flags.debugTokenFile);
  if (debug !== null && debug.port !== 0 && debug.port === adminPort) {
    throw new ConfigError(`--debug-port ${debug.port} is the admin port: the debug listener needs a port of its own (or --debug-port off)`);
  }
  return {
    dataplane: dataplaneConfig(flags, workers),
    compile: {
      ingressClass: flags.ingressClass,
      controllerName: flags.controllerName,
      scriptMemoryBudgetMiB: scriptMemoryBudgetMiB(flags.scriptMemoryBudget),
      tcpServicesConfigMap: configMapFlag('--tcp-services-configmap', flags.tcpServicesConfigmap),
      udpServicesConfigMap: configMapFlag('--udp-services-configmap', flags.udpServicesConfigmap),
      ...nginxCompileFlags(flags),
      ...gatewayCompileFlags(flags),
    },
    workers,
    adminBind: flags.adminBind,
    adminPort,
    debug,
    drainMs: parseDuration('--drain', flags.drain),
    graceMs: parseDuration('--grace', flags.grace),
    log,
  };
}

/** The compile options of `--nginx-configmap`, `--watch-ingress-without-class` and `--default-backend-service`, when given. */
export function nginxCompileFlags(flags: { nginxConfigmap?: string; watchIngressWithoutClass?: boolean; defaultBackendService?: string }): { nginxConfigMap?: string | null; watchIngressWithoutClass?: true; defaultBackendService?: string } {
  return {
    ...(flags.defaultBackendService === undefined ? {} : { defaultBackendService: configMapFlag('--default-backend-service', flags.defaultBackendService)! }),
    ...(flags.nginxConfigmap === undefined ? {} : { nginxConfigMap: flags.nginxConfigmap === 'off' ? null : configMapFlag('--nginx-configmap', flags.nginxConfigmap) }),
    ...(flags.watchIngressWithoutClass === true ? { watchIngressWithoutClass: true as const } : {}),
  };
}

// GatewayController of the Gateway API (shared_types.go): DOMAIN "/" PATH, at most 253 characters.
const GATEWAY_CONTROLLER = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/[A-Za-z0-9/\-._~%!$&'()*+,;=:]+$/;

/**
 * The compile option of `--gateway-controller-name`, when given: the name, or null for `off` (the
 * Gateway API is neither watched nor compiled). A name no GatewayClass could carry is refused.
 */
export function gatewayCompileFlags(flags: { gatewayControllerName?: string; gatewayOwnPorts?: string; gatewayAddresses?: string }): { gatewayControllerName?: string | null; gatewayOwnPorts?: { http: number | null; https: number | null }; gatewayAddresses?: string[] } {
  const ownPorts = {
    ...(flags.gatewayOwnPorts === undefined ? {} : { gatewayOwnPorts: gatewayOwnPorts(flags.gatewayOwnPorts) }),
    ...(flags.gatewayAddresses === undefined ? {} : { gatewayAddresses: addressPool(flags.gatewayAddresses) }),
  };
  const value = flags.gatewayControllerName;
  if (value === undefined) return ownPorts;
  if (value === 'off') return { gatewayControllerName: null, ...ownPorts };
  if (value.length > 253 || !GATEWAY_CONTROLLER.test(value)) throw new ConfigError(`--gateway-controller-name ${JSON.stringify(value)} is not DOMAIN/PATH (as example.com/gateway-controller), or "off"`);
  return { gatewayControllerName: value, ...ownPorts };
}

/**
 * `--gateway-addresses`: IP addresses and IPv4 CIDR blocks (each block without its network and
 * broadcast addresses, from /30 down), in order, each once; at most {@link MAX_POOL_ADDRESSES}.
 */
function addressPool(value: string): string[] {
  const out: string[] = [];
  for (const part of value.split(',').map((p) => p.trim()).filter((p) => p !== '')) {
    const cidr = /^(\d{1,3}(?:\.\d{1,3}){3})\/(\d{1,2})$/.exec(part);
    if (cidr === null) {
      if (isIP(part) === 0) throw new ConfigError(`--gateway-addresses: ${JSON.stringify(part)} is not an IP address or an IPv4 CIDR block`);
      out.push(part);
    } else {
      const bits = Number(cidr[2]);
      const octets = cidr[1]!.split('.').map(Number);
      if (bits > 32 || octets.some((o) => o > 255)) throw new ConfigError(`--gateway-addresses: ${JSON.stringify(part)} is not an IPv4 CIDR block`);
      const base = ((octets[0]! << 24) | (octets[1]! << 16) | (octets[2]! << 8) | octets[3]!) >>> 0;
      const size = 2 ** (32 - bits);
      const network = bits === 0 ? 0 : (base & ((0xffffffff << (32 - bits)) >>> 0)) >>> 0;
      const [first, last] = bits >= 31 ? [network, network + size - 1] : [network + 1, network + size - 2];
      if (last - first + 1 + out.length > MAX_POOL_ADDRESSES) throw new ConfigError(`--gateway-addresses: more than ${MAX_POOL_ADDRESSES} addresses`);
      for (let a = first; a <= last; a++) out.push([a >>> 24, (a >>> 16) & 255, (a >>> 8) & 255, a & 255].join('.'));
    }
    if (out.length > MAX_POOL_ADDRESSES) throw new ConfigError(`--gateway-addresses: more than ${MAX_POOL_ADDRESSES} addresses`);
  }
  return [...new Set(out)];
}

/** `--gateway-own-ports HTTP,HTTPS`: two ports, either one `off`. */
function gatewayOwnPorts(value: string): { http: number | null; https: number | null } {
  const parts = value.split(',');
  const port = (text: string | undefined, which: string): number | null => {
    if (text === 'off') return null;
    if (text === undefined || !/^[0-9]{1,5}$/.test(text) || Number(text) < 1 || Number(text) > 65535) throw new ConfigError(`--gateway-own-ports ${JSON.stringify(value)}: the ${which} port must be 1 to 65535 or "off", as in 80,443`);
    return Number(text);
  };
  if (parts.length !== 2) throw new ConfigError(`--gateway-own-ports ${JSON.stringify(value)} is not HTTP,HTTPS (as 80,443)`);
  return { http: port(parts[0], 'HTTP'), https: port(parts[1], 'HTTPS') };
}

/** A `namespace/name` flag value, or null when not given. */
function configMapFlag(flag: string, value: string | undefined): string | null {
  if (value === undefined) return null;
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?\/[a-z0-9]([-.a-z0-9]*[a-z0-9])?$/.test(value)) throw new ConfigError(`${flag} ${JSON.stringify(value)} is not namespace/name`);
  return value;
}

/** `--script-memory-budget` in whole MiB (rounded down), or null for `off`. */
function scriptMemoryBudgetMiB(value: string): number | null {
  if (value === 'off') return null;
  return Math.floor(parseSize('--script-memory-budget', value, 8 * 1024 * 1024) / (1024 * 1024));
}

/** Prints where the listeners are, once they are. */
export function announce(flags: DataplaneFlags, log: Logger, ports: { http: number; https: number | null; admin: number; debug: number | null }): void {
  const { http, https, admin, debug } = ports;
  log.info({ http, https, admin, debug }, 'signalbox serving');
  process.stderr.write(
    `signalbox: serving http://${shown(flags.bind)}:${http}` + (https === null ? '' : `  https://${shown(flags.bind)}:${https}`) +
      `  admin http://${shown(flags.adminBind)}:${admin}` + (debug === null ? '' : `  debug http://${shown(flags.debugBind)}:${debug}`) + '\n',
  );
}

/** An address to connect to for a bind address: loopback for the wildcard ones. */
function shown(bind: string): string {
  if (bind === '0.0.0.0' || bind === '::') return '127.0.0.1';
  return bind.includes(':') ? `[${bind}]` : bind;
}

/**
 * Resolves when SIGTERM or SIGINT arrives and `stop` has finished. Signals that arrive while it stops
 * are ignored: Ctrl-C reaches every process of the terminal's group, so a parent that passes signals
 * on (bin/signalbox.js, a demo script) delivers a second one, which must not cut the graceful stop
 * short (it is bounded by `--grace` anyway).
 */
export function untilSignalled(log: Logger, stop: () => Promise<void>): Promise<void> {
  return new Promise<void>((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals): void => {
      if (stopping) return;
      stopping = true;
      log.info({ signal }, 'shutting down');
      stop().then(resolve, resolve);
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}

function dataplaneConfig(flags: DataplaneFlags, workers: number): DataplaneConfig {
  if ((flags.defaultCert === undefined) !== (flags.defaultKey === undefined)) {
    throw new ConfigError('--default-cert and --default-key go together');
  }
  let defaultCertificate: DataplaneConfig['defaultCertificate'] = null;
  if (flags.defaultCert !== undefined && flags.defaultKey !== undefined) {
    try {
      defaultCertificate = { certPem: readFileSync(flags.defaultCert, 'utf8'), keyPem: readFileSync(flags.defaultKey, 'utf8') };
    } catch (err) {
      throw new ConfigError(`--default-cert/--default-key: ${(err as Error).message}`);
    }
  }
  const trustedProxies = parseTrustedProxies(flags.trustedProxies);
  const proxyProtocol = flags.proxyProtocol === true;
  if (proxyProtocol && trustedProxies.length === 0) {
    throw new ConfigError('--proxy-protocol needs --trusted-proxies: the header is believed only from the balancers listed there');
  }
  return {
    bindAddress: flags.bind,
    httpPort: parsePort('--http-port', flags.httpPort),
    httpsPort: flags.httpsPort === 'off' ? null : parsePort('--https-port', flags.httpsPort),
    trustedProxies,
    proxyProtocol,
    timeouts: {
      connectMs: parseDuration('--connect-timeout', flags.connectTimeout),
      responseHeadersMs: parseDuration('--response-header-timeout', flags.responseHeaderTimeout),
      idleMs: parseDuration('--idle-timeout', flags.idleTimeout),
      requestHeadersMs: parseDuration('--request-header-timeout', flags.requestHeaderTimeout),
      keepAliveMs: parseDuration('--keep-alive-timeout', flags.keepAliveTimeout),
      requestBodyIdleMs: parseDuration('--request-body-idle-timeout', flags.requestBodyIdleTimeout),
      requestBodyMs: parseDuration('--request-body-timeout', flags.requestBodyTimeout),
      streamIdleMs: parseDuration('--stream-idle-timeout', flags.streamIdleTimeout),
      udpIdleMs: parseDuration('--udp-idle-timeout', flags.udpIdleTimeout),
    },
    limits: {
      maxHeaderBytes: parsePositiveInt('--max-header-bytes', flags.maxHeaderBytes, 1024 * 1024),
      maxHeaderCount: parsePositiveInt('--max-header-count', flags.maxHeaderCount, 10_000),
      maxConnections: flags.maxConnections === undefined ? defaultMaxConnections(memoryLimit(), workers) : parseCount('--max-connections', flags.maxConnections, 1_000_000),
      maxUdpSessions: parsePositiveInt('--max-udp-sessions', flags.maxUdpSessions, 1_000_000),
    },
    paths: {
      mergeSlashes: flags.mergeSlashes,
      allowEncodedSlashes: flags.allowEncodedSlashes === true,
      allowPathParameters: flags.allowPathParameters === true,
    },
    http2: {
      maxConcurrentStreams: parsePositiveInt('--http2-max-concurrent-streams', flags.http2MaxConcurrentStreams, 100_000),
      maxStreamsPerWorker: parsePositiveInt('--http2-max-streams-per-worker', flags.http2MaxStreamsPerWorker, 10_000_000),
      maxResets: parsePositiveInt('--http2-max-resets', flags.http2MaxResets, 1_000_000),
      maxControlFrames: parsePositiveInt('--http2-max-control-frames', flags.http2MaxControlFrames, 1_000_000),
    },
    // Both flags are declared, so commander leaves it undefined unless one is given: on by default.
    http2Cleartext: flags.http2Cleartext !== false,
    accessLog: flags.accessLog,
    logLevel: parseLogLevel('--log-level', flags.logLevel),
    defaultCertificate,
    scriptStateBytes: parseSize('--script-state-budget', flags.scriptStateBudget, 64 * 1024),
    workerHeapMiB: flags.workerHeapLimit === undefined ? null : Math.floor(parseSize('--worker-heap-limit', flags.workerHeapLimit, 32 * 1024 * 1024) / (1024 * 1024)),
  };
}

/** The memory this process may use: its container's limit (cgroup), else the machine's. */
function memoryLimit(): number {
  // constrainedMemory() is the cgroup limit, or a huge number when there is none.
  return Math.min(process.constrainedMemory(), totalmem());
}
