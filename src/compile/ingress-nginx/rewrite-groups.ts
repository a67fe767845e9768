/**
 * Whether a `rewrite-target` can be applied to a path: nginx refuses a rewrite whose replacement
 * names a capture group the pattern does not have (`rewrite "(?i)/api" /$1` fails `nginx -t`, so
 * ingress-nginx's admission rejects the Ingress). The path is a regular expression here.
 */

/** The number of capture groups of `pattern`: `(…)` and named `(?P<n>…)`/`(?<n>…)`, not `(?:…)` or lookarounds. */
export function captureGroups(pattern: string): number {
  let groups = 0;
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') {
      i++;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      continue;
    }
    if (c === '[') {
      inClass = true;
      // `[]…]` and `[^]…]`: a leading `]` is a member, not the end.
      if (pattern[i + 1] === '^') i++;
      if (pattern[i + 1] === ']') i++;
      continue;
    }
    if (c !== '(') continue;
    if (pattern[i + 1] !== '?') groups++;
    else if (/^\?P?<[A-Za-z_]/.test(pattern.slice(i + 1, i + 5))) groups++;
  }
  return groups;
}

/** The highest `$N` a `rewrite-target` names (0: none). */
export function highestReference(target: string): number {
  let highest = 0;
  for (const m of target.matchAll(/\$([1-9])/g)) highest = Math.max(highest, Number(m[1]));
  return highest;
}
