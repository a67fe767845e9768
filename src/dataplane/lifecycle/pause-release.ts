import type { PauseGates } from '../../pause/pause-gates.ts';
import type { PreparedTable } from './prepared-table.ts';

/**
 * After a table swap: opens every pause gate whose reason to hold is gone in `prepared`, and closes
 * those whose reason came back, so their requests wait again.
 * - `no-endpoint` (a cluster): open once the cluster has an endpoint, or is no longer in the table
 *   (its requests then route afresh: the Ingress may point elsewhere now);
 * - `operator` (a RouteScript): open once its `spec.pause` is off, or the RouteScript is gone;
 * - `script` (a RouteScript's pause decisions): once the RouteScript changed (its data or code) or
 *   is gone, the requests held so far are released to run the script again (its new version, once
 *   that has loaded); later ones wait anew.
 */
export function releasePauses(pauses: PauseGates, prepared: PreparedTable): void {
  const { scripts } = prepared.published.table;
  // A copy: a released request may be held again, in a gate that did not exist yet.
  for (const gate of [...pauses.all()]) {
    switch (gate.kind) {
      case 'no-endpoint': {
        const cluster = prepared.clusters.get(gate.name);
        if (cluster === undefined || cluster.hasEndpoints) gate.open();
        else gate.close();
        break;
      }
      case 'operator':
        if ((scripts[gate.name]?.pause ?? null) === null) gate.open();
        else gate.close();
        break;
      case 'script': {
        const loaded = prepared.scripts?.loaded.get(gate.name);
        if (loaded === gate.tag) break;
        // A new version still loading would not decide yet (its previous version serves meanwhile):
        // the held requests are released to it once it has loaded.
        if (loaded !== undefined && loaded.loadState === 'loading') void loaded.ready.then(() => pauses.retire(gate));
        else pauses.retire(gate);
        break;
      }
    }
  }
}
