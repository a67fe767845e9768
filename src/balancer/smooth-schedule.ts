/**
 * The order of nginx's smooth weighted round robin, computed once per table swap so that a pick is
 * one array read instead of nginx's pass over every endpoint.
 *
 * nginx, per pick: every endpoint's `current` grows by its weight, the largest `current` wins
 * (the first in table order on a tie) and loses the total weight. Heavy endpoints are spread out
 * rather than sent in bursts: weights 5,1,1 give `a a b a c a a`. After total/gcd picks every
 * `current` is back to zero, so the order is periodic and one period is the whole schedule.
 *
 * Building it: after t picks, `current_i = t × w_i − W × picks_i`. Endpoints of equal weight
 * therefore take turns in table order, so only the next endpoint of each distinct weight is a
 * candidate: O(period × distinct weights), not O(period × endpoints).
 */

/** Longest schedule built exactly; larger weight sums are scaled down to fit (see smoothSchedule). */
export const MAX_SCHEDULE = 65_536;

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/** One distinct weight's endpoints, in table order, and whose turn it is among them. */
interface WeightGroup {
  readonly weight: number;
  readonly members: readonly number[];
  next: number;
  /** Picks each member before `next` has had; members from `next` on have had one fewer. */
  rounds: number;
}

/**
 * Endpoint indexes in smooth weighted round robin order, one period long.
 * @param weights integers >= 1, one per endpoint. Exact when the sum of the weights divided by
 *   their gcd is at most {@link MAX_SCHEDULE}. Beyond that (never with Kubernetes' unweighted
 *   endpoints) each weight is first rounded down to a multiple of about total/65536, at least one
 *   such unit, so shares are off by roughly 1/65536 of the traffic each.
 */
export function smoothSchedule(weights: readonly number[]): Uint32Array {
  let divisor = 0;
  for (const w of weights) divisor = gcd(w, divisor);
  let reduced = weights.map((w) => w / divisor);
  let total = reduced.reduce((sum, w) => sum + w, 0);
  if (total > MAX_SCHEDULE) {
    const scale = (MAX_SCHEDULE - weights.length) / total;
    reduced = reduced.map((w) => Math.max(1, Math.floor(w * scale)));
    total = reduced.reduce((sum, w) => sum + w, 0);
  }

  const byWeight = new Map<number, number[]>();
  reduced.forEach((w, index) => {
    const members = byWeight.get(w);
    if (members) members.push(index);
    else byWeight.set(w, [index]);
  });
  const groups: WeightGroup[] = [...byWeight].map(([weight, members]) => ({ weight, members, next: 0, rounds: 0 }));

  const schedule = new Uint32Array(total);
  for (let t = 1; t <= total; t++) {
    let best: WeightGroup | null = null;
    let bestCurrent = -Infinity;
    let bestIndex = 0;
    for (const group of groups) {
      const current = t * group.weight - total * group.rounds;
      const index = group.members[group.next]!;
      if (current > bestCurrent || (current === bestCurrent && index < bestIndex)) {
        best = group;
        bestCurrent = current;
        bestIndex = index;
      }
    }
    schedule[t - 1] = bestIndex;
    best!.next++;
    if (best!.next === best!.members.length) {
      best!.next = 0;
      best!.rounds++;
    }
  }
  return schedule;
}
