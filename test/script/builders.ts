import { createLogger, type Logger } from '../../src/log.ts';
import { ScriptEngine, type ScriptEngineOptions } from '../../src/script/engine.ts';
import type { LoadedScript } from '../../src/script/loaded-script.ts';
import { RouteState } from '../../src/script/route-state.ts';
import type { Outcome, ScriptRequest, ScriptSource } from '../../src/script/types.ts';

/** A script source with the defaults of the example: 5 ms, 16 MiB, shard-a and shard-b. */
export function source(code: string, overrides: Partial<ScriptSource> = {}): ScriptSource {
  return {
    id: 'shop/test',
    code,
    data: {},
    limits: { timeoutMs: 50, memoryMiB: 16 },
    backends: ['shard-a', 'shard-b'],
    ...overrides,
  };
}

/** A module whose `onRequest` body is `body`. */
export function handler(body: string, overrides: Partial<ScriptSource> = {}): ScriptSource {
  return source(`export function onRequest(req, ctx) {\n${body}\n}`, overrides);
}

/** A plain GET with the given overrides. */
export function request(overrides: Partial<ScriptRequest> = {}): ScriptRequest {
  return {
    method: 'GET',
    host: 'shop.example',
    path: '/cart',
    query: { page: '2', tag: ['a', 'b'] },
    headers: { 'x-shop-id': '1', 'user-agent': 'test' },
    cookies: { session: 's1' },
    clientIp: '10.1.2.3',
    sni: null,
    ...overrides,
  };
}

/** A clock tests move by hand. */
export class ManualClock {
  now = 1_000_000;
  readonly read = (): number => this.now;
  advance(ms: number): void {
    this.now += ms;
  }
}

/** An engine with a logger whose lines are kept in `lines`. */
export interface TestEngine {
  readonly engine: ScriptEngine;
  readonly lines: Record<string, unknown>[];
  readonly log: Logger;
  /**
   * Loads `src`, waits until it is ready (until then the engine would run the previous version of
   * the same id) and runs it once with a fresh (or the given) state.
   */
  runOnce(src: ScriptSource, req?: ScriptRequest, state?: RouteState): Promise<Outcome>;
  run(script: LoadedScript, req?: ScriptRequest, state?: RouteState): Promise<Outcome>;
}

/** Makes an engine for one test; dispose it with `t.after(() => engine.dispose())`. */
export function testEngine(options: Partial<ScriptEngineOptions> = {}): TestEngine {
  const lines: Record<string, unknown>[] = [];
  const log = createLogger({ level: 'debug', destination: { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) } });
  const engine = new ScriptEngine({ log, ...options });
  const run = (script: LoadedScript, req = request(), state = new RouteState()): Promise<Outcome> => engine.run(script, req, state);
  return { engine, lines, log, run, runOnce: async (src, req, state) => {
      const script = engine.load(src);
      await script.ready;
      return run(script, req, state);
    },
  };
}

/** The decision of an outcome that must have succeeded. */
export function decisionOf(outcome: Outcome<unknown>): unknown {
  if (!outcome.ok) throw new Error(`expected a decision, got ${outcome.cause}: ${outcome.message}`);
  return outcome.decision;
}
