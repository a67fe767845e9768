/**
 * The passwords a worker verified lately, so that a client sending the same credentials again —
 * most do, on every request — costs a hash of them, not a SHA-crypt of 5,000 rounds. One LRU per
 * worker, bounded; only successes go in, so a client trying passwords cannot make it grow, and
 * it evicts entries of other clients only by knowing their passwords. Each {@link BasicAuthStep}
 * (one per route and table) has its own scope: after a table swap the old scopes are never
 * looked up again and age out, so a changed Secret takes effect with the table that carries it.
 *
 * Keys hold no password: the SHA-256 of a process secret, the scope, the user and the password.
 */
import { createHash, randomBytes } from 'node:crypto';

/** The most entries a worker keeps. */
export const MAX_VERIFIED = 10_000;

const PEPPER = randomBytes(32);
const entries = new Map<string, true>();
let nextScope = 0;

/** A new scope: one per BasicAuth step. */
export function verifiedScope(): number {
  return nextScope++;
}

/** The key of `user`'s `password` in `scope`. */
export function verifiedKey(scope: number, user: string, password: Buffer): string {
  const h = createHash('sha256').update(PEPPER).update(String(scope)).update('\0').update(user, 'latin1').update('\0').update(password);
  return h.digest('base64');
}

/** Whether `key` was verified lately (and, if so, it becomes the most recent). */
export function wasVerified(key: string): boolean {
  if (!entries.has(key)) return false;
  entries.delete(key);
  entries.set(key, true);
  return true;
}

/** Notes a successful verification, evicting the least recent past {@link MAX_VERIFIED}. */
export function noteVerified(key: string): void {
  entries.delete(key);
  entries.set(key, true);
  if (entries.size > MAX_VERIFIED) entries.delete(entries.keys().next().value!);
}

/** How many entries the worker holds (tests). */
export function verifiedCount(): number {
  return entries.size;
}
