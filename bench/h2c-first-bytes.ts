/**
 * What looking for the HTTP/2 preface costs HTTP/1.1 on the plain HTTP port: two signalbox
 * processes in one run, one with HTTP/2 with prior knowledge (the default) and one with
 * `--no-http2-cleartext`, the peer. Each is loaded in turn, in alternating order per round, with a
 * new connection per request (where the per-connection first-bytes check is paid: the worst case)
 * and with keep-alive connections (where it should cost nothing). Prints requests/s and the
 * signalbox process's CPU time per 1,000 requests, the ratios on/off of the totals, and the median
 * of the per-round CPU ratios (each round measures both back to back, so drift on a shared machine
 * hits a round's pair alike).
 *
 *   node bench/h2c-first-bytes.ts [--duration 5] [--concurrency 16] [--rounds 3]
 */
import { createServer, request, Agent, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { freePort, HOST } from './lib/net.ts';
import { cpuTimeMs, runInScope, type Scope } from './lib/processes.ts';
import { BENCH_HOST, startSignalbox, type Signalbox } from './lib/signalbox.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

type Mode = 'new-connection' | 'keep-alive';

interface Sample {
  requests: number;
  seconds: number;
  cpuMs: number;
}

/** Sends GETs from `concurrency` loops for `seconds`: each on a fresh connection, or over a keep-alive agent. */
async function load(port: number, mode: Mode, concurrency: number, seconds: number): Promise<number> {
  const agent = mode === 'keep-alive' ? new Agent({ keepAlive: true, maxSockets: concurrency }) : undefined;
  const deadline = performance.now() + seconds * 1000;
  let done = 0;
  const one = (): Promise<void> =>
    new Promise((resolveOne, reject) => {
      const headers = mode === 'keep-alive' ? { host: BENCH_HOST } : { host: BENCH_HOST, connection: 'close' };
      const req = request({ host: HOST, port, path: '/', headers, agent: agent ?? false }, (res) => {
        res.resume();
        res.on('end', () => (res.statusCode === 200 ? resolveOne() : reject(new Error(`HTTP ${res.statusCode}`))));
      });
      req.on('error', reject);
      req.end();
    });
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        await one();
        done++;
      }
    }),
  );
  agent?.destroy();
  return done;
}

async function measure(sb: Signalbox, mode: Mode, concurrency: number, seconds: number): Promise<Sample> {
  const cpuBefore = cpuTimeMs(sb.service);
  const started = performance.now();
  const requests = await load(sb.ports.http, mode, concurrency, seconds);
  return { requests, seconds: (performance.now() - started) / 1000, cpuMs: cpuTimeMs(sb.service) - cpuBefore };
}

async function main(scope: Scope): Promise<void> {
  const { values } = parseArgs({ options: { duration: { type: 'string', default: '5' }, concurrency: { type: 'string', default: '16' }, rounds: { type: 'string', default: '3' } } });
  const seconds = Number(values.duration);
  const concurrency = Number(values.concurrency);
  const rounds = Number(values.rounds);
  // The upstream in this process: both proxies share it, so it weighs on them alike.
  const upstream: Server = createServer((_req, res) => res.end('hello from upstream\n'));
  await new Promise<void>((r) => upstream.listen(0, HOST, r));
  const upstreamPort = (upstream.address() as AddressInfo).port;
  try {
    const on = await startSignalbox(scope, root, upstreamPort, { http: await freePort(), admin: await freePort() });
    const off = await startSignalbox(scope, root, upstreamPort, { http: await freePort(), admin: await freePort() }, { extraArgs: ['--no-http2-cleartext'] });
    const targets = { on, off } as const;
    const totals: Record<Mode, Record<'on' | 'off', Sample>> = {
      'new-connection': { on: { requests: 0, seconds: 0, cpuMs: 0 }, off: { requests: 0, seconds: 0, cpuMs: 0 } },
      'keep-alive': { on: { requests: 0, seconds: 0, cpuMs: 0 }, off: { requests: 0, seconds: 0, cpuMs: 0 } },
    };
    const roundRatios: Record<Mode, number[]> = { 'new-connection': [], 'keep-alive': [] };
    for (const mode of ['new-connection', 'keep-alive'] as const) {
      // Warm-up, unmeasured: the JIT of both processes.
      for (const sb of [on, off]) await load(sb.ports.http, mode, concurrency, 1);
      for (let round = 0; round < rounds; round++) {
        const perRequest = { on: 0, off: 0 };
        for (const name of round % 2 === 0 ? (['on', 'off'] as const) : (['off', 'on'] as const)) {
          const s = await measure(targets[name], mode, concurrency, seconds);
          const t = totals[mode][name];
          t.requests += s.requests;
          t.seconds += s.seconds;
          t.cpuMs += s.cpuMs;
          perRequest[name] = s.cpuMs / s.requests;
        }
        roundRatios[mode].push(perRequest.on / perRequest.off);
      }
    }
    console.log(`${rounds} rounds of ${seconds} s, ${concurrency} concurrent clients, GET / on the plain HTTP port`);
    console.log('mode            h2c   req/s   cpu ms/1k req');
    for (const mode of ['new-connection', 'keep-alive'] as const) {
      for (const name of ['on', 'off'] as const) {
        const t = totals[mode][name];
        console.log(`${mode.padEnd(15)} ${name.padEnd(4)} ${(t.requests / t.seconds).toFixed(0).padStart(7)}   ${((t.cpuMs / t.requests) * 1000).toFixed(1).padStart(6)}`);
      }
      const a = totals[mode].on;
      const b = totals[mode].off;
      const sorted = roundRatios[mode].toSorted((x, y) => x - y);
      const median = sorted[Math.floor(sorted.length / 2)]!;
      console.log(`${mode.padEnd(15)} on/off: req/s ×${(a.requests / a.seconds / (b.requests / b.seconds)).toFixed(3)}, cpu per request ×${(a.cpuMs / a.requests / (b.cpuMs / b.requests)).toFixed(3)} (median of rounds ×${median.toFixed(3)}; rounds ${sorted.map((r) => r.toFixed(2)).join(' ')})`);
    }
  } finally {
    upstream.close();
  }
}

await runInScope('h2c-first-bytes', main);
