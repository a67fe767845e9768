/**
 * The invariant of the ports listeners declare, for {@link checkTable}: one socket of the data
 * plane serves each port, so the listeners on a port must agree on what that socket speaks — plain
 * HTTP (HTTP listeners), TLS (HTTPS and TLS listeners: passthrough by SNI, else termination), or a
 * TCP service's bytes. A front end never puts two of these on one port (the Gateway API calls it a
 * protocol conflict); listeners with port null are on the data plane's own ports, one per protocol.
 * A listener with an address of its own is on that address's socket of the port: the rule holds per
 * address and port, and listeners without an address share the bind address's sockets.
 */
import type { Listener, Provenance } from './table.ts';

/** How the port check reports: where, about which node, what. */
export type PortReport = (at: string, provenance: Provenance, message: string) => void;

/** What a socket on a port speaks, by listener protocol (UDP ports are another space: never shared). */
const SOCKET_OF: Readonly<Record<string, string | undefined>> = { HTTP: 'plain HTTP', HTTPS: 'TLS', TLS: 'TLS', TCP: 'TCP' };

/** Reports each listener whose port an earlier listener (in table order) holds with another kind of socket. */
export function checkListenerPorts(listeners: readonly Listener[], report: PortReport): void {
  const holder = new Map<string, Listener>();
  listeners.forEach((l, i) => {
    const socket = SOCKET_OF[l.protocol];
    if (l.port === null || socket === undefined) return;
    const key = `${l.address ?? ''} ${l.port}`;
    const first = holder.get(key);
    if (first === undefined) {
      holder.set(key, l);
      return;
    }
    const held = SOCKET_OF[first.protocol];
    // Two TCP listeners on a port are check-stream-routes' to report.
    if (held === socket) return;
    const where = l.address === undefined ? `port ${l.port}` : `${l.address} port ${l.port}`;
    report(`listeners[${i}]`, l.provenance, `${l.protocol} listener ${l.name} is on ${where}, where ${first.protocol} listener ${first.name} is: one port serves ${held} or ${socket}, not both`);
  });
}
