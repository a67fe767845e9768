import { validateDecision } from './decision.ts';
import type { FailureCause, Outcome } from './types.ts';

/**
 * The longest result string read back from an isolate. A decision is small (a body is at most
 * 64 KiB); anything much larger is refused before the host spends time parsing it.
 */
export const MAX_RESULT_CHARS = 256 * 1024;

/** A failed {@link Outcome}. */
export function failure(cause: FailureCause, message: string): Outcome {
  return { ok: false, cause, message };
}

/**
 * Turns the prelude's tagged result (see sandbox-prelude.ts) into an outcome: `d` + JSON is parsed
 * and validated, `e` is a throw, `i` an unserialisable result.
 */
export function readResult(tagged: unknown, backends: ReadonlySet<string>, cpuMs: number): Outcome {
  if (typeof tagged !== 'string' || tagged.length === 0) return failure('invalid-decision', 'the script returned no result');
  const body = tagged.slice(1);
  switch (tagged[0]) {
    case 'd': {
      if (body.length > MAX_RESULT_CHARS) return failure('invalid-decision', `the decision is larger than ${MAX_RESULT_CHARS} characters`);
      let value: unknown;
      try {
        value = JSON.parse(body);
      } catch {
        return failure('invalid-decision', 'the decision is not JSON data');
      }
      const check = validateDecision(value, backends);
      return check.ok ? { ok: true, decision: check.decision, cpuMs } : failure('invalid-decision', check.message);
    }
    case 'e':
      return failure('throw', body);
    case 'i':
      return failure('invalid-decision', body);
    default:
      return failure('invalid-decision', 'the script returned an unexpected result');
  }
}
