import type { LifecycleRequest } from './request.ts';
import type { ResponseHead, ResponseStep } from './request-step.ts';

/**
 * Runs a route's response-side filters, in the order the plan gives them (the reverse of the
 * route's filters), on the response head. Null when
 * every step finished at once (header filters: the common case, no promise made); otherwise a
 * promise that settles once the remaining steps have run, each after the one before.
 */
export function runResponsePhase(r: LifecycleRequest, head: ResponseHead, steps: readonly ResponseStep[], from = 0): Promise<void> | null {
  for (let i = from; i < steps.length; i++) {
    const pending = steps[i]!.run(r, head);
    if (pending !== null) return pending.then(() => runResponsePhase(r, head, steps, i + 1) ?? undefined);
  }
  return null;
}
