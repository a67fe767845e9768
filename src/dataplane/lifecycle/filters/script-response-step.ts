import type { ResponseDecision, ResponseOutcome, ScriptResponse } from '../../../script/index.ts';
import { errorAnswer } from '../error-responses.ts';
import type { LifecycleRequest } from '../request.ts';
import type { ResponseHead, ResponseStep } from '../request-step.ts';
import type { ScriptBinding } from '../script-binding.ts';
import { applyHeaderEdits } from './header-edits.ts';
import { fieldRecord } from '../script-request.ts';
import { answerHead } from '../response-phase.ts';

/**
 * A RouteScript's `onResponse`, in the response phase: it sees the status and fields about to go
 * to the client (with the edits of the steps that ran before it in the phase — the filters after
 * it in the route) and the request as its own `onRequest` saw it. It runs only for a request that
 * reached the script. Its decision edits the fields (`setHeaders` replaces, `removeHeaders` drops)
 * or, for an error response (400 or more; the engine refuses `respond` on any other), replaces
 * the whole response, body included. A failed run changes nothing under `fallback`; under
 * `reject` the client gets the script's rejectStatus instead.
 */
export class ScriptResponseStep implements ResponseStep {
  readonly #binding: ScriptBinding;

  constructor(binding: ScriptBinding) {
    this.#binding = binding;
  }

  run(r: LifecycleRequest, head: ResponseHead): Promise<void> | null {
    const binding = this.#binding;
    const loaded = binding.loaded;
    const scripts = r.state.scripts;
    const request = r.reachedView(binding);
    if (loaded === null || scripts === null || request === undefined) return null;
    binding.invocations.inc();
    const view: ScriptResponse = { status: head.status, headers: fieldRecord(head.headers), request };
    return scripts.engine.runResponse(loaded, view, binding.state).then((outcome) => this.#apply(r, head, outcome));
  }

  #apply(r: LifecycleRequest, head: ResponseHead, outcome: ResponseOutcome): void {
    const binding = this.#binding;
    if (!outcome.ok) {
      binding.countError(outcome.cause);
      const note = `${binding.id} response failed: ${outcome.cause}`;
      if (binding.failurePolicy !== 'reject') return r.noteScript(`${note} (fallback)`);
      r.noteScript(note);
      const answer = errorAnswer('script-failed', binding.rejectStatus);
      return replace(head, binding.rejectStatus, answer.headers, answer.body);
    }
    binding.duration.observe(outcome.cpuMs / 1000);
    const decision: ResponseDecision | null = outcome.decision;
    binding.countResponseDecision(decision);
    if (decision === null) return;
    const respond = decision.respond;
    if (respond !== undefined) {
      r.noteScript(`${binding.id}: response respond ${respond.status}`);
      const body = respond.body ?? '';
      const headers: Record<string, string | number> = { server: 'signalbox', ...respond.headers };
      if (body !== '' && headers['content-type'] === undefined) headers['content-type'] = 'text/plain; charset=utf-8';
      return replace(head, respond.status, headers, body);
    }
    const set = decision.setHeaders;
    applyHeaderEdits(head.headers, {
      ...(set === undefined ? {} : { set: Object.keys(set).map((name) => ({ name, value: set[name]! })) }),
      ...(decision.removeHeaders === undefined ? {} : { remove: decision.removeHeaders }),
    });
    r.noteScript(`${binding.id}: response headers`);
  }
}

/** Puts a response of the proxy's own in place of the head (its body replaces the upstream's). */
function replace(head: ResponseHead, status: number, headers: Readonly<Record<string, string | number>>, body: string): void {
  const answer = answerHead(status, headers, body);
  head.status = answer.status;
  head.headers = answer.headers;
  head.body = answer.body;
  head.own = true;
}
