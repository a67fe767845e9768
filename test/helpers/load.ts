/** Steady, bounded client load for the tests that change things under traffic. */
import { Agent } from 'undici';
import type { TestProxy } from './proxy.ts';
import { send, type TextResponse } from './scripted.ts';

/** A running load: what came back so far, and how to stop it. */
export interface SteadyLoad {
  readonly results: (TextResponse & { readonly at: number })[];
  /** Stops the loops (each finishes its request in flight) and closes their connections. */
  stop(): Promise<void>;
}

/**
 * `clients` loops each sending GET `path` with `headers` to `host`, one request after another on
 * keep-alive connections, until stopped (or 30 s pass). A request that fails at the socket is
 * recorded as status -1 with the error in the body.
 */
export function steadyLoad(proxy: TestProxy, host: string, path: string, clients: number, headers: Record<string, string> = {}): SteadyLoad {
  const agent = new Agent({ connections: clients });
  const results: (TextResponse & { at: number })[] = [];
  let stopped = false;
  const deadline = Date.now() + 30_000;
  const loops = Array.from({ length: clients }, async () => {
    while (!stopped && Date.now() < deadline) {
      const res = await send(proxy, host, path, headers, { dispatcher: agent }).catch((err: Error): TextResponse => ({ status: -1, body: err.message, headers: {} }));
      results.push({ ...res, at: Date.now() });
    }
  });
  return {
    results,
    async stop() {
      stopped = true;
      await Promise.all(loops);
      await agent.close();
    },
  };
}
