import type { PathMatch, RewriteFilter } from '../../../model/table.ts';
import type { LifecycleRequest } from '../request.ts';
import type { RequestStep } from '../request-step.ts';
import { pathRewriter, type PathRewriter } from './path-modifier.ts';

/**
 * URLRewrite: what the upstream receives. `hostname` becomes its Host (X-Forwarded-Host keeps the
 * host the client named); the path modifier turns the request's path — as an earlier rewrite left
 * it — into the upstream's, the query kept. Later filters and RouteScripts see the rewritten path
 * and host; routing does not change (the route was chosen on the client's request).
 */
export class RewriteStep implements RequestStep {
  readonly #hostname: string | null;
  readonly #path: PathRewriter | null;

  constructor(filter: RewriteFilter, match: PathMatch) {
    this.#hostname = filter.hostname ?? null;
    this.#path = filter.path === undefined ? null : pathRewriter(filter.path, match);
  }

  run(r: LifecycleRequest): boolean {
    if (this.#hostname !== null) r.upstreamHost = this.#hostname;
    if (this.#path !== null) r.upstreamPath = this.#path(r.currentPath());
    return true;
  }
}
