// Not part of `npm test` (benchmarks are not tests); run with `node --test bench/lib/wrk.test.ts`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseWrk } from './wrk.ts';
import { H2LOAD_TLS13_CIPHER, h2loadArgs, parseH2load } from './h2load.ts';

const report = `Running 10s test @ http://127.0.0.1:40000/
  1 threads and 50 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.20ms  310.55us  12.01ms   91.02%
    Req/Sec    41.37k     1.90k   44.12k    73.00%
  Latency Distribution
     50%  843.00us
     75%    1.10ms
     90%    1.50ms
     99%    1.02s
  411604 requests in 10.00s, 64.38MB read
  Socket errors: connect 1, read 2, write 3, timeout 4
  Non-2xx or 3xx responses: 7
Requests/sec:  41156.23
Transfer/sec:      6.44MB
`;

test('parses throughput, latency units and errors', () => {
  assert.deepEqual(parseWrk(report), {
    requestsPerSec: 41156.23,
    p50Ms: 0.843,
    p99Ms: 1020,
    requests: 411604,
    non2xx: 7,
    socketErrors: 10,
  });
});

test('absent error lines mean zero errors', () => {
  const clean = report.replace(/^\s+(Socket errors|Non-2xx).*\n/gm, '');
  const result = parseWrk(clean);
  assert.equal(result.non2xx, 0);
  assert.equal(result.socketErrors, 0);
});

test('an unreadable report is an error naming the missing figure', () => {
  assert.throws(() => parseWrk('unable to connect to 127.0.0.1:1 Connection refused'), /Requests\/sec/);
});

// h2load (lib/h2load.ts): a timing-based run over TLS, as nghttp2 1.52 prints it.
const h2loadReport = `starting benchmark...
spawning thread #0: 10 total client(s). Timing-based test with 0s of warm-up time and 5s of main duration for measurements.
TLS Protocol: TLSv1.3
Cipher: TLS_AES_256_GCM_SHA384
Server Temp Key: X25519 253 bits
Application protocol: h2
Main benchmark duration is over for thread #0. Stopping all clients.

finished in 5.00s, 10067.20 req/s, 1.42MB/s
requests: 50336 total, 50436 started, 50330 done, 50300 succeeded, 36 failed, 30 errored, 6 timeout
status codes: 50290 2xx, 0 3xx, 4 4xx, 6 5xx
traffic: 7.12MB (7462530) total, 1.15MB (1204000) headers (space savings 80.12%), 983.13KB (1006720) data
                     min         max         mean         sd        +/- sd
time for request:      412us      1.02s      9.46ms      3.02ms    71.23%
time for connect:     4.12ms      6.31ms      5.01ms       701us    60.00%
time to 1st byte:    10.31ms     14.22ms     12.05ms      1.30ms    60.00%
req/s           :     998.21     1020.30     1006.72        6.83    70.00%
`;

test('h2load: throughput, mean and max latency in their units, errors and the TLS session', () => {
  assert.deepEqual(parseH2load(h2loadReport), {
    tls: 'TLSv1.3 TLS_AES_256_GCM_SHA384 h2',
    requestsPerSec: 10067.2,
    meanMs: 9.46,
    maxMs: 1020,
    requests: 50330,
    non2xx: 10,
    streamErrors: 36,
  });
});

test('h2load: in cleartext there is no TLS session; an unreadable report names the missing figure', () => {
  assert.equal(parseH2load(h2loadReport.replace(/^(TLS Protocol|Cipher|Server Temp Key|Application protocol):.*\n/gm, '')).tls, null);
  assert.throws(() => parseH2load('connect to 127.0.0.1:1 failed'), /req\/s/);
});

test('h2load: the arguments pin the TLS 1.3 suite over TLS only, and post the body from a file', () => {
  const base = { port: 1, path: '/x', host: 'bench.local', durationSec: 5, clients: 10, streams: 10, threads: 1 } as const;
  const tls = h2loadArgs({ ...base, scheme: 'https' });
  assert.ok(tls.includes(`--tls13-ciphers=${H2LOAD_TLS13_CIPHER}`));
  assert.deepEqual(tls.slice(0, 4), ['-t1', '-c10', '-m10', '-D5']);
  assert.equal(tls.at(-1), 'https://127.0.0.1:1/x');
  const clear = h2loadArgs({ ...base, scheme: 'http' }, '/nonexistent/never-written');
  assert.ok(!clear.some((a) => a.startsWith('--tls13-ciphers')));
  assert.throws(() => h2loadArgs({ ...base, scheme: 'http', body: Buffer.from('x') }), /data file/);
});
