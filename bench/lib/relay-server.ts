/**
 * The `relay` target: what Node.js itself costs a proxy on this machine. Each client connection
 * gets one upstream connection, and bytes are copied both ways as they come: no parsing, no
 * routing, no header work, no HTTP at all (a request and its response simply go through the same
 * pair of connections). Every proxy that understands HTTP does at least this much system and event
 * loop work per request, so relay/nginx bounds what any Node.js HTTP proxy can reach here.
 * Run as a child process by lib/floors.ts; it runs on the main thread.
 *
 *   node bench/lib/relay-server.ts --port N --upstream-port N
 */
import { connect, createServer } from 'node:net';
import { parseArgs } from 'node:util';

const HOST = '127.0.0.1';
const { values } = parseArgs({ options: { port: { type: 'string' }, 'upstream-port': { type: 'string' } } });
const port = Number(values.port);
const upstreamPort = Number(values['upstream-port']);
if (!Number.isInteger(port) || !Number.isInteger(upstreamPort)) throw new Error('usage: node bench/lib/relay-server.ts --port N --upstream-port N');

createServer({ noDelay: true }, (client) => {
  const upstream = connect({ host: HOST, port: upstreamPort, noDelay: true });
  client.on('data', (chunk: Buffer) => upstream.write(chunk));
  upstream.on('data', (chunk: Buffer) => client.write(chunk));
  client.on('close', () => upstream.destroy());
  upstream.on('close', () => client.destroy());
  client.on('error', () => {});
  upstream.on('error', () => {});
}).listen(port, HOST);
