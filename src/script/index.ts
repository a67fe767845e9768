/**
 * The RouteScript engine: sandboxed JavaScript in the request path (see README.md in this folder).
 * The proxy imports from here only.
 */
export type {
  Decision, FailureCause, LookupFetcher, Outcome, PauseDecision, RedirectDecision, RespondDecision, ResponseDecision, ResponseOutcome,
  RewriteDecision, ScriptLimits, ScriptRequest, ScriptResponse, ScriptSource, ScriptStatus,
} from './types.ts';
export { checkScript, MAX_SCRIPT_LENGTH, type ScriptCheck, type ScriptHooks } from './check-script.ts';
export { DECISION_KINDS, RESPONSE_DECISION_KINDS } from './decision.ts';
export { ScriptEngine, type ScriptEngineOptions, type ScriptEngineStats } from './engine.ts';
export { isolateCallsSettled } from './script-isolate.ts';
export type { LoadedScript } from './loaded-script.ts';
export { RouteState, type RouteStateOptions, type StateValue } from './route-state.ts';
export { DEFAULT_STATE_BYTES, StateStore, type EvictionReason, type StateStoreOptions } from './state-store.ts';
export { HttpLookup, type HttpLookupOptions, type LookupEndpoint } from './lookup.ts';
export { DEFAULT_FAILURE_POLICY, type FailurePolicy } from './failure-tracker.ts';
