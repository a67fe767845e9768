import type { Server } from 'node:http';
import { ListenError } from '../../errors.ts';

/**
 * Binds one of the main thread's own HTTP servers (admin, debug) to `host:port` and resolves with
 * the port bound (the one picked when `port` is 0). Unlike the traffic listeners it does not share
 * the port: a second process on it is an error, named after `name`.
 */
export async function listenAdmin(server: Server, host: string, port: number, name: string): Promise<{ server: Server; port: number }> {
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(new ListenError(`cannot listen for ${name} on ${host}:${port}: ${err.message}`, { cause: err })));
    server.listen({ host, port }, resolve);
  });
  const address = server.address();
  return { server, port: typeof address === 'object' && address !== null ? address.port : port };
}
