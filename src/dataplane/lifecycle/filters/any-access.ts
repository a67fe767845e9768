import type { LifecycleRequest } from '../request.ts';
import type { RequestStep } from '../request-step.ts';
import type { BasicAuthStep } from './basic-auth.ts';
import type { ClientAddressStep } from './client-address.ts';
import type { ExternalAuthStep } from './external-auth.ts';

/**
 * A route's access checks under `satisfy: any` (nginx's `satisfy any`), in nginx's order: its
 * ClientAddress filters (together one address list, as nginx's `allow`/`deny` rules are; it admits
 * only an address an allow rule names), its
 * BasicAuth, its ExternalAuth; the first that admits the request lets it through and the later
 * ones are not asked (no subrequest is sent). A check that is skipped still keeps what it guards
 * from the upstream: the client's `Authorization` (unless forwarded), the client's own fields of
 * the auth service's `responseHeaders`. A request none admits is answered by the last check asked,
 * except that a refused password's 401 outweighs the auth service's 403, as nginx keeps a 401 over
 * a 403; a check that cannot be made (credentials unreadable, the service failing) answers at once.
 */
export class AnyAccessStep implements RequestStep {
  readonly #addresses: ClientAddressStep[] = [];
  #basic: BasicAuthStep | null = null;
  #external: ExternalAuthStep | null = null;

  /** Adds one of the route's ClientAddress filters. */
  addAddresses(step: ClientAddressStep): void {
    this.#addresses.push(step);
  }

  /** Sets the route's BasicAuth filter. */
  setBasic(step: BasicAuthStep): void {
    this.#basic = step;
  }

  /** Sets the route's ExternalAuth filter. */
  setExternal(step: ExternalAuthStep): void {
    this.#external = step;
  }

  run(r: LifecycleRequest): boolean {
    const basic = this.#basic;
    const external = this.#external;
    if (this.#addresses.length > 0) {
      const address = r.state.clientIpOf(r.req);
      // Admitted only by an allow rule that names the address: a deny list alone admits no one.
      if (this.#addresses.every((a) => a.admits(address)) && this.#addresses.some((a) => a.grants(address))) {
        if (basic !== null) basic.skipped(r);
        if (external !== null) external.skipped(r);
        return true;
      }
    }
    if (basic !== null) {
      const verdict = basic.verdict(r);
      if (verdict === 'unavailable') {
        r.fail('auth-unavailable');
        return false;
      }
      if (verdict === 'admitted') {
        if (external !== null) external.skipped(r);
        return true;
      }
    }
    if (external !== null) return external.ask(r, basic);
    // checkTable guarantees two kinds of check; with the addresses alone, they decide.
    if (basic !== null) basic.refuse(r);
    else r.fail('client-address');
    return false;
  }
}
