import type { ClientRequest, ClientResponse, ListenerInfo, ProxyState } from './proxy-state.ts';
import { ProxyRequest } from './request.ts';

/**
 * The request handler of a listener: one {@link ProxyRequest} per request, which carries it
 * through the lifecycle (request.ts lists the phases; route-plan.ts declares each route's).
 */
export function createProxyHandler(state: ProxyState, listener: ListenerInfo): (req: ClientRequest, res: ClientResponse) => void {
  return function handleRequest(req, res) {
    if (state.draining && 'shouldKeepAlive' in res) res.shouldKeepAlive = false;
    new ProxyRequest(state, listener, req, res, performance.now()).begin();
  };
}
