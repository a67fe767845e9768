/** The balancer of a cluster without endpoints. */
import type { Balancer, BalancerEndpoint } from './types.ts';

/** Picks nothing: every request to an empty cluster gets null. */
export class EmptyBalancer<E extends BalancerEndpoint> implements Balancer<E> {
  pick(): E | null {
    return null;
  }
}
