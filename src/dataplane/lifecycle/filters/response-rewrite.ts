import type { ResponseRewriteFilter, TextRewrite } from '../../../model/table.ts';

/**
 * ResponseRewrite: nginx's `proxy_redirect`, `proxy_cookie_path` and `proxy_cookie_domain` on the
 * upstream's response fields, a flat `[name, value, …]` list with lower-case names, edited in
 * place. It runs on the upstream's head as it arrives, before the response phase and before the
 * proxy adds fields of its own (the affinity cookie), so nothing but the upstream's words is
 * rewritten.
 */
export class ResponseRewriteStep {
  readonly #location: readonly TextRewrite[];
  readonly #cookiePath: readonly TextRewrite[];
  readonly #cookieDomain: readonly TextRewrite[];

  constructor(filter: ResponseRewriteFilter) {
    this.#location = filter.location ?? [];
    this.#cookiePath = filter.cookiePath ?? [];
    this.#cookieDomain = filter.cookieDomain ?? [];
  }

  /** Rewrites the fields of `headers` this filter names; the others, and their order, stay. */
  applyTo(headers: string[]): void {
    const cookies = this.#cookiePath.length > 0 || this.#cookieDomain.length > 0;
    for (let i = 0; i < headers.length; i += 2) {
      const name = headers[i];
      const value = headers[i + 1]!;
      let out: string | null = null;
      if (name === 'location') out = this.#location.length > 0 ? rewritePrefix(value, 0, this.#location) : null;
      else if (name === 'refresh') out = this.#location.length > 0 ? rewriteRefresh(value, this.#location) : null;
      else if (name === 'set-cookie' && cookies) out = this.#rewriteCookie(value);
      if (out !== null) headers[i + 1] = out;
    }
  }

  /**
   * One Set-Cookie value with its Path and Domain rewritten, or null when neither changed (the
   * field then passes as it came). Parsed as nginx parses it: split at every `;`, each part a name,
   * optionally `=` and a value, spaces around both trimmed; a cookie without `=` in its first
   * part is left alone.
   */
  #rewriteCookie(value: string): string | null {
    const parts = value.split(';').map(cookiePart);
    if (parts[0]!.value === null) return null;
    let changed = false;
    for (let i = 1; i < parts.length; i++) {
      const part = parts[i]!;
      if (part.value === null) continue;
      const key = part.name.toLowerCase();
      const rewritten = key === 'path' ? rewritePrefix(part.value, 0, this.#cookiePath) : key === 'domain' ? rewriteDomain(part.value, this.#cookieDomain) : null;
      if (rewritten === null) continue;
      part.value = rewritten;
      changed = true;
    }
    if (!changed) return null;
    return parts
      .filter((p) => p.name !== '' || p.value !== null)
      .map((p) => (p.value === null ? p.name : `${p.name}=${p.value}`))
      .join('; ');
  }
}

interface CookiePart {
  name: string;
  value: string | null;
}

function cookiePart(text: string): CookiePart {
  const eq = text.indexOf('=');
  if (eq === -1) return { name: text.trim(), value: null };
  return { name: text.slice(0, eq).trim(), value: text.slice(eq + 1).trim() };
}

/** `value` with the first matching `from` at `offset` replaced, or null when none matches. */
function rewritePrefix(value: string, offset: number, rewrites: readonly TextRewrite[]): string | null {
  for (const r of rewrites) {
    if (value.startsWith(r.from, offset)) return value.slice(0, offset) + r.to + value.slice(offset + r.from.length);
  }
  return null;
}

/** A Refresh field (`5; url=http://…`): its URL, what follows the first `url=` in any case, rewritten. */
function rewriteRefresh(value: string, rewrites: readonly TextRewrite[]): string | null {
  const at = value.toLowerCase().indexOf('url=');
  return at === -1 ? null : rewritePrefix(value, at + 4, rewrites);
}

/** A Domain attribute compared whole and case-insensitively, its leading dot kept out of it. */
function rewriteDomain(value: string, rewrites: readonly TextRewrite[]): string | null {
  const dot = value.startsWith('.') ? 1 : 0;
  const domain = value.slice(dot).toLowerCase();
  for (const r of rewrites) {
    if (domain === r.from.toLowerCase()) return value.slice(0, dot) + r.to;
  }
  return null;
}
