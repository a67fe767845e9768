/**
 * How `signalbox script test` shows one run: a line a person reads, or a JSON line a program reads.
 * Both say, for a failed run, what the RouteScript's `failurePolicy` makes of it in the proxy, since
 * that — not the failure — is what the client would see.
 */
import type { CompiledScript, Diagnostic } from '../model/table.ts';
import type { Decision, Outcome, ScriptRequest } from '../script/index.ts';

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

/** `{request, outcome}` as one line of JSON; a failed outcome carries its failure handling. */
export function jsonLine(req: ScriptRequest, outcome: Outcome, handling: FailureHandling): string {
  return JSON.stringify({ request: req, outcome: outcome.ok ? outcome : { ...outcome, ...handling } });
}

/** A diagnostic on one line: code, where in the object, message. */
export function describeDiagnostic(d: Diagnostic): string {
  const owner = `${d.kind}/${d.namespace === '' ? '' : `${d.namespace}/`}${d.name}`;
  const at = d.path === undefined ? '' : ` at ${d.path.startsWith(`${owner}/`) ? d.path.slice(owner.length + 1) : d.path}`;
  return `${d.kind} ${d.namespace === '' ? '' : `${d.namespace}/`}${d.name}: ${d.code}${at}: ${d.message}`;
}

function describeDecision(decision: Decision | null): string {
  if (decision === null || Object.keys(decision).length === 0) return 'default routing';
  const { respond } = decision;
  if (respond !== undefined) {
    const parts = [`respond ${respond.status}`];
    if (respond.headers !== undefined && Object.keys(respond.headers).length > 0) parts.push(`headers=${JSON.stringify(respond.headers)}`);
    if (respond.body !== undefined) {
      const body = respond.body.length > MAX_BODY_SHOWN ? `${JSON.stringify(respond.body.slice(0, MAX_BODY_SHOWN))}… (${respond.body.length} characters)` : JSON.stringify(respond.body);
      parts.push(body);
    }
    return parts.join(' ');
  }
  const parts: string[] = [];
  if (decision.backend !== undefined) parts.push(`backend=${decision.backend}`);
  if (decision.setHeaders !== undefined) parts.push(`setHeaders=${JSON.stringify(decision.setHeaders)}`);
  if (decision.removeHeaders !== undefined) parts.push(`removeHeaders=${JSON.stringify(decision.removeHeaders)}`);
  if (decision.hashKey !== undefined) parts.push(`hashKey=${JSON.stringify(decision.hashKey)}`);
  if (decision.pause !== undefined) parts.push(`pause=${JSON.stringify(decision.pause)}`);
  return parts.join(' ');
}

function queryString(req: ScriptRequest): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(req.query)) {
    for (const v of typeof value === 'string' ? [value] : value) params.append(name, v);
  }
  const text = params.toString();
  return text === '' ? '' : `?${text}`;
}
