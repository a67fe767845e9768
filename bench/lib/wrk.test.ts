// Not part of `npm test` (benchmarks are not tests); run with `node --test bench/lib/wrk.test.ts`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseWrk } from './wrk.ts';

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
