import { smoothSchedule } from '../../balancer/smooth-schedule.ts';
import type { RouteContext } from './route-context.ts';

/**
 * A route's weighted backends, picked per request by smooth weighted round robin (nginx's order,
 * precomputed once per table swap by smoothSchedule), per route and per worker. A backend with
 * weight 0 is never picked; one the front end could not resolve is picked for its share, and its
 * context is `missing` (those requests are answered 500).
 */
export class BackendChoice {
  readonly #contexts: readonly RouteContext[];
  readonly #schedule: Uint32Array;
  #next = 0;

  /** @param weighted the contexts and weights of the backends with weight > 0, at least two. */
  constructor(weighted: readonly { readonly ctx: RouteContext; readonly weight: number }[]) {
    this.#contexts = weighted.map((b) => b.ctx);
    this.#schedule = smoothSchedule(weighted.map((b) => b.weight));
  }

  /** The backend of the next request. */
  pick(): RouteContext {
    const at = this.#next;
    this.#next = at + 1 === this.#schedule.length ? 0 : at + 1;
    return this.#contexts[this.#schedule[at]!]!;
  }
}
