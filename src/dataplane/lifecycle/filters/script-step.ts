import type { Decision, ScriptRequest } from '../../../script/index.ts';
import type { Waited } from '../pause-phase.ts';
import type { LifecycleRequest } from '../request.ts';
import type { RequestStep, UpstreamEdit } from '../request-step.ts';
import type { ScriptBinding } from '../script-binding.ts';
import { runScript, type ScriptVerdict } from '../script-phase.ts';
import { fieldRecord, scriptRequest } from '../script-request.ts';
import { editHeaders } from '../../upstream/upstream-headers.ts';

/** A script's pause without a maximum wait holds this long (its gate's deadline still applies). */
const DEFAULT_SCRIPT_PAUSE_MS = 30_000;

/**
 * RouteScript: first an operator's pause of the RouteScript holds the request (pause-phase.ts);
 * then its `onRequest` runs on the request as the filters before it left it (their rewritten path
 * and host, and the header edits queued so far — by filters and earlier scripts — applied to its
 * `headers`), and its verdict applies: `respond` and `redirect` answer and end the chain, `reject`
 * answers the failure policy's status, `forward` goes on with the next filter. Of several
 * RouteScripts on a route, the last `backend`, `hashKey`, `rewrite.path` and `rewrite.host` decided
 * win; header edits queue in filter order with the other filters' edits. The request as the
 * script saw it is kept for its `onResponse` (script-response-step.ts).
 */
export class ScriptStep implements RequestStep {
  readonly #binding: ScriptBinding;

  constructor(binding: ScriptBinding) {
    this.#binding = binding;
  }

  run(r: LifecycleRequest): boolean {
    const state = r.state;
    const scripts = state.scripts;
    if (scripts === null) return true;
    const binding = this.#binding;
    const primary = r.primary();
    const pauses = state.pauses;
    if (pauses !== null && (binding.pause !== null || (r.canHold && r.waited === null && pauses.find('operator', binding.id)?.releasing === true))) {
      const gate = pauses.gate('operator', binding.id, primary.cluster.policy.pause);
      r.hold({ gate, maxWaitMs: binding.pause?.maxWaitMs ?? primary.cluster.policy.pause.maxWaitMs, onRelease: (w) => r.again(w) });
      return false;
    }
    const routed = r.routed!;
    const request = withEdits(scriptRequest(r.req, r.upstreamHost ?? routed.host, r.currentPath(), routed.target.query, state.clientIpOf(r.req)), r.edits);
    r.reach(binding, request);
    runScript(scripts.engine, binding, primary, request).then((verdict) => r.guarded(() => this.#after(r, verdict)));
    return false;
  }

  /** Acts on the verdict (the client may have left while the script ran: then nothing goes on). */
  #after(r: LifecycleRequest, verdict: ScriptVerdict): void {
    r.noteScript(verdict.note);
    if (r.gone()) return r.closed();
    switch (verdict.action) {
      case 'respond': {
        const { status, headers = {}, body = '' } = verdict.respond;
        return r.respond(status, headers, body, 'script-respond');
      }
      case 'redirect':
        return r.respond(verdict.status, { location: verdict.location }, '', 'redirect');
      case 'reject':
        return r.fail('script-failed', verdict.status);
      case 'forward': {
        const decision = verdict.decision;
        if (decision === null) return r.proceed();
        if (decision.backend !== undefined) r.ctx = verdict.ctx;
        if (decision.hashKey !== undefined) r.hashKey = decision.hashKey;
        const rewrite = decision.rewrite;
        if (rewrite !== undefined) {
          if (rewrite.path !== undefined) r.upstreamPath = rewrite.path;
          if (rewrite.host !== undefined) r.upstreamHost = rewrite.host;
        }
        if (decision.setHeaders !== undefined || decision.removeHeaders !== undefined) r.addEdit(new ScriptEdit(decision));
        const pause = decision.pause;
        if (pause === undefined || r.state.pauses === null) return r.proceed();
        // The script pauses the request. With `until`, it waits for the RouteScript to change (new
        // data or code) and then runs through the route again, so the script decides anew; at its
        // deadline it gets 503. Without `until` it is a delay: at the deadline it goes on as decided.
        const binding = this.#binding;
        const gate = r.state.pauses.gate('script', binding.id, r.primary().cluster.policy.pause);
        gate.tag = binding.loaded;
        const goOn = (w: Waited): void => {
          r.waited = w;
          r.proceed();
        };
        return r.hold({
          gate,
          maxWaitMs: pause.maxWaitMs ?? DEFAULT_SCRIPT_PAUSE_MS,
          onRelease: (w) => r.again(w),
          ...(pause.until === undefined ? { onExpire: goOn, delay: true } : {}),
        });
      }
    }
  }
}

/** A script's header decision, queued among the filters' header edits. */
class ScriptEdit implements UpstreamEdit {
  readonly #decision: Decision;

  constructor(decision: Decision) {
    this.#decision = decision;
  }

  applyTo(headers: string[]): void {
    editHeaders(headers, this.#decision.setHeaders, this.#decision.removeHeaders);
  }
}

/**
 * The script's view of the request with the header edits queued before it applied to `headers`
 * (a later script of a chain sees what the earlier ones set and removed). No edits: the view as
 * it is, no copy.
 */
function withEdits(request: ScriptRequest, edits: readonly UpstreamEdit[] | null): ScriptRequest {
  if (edits === null) return request;
  const flat: string[] = [];
  const headers = request.headers;
  for (const name of Object.keys(headers)) {
    const value = headers[name];
    if (typeof value === 'string' && name.charCodeAt(0) !== 58 /* : */) flat.push(name, value);
  }
  for (const edit of edits) edit.applyTo(flat);
  const edited = fieldRecord(flat);
  const cookie = edited.cookie;
  const { cookieHeader: _, ...rest } = request;
  return { ...rest, headers: edited, ...(cookie === undefined || cookie === '' ? {} : { cookieHeader: cookie }) };
}
