/**
 * Starting the floor targets as children of this Node: `undici-floor` and `h1-floor`
 * (lib/floor-server.ts with undici's Pool or signalbox's H1Pool), `raw-floor` (H1Pool behind a
 * server on raw sockets: lib/raw-floor-server.ts), `relay` (lib/relay-server.ts) and `answer`
 * (lib/answer-server.ts: node:http answering by itself).
 */
import { fileURLToPath } from 'node:url';
import { waitForHttp } from './net.ts';
import type { Scope, Service } from './processes.ts';

/** The floor targets of bench/proxy.ts. */
export type Floor = 'relay' | 'answer' | 'undici-floor' | 'h1-floor' | 'raw-floor';

const FLOOR_SERVER = fileURLToPath(new URL('./floor-server.ts', import.meta.url));
const RELAY_SERVER = fileURLToPath(new URL('./relay-server.ts', import.meta.url));
const ANSWER_SERVER = fileURLToPath(new URL('./answer-server.ts', import.meta.url));
const RAW_FLOOR_SERVER = fileURLToPath(new URL('./raw-floor-server.ts', import.meta.url));

/**
 * Runs floor `floor` on `port` in front of the upstream, in its own process group, and waits until
 * `GET /` through it answers 200.
 */
export async function startFloor(scope: Scope, root: string, floor: Floor, port: number, upstreamPort: number): Promise<Service> {
  const common = ['--port', String(port), '--upstream-port', String(upstreamPort)];
  const args =
    floor === 'relay' ? [RELAY_SERVER, ...common]
    : floor === 'answer' ? [ANSWER_SERVER, ...common]
    : floor === 'raw-floor' ? [RAW_FLOOR_SERVER, ...common]
    : [FLOOR_SERVER, ...common, '--client', floor === 'h1-floor' ? 'h1' : 'undici'];
  const service = scope.start(floor, process.execPath, args, root);
  await waitForHttp(service, port, '/', 10_000);
  return service;
}
