/**
 * Relaying one layer-4 connection (TLS passthrough or TCP): pick a backend and an endpoint the way
 * HTTP routes do (weights, the cluster's balancer, health checks and passive ejection), connect
 * within the cluster's connect timeout — on a failure, try another endpoint — then copy bytes both
 * ways with backpressure (pipe), keep half-closes (a client that shuts its side down still gets the
 * rest of the answer), and close both sides after the idle timeout without a byte either way.
 */
import { connect, type Socket } from 'node:net';
import type { StreamMetrics } from '../../metrics/metrics.ts';
import { clientAddress, proxiedAddresses } from '../proxy-protocol/client-address.ts';
import { encodeHeader } from '../proxy-protocol/header.ts';
import type { PreparedCluster, Upstream } from '../upstream/prepared-cluster.ts';
import { pickCluster, type PreparedStreamRoute } from './prepared-streams.ts';

/** Connect attempts per connection at most (the first and retries on other endpoints). */
const MAX_ATTEMPTS = 3;
const NO_HEADERS = Object.freeze({});

/**
 * Relays `client` to a backend of `route`. `initial` holds bytes already read off the client (the
 * ClientHello on the HTTPS port), sent first. The client is paused until the backend is connected,
 * so nothing it sends is lost or read too early.
 */
export function relayStream(client: Socket, initial: Buffer | null, route: PreparedStreamRoute, metrics: StreamMetrics): void {
  const listener = route.listener;
  client.pause();
  // Half-close both ways: a client's FIN is passed on and the backend's answer still comes back.
  client.allowHalfOpen = true;
  client.on('error', () => client.destroy());
  const cluster = pickCluster(route);
  const ip = clientAddress(client);
  const refuse = (): void => {
    metrics.refused.labels(listener, 'no-endpoint').inc();
    client.destroy();
  };
  if (cluster === null || !cluster.hasEndpoints) return refuse();
  const tried: Upstream[] = [];
  const attempt = (): void => {
    if (client.destroyed) return;
    const upstream = tried.length === 0 ? cluster.pick(cluster.hashing ? ip : null) : cluster.chooseAnother({ headers: NO_HEADERS }, () => ip, tried, cluster.hashing ? ip : undefined);
    if (upstream === null || tried.length >= MAX_ATTEMPTS) return refuse();
    tried.push(upstream);
    const socket = connect({ host: upstream.address, port: upstream.port, allowHalfOpen: true, noDelay: true });
    const timer = setTimeout(() => socket.destroy(new Error('connect timeout')), cluster.connectMs);
    const failed = (): void => {
      clearTimeout(timer);
      client.off('close', abandon);
      socket.destroy();
      metrics.connectFailures.labels(cluster.name).inc();
      cluster.recordOutcome(upstream, true, performance.now());
      attempt();
    };
    socket.once('error', failed);
    // A client gone while connecting takes the connect with it (once connected, the relay decides).
    const abandon = (): void => {
      clearTimeout(timer);
      socket.destroy();
    };
    client.once('close', abandon);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.off('error', failed);
      client.off('close', abandon);
      cluster.recordOutcome(upstream, false, performance.now());
      connected(client, socket, initial, route, cluster, metrics);
    });
  };
  attempt();
}

function connected(client: Socket, socket: Socket, initial: Buffer | null, route: PreparedStreamRoute, cluster: PreparedCluster, metrics: StreamMetrics): void {
  const listener = route.listener;
  metrics.connections.labels(listener, cluster.name).inc();
  const active = metrics.active.labels(listener);
  active.inc();
  let closed = 0;
  const onClose = (): void => {
    if (++closed !== 2) return;
    active.dec();
    metrics.bytes.labels(listener, 'upstream').inc(socket.bytesWritten);
    metrics.bytes.labels(listener, 'downstream').inc(client.bytesWritten);
  };
  client.once('close', onClose);
  socket.once('close', onClose);
  // A reset or error on either side ends both: there is no one left to relay to.
  socket.on('error', () => {
    socket.destroy();
    client.destroy();
  });
  client.on('error', () => socket.destroy());
  socket.once('close', (hadError) => {
    if (hadError) client.destroy();
  });
  client.once('close', (hadError) => {
    if (hadError) socket.destroy();
  });
  if (route.route.sendProxyProtocol) socket.write(encodeHeader('v1', proxiedAddresses(client) ?? {
    sourceAddress: client.remoteAddress ?? '',
    sourcePort: client.remotePort ?? 0,
    destinationAddress: client.localAddress ?? '',
    destinationPort: client.localPort ?? 0,
  }));
  if (initial !== null && initial.length > 0) socket.write(initial);
  if (route.idleMs > 0) {
    // The client socket sees every byte of both directions (read from it, written to it).
    client.setTimeout(route.idleMs, () => {
      metrics.idleCloses.labels(listener).inc();
      client.destroy();
      socket.destroy();
    });
  }
  client.pipe(socket);
  socket.pipe(client);
  client.resume();
}
