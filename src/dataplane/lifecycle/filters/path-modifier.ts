import type { PathMatch, PathModifier } from '../../../model/table.ts';
import { compilePattern } from '../../../regex/compile-pattern.ts';

/** A path modifier prepared for one route: the new path for a (normalised) path, without query. */
export type PathRewriter = (path: string) => string;

/**
 * Prepares `modifier` for a route whose path condition is `match` (table.ts documents the
 * semantics). checkTable refuses what cannot be applied (a prefix replacement on a route that is
 * not `Prefix`, a bad pattern); should such a filter reach the data plane anyway, it changes
 * nothing rather than fail requests.
 */
export function pathRewriter(modifier: PathModifier, match: PathMatch): PathRewriter {
  switch (modifier.type) {
    case 'ReplaceFullPath': {
      const value = modifier.value;
      return () => value;
    }
    case 'ReplacePrefixMatch': {
      if (match.type !== 'Prefix') return (path) => path;
      const prefix = withoutTrailingSlash(match.value);
      const value = withoutTrailingSlash(modifier.value);
      return (path) => {
        // Segment-wise, like the match: `/foo` covers `/foo` and `/foo/…`, never `/foobar`.
        if (!path.startsWith(prefix) || (path.length > prefix.length && path.charCodeAt(prefix.length) !== 47 && prefix !== '')) return path;
        const rest = path.slice(prefix.length);
        const out = value + rest;
        return out === '' ? '/' : out;
      };
    }
    case 'ReplaceRegexMatch': {
      const compiled = compilePattern(modifier.pattern, {});
      if (!compiled.ok) return (path) => path;
      const { regex } = compiled;
      const substitution = modifier.substitution;
      return (path) => {
        const m = regex.exec(path);
        if (m === null) return path;
        return substitution.replace(/\$([1-9])/g, (_, n: string) => m[Number(n)] ?? '');
      };
    }
  }
}

/** `/foo/` → `/foo`, `/` → `` (so that concatenating the rest of the path gives one slash). */
function withoutTrailingSlash(path: string): string {
  return path.endsWith('/') ? path.slice(0, -1) : path;
}
