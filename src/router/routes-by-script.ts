import type { Route, RoutingTable } from '../model/table.ts';

/** The routes of `table` that run a RouteScript, by script key (`namespace/name`), in table order. */
export function routesByScript(table: RoutingTable): Map<string, Route[]> {
  const byScript = new Map<string, Route[]>();
  const all = table.defaultRoute === null ? table.virtualHosts.flatMap((v) => v.routes) : [...table.virtualHosts.flatMap((v) => v.routes), table.defaultRoute];
  for (const route of all) {
    if (route.script === undefined) continue;
    const list = byScript.get(route.script);
    if (list === undefined) byScript.set(route.script, [route]);
    else list.push(route);
  }
  return byScript;
}
