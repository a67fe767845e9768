/**
 * Starting the `undici-floor` target (lib/undici-floor-server.ts) as a child of this Node.
 */
import { fileURLToPath } from 'node:url';
import { waitForHttp } from './net.ts';
import type { Scope, Service } from './processes.ts';

const SCRIPT = fileURLToPath(new URL('./undici-floor-server.ts', import.meta.url));

/**
 * Runs the floor proxy on `port` in front of the upstream, in its own process group, and waits until
 * `GET /` through it answers 200.
 */
export async function startUndiciFloor(scope: Scope, root: string, port: number, upstreamPort: number): Promise<Service> {
  const args = [SCRIPT, '--port', String(port), '--upstream-port', String(upstreamPort)];
  const service = scope.start('undici-floor', process.execPath, args, root);
  await waitForHttp(service, port, '/', 10_000);
  return service;
}
