/**
 * How `signalbox script test` shows one run: a line a person reads, or a JSON line a program reads.
 * Both say, for a failed run, what the RouteScript's `failurePolicy` makes of it in the proxy, since
 * that — not the failure — is what the client would see.
 */
import type { CompiledScript, Diagnostic } from '../model/table.ts';
import type { Decision, Outcome, ResponseDecision, ResponseOutcome, ScriptRequest } from '../script/index.ts';
import type { SampleResponse } from './script-test-requests.ts';

/** Longest response body shown in the human form; the JSON form has it whole. */
const MAX_BODY_SHOWN = 200;

/** What the proxy does with a failed run, as the JSON form gives it. */
export type FailureHandling = { readonly failurePolicy: 'fallback' } | { readonly failurePolicy: 'reject'; readonly rejectStatus: number };

/** The failure handling of `script`. */
export function failureHandling(script: CompiledScript): FailureHandling {
  return script.failurePolicy === 'reject' ? { failurePolicy: 'reject', rejectStatus: script.rejectStatus } : { failurePolicy: 'fallback' };
}

/** `#1 GET example.com/ -> backend=shard-a setHeaders={…}  (0.04 ms)`. */
export function humanLine(index: number, req: ScriptRequest, outcome: Outcome, handling: FailureHandling): string {
  const head = `#${index} ${req.method} ${req.host}${req.path}${queryString(req)} ->`;
  if (!outcome.ok) {
    const then = handling.failurePolicy === 'reject' ? `the proxy would answer ${handling.rejectStatus}` : "the route's normal backend would serve it";
    return `${head} FAILED ${outcome.cause}: ${outcome.message} (failurePolicy ${handling.failurePolicy}: ${then})`;
  }
  return `${head} ${describeDecision(outcome.decision)}  (${outcome.cpuMs.toFixed(2)} ms)`;
}

/** `#1 response 502 -> respond 503 …  (0.04 ms)`: the run of `onResponse` for request #`index`. */
export function humanResponseLine(index: number, res: SampleResponse, outcome: ResponseOutcome, handling: FailureHandling): string {
  const head = `#${index} response ${res.status} ->`;
  if (!outcome.ok) {
    const then = handling.failurePolicy === 'reject' ? `the proxy would answer ${handling.rejectStatus}` : 'the response would go out as it is';
    return `${head} FAILED ${outcome.cause}: ${outcome.message} (failurePolicy ${handling.failurePolicy}: ${then})`;
  }
  return `${head} ${describeResponseDecision(outcome.decision)}  (${outcome.cpuMs.toFixed(2)} ms)`;
}

/**
 * `{request, outcome}` as one line of JSON, with `response` and `responseOutcome` when the script's
 * `onResponse` ran; a failed outcome carries its failure handling.
 */
export function jsonLine(req: ScriptRequest, outcome: Outcome, handling: FailureHandling, response?: { readonly res: SampleResponse; readonly outcome: ResponseOutcome }): string {
  const line: Record<string, unknown> = { request: req, outcome: outcome.ok ? outcome : { ...outcome, ...handling } };
  if (response !== undefined) {
    line.response = response.res;
    line.responseOutcome = response.outcome.ok ? response.outcome : { ...response.outcome, ...handling };
  }
  return JSON.stringify(line);
}

/** A diagnostic on one line: code, where in the object, message. */
export function describeDiagnostic(d: Diagnostic): string {
  const owner = `${d.kind}/${d.namespace === '' ? '' : `${d.namespace}/`}${d.name}`;
  const at = d.path === undefined ? '' : ` at ${d.path.startsWith(`${owner}/`) ? d.path.slice(owner.length + 1) : d.path}`;
  return `${d.kind} ${d.namespace === '' ? '' : `${d.namespace}/`}${d.name}: ${d.code}${at}: ${d.message}`;
}

function describeDecision(decision: Decision | null): string {
  if (decision === null || Object.keys(decision).length === 0) return 'default routing';
  if (decision.respond !== undefined) return describeRespond(decision.respond);
  if (decision.redirect !== undefined) return `redirect ${decision.redirect.status} ${decision.redirect.location}`;
  const parts: string[] = [];
  if (decision.backend !== undefined) parts.push(`backend=${decision.backend}`);
  if (decision.rewrite !== undefined) parts.push(`rewrite=${JSON.stringify(decision.rewrite)}`);
  parts.push(...headerEdits(decision));
  if (decision.hashKey !== undefined) parts.push(`hashKey=${JSON.stringify(decision.hashKey)}`);
  if (decision.pause !== undefined) parts.push(`pause=${JSON.stringify(decision.pause)}`);
  return parts.join(' ');
}

function describeResponseDecision(decision: ResponseDecision | null): string {
  if (decision === null || Object.keys(decision).length === 0) return 'unchanged';
  if (decision.respond !== undefined) return describeRespond(decision.respond);
  return headerEdits(decision).join(' ');
}

function describeRespond(respond: NonNullable<Decision['respond']>): string {
  const parts = [`respond ${respond.status}`];
  if (respond.headers !== undefined && Object.keys(respond.headers).length > 0) parts.push(`headers=${JSON.stringify(respond.headers)}`);
  if (respond.body !== undefined) {
    const body = respond.body.length > MAX_BODY_SHOWN ? `${JSON.stringify(respond.body.slice(0, MAX_BODY_SHOWN))}… (${respond.body.length} characters)` : JSON.stringify(respond.body);
    parts.push(body);
  }
  return parts.join(' ');
}

function headerEdits(decision: Pick<Decision, 'setHeaders' | 'removeHeaders'>): string[] {
  const parts: string[] = [];
  if (decision.setHeaders !== undefined) parts.push(`setHeaders=${JSON.stringify(decision.setHeaders)}`);
  if (decision.removeHeaders !== undefined) parts.push(`removeHeaders=${JSON.stringify(decision.removeHeaders)}`);
  return parts;
}

function queryString(req: ScriptRequest): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(req.query)) {
    for (const v of typeof value === 'string' ? [value] : value) params.append(name, v);
  }
  const text = params.toString();
  return text === '' ? '' : `?${text}`;
}
