import { createServer } from 'node:net';

/**
 * Makes sure no other process listens on `host:port` before our workers share it, and resolves with
 * the port (the one the kernel picked when `port` is 0).
 *
 * The workers bind with SO_REUSEPORT so that the kernel spreads connections across them, but Linux
 * admits any process of the same user into such a group: a second `signalbox serve` on the same port
 * would start without a word and take half of the connections. A socket bound without SO_REUSEPORT
 * is refused (EADDRINUSE) while any other socket holds the address, with or without the option, so
 * one such bind, released at once, tells whether the port is ours alone. The first worker does it
 * right before its own bind, which leaves a window of one event-loop turn; the other workers and
 * restarted ones skip it (their own siblings hold the port by then).
 */
export function claimPort(host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    // A connection that lands in the instant the probe listens is not served: close it.
    const probe = createServer((socket) => socket.destroy());
    probe.once('error', reject);
    probe.listen({ host, port, reusePort: false }, () => {
      const address = probe.address();
      const bound = typeof address === 'object' && address !== null ? address.port : port;
      probe.close();
      resolve(bound);
    });
  });
}
