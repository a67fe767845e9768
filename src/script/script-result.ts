import { validateDecision, validateResponseDecision, type DecisionCheck, type ResponseDecisionCheck } from './decision.ts';
import type { Decision, FailureCause, Outcome, ResponseDecision } from './types.ts';

/**
 * The longest result string read back from an isolate. A decision is small (a body is at most
 * 64 KiB); anything much larger is refused before the host spends time parsing it.
 */
export const MAX_RESULT_CHARS = 256 * 1024;

/** Decisions longer than this are not remembered by a {@link DecisionCache}. */
const MAX_CACHED_DECISION_CHARS = 1024;
/** Distinct decisions a {@link DecisionCache} remembers before it starts over. */
const MAX_CACHED_DECISIONS = 256;

/**
 * Checked decisions of one script by their JSON text. A script returns the same few decisions over
 * and over (one per shard), and the checked {@link Decision} is frozen, so the host parses and
 * validates each distinct one once instead of once per request.
 */
export type DecisionCache = Map<string, DecisionCheck>;
/** Checked `onResponse` decisions of one script by their JSON text, like a {@link DecisionCache}. */
export type ResponseDecisionCache = Map<string, ResponseDecisionCheck>;

/** A failed {@link Outcome} (of either hook). */
export function failure(cause: FailureCause, message: string): Outcome<never> {
  return { ok: false, cause, message };
}

/** {@link readResult} for a run of `onResponse`. */
export function readResponseResult(tagged: unknown, cache: ResponseDecisionCache, cpuMs: number): Outcome<ResponseDecision> {
  return readTagged(tagged, cache, cpuMs, validateResponseDecision);
}

/**
 * Turns the prelude's tagged result (see sandbox-prelude.ts) into an outcome: `d` + JSON is parsed
 * and validated (or found in `cache`), `e` is a throw, `i` an unserialisable result.
 */
export function readResult(tagged: unknown, backends: ReadonlySet<string>, cache: DecisionCache, cpuMs: number): Outcome<Decision> {
  return readTagged(tagged, cache, cpuMs, (value) => validateDecision(value, backends));
}

type Check<D> = { ok: true; decision: D | null } | { ok: false; message: string };

function readTagged<D>(tagged: unknown, cache: Map<string, Check<D>>, cpuMs: number, validate: (value: unknown) => Check<D>): Outcome<D> {
  if (typeof tagged !== 'string' || tagged.length === 0) return failure('invalid-decision', 'the script returned no result');
  switch (tagged.charCodeAt(0)) {
    case 0x64 /* d */: {
      let check = cache.get(tagged);
      if (check === undefined) {
        check = checkJson(tagged.slice(1), validate);
        if (tagged.length <= MAX_CACHED_DECISION_CHARS) {
          if (cache.size >= MAX_CACHED_DECISIONS) cache.clear();
          cache.set(tagged, check);
        }
      }
      return check.ok ? { ok: true, decision: check.decision, cpuMs } : failure('invalid-decision', check.message);
    }
    case 0x65 /* e */:
      return failure('throw', tagged.slice(1));
    case 0x69 /* i */:
      return failure('invalid-decision', tagged.slice(1));
    default:
      return failure('invalid-decision', 'the script returned an unexpected result');
  }
}

function checkJson<D>(json: string, validate: (value: unknown) => Check<D>): Check<D> {
  if (json.length > MAX_RESULT_CHARS) return { ok: false, message: `the decision is larger than ${MAX_RESULT_CHARS} characters` };
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return { ok: false, message: 'the decision is not JSON data' };
  }
  return validate(value);
}
