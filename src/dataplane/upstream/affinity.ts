import { hashKey32 } from '../../balancer/balancer.ts';
import type { AffinityPolicy } from '../../model/policy.ts';
import { cookieValue } from './request-keys.ts';
import { sameSiteNoneCompatible } from './same-site-none.ts';

/** What the affinity cookie depends on in a request. */
export interface AffinityRequestHeaders {
  readonly cookie?: string | string[] | undefined;
  readonly 'user-agent'?: string | undefined;
}

/**
 * Cookie affinity for one cluster: each endpoint gets an opaque token (a hash of the cluster and the
 * endpoint, so the cookie does not reveal addresses), a request carrying a token of a usable endpoint
 * goes there, and any other request is balanced normally and told the token of the endpoint it got.
 * An endpoint that left or is unusable simply no longer matches, so its clients move and their
 * cookie is reset on the next response.
 */
export class Affinity<E extends { readonly id: string }> {
  readonly #policy: AffinityPolicy;
  readonly #byToken = new Map<string, E>();
  readonly #tokenOf = new Map<E, string>();

  constructor(policy: AffinityPolicy, cluster: string, endpoints: readonly E[]) {
    this.#policy = policy;
    for (const ep of endpoints) {
      const token = hashKey32(`${cluster}|${ep.id}`).toString(16).padStart(8, '0');
      if (!this.#byToken.has(token)) this.#byToken.set(token, ep);
      this.#tokenOf.set(ep, token);
    }
  }

  /** The endpoint the request's cookie points to, if it is still here and `usable`; else null. */
  pinned(cookieHeader: string | string[] | undefined, usable: (e: E) => boolean): E | null {
    const header = typeof cookieHeader === 'string' ? cookieHeader : (cookieHeader?.join('; ') ?? null);
    const token = cookieValue(header, this.#policy.cookieName);
    if (token === null) return null;
    const ep = this.#byToken.get(token);
    return ep !== undefined && usable(ep) ? ep : null;
  }

  /**
   * The Set-Cookie value that pins the client of `headers` to `ep`, or null when its cookie
   * already does (so a pinned client's responses carry no cookie at all).
   */
  cookieFor(headers: AffinityRequestHeaders, ep: E, secure: boolean): string | null {
    const cookieHeader = headers.cookie;
    const header = typeof cookieHeader === 'string' ? cookieHeader : (cookieHeader?.join('; ') ?? null);
    const token = this.#tokenOf.get(ep);
    if (token === undefined || cookieValue(header, this.#policy.cookieName) === token) return null;
    return this.setCookie(ep, secure, headers['user-agent']);
  }

  /** The Set-Cookie value that pins a client (whose User-Agent is `userAgent`) to `ep`. */
  setCookie(ep: E, secure: boolean, userAgent?: string): string {
    const { cookieName, path, ttlSeconds, domain } = this.#policy;
    const sameSite = this.#policy.sameSite ?? 'Lax';
    let cookie = `${cookieName}=${this.#tokenOf.get(ep) ?? ''}; Path=${path}`;
    if (domain !== undefined) cookie += `; Domain=${domain}`;
    cookie += '; HttpOnly';
    // A browser that would drop a SameSite=None cookie (or read it as Strict) gets none at all.
    if (sameSite !== 'None' || this.#policy.sameSiteNoneCompatibleOnly !== true || sameSiteNoneCompatible(userAgent)) cookie += `; SameSite=${sameSite}`;
    if (ttlSeconds > 0) cookie += `; Max-Age=${ttlSeconds}`;
    if (secure) cookie += '; Secure';
    return cookie;
  }
}
