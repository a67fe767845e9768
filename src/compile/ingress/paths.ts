/**
 * Ingress paths: validating `path` and `pathType`, the key that decides whether two paths are the
 * same route, and the precedence order of routes inside a virtual host.
 */
import type { PathMatchType } from '../../model/table.ts';
import { isUnset } from '../shared/guards.ts';
import { describe } from '../shared/objects.ts';

/** A validated path of an Ingress rule. */
export interface ParsedPath {
  readonly pathType: PathMatchType;
  /** The `pathType` as written (ingress-nginx's translation reads ImplementationSpecific its own way). */
  readonly rawType: 'Exact' | 'Prefix' | 'ImplementationSpecific';
  /** The path as written (or `/` when a Prefix path omitted it). */
  readonly path: string;
  /**
   * What the route matches: the path itself for Exact; for Prefix the path with trailing slashes
   * removed (`/` stays `/`), since `/foo/` and `/foo` match the same requests. Two routes of one
   * host with the same type and key are the same route, and the key's length orders precedence.
   */
  readonly key: string;
}

/** Why a path was rejected: the diagnostic code and message. */
export interface PathProblem {
  readonly code: 'IngressPathTypeInvalid' | 'IngressPathInvalid';
  readonly message: string;
}

// Whitespace, '?', '#' and control characters can never be part of a request path the router
// sees (the query is split off before matching), so a route containing them could never match.
const FORBIDDEN = /[\s?#\u0000-\u001f\u007f]/u;

/**
 * Validates one path of an Ingress rule per networking.k8s.io/v1:
 * - `pathType` is required: `Exact`, `Prefix` or `ImplementationSpecific`. Ours treats
 *   `ImplementationSpecific` exactly like `Prefix` (element-wise prefix match), which is what users of
 *   other controllers usually expect, so the IR only knows Exact and Prefix.
 * - `path` must start with `/`; Prefix and ImplementationSpecific default it to `/`, Exact requires it.
 * - Like the API server, `//` and `.`/`..` segments are refused: request paths are normalised
 *   before matching, so such a route could never match. Whitespace, `?`, `#` and control characters
 *   are refused for the same reason.
 */
export function parsePath(rawPath: unknown, rawType: unknown, mode: PathMode = PLAIN_PATHS): ParsedPath | PathProblem {
  let pathType: PathMatchType;
  if (rawType === 'Exact') pathType = 'Exact';
  else if (rawType === 'Prefix' || rawType === 'ImplementationSpecific') pathType = 'Prefix';
  else if (isUnset(rawType)) return { code: 'IngressPathTypeInvalid', message: 'pathType is required (Exact, Prefix or ImplementationSpecific)' };
  else return { code: 'IngressPathTypeInvalid', message: `pathType ${JSON.stringify(rawType) ?? String(rawType)} is not Exact, Prefix or ImplementationSpecific` };

  if (isUnset(rawPath)) {
    if (pathType === 'Exact') return { code: 'IngressPathInvalid', message: 'an Exact path needs a path' };
    return { pathType, rawType, path: '/', key: '/' };
  }
  if (typeof rawPath !== 'string') return { code: 'IngressPathInvalid', message: `path must be a string, got ${describe(rawPath)}` };
  const quoted = JSON.stringify(rawPath);
  if (!rawPath.startsWith('/')) return { code: 'IngressPathInvalid', message: `path ${quoted} must start with "/"` };
  if (mode.strict && rawType !== 'ImplementationSpecific' && !STRICT_PATH.test(rawPath)) {
    return { code: 'IngressPathInvalid', message: `path ${quoted} of pathType ${rawType} may hold only letters, digits and "/ . _ -" (ingress-nginx's strict-validate-path-type; a regular expression needs ImplementationSpecific)` };
  }
  // A regular expression is checked as one when the table is (RoutePatternInvalid); `?` and `.` are its syntax.
  if (mode.regex) {
    if (/[\s\u0000-\u001f\u007f]/u.test(rawPath)) return { code: 'IngressPathInvalid', message: `path ${quoted} must not contain whitespace or control characters` };
    return { pathType, rawType, path: rawPath, key: rawPath };
  }
  if (FORBIDDEN.test(rawPath)) {
    return { code: 'IngressPathInvalid', message: `path ${quoted} must not contain whitespace, "?", "#" or control characters` };
  }
  if (rawPath.includes('//')) return { code: 'IngressPathInvalid', message: `path ${quoted} must not contain "//"` };
  if (rawPath.split('/').some((segment) => segment === '.' || segment === '..')) {
    return { code: 'IngressPathInvalid', message: `path ${quoted} must not contain "." or ".." segments` };
  }
  return { pathType, rawType, path: rawPath, key: pathType === 'Prefix' ? prefixKey(rawPath) : rawPath };
}

/** How the paths of one Ingress are read. */
export interface PathMode {
  /** ingress-nginx's `use-regex`: paths are regular expressions, checked as such later. */
  readonly regex: boolean;
  /** ingress-nginx's `strict-validate-path-type`. */
  readonly strict: boolean;
}

/** Paths as the Ingress API defines them. */
export const PLAIN_PATHS: PathMode = Object.freeze({ regex: false, strict: false });

// ingress-nginx's validPathType, `(?i)^/[[:alnum:]._\-/]*$`.
const STRICT_PATH = /^\/[A-Za-z0-9._\-/]*$/;

// Characters of regular-expression syntax that are rare in real paths. ingress-nginx reads an
// ImplementationSpecific path as a regex when the Ingress asks for it (use-regex, rewrite-target);
// signalbox never does, so such a path is only ever a literal prefix.
const REGEX_SYNTAX = /[\\^$|*+()[\]{}]/;

/**
 * A warning for an `ImplementationSpecific` path that looks like a regular expression
 * (`/old(/|$)(.*)`), or null. The path is still served, as the literal Prefix it is here, but
 * almost certainly not as its author meant.
 */
export function regexLookalike(path: ParsedPath, rawType: unknown, mode: PathMode = PLAIN_PATHS): string | null {
  if (mode.regex || rawType !== 'ImplementationSpecific' || !REGEX_SYNTAX.test(path.path)) return null;
  return `path ${JSON.stringify(path.path)} looks like a regular expression, but signalbox serves ImplementationSpecific as Prefix: ` +
    'it matches only request paths that begin with these very characters. Write the paths it should match as Prefix or Exact paths';
}

/** A Prefix path without its trailing slashes; `/` (or only slashes) stays `/`. */
export function prefixKey(path: string): string {
  let end = path.length;
  while (end > 1 && path.charCodeAt(end - 1) === 0x2f) end--;
  return end === path.length ? path : path.slice(0, end);
}
