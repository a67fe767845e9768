import type { RateLimitFilter } from '../../../model/table.ts';
import { unmapIPv4 } from '../../server/trusted-proxies.ts';
import type { ClientResponse } from '../proxy-state.ts';
import type { LifecycleRequest } from '../request.ts';
import type { RequestStep } from '../request-step.ts';
import type { RateLimitZone } from './rate-limit-zone.ts';

/**
 * RateLimit (see {@link RateLimitFilter}): keyed by the client address after `--trusted-proxies`,
 * the connection limit first, then the rates (ingress-nginx's order: `limit-connections`,
 * `limit-rpm`, `limit-rps`). A refusal is the proxy's own answer, with the filter's status; the
 * request never goes upstream.
 */
export class RateLimitStep implements RequestStep {
  readonly #zone: RateLimitZone;
  readonly #rateStatus: number;
  readonly #connectionStatus: number;

  constructor(zone: RateLimitZone, filter: RateLimitFilter) {
    this.#zone = zone;
    this.#rateStatus = filter.rateStatus;
    this.#connectionStatus = filter.connectionStatus;
  }

  run(r: LifecycleRequest): boolean {
    const zone = this.#zone;
    // A client already gone is not counted: its end would never be seen, and the next phase drops it.
    if (zone.admitted.has(r) || r.gone()) return true;
    const address = unmapIPv4(r.state.clientIpOf(r.req));
    if (zone.allows(address)) return true;
    if (zone.connections !== null) {
      if (!zone.enter(address)) {
        r.fail('connection-limited', this.#connectionStatus);
        return false;
      }
      whenDone(r, () => zone.leave(address));
    }
    if (zone.buckets !== null && !zone.buckets.take(address)) {
      r.fail('rate-limited', this.#rateStatus);
      return false;
    }
    zone.admitted.add(r);
    return true;
  }
}

/**
 * Calls `done` once the request is over: its response ended or its client went away (the
 * response's 'close', on HTTP/1 and HTTP/2 alike), or for an upgrade, which has no response
 * object, its socket closed (the tunnel's end).
 */
function whenDone(r: LifecycleRequest, done: () => void): void {
  const res = (r as { readonly res?: ClientResponse }).res;
  if (res !== undefined) res.once('close', done);
  else r.req.socket.once('close', done);
}
