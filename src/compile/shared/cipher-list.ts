/**
 * Checking an OpenSSL cipher list at compile time. The syntax alone lets `AES128-GCM-SHA265` (a
 * typo) through, and a list OpenSSL matches no cipher with would fail every connection made with
 * it, so the list is also handed to OpenSSL: `createSecureContext({ ciphers })` is pure CPU — no
 * file, network, clock or randomness is touched (an empty `ca` keeps the root store unread) — and
 * deterministic for the Node build that runs it, which is the build the data plane runs too. A
 * list that passes here may still share no cipher with an endpoint: that is a handshake failure,
 * 502 `upstream-tls`, at request time.
 */
import { createSecureContext } from 'node:tls';
import { CIPHER_LIST_SYNTAX } from '../../model/tls-parameters.ts';

/** Verdicts by list: tables are rebuilt often, with the same few lists. */
const verdicts = new Map<string, string | null>();
const MAX_REMEMBERED = 256;

/** Why OpenSSL cannot use cipher list `text`, or null when it matches at least one cipher. */
export function cipherListProblem(text: string): string | null {
  if (!CIPHER_LIST_SYNTAX.test(text)) return `${JSON.stringify(text)} is not an OpenSSL cipher list (names, +, -, ! and @ commands separated by :)`;
  const known = verdicts.get(text);
  if (known !== undefined) return known;
  let problem: string | null = null;
  try {
    createSecureContext({ ciphers: text, ca: [] });
  } catch {
    problem = `OpenSSL matches no cipher with ${JSON.stringify(text)}`;
  }
  if (verdicts.size >= MAX_REMEMBERED) verdicts.clear();
  verdicts.set(text, problem);
  return problem;
}
