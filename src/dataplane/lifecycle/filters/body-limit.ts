import type { BodyLimitFilter } from '../../../model/table.ts';
import type { LifecycleRequest } from '../request.ts';
import type { RequestStep } from '../request-step.ts';

/**
 * BodyLimit, as nginx's `client_max_body_size`: a request whose Content-Length is over `maxBytes`
 * gets 413 `body-too-large` at once, before a byte of it goes upstream, and its body is not read
 * (the connection is not kept for it: see answers.ts). A body of unknown length is counted as it
 * streams upstream instead — the route plan's `bodyLimit`, which the exchange holds it to.
 */
export class BodyLimitStep implements RequestStep {
  readonly #maxBytes: number;

  constructor(filter: BodyLimitFilter) {
    this.#maxBytes = filter.maxBytes;
  }

  run(r: LifecycleRequest): boolean {
    const declared = r.req.headers['content-length'];
    // The parsers have refused a Content-Length that is not a number; a list of them, too.
    if (declared === undefined || Number(declared) <= this.#maxBytes) return true;
    r.fail('body-too-large');
    return false;
  }
}
