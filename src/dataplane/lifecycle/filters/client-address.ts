import type { ClientAddressFilter } from '../../../model/table.ts';
import type { LifecycleRequest } from '../request.ts';
import type { RequestStep } from '../request-step.ts';
import { AddressSet } from './address-set.ts';

/**
 * ClientAddress: ingress-nginx's `denylist-source-range` and `whitelist-source-range`. The client
 * address is the one RouteScripts see as `clientIp` (after the PROXY protocol and trusted proxies'
 * X-Forwarded-For); an address in `deny`, or outside a non-empty `allow`, gets 403
 * `client-address`. Both lists are prepared once per table swap (see AddressSet).
 */
export class ClientAddressStep implements RequestStep {
  /** Null when the filter denies nothing. */
  readonly #deny: AddressSet | null;
  /** Null when the filter allows every address (no `allow`, or an empty one). */
  readonly #allow: AddressSet | null;

  constructor(filter: ClientAddressFilter) {
    const deny = new AddressSet(filter.deny ?? []);
    const allow = new AddressSet(filter.allow ?? []);
    this.#deny = deny.empty ? null : deny;
    this.#allow = allow.empty ? null : allow;
  }

  /** Whether a client at `address` may use the route. */
  /**
   * Whether an allow rule names the address (and no deny rule does): what nginx's access module
   * answers NGX_OK to. Under `satisfy: any` only that admits a request; an address no rule names
   * is declined, and the next check (the password, the auth service) decides.
   */
  grants(address: string): boolean {
    return this.#allow !== null && this.#allow.has(address) && !(this.#deny !== null && this.#deny.has(address));
  }

  admits(address: string): boolean {
    if (this.#deny !== null && this.#deny.has(address)) return false;
    return this.#allow === null || this.#allow.has(address);
  }

  run(r: LifecycleRequest): boolean {
    if (this.admits(r.state.clientIpOf(r.req))) return true;
    r.fail('client-address');
    return false;
  }
}
