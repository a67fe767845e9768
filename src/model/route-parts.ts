/**
 * Reading the parts of a route that several consumers need (the data plane, the debug pages, the
 * script tools), so that each does not walk `filters` its own way.
 */
import type { Route } from './table.ts';

/** The keys of the RouteScripts a route runs, in the order they run. */
export function scriptsOf(route: Route): string[] {
  const keys: string[] = [];
  for (const filter of route.filters) if (filter.type === 'RouteScript') keys.push(filter.script);
  return keys;
}

/** Every route of a table, the default route last. */
export function allRoutes(table: { readonly virtualHosts: readonly { readonly routes: readonly Route[] }[]; readonly defaultRoute: Route | null }): Route[] {
  const all = table.virtualHosts.flatMap((v) => v.routes);
  if (table.defaultRoute !== null) all.push(table.defaultRoute);
  return all;
}
