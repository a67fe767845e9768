/**
 * The `answer` target: node:http answering every request itself, with the upstream's own body and
 * no upstream at all. What it spends per request is what any proxy on node:http spends before it
 * proxies anything (it still has to read the upstream's answer and write a request of its own), so
 * its CPU per request against nginx's shows how far such a proxy can get here. Run as a child
 * process by lib/floors.ts; it runs on the main thread.
 *
 *   node bench/lib/answer-server.ts --port N --upstream-port N   (the upstream is not used)
 */
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import { HEADERS_PATH, HELLO_BODY } from './nginx.ts';

const HOST = '127.0.0.1';
const { values } = parseArgs({ options: { port: { type: 'string' }, 'upstream-port': { type: 'string' } } });
const port = Number(values.port);
if (!Number.isInteger(port)) throw new Error('usage: node bench/lib/answer-server.ts --port N --upstream-port N');

const hello = Buffer.from(HELLO_BODY);
const headers = Buffer.from('x-forwarded-for= x-forwarded-proto= x-forwarded-host= x-real-ip=\n');

createServer((req, res) => {
  const body = req.url === HEADERS_PATH ? headers : hello;
  res.writeHead(200, ['content-type', 'text/plain', 'content-length', String(body.length)]);
  res.end(body);
}).listen(port, HOST);
