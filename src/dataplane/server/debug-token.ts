import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync, statSync, type Stats } from 'node:fs';
import { ConfigError } from '../../errors.ts';
import type { Logger } from '../../log.ts';

/** The shortest token accepted: a guessable token on a port open to the network protects nothing. */
export const MIN_TOKEN_LENGTH = 16;

/** RFC 6750's b64token: the characters a bearer token may consist of. */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

/** `Authorization: Bearer <token>`: the scheme is case-insensitive (RFC 9110 §11.1). */
const BEARER = /^bearer +(\S+)$/i;

/** What {@link DebugToken.check} found in a request's `Authorization` header. */
export type TokenCheck = 'ok' | 'missing' | 'wrong';

/**
 * The bearer token(s) of the debug listener, read from a file: one token per non-empty line, so
 * that during a rotation the old and the new token can both be accepted for a while.
 *
 * The file is looked at again (one `stat`) on every check and re-read when it changed, so that a
 * rotated Kubernetes Secret takes effect as soon as the kubelet swaps the mounted file, with no
 * watcher to lose across the kubelet's symlink swap. A file that becomes unreadable or invalid keeps
 * the last good tokens in force (logged once per change): locking the operator out would not make
 * anything safer, and accepting anything would be worse.
 */
export class DebugToken {
  readonly #path: string;
  readonly #log: Logger;
  #digests: readonly Buffer[];
  #version: string;
  #lastProblem = '';

  private constructor(path: string, log: Logger, digests: readonly Buffer[], version: string) {
    this.#path = path;
    this.#log = log;
    this.#digests = digests;
    this.#version = version;
  }

  /** Reads `path`; a missing, unreadable or invalid file is a {@link ConfigError} (the process does not start). */
  static load(path: string, log: Logger): DebugToken {
    let stats: Stats;
    let text: string;
    try {
      stats = statSync(path);
      text = readFileSync(path, 'utf8');
    } catch (err) {
      throw new ConfigError(`--debug-token-file: cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    const parsed = parseTokens(text);
    if (typeof parsed === 'string') throw new ConfigError(`--debug-token-file ${path}: ${parsed}`);
    return new DebugToken(path, log, parsed, versionOf(stats));
  }

  /**
   * Checks an `Authorization` header. Every accepted token is compared, each by its SHA-256 digest
   * with `timingSafeEqual`, so neither the time taken nor an early exit tells how much of a guess
   * was right, nor how long the token is.
   */
  check(authorization: string | undefined): TokenCheck {
    this.#refresh();
    const match = authorization === undefined ? null : BEARER.exec(authorization.trim());
    if (match === null) return 'missing';
    const digest = sha256(match[1]!);
    let ok = false;
    for (const accepted of this.#digests) ok = timingSafeEqual(digest, accepted) || ok;
    return ok ? 'ok' : 'wrong';
  }

  #refresh(): void {
    let problem: string;
    try {
      const stats = statSync(this.#path);
      const version = versionOf(stats);
      if (version === this.#version) return;
      const parsed = parseTokens(readFileSync(this.#path, 'utf8'));
      if (typeof parsed !== 'string') {
        this.#digests = parsed;
        this.#version = version;
        this.#lastProblem = '';
        this.#log.info({ file: this.#path, tokens: parsed.length }, 'debug token file re-read');
        return;
      }
      problem = parsed;
    } catch (err) {
      problem = `cannot read it: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`;
    }
    if (problem !== this.#lastProblem) {
      this.#lastProblem = problem;
      this.#log.warn({ file: this.#path, problem }, 'debug token file changed but is not usable; the last good token stays in force');
    }
  }
}

/** The digests of the tokens in a token file, or what is wrong with it. */
function parseTokens(text: string): Buffer[] | string {
  const tokens = text.split(/\r?\n/).map((line) => line.trim()).filter((line) => line !== '');
  if (tokens.length === 0) return 'holds no token';
  for (const [i, token] of tokens.entries()) {
    const where = tokens.length === 1 ? 'the token' : `the token on non-empty line ${i + 1}`;
    if (!B64TOKEN.test(token)) return `${where} has characters a bearer token cannot have (letters, digits and -._~+/ only, = at the end)`;
    if (token.length < MIN_TOKEN_LENGTH) return `${where} is shorter than ${MIN_TOKEN_LENGTH} characters`;
  }
  return tokens.map(sha256);
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/** What changes when the file is replaced or rewritten (the kubelet swaps a symlink: a new inode). */
function versionOf(stats: Stats): string {
  return `${stats.dev}:${stats.ino}:${stats.size}:${stats.mtimeMs}:${stats.ctimeMs}`;
}
