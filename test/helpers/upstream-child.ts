/**
 * An upstream in a process of its own, for tests that kill one for real: `node upstream-child.ts
 * NAME DELAY_MS` listens on 127.0.0.1:0, prints `listening PORT`, then one line `got METHOD URL`
 * per request as it arrives, and answers `200 NAME METHOD URL` (header `x-upstream: NAME`) after
 * DELAY_MS — so that, under load, it always holds requests in flight.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const [name = 'child', delay = '0'] = process.argv.slice(2);
const delayMs = Number(delay);

const server = createServer((req, res) => {
  // Written before the answer: on Linux a write to a pipe is synchronous, so a line printed is a
  // request received, even if the process is killed the next instant.
  process.stdout.write(`got ${req.method} ${req.url}\n`);
  req.resume();
  setTimeout(() => {
    res.writeHead(200, { 'content-type': 'text/plain', 'x-upstream': name });
    res.end(`${name} ${req.method} ${req.url}`);
  }, delayMs);
});
server.listen(0, '127.0.0.1', () => process.stdout.write(`listening ${(server.address() as AddressInfo).port}\n`));
// The test that started this process is its only reason to live.
process.stdin.on('end', () => process.exit(0)).resume();
