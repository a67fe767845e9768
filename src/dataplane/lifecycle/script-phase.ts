import type { Decision, Outcome, RespondDecision, ScriptEngine, ScriptRequest } from '../../script/index.ts';
import type { RouteContext } from './route-context.ts';
import type { ScriptBinding } from './script-binding.ts';

/**
 * What the proxy does with a request after its route's script ran:
 * - `forward`: go upstream through `ctx` (the route, or one of the script's backends), applying
 *   the decision's header edits and hash key (`decision` null: as if there were no script);
 * - `respond`: answer with the script's own response; `redirect`: answer with its redirect;
 * - `reject`: the script failed and its failure policy is `reject`: answer `status`.
 * `note` says what happened, for the access log.
 */
export type ScriptVerdict =
  | { readonly action: 'forward'; readonly ctx: RouteContext; readonly decision: Decision | null; readonly note: string }
  | { readonly action: 'respond'; readonly respond: RespondDecision; readonly note: string }
  | { readonly action: 'redirect'; readonly status: number; readonly location: string; readonly note: string }
  | { readonly action: 'reject'; readonly status: number; readonly note: string };

/**
 * Runs `binding`'s script for one request and turns the outcome into a verdict, counting the run,
 * its decision kinds or failure cause, and its duration. A failure affects this request only: by
 * the failure policy it is served as if the route had no script (`fallback`) or refused (`reject`).
 */
export function runScript(engine: ScriptEngine, binding: ScriptBinding, route: RouteContext, request: ScriptRequest): Promise<ScriptVerdict> {
  binding.invocations.inc();
  if (binding.loaded === null) return Promise.resolve(verdictOf(binding, route, INVALID));
  return engine.run(binding.loaded, request, binding.state).then((outcome) => verdictOf(binding, route, outcome));
}

/** The outcome of every request to a route whose RouteScript is invalid and fails closed. */
const INVALID: Outcome = Object.freeze({ ok: false, cause: 'unavailable', message: 'the RouteScript is invalid (see its diagnostics)' });

/** The verdict for `outcome`; exported for tests of the mapping itself. */
export function verdictOf(binding: ScriptBinding, route: RouteContext, outcome: Outcome): ScriptVerdict {
  if (!outcome.ok) {
    binding.countError(outcome.cause);
    const note = `${binding.id} failed: ${outcome.cause}`;
    if (binding.failurePolicy === 'reject') return { action: 'reject', status: binding.rejectStatus, note };
    return { action: 'forward', ctx: route, decision: null, note: `${note} (fallback)` };
  }
  binding.duration.observe(outcome.cpuMs / 1000);
  const decision = outcome.decision;
  binding.countDecision(decision);
  if (decision === null) return { action: 'forward', ctx: route, decision: null, note: `${binding.id}: default` };
  if (decision.respond !== undefined) return { action: 'respond', respond: decision.respond, note: `${binding.id}: respond ${decision.respond.status}` };
  const redirect = decision.redirect;
  if (redirect !== undefined) return { action: 'redirect', status: redirect.status, location: redirect.location, note: `${binding.id}: redirect ${redirect.status}` };
  // The engine refused any backend the script did not declare, so the lookup cannot miss.
  const ctx = decision.backend === undefined ? route : binding.backends.get(decision.backend)!;
  return { action: 'forward', ctx, decision, note: `${binding.id}: ${decision.backend === undefined ? 'route' : `backend ${decision.backend}`}` };
}
