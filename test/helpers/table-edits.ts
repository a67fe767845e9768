/** Editing a compiled table in tests: routes no front end writes yet (filters, weights, timeouts). */
import type { Route, RoutingTable } from '../../src/model/table.ts';

/** What to change on the routes whose path match has a given value. */
export type RouteEdits = Readonly<Record<string, (route: Route) => Partial<Route>>>;

/**
 * An `editTable` function for startProxy: every route whose `match.path.value` is a key of
 * `edits` gets the fields that function returns; the rest of the table is left as compiled.
 */
export function editRoutes(edits: RouteEdits): (table: RoutingTable) => RoutingTable {
  const edit = (route: Route): Route => {
    const change = edits[route.match.path.value];
    return change === undefined ? route : { ...route, ...change(route) };
  };
  return (table) => ({
    ...table,
    virtualHosts: table.virtualHosts.map((v) => ({ ...v, routes: v.routes.map(edit) })),
    defaultRoute: table.defaultRoute === null ? null : edit(table.defaultRoute),
  });
}

/** The table's cluster name for Service `service` port 80 in the default namespace. */
export function clusterOf(service: string): string {
  return `default/${service}:80`;
}
