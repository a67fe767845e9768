/**
 * A tiny upstream that answers every request after a fixed delay, and counts them: the slow and the
 * fast endpoint of the per-worker-state measurement in policies.ts. `GET /count` answers
 * `{"requests":N}` (not counted itself); `GET /count?reset` answers the same and starts again from 0.
 * Run as a child process by lib/delay-upstream.ts.
 *
 *   node bench/lib/delay-upstream-server.ts --port N --delay-ms 20
 */
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { port: { type: 'string' }, 'delay-ms': { type: 'string' } } });
const port = Number(values.port);
const delayMs = Number(values['delay-ms']);
if (!Number.isInteger(port) || !Number.isFinite(delayMs) || delayMs < 0) {
  throw new Error('usage: node bench/lib/delay-upstream-server.ts --port N --delay-ms MS');
}

const BODY = 'ok\n';
let requests = 0;

const server = createServer((req, res) => {
  if (req.url === '/count' || req.url === '/count?reset') {
    res.writeHead(200, { 'content-type': 'application/json' }).end(`${JSON.stringify({ requests })}\n`);
    if (req.url === '/count?reset') requests = 0;
    return;
  }
  requests++;
  setTimeout(() => res.writeHead(200, { 'content-type': 'text/plain', 'content-length': BODY.length }).end(BODY), delayMs);
});
// Longer than any run, so the proxy's pooled connections are never closed under it.
server.keepAliveTimeout = 300_000;
server.listen(port, '127.0.0.1');
