import { allRoutes, scriptsOf } from '../model/route-parts.ts';
import type { Route, RoutingTable } from '../model/table.ts';

/** The routes of `table` that run a RouteScript, by script key (`namespace/name`), in table order. */
export function routesByScript(table: RoutingTable): Map<string, Route[]> {
  const byScript = new Map<string, Route[]>();
  for (const route of allRoutes(table)) {
    for (const script of scriptsOf(route)) {
      const list = byScript.get(script);
      if (list === undefined) byScript.set(script, [route]);
      else if (list[list.length - 1] !== route) list.push(route);
    }
  }
  return byScript;
}
