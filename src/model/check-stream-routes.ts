/**
 * The invariants of the layer-4 part of a table, for {@link checkTable}: stream routes on TLS, TCP
 * and UDP listeners that the data plane can serve without checking again — one route per TCP or
 * UDP port, SNI names that choose one route, backends of the right transport.
 */
import type { Cluster, Listener, Provenance, StreamRoute } from './table.ts';

/** How a stream-route check reports: where, about which node, what. */
export type StreamReport = (at: string, provenance: Provenance, message: string) => void;

/** What a stream-route check needs of the rest of the table. */
export interface StreamRefs {
  readonly listeners: readonly Listener[];
  /** Resolves (and records as used) a cluster named by a backend; returns it, or undefined. */
  readonly cluster: (at: string, provenance: Provenance, name: string, referenceGrant?: Provenance) => Cluster | undefined;
  /** Why `host` is not a valid exact or `*.suffix` name, or null. */
  readonly hostProblem: (host: string) => string | null;
}

const STREAM_PROTOCOLS: ReadonlySet<string> = new Set(['TLS', 'TCP', 'UDP']);
const MAX_WEIGHT = 1_000_000;

/** Checks the stream routes of a table, each on its own and their order and sharing. */
export function checkStreamRoutes(routes: readonly StreamRoute[], refs: StreamRefs, report: StreamReport): void {
  const byName = new Map(refs.listeners.map((l) => [l.name, l]));
  const routesOf = new Map<string, number>();
  const sniTaken = new Map<string, string>();
  routes.forEach((r, i) => {
    const at = `streamRoutes[${i}]`;
    const p = r.provenance;
    const listener = byName.get(r.listener);
    if (listener === undefined) report(at, p, `listener ${JSON.stringify(r.listener)} is not in listeners`);
    else if (!STREAM_PROTOCOLS.has(listener.protocol)) report(at, p, `listener ${r.listener} is ${listener.protocol}: stream routes serve TLS, TCP and UDP listeners`);
    routesOf.set(r.listener, (routesOf.get(r.listener) ?? 0) + 1);
    const tls = listener?.protocol === 'TLS';
    if (tls && r.hostnames.length === 0) report(at, p, 'a TLS passthrough route takes no SNI name');
    if (!tls && r.hostnames.length > 0) report(at, p, 'only TLS routes take SNI names');
    r.hostnames.forEach((host, k) => {
      const problem = refs.hostProblem(host);
      if (problem !== null) report(`${at}.hostnames[${k}]`, p, problem);
      const before = r.hostnames[k - 1];
      if (before !== undefined && before >= host) report(`${at}.hostnames[${k}]`, p, `hostname ${host} comes after ${before}: hostnames are sorted, once each`);
      const key = `${r.listener} ${host}`;
      const holder = sniTaken.get(key);
      if (holder !== undefined) report(`${at}.hostnames[${k}]`, p, `SNI name ${host} on ${r.listener} is also taken by ${holder}`);
      sniTaken.set(key, p);
    });
    r.backends.forEach((b, k) => {
      const bAt = `${at}.backends[${k}]`;
      if (!Number.isInteger(b.weight) || b.weight < 0 || b.weight > MAX_WEIGHT) report(bAt, p, `weight ${b.weight} is not an integer from 0 to ${MAX_WEIGHT}`);
      if (b.cluster === null) return;
      const cluster = refs.cluster(bAt, b.provenance, b.cluster, b.referenceGrant);
      const udp = cluster?.transport === 'UDP';
      if (cluster !== undefined && listener !== undefined && udp !== (listener.protocol === 'UDP')) {
        report(bAt, p, `cluster ${b.cluster} is ${udp ? 'UDP' : 'TCP'}, listener ${listener.name} is ${listener.protocol}`);
      }
    });
    if (r.idleTimeoutMs !== null && (!Number.isInteger(r.idleTimeoutMs) || r.idleTimeoutMs < 1)) report(at, p, `idleTimeoutMs ${r.idleTimeoutMs} is not a positive integer`);
    if (r.sendProxyProtocol && listener?.protocol === 'UDP') report(at, p, 'a UDP route cannot send a PROXY protocol header');
    const previous = routes[i - 1];
    if (previous !== undefined && (previous.listener > r.listener || (previous.listener === r.listener && (previous.hostnames[0] ?? '') >= (r.hostnames[0] ?? '')))) {
      report(at, p, `stream route of ${r.listener} comes after one of ${previous.listener}: sorted by listener, then first hostname`);
    }
  });
  for (const l of refs.listeners) {
    if (l.protocol !== 'TCP' && l.protocol !== 'UDP') continue;
    const n = routesOf.get(l.name) ?? 0;
    if (n !== 1) report(`listeners`, l.provenance, `${l.protocol} listener ${l.name} has ${n} stream routes, not exactly one`);
  }
}

/** Checks what the listeners of one protocol share: TCP and UDP listeners need ports of their own. */
export function checkStreamListener(at: string, l: Listener, seenPorts: Set<string>, report: StreamReport): void {
  const p = l.provenance;
  if (l.protocol === 'HTTP' || l.protocol === 'HTTPS') return;
  if (l.defaultRoute) report(at, p, `a ${l.protocol} listener does not serve the default route`);
  if (l.hostname !== null) report(at, p, `a ${l.protocol} listener has no hostname (its routes' SNI names choose)`);
  if (l.protocol === 'TLS') return;
  if (l.port === null) report(at, p, `a ${l.protocol} listener needs a port of its own`);
  else {
    const key = `${l.protocol} ${l.port}`;
    if (seenPorts.has(key)) report(at, p, `${l.protocol} port ${l.port} has a second listener`);
    seenPorts.add(key);
  }
}
