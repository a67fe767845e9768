import type { LifecycleRequest } from '../request.ts';
import type { RequestStep } from '../request-step.ts';
import type { BasicAuthStep } from './basic-auth.ts';
import type { ClientAddressStep } from './client-address.ts';

/**
 * A route's access checks under `satisfy: any` (nginx's `satisfy any`): its ClientAddress filters,
 * together one address list as nginx's `allow`/`deny` rules are, or its BasicAuth; either one
 * admitting the request suffices. An admitted address skips the password check (the client's
 * `Authorization` still does not go upstream unless the filter forwards it); any other request
 * must pass BasicAuth, whose 401 challenge answers it otherwise — nginx keeps the 401 of its
 * authentication over the 403 of its address rules.
 */
export class AnyAccessStep implements RequestStep {
  readonly #addresses: ClientAddressStep[] = [];
  #basic: BasicAuthStep | null = null;

  /** Adds one of the route's ClientAddress filters. */
  addAddresses(step: ClientAddressStep): void {
    this.#addresses.push(step);
  }

  /** Sets the route's BasicAuth filter. */
  setBasic(step: BasicAuthStep): void {
    this.#basic = step;
  }

  run(r: LifecycleRequest): boolean {
    const basic = this.#basic;
    const address = r.state.clientIpOf(r.req);
    if (this.#addresses.every((a) => a.admits(address))) {
      basic?.skipped(r);
      return true;
    }
    // checkTable guarantees a BasicAuth with satisfy any; without one the addresses alone decide.
    if (basic === null) {
      r.fail('client-address');
      return false;
    }
    return basic.run(r);
  }
}
