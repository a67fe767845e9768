import type { PublishedTable } from '../../model/table.ts';
import { scriptsOf } from '../../model/route-parts.ts';
import { routesByScript } from '../../router/routes-by-script.ts';
import type { ScriptStatus } from '../../script/index.ts';

/**
 * Every RouteScript of the table with the routes that run it, each route's whole chain (the
 * scripts that run on it, in order), and its health (`/debug/scripts`):
 * `failing` when any worker is backing off from it, with that worker's last failure; `slow` when
 * any worker saw it keep using most of its time budget (`budgetUsedP90`, the share of `timeoutMs`
 * its last runs used); `invalid` when it fails closed (its routes answer its rejectStatus without
 * running anything). `workers` lists only the workers that reported the script since it was
 * loaded: it failed, was slow, or its previous version serves while it cannot load (a healthy
 * script shows none).
 */
export function scriptReport(published: PublishedTable, statuses: ReadonlyMap<string, ReadonlyMap<number, ScriptStatus>>): unknown {
  const { table } = published;
  const routes = routesByScript(table);
  return Object.keys(table.scripts).map((id) => {
    const workers = [...(statuses.get(id) ?? new Map<number, ScriptStatus>())].map(([worker, status]) => ({
      worker,
      ...status,
      retryAt: status.retryAt === null ? null : new Date(status.retryAt).toISOString(),
    }));
    const failing = workers.filter((w) => w.state === 'failing');
    const script = table.scripts[id]!;
    // An invalid script that fails closed never runs: its routes answer its rejectStatus.
    const state = script.invalid ? 'invalid' : failing.length > 0 ? 'failing' : workers.some((w) => w.slow) ? 'slow' : 'ok';
    const mine = routes.get(id) ?? [];
    // Each route's whole chain, in the order its scripts run, so that a script's place is visible.
    const chains = Object.fromEntries(mine.map((r) => [r.provenance, scriptsOf(r)]));
    return { id, state, ...(script.invalid ? { rejectStatus: script.rejectStatus } : {}), routes: mine.map((r) => r.provenance), chains, workers };
  });
}
