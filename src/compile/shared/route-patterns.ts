/**
 * The regular expressions of a route candidate — a RegularExpression path, header or query match,
 * a ReplaceRegexMatch rewrite or redirect — checked on the engine the data plane runs them on
 * (src/regex/: linear time). Checked once here, for every front end, so that a pattern the engine
 * refuses drops its route with a diagnostic instead of reaching the table.
 */
import type { PathModifier } from '../../model/table.ts';
import { compilePattern } from '../../regex/compile-pattern.ts';
import type { CandidateRoute } from './candidates.ts';

/** Why a pattern of `route` cannot be served (the first one that cannot), or null when all can. */
export function routePatternProblem(route: CandidateRoute): string | null {
  const m = route.match;
  const problems: (string | null)[] = [];
  if (m.path.type === 'RegularExpression') problems.push(problem('path', m.path.value, m.path.ignoreCase === true));
  for (const h of m.headers ?? []) if (h.type === 'RegularExpression') problems.push(problem(`header ${h.name}`, h.value, false));
  for (const q of m.queryParams ?? []) if (q.type === 'RegularExpression') problems.push(problem(`query parameter ${q.name}`, q.value, false));
  for (const f of route.filters) {
    if ((f.type === 'URLRewrite' || f.type === 'RequestRedirect') && f.path !== undefined) problems.push(modifierProblem(f.type, f.path));
  }
  return problems.find((p) => p !== null) ?? null;
}

function modifierProblem(filter: string, modifier: PathModifier): string | null {
  return modifier.type === 'ReplaceRegexMatch' ? problem(`${filter} path`, modifier.pattern, false) : null;
}

function problem(what: string, pattern: string, ignoreCase: boolean): string | null {
  const compiled = compilePattern(pattern, { ignoreCase });
  return compiled.ok ? null : `the ${what} pattern ${JSON.stringify(pattern)} cannot be used: ${compiled.message}`;
}
