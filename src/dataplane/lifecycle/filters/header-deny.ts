import type { HeaderDenyFilter } from '../../../model/table.ts';
import type { LifecycleRequest } from '../request.ts';
import type { RequestStep } from '../request-step.ts';
import { ValueMatcher } from '../value-matcher.ts';

/**
 * HeaderDeny: ingress-nginx's `block-user-agents` and `block-referers`. A request whose header (the
 * empty value when it has none) matches answers 403 `header-denied`.
 */
export class HeaderDenyStep implements RequestStep {
  readonly #header: string;
  readonly #matcher: ValueMatcher;

  constructor(filter: HeaderDenyFilter) {
    this.#header = filter.header;
    this.#matcher = new ValueMatcher(filter.matches);
  }

  run(r: LifecycleRequest): boolean {
    const raw = r.req.headers[this.#header];
    const value = raw === undefined ? '' : Array.isArray(raw) ? raw.join(', ') : raw;
    if (!this.#matcher.matches(value)) return true;
    r.fail('header-denied');
    return false;
  }
}
