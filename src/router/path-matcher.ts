/**
 * Path matching inside one virtual host, prepared once per table so that a request costs one map
 * lookup for Exact routes and one pass over the path for Prefix routes, without allocating.
 */
import type { Route } from '../model/table.ts';
import { FNV_OFFSET, FNV_PRIME, HASH_MASK, hashRange } from './hash.ts';
import { normalizePath } from './normalize-path.ts';

const SLASH = 0x2f;

interface PrefixEntry {
  /** The route's path normalised, without trailing slashes; never `/` (that is the root route). */
  readonly key: string;
  readonly route: Route;
}

/**
 * Whether {@link PathMatcher} can serve `routes` (in table order): every route is an Exact or
 * Prefix path without method, header or query conditions, and no route comes after an earlier
 * Prefix route that would take its requests first — so that the longest match PathMatcher finds
 * is always the first match in table order that the router promises. Tables sorted by precedence
 * (every Ingress table) pass; others are served by the ConditionalMatcher, in order.
 */
export function pathOnlyInOrder(routes: readonly Route[]): boolean {
  const earlierPrefixes = new Set<string>();
  for (const route of routes) {
    const m = route.match;
    if ((m.path.type !== 'Exact' && m.path.type !== 'Prefix') || m.method !== undefined || m.headers !== undefined || m.queryParams !== undefined) return false;
    if (m.path.ignoreCase !== undefined) return false;
    const path = normalizePath(m.path.value) ?? m.path.value;
    const key = m.path.type === 'Prefix' ? withoutTrailingSlashes(path) : path;
    // A second route for the same key is dead under both readings: the first one wins.
    if (earlierPrefixes.has('/') && key !== '/') return false;
    for (let i = 1; i < key.length; i++) if (key.charCodeAt(i) === SLASH && earlierPrefixes.has(key.slice(0, i))) return false;
    // An earlier Prefix on the whole path takes an Exact route's requests; for a Prefix it is the same route.
    if (m.path.type === 'Exact' && earlierPrefixes.has(withoutTrailingSlashes(key))) return false;
    if (m.path.type === 'Prefix') earlierPrefixes.add(key);
  }
  return true;
}

/**
 * The routes of one virtual host, indexed for matching.
 *
 * Semantics (networking.k8s.io/v1): an Exact route matches the whole path, case-sensitively. A
 * Prefix route matches element-wise: `/foo` (or `/foo/`) matches `/foo`, `/foo/` and `/foo/bar`
 * but not `/foobar`; Prefix `/` matches everything. The longest match wins and Exact beats
 * Prefix on a tie — since an Exact match is as long as the path itself, any Exact match wins. Two
 * routes with the same type and key: the first in table order wins.
 *
 * Prefix index: rather than a trie of segments, prefixes sit in a hash map keyed by a hash of the
 * whole prefix. One pass over the request path updates a running FNV-1a hash and, at each `/`
 * boundary, looks up the prefix ending there — no substring is created. Longer matches come later
 * in the pass, so the last hit is the longest. The pass stops at the longest prefix's length.
 */
export class PathMatcher {
  readonly #exact = new Map<string, Route>();
  readonly #prefixes = new Map<number, PrefixEntry[]>();
  #root: Route | null = null;
  #longest = 0;

  /** Indexes `routes` (in table order). Route paths are normalised like request paths. */
  constructor(routes: readonly Route[]) {
    for (const route of routes) {
      const path = normalizePath(route.match.path.value) ?? route.match.path.value;
      if (route.match.path.type === 'Exact') {
        if (!this.#exact.has(path)) this.#exact.set(path, route);
        continue;
      }
      const key = withoutTrailingSlashes(path);
      if (key === '/') {
        this.#root ??= route;
        continue;
      }
      const hash = hashRange(key, 0, key.length, false);
      const bucket = this.#prefixes.get(hash);
      if (bucket === undefined) this.#prefixes.set(hash, [{ key, route }]);
      else if (!bucket.some((entry) => entry.key === key)) bucket.push({ key, route });
      if (key.length > this.#longest) this.#longest = key.length;
    }
  }

  /** The route for a normalised request path, or null when no route of this host matches. */
  match(path: string): Route | null {
    const exact = this.#exact.get(path);
    if (exact !== undefined) return exact;
    let best = this.#root;
    if (this.#longest === 0) return best;
    const end = path.length < this.#longest ? path.length : this.#longest;
    let hash = FNV_OFFSET;
    for (let i = 0; i < end; i++) {
      const c = path.charCodeAt(i);
      if (c === SLASH && i > 0) best = this.#prefixAt(path, i, hash) ?? best;
      hash = Math.imul(hash ^ c, FNV_PRIME);
    }
    // The whole path is a candidate too, or the boundary right after the longest prefix.
    if (end === path.length || path.charCodeAt(end) === SLASH) best = this.#prefixAt(path, end, hash) ?? best;
    return best;
  }

  /** The Prefix route whose key is exactly `path[0, length)`, given that prefix's running hash. */
  #prefixAt(path: string, length: number, hash: number): Route | null {
    const bucket = this.#prefixes.get(hash & HASH_MASK);
    if (bucket === undefined) return null;
    for (const entry of bucket) {
      if (entry.key.length === length && path.startsWith(entry.key)) return entry.route;
    }
    return null;
  }
}


/** `/foo/` → `/foo`; `/` stays. */
export function withoutTrailingSlashes(path: string): string {
  let end = path.length;
  while (end > 1 && path.charCodeAt(end - 1) === SLASH) end--;
  return end === path.length ? path : path.slice(0, end);
}
