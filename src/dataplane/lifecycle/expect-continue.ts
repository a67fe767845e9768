/**
 * `Expect: 100-continue` (RFC 9110 §10.1.1), answered the way nginx does: the interim 100 goes out
 * only once the request body is wanted — when the exchange has its upstream connection and starts
 * reading it — so a request refused first (413 for a declared length over the body limit, 401, 403,
 * a redirect, a route that does not exist) gets its final answer without a 100 and its client never
 * sends the body. Node would answer 100 before the handler runs, inviting every body it then refuses.
 *
 * Such a final answer before the body is read also closes the HTTP/1.1 connection (RFC 9110 §10.1.1:
 * a server answering before reading the content says whether it closes the connection): the client
 * may send the body anyway, and nothing of it must be read as a next request.
 */
import type { EventEmitter } from 'node:events';
import type { ClientRequest, ClientResponse } from './proxy-state.ts';

/** The responses of requests still waiting for their 100, and whether each would keep its connection. */
const waiting = new WeakMap<ClientRequest, { res: ClientResponse; keepAlive: boolean | null }>();

/**
 * Serves `Expect: 100-continue` requests of `server` through its 'request' listeners (every one of
 * them, in order: connection caps and drains apply as to any request), with the 100 held back.
 */
export function holdContinue(server: EventEmitter): void {
  server.on('checkContinue', (req: ClientRequest, res: ClientResponse) => {
    let keepAlive: boolean | null = null;
    if ('shouldKeepAlive' in res) {
      keepAlive = res.shouldKeepAlive;
      res.shouldKeepAlive = false;
    }
    waiting.set(req, { res, keepAlive });
    server.emit('request', req, res);
  });
}

/**
 * The request body is read from now on: a client waiting for 100 gets it, and its HTTP/1.1
 * connection may be kept alive again (unless something since asked for it to close).
 */
export function sendContinue(req: ClientRequest, draining: boolean): void {
  const held = waiting.get(req);
  if (held === undefined) return;
  waiting.delete(req);
  const { res, keepAlive } = held;
  if (res.headersSent || res.writableEnded) return;
  if (keepAlive !== null && !draining && 'shouldKeepAlive' in res) res.shouldKeepAlive = keepAlive;
  res.writeContinue();
}
