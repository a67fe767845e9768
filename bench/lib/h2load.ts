/**
 * Running h2load (nghttp2's HTTP/2 load generator) against one target and reading its report. h2load
 * prints no latency percentiles, only the min, max, mean and standard deviation of "time for request",
 * so the figures are req/s, the mean latency and the max.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HOST } from './net.ts';
import type { Scope } from './processes.ts';

/** One h2load run, reduced to the figures the benchmark reports. Latencies are in milliseconds. */
export interface H2loadResult {
  requestsPerSec: number;
  meanMs: number;
  maxMs: number;
  /** Requests that completed (h2load's "done"). */
  requests: number;
  /** Responses with status ≥ 400 (h2load's 4xx + 5xx). */
  non2xx: number;
  /** Requests that failed or errored at the stream or connection level, or timed out. */
  streamErrors: number;
  /** What h2load negotiated over TLS (`TLSv1.3 TLS_AES_128_GCM_SHA256 h2`); null in cleartext. */
  tls: string | null;
}

/** Load shape of a run. */
export interface H2loadOptions {
  port: number;
  path: string;
  /** The `:authority` sent. */
  host: string;
  /** `https` negotiates h2 by ALPN over TLS; `http` speaks h2c with prior knowledge. */
  scheme: 'http' | 'https';
  durationSec: number;
  /** `-c`: client connections. */
  clients: number;
  /** `-m`: concurrent streams per connection. */
  streams: number;
  /** `-t`: h2load threads. */
  threads: number;
  /** A request body: the request becomes a POST of these bytes (`-d`). */
  body?: Buffer;
  /** More request headers, `name: value`. */
  headers?: string[];
}

/** The one TLS 1.3 suite h2load offers: the one wrk and Node's client negotiate with both proxies. */
export const H2LOAD_TLS13_CIPHER = 'TLS_AES_256_GCM_SHA384';

// h2load formats times with these suffixes (util::format_duration in nghttp2).
const TIME_UNITS_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1_000 };

function timeMs(text: string): number {
  const match = /^([\d.]+)(us|ms|s)$/.exec(text);
  if (!match) throw new Error(`h2load: unreadable time ${JSON.stringify(text)}`);
  return Number(match[1]) * (TIME_UNITS_MS[match[2] ?? ''] ?? NaN);
}

function required(output: string, pattern: RegExp, what: string): RegExpExecArray {
  const match = pattern.exec(output);
  if (match === null) throw new Error(`h2load: no ${what} in its output:\n${output}`);
  return match;
}

/** Parses the report h2load prints at the end of a run. */
export function parseH2load(output: string): H2loadResult {
  const rate = required(output, /^finished in \S+, ([\d.]+) req\/s/m, 'req/s');
  const requests = required(output, /^requests: \d+ total, \d+ started, (\d+) done, \d+ succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/m, 'request counts');
  const codes = required(output, /^status codes: \d+ 2xx, \d+ 3xx, (\d+) 4xx, (\d+) 5xx/m, 'status codes');
  const times = required(output, /^time for request:\s+(\S+)\s+(\S+)\s+(\S+)/m, 'time for request');
  const tlsProtocol = /^TLS Protocol: (\S+)/m.exec(output)?.[1];
  const cipher = /^Cipher: (\S+)/m.exec(output)?.[1];
  const alpn = /^Application protocol: (\S+)/m.exec(output)?.[1];
  return {
    tls: tlsProtocol === undefined ? null : `${tlsProtocol} ${cipher ?? '?'} ${alpn ?? '?'}`,
    requestsPerSec: Number(rate[1]),
    meanMs: timeMs(times[3]!),
    maxMs: timeMs(times[2]!),
    requests: Number(requests[1]),
    non2xx: Number(codes[1]) + Number(codes[2]),
    // "failed" includes "errored" and "timeout" in h2load's accounting; count it once.
    streamErrors: Number(requests[2]),
  };
}

/** The h2load arguments for `opts`; a body is written to `dataFile` first. */
export function h2loadArgs(opts: H2loadOptions, dataFile?: string): string[] {
  if (opts.body !== undefined) {
    if (dataFile === undefined) throw new Error('h2load: a body needs a data file');
    writeFileSync(dataFile, opts.body);
  }
  return [
    `-t${opts.threads}`,
    `-c${opts.clients}`,
    `-m${opts.streams}`,
    `-D${opts.durationSec}`,
    // h2load prefers AES-128 where OpenSSL's default client (wrk's) prefers AES-256, and nginx takes
    // the client's order while Node takes its own: offer one suite so every target negotiates it.
    ...(opts.scheme === 'https' ? [`--tls13-ciphers=${H2LOAD_TLS13_CIPHER}`] : []),
    '-H', `:authority: ${opts.host}`,
    ...(opts.headers ?? []).flatMap((h) => ['-H', h]),
    ...(opts.body === undefined ? [] : ['-d', dataFile!]),
    `${opts.scheme}://${HOST}:${opts.port}${opts.path}`,
  ];
}

/** Runs h2load once (killed if it overruns its duration by 15 s) and parses its report. */
export async function runH2load(scope: Scope, opts: H2loadOptions): Promise<H2loadResult> {
  const args = h2loadArgs(opts, opts.body === undefined ? undefined : join(scope.tempDir('h2load'), 'body'));
  const { code, stdout, stderr } = await scope.run('h2load', args, opts.durationSec * 1_000 + 15_000);
  if (code !== 0) throw new Error(`h2load ${args.join(' ')} failed (exit ${code}):\n${stderr}${stdout}`);
  return parseH2load(stdout);
}
