/** Building Gateway API conditions (`metav1.Condition` without the fields the writer adds). */
import type { Condition } from '../../model/table.ts';

/** A True condition. */
export function isTrue(type: string, reason: string, message: string): Condition {
  return { type, status: 'True', reason, message };
}

/** A False condition. */
export function isFalse(type: string, reason: string, message: string): Condition {
  return { type, status: 'False', reason, message };
}
