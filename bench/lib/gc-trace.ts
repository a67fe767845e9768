/**
 * Garbage collections of a signalbox process started with `--trace-gc-nvp`, read from its output:
 * V8 prints one line of `name=value` pairs per collection, prefixed `[pid:isolate:thread]`, for
 * every isolate (the main thread's and each worker's). {@link GcTrace} adds them up per isolate;
 * a benchmark takes a {@link GcTrace.snapshot} before and after a measured run, and
 * {@link gcDuring} states what the busiest isolate (the data-plane worker under load) did in between.
 */
import type { Service } from './processes.ts';

/** What the collections of one isolate added up to. */
export interface GcTotals {
  /** Scavenges (young generation) and mark-compacts (whole heap, `gc=ms` or `gc=mc`). */
  scavenges: number;
  markCompacts: number;
  /** Time the isolate was paused for them, ms. */
  pauseMs: number;
  /** Bytes allocated since the collection before, summed; and bytes moved into the old generation. */
  allocatedBytes: number;
  promotedBytes: number;
}

/** Per-request figures of one measured run, for the busiest isolate. */
export interface GcPer10k {
  pauseMs: number;
  scavenges: number;
  markCompacts: number;
  allocatedMB: number;
  promotedKB: number;
}

const PREFIX = /^\[\d+:(0x[0-9a-f]+)(?::\d+)?\]\s+\d+ ms: (.*)$/;

function zero(): GcTotals {
  return { scavenges: 0, markCompacts: 0, pauseMs: 0, allocatedBytes: 0, promotedBytes: 0 };
}

/** Reads one `--trace-gc-nvp` line into `totals`; false when it is not one. */
export function addGcLine(line: string, byIsolate: Map<string, GcTotals>): boolean {
  const m = PREFIX.exec(line);
  if (m === null) return false;
  const fields = new Map<string, string>();
  for (const pair of m[2]!.split(' ')) {
    const eq = pair.indexOf('=');
    if (eq > 0) fields.set(pair.slice(0, eq), pair.slice(eq + 1));
  }
  const kind = fields.get('gc');
  if (kind === undefined || !fields.has('pause')) return false;
  let totals = byIsolate.get(m[1]!);
  if (totals === undefined) byIsolate.set(m[1]!, (totals = zero()));
  if (kind === 's') totals.scavenges++;
  else if (kind === 'ms' || kind === 'mc') totals.markCompacts++;
  totals.pauseMs += Number(fields.get('pause')) || 0;
  totals.allocatedBytes += Number(fields.get('allocated')) || 0;
  totals.promotedBytes += Number(fields.get('promoted')) || 0;
  return true;
}

/** The collections a service has printed so far, per isolate. */
export class GcTrace {
  readonly #byIsolate = new Map<string, GcTotals>();
  #partial = '';

  constructor(service: Service) {
    const take = (chunk: Buffer): void => {
      const lines = (this.#partial + chunk.toString()).split('\n');
      this.#partial = lines.pop() ?? '';
      for (const line of lines) addGcLine(line, this.#byIsolate);
    };
    service.child.stdout?.on('data', take);
    service.child.stderr?.on('data', take);
  }

  /** A copy of the totals so far. */
  snapshot(): Map<string, GcTotals> {
    return new Map([...this.#byIsolate].map(([isolate, t]) => [isolate, { ...t }]));
  }
}

/**
 * What happened between two snapshots in the isolate that allocated the most, per 10,000 of
 * `requests`; null when no collection happened at all.
 */
export function gcDuring(before: Map<string, GcTotals>, after: Map<string, GcTotals>, requests: number): GcPer10k | null {
  let busiest: GcTotals | null = null;
  for (const [isolate, end] of after) {
    const start = before.get(isolate) ?? zero();
    const d: GcTotals = {
      scavenges: end.scavenges - start.scavenges,
      markCompacts: end.markCompacts - start.markCompacts,
      pauseMs: end.pauseMs - start.pauseMs,
      allocatedBytes: end.allocatedBytes - start.allocatedBytes,
      promotedBytes: end.promotedBytes - start.promotedBytes,
    };
    if (busiest === null || d.allocatedBytes > busiest.allocatedBytes) busiest = d;
  }
  if (busiest === null || busiest.scavenges + busiest.markCompacts === 0 || requests <= 0) return null;
  const per = 10_000 / requests;
  return {
    pauseMs: busiest.pauseMs * per,
    scavenges: busiest.scavenges * per,
    markCompacts: busiest.markCompacts * per,
    allocatedMB: (busiest.allocatedBytes * per) / 2 ** 20,
    promotedKB: (busiest.promotedBytes * per) / 2 ** 10,
  };
}
