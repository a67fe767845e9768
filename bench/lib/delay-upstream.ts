/**
 * Starting lib/delay-upstream-server.ts as a child of this Node, and reading its request count.
 */
import { fileURLToPath } from 'node:url';
import { get, waitForHttp } from './net.ts';
import type { Scope, Service } from './processes.ts';

const SCRIPT = fileURLToPath(new URL('./delay-upstream-server.ts', import.meta.url));

/** A running delay upstream. */
export interface DelayUpstream {
  service: Service;
  port: number;
  delayMs: number;
}

/** Runs an upstream answering after `delayMs` on `port`, in its own process group, and waits for it. */
export async function startDelayUpstream(scope: Scope, name: string, port: number, delayMs: number): Promise<DelayUpstream> {
  const service = scope.start(name, process.execPath, [SCRIPT, '--port', String(port), '--delay-ms', String(delayMs)]);
  await waitForHttp(service, port, '/count', 10_000);
  return { service, port, delayMs };
}

/** Requests the upstream answered since the last reset; `reset` starts it again from 0. */
export async function requestCount(upstream: DelayUpstream, reset = false): Promise<number> {
  const res = await get(upstream.port, reset ? '/count?reset' : '/count');
  if (res.status !== 200) throw new Error(`${upstream.service.name}: GET /count gave ${res.status} ${res.body}`);
  return (JSON.parse(res.body) as { requests: number }).requests;
}
