import type { PreparedCluster } from '../../upstream/prepared-cluster.ts';
import type { LifecycleRequest } from '../request.ts';
import type { RequestStep } from '../request-step.ts';

/**
 * RequestMirror: marks `percent` of the route's requests for a copy to `cluster`, sent when the
 * request itself goes upstream (upstream/mirror.ts), with the same header edits. The share is an
 * exact running count per route and worker (every request adds `percent`, each full hundred
 * mirrors one), not a coin toss, so 10% is one request in ten.
 */
export class MirrorStep implements RequestStep {
  readonly #cluster: PreparedCluster;
  readonly #percent: number;
  #credit = 0;

  constructor(cluster: PreparedCluster, percent: number) {
    this.#cluster = cluster;
    this.#percent = percent;
  }

  run(r: LifecycleRequest): boolean {
    this.#credit += this.#percent;
    if (this.#credit >= 100) {
      this.#credit -= 100;
      r.addMirror(this.#cluster);
    }
    return true;
  }
}
