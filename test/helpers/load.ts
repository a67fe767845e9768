/** Steady, bounded client load for the tests that change things under traffic. */
import { Agent } from 'undici';
import type { TestProxy } from './proxy.ts';
import { send, type TextResponse } from './scripted.ts';

/** A running load: what came back so far, and how to stop it. */
export interface SteadyLoad {
  readonly results: (TextResponse & { readonly at: number })[];
  /** Stops the loops (each finishes its request in flight) and closes their connections; again, waits for that. */
  stop(): Promise<void>;
}

/**
 * `clients` loops each sending GET `path` with `headers` to `host`, one request after another on
 * keep-alive connections, until stopped (or 30 s pass). A request that fails at the socket is
 * recorded as status -1 with the error in the body. `path` may be a function of the request's
 * number (0, 1, 2… across all loops), to tell the requests apart upstream.
 */
export function steadyLoad(proxy: TestProxy, host: string, path: string | ((n: number) => string), clients: number, headers: Record<string, string> = {}): SteadyLoad {
  const agent = new Agent({ connections: clients });
  const results: (TextResponse & { at: number })[] = [];
  let stopped = false;
  let sent = 0;
  let stopping: Promise<void> | undefined;
  const pathOf = typeof path === 'string' ? () => path : path;
  const deadline = Date.now() + 30_000;
  const loops = Array.from({ length: clients }, async () => {
    while (!stopped && Date.now() < deadline) {
      const res = await send(proxy, host, pathOf(sent++), headers, { dispatcher: agent }).catch((err: Error): TextResponse => ({ status: -1, body: err.message, headers: {} }));
      results.push({ ...res, at: Date.now() });
    }
  });
  return {
    results,
    stop() {
      // Idempotent, so that a test can stop the load to check it and again in its cleanup.
      return (stopping ??= (async () => {
        stopped = true;
        await Promise.all(loops);
        await agent.close();
      })());
    },
  };
}
