/**
 * "Power of two random choices", shared by least-request and EWMA: draw two distinct usable
 * endpoints uniformly, send the request to the cheaper. Almost as good as asking every endpoint,
 * for the price of two; and unlike "always the cheapest" it does not stampede onto one endpoint
 * whose counters look good only because they are stale.
 */
import type { BalancerEndpoint } from './types.ts';

/** Draws per candidate before giving up on drawing (most endpoints are unusable). */
const MAX_DRAWS = 4;

/**
 * A uniformly drawn index of a usable endpoint other than `exclude` (-1 for none), or -1 when
 * {@link MAX_DRAWS} draws all met unusable endpoints.
 */
export function drawUsable<E extends BalancerEndpoint>(endpoints: readonly E[], usable: (e: E) => boolean, random: () => number, exclude: number): number {
  const n = exclude < 0 ? endpoints.length : endpoints.length - 1;
  if (n === 0) return -1;
  for (let draw = 0; draw < MAX_DRAWS; draw++) {
    let index = Math.floor(random() * n);
    if (index >= n) index = n - 1;
    // Drawing from n - 1 and stepping over `exclude` keeps the draw uniform over the others.
    if (exclude >= 0 && index >= exclude) index++;
    if (usable(endpoints[index]!)) return index;
  }
  return -1;
}

/**
 * The usable endpoint of least `cost`, by a full scan starting at a random index (so ties do not
 * always go to the same endpoint); null if none is usable. The rare path when drawing failed.
 */
export function cheapestUsable<E extends BalancerEndpoint>(endpoints: readonly E[], usable: (e: E) => boolean, random: () => number, cost: (e: E) => number): E | null {
  const n = endpoints.length;
  const start = Math.floor(random() * n) % n;
  let best: E | null = null;
  let bestCost = Infinity;
  for (let k = 0; k < n; k++) {
    const endpoint = endpoints[(start + k) % n]!;
    if (!usable(endpoint)) continue;
    const c = cost(endpoint);
    if (best === null || c < bestCost) {
      best = endpoint;
      bestCost = c;
    }
  }
  return best;
}
