import type { BasicAuthFilter } from '../../../model/table.ts';
import { dropFields } from '../../upstream/upstream-headers.ts';
import { errorAnswer } from '../error-responses.ts';
import type { LifecycleRequest } from '../request.ts';
import type { RequestStep, UpstreamEdit } from '../request-step.ts';
import { parseBasicCredentials } from './basic-credentials.ts';
import { prepareHash, verifyPassword, type PreparedHash } from './password-hashes.ts';
import { noteVerified, verifiedKey, verifiedScope, wasVerified } from './verified-cache.ts';

const AUTHORIZATION: ReadonlySet<string> = new Set(['authorization']);

/**
 * BasicAuth: lets a request go on when its `Authorization: Basic` credentials name a user of the
 * filter with that user's password; answers any other 401 `unauthorized` with the challenge
 * `WWW-Authenticate: Basic realm="…"` (nothing goes upstream, the body is not read). A filter
 * whose credentials could not be read (`users: null`) answers every request 503
 * `auth-unavailable`. Verified credentials are remembered per worker (verified-cache.ts), so a
 * client's next requests cost a SHA-256, not the hash's own cost. Without
 * `forwardAuthorization`, the upstream request goes without the client's `Authorization`.
 */
export class BasicAuthStep implements RequestStep, UpstreamEdit {
  /** By the user's name as latin1 bytes (how credentials are compared); null: unavailable. */
  readonly #users: ReadonlyMap<string, PreparedHash> | null;
  readonly #forward: boolean;
  readonly #challenge: Record<string, string>;
  readonly #body: string;
  readonly #scope = verifiedScope();

  constructor(filter: BasicAuthFilter) {
    this.#forward = filter.forwardAuthorization;
    if (filter.users === null) this.#users = null;
    else {
      const users = new Map<string, PreparedHash>();
      for (const { name, hash } of filter.users) {
        // checkTable refuses a hash in no known format; a worker still must not fail on one.
        const prepared = prepareHash(hash);
        if (prepared !== null) users.set(Buffer.from(name, 'utf8').toString('latin1'), prepared);
      }
      this.#users = users;
    }
    const { headers, body } = errorAnswer('unauthorized');
    const fields: Record<string, string> = {};
    for (const [name, value] of Object.entries(headers)) if (name !== 'content-length') fields[name] = String(value);
    fields['www-authenticate'] = `Basic realm="${filter.realm}"`;
    this.#challenge = fields;
    this.#body = body;
  }

  run(r: LifecycleRequest): boolean {
    const verdict = this.verdict(r);
    if (verdict === 'unavailable') {
      r.fail('auth-unavailable');
      return false;
    }
    if (verdict === 'admitted') return true;
    this.refuse(r);
    return false;
  }

  /**
   * Whether the request's credentials pass (then its `Authorization` is kept from the upstream
   * unless forwarded), fail, or cannot be checked (`users: null`); answers nothing.
   */
  verdict(r: LifecycleRequest): 'admitted' | 'refused' | 'unavailable' {
    if (this.#users === null) return 'unavailable';
    if (!this.#allows(r.req.headers.authorization)) return 'refused';
    if (!this.#forward) r.addEdit(this);
    return 'admitted';
  }

  /** Answers the 401 challenge. */
  refuse(r: LifecycleRequest): void {
    r.state.metrics.proxyErrors.labels('unauthorized').inc();
    r.respond(401, this.#challenge, this.#body, 'basic-auth');
  }

  /** The request was let through without this check (`satisfy: any`): its credentials still stay here. */
  skipped(r: LifecycleRequest): void {
    if (!this.#forward) r.addEdit(this);
  }

  /** Removes the client's credentials from the upstream request. */
  applyTo(headers: string[]): void {
    dropFields(headers, AUTHORIZATION);
  }

  #allows(field: string | undefined): boolean {
    const credentials = parseBasicCredentials(field);
    if (credentials === null) return false;
    const hash = this.#users!.get(credentials.user);
    if (hash === undefined) return false;
    const key = verifiedKey(this.#scope, credentials.user, credentials.password);
    if (wasVerified(key)) return true;
    if (!verifyPassword(credentials.password, hash)) return false;
    noteVerified(key);
    return true;
  }
}
