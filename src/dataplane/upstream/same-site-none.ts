/**
 * Whether a user agent takes a `SameSite=None` cookie as meant. Some refuse such a cookie outright
 * (Chrome 51 to 66, written before the value existed) and some read it as `Strict` (Safari on
 * macOS 10.14, every browser on iOS 12). The list is ingress-nginx's (its util/same_site.lua, after
 * https://www.chromium.org/updates/same-site/incompatible-clients), matched the same way, by
 * substrings — so every Chrome 40 to 69 counts as incompatible. A request without a User-Agent is
 * taken as compatible.
 */
export function sameSiteNoneCompatible(userAgent: string | undefined): boolean {
  if (userAgent === undefined) return true;
  if (userAgent.includes('Chrome/4') || userAgent.includes('Chrome/5') || userAgent.includes('Chrome/6')) return false;
  if (userAgent.includes('CPU iPhone OS 12') || userAgent.includes('iPad; CPU OS 12')) return false;
  if (userAgent.includes('Macintosh') && userAgent.includes('Intel Mac OS X 10_14') && userAgent.includes('Safari') && !userAgent.includes('Chrome')) return false;
  return true;
}
