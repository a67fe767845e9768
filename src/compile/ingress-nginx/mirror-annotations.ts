/**
 * ingress-nginx's `mirror-target`, `mirror-request-body` and `mirror-host` read into a
 * {@link UrlMirrorFilter}: every path of the Ingress copies its requests to the URL (nginx's
 * `mirror` to an internal location that `proxy_pass`es there, with `Host` the URL's host name or
 * `mirror-host`).
 */
import { mirrorUrlProblem } from '../../model/check-url-mirror.ts';
import type { UrlMirrorFilter } from '../../model/table.ts';
import type { Reader } from './ingress-annotations.ts';
import type { Parsed } from './values.ts';

const HOST = /^(?:[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?)*|\[[0-9a-f:.]+\])(?::[0-9]{1,5})?$/;

/** The mirror of an Ingress, or null without `mirror-target` (or with one that is reported invalid). */
export function urlMirror(read: Reader): UrlMirrorFilter | null {
  const url = read<string | null>('mirror-target', target, null);
  if (url === null) return null;
  // ingress-nginx: the host name of the URL's part before any variable; `mirror-host` replaces it.
  const own = URL.parse(url.split('$')[0]!)?.hostname ?? '';
  return {
    type: 'UrlMirror',
    url,
    host: read('mirror-host', host, own),
    requestBody: read('mirror-request-body', onOff, true),
  };
}

function target(text: string): Parsed<string | null> {
  const t = text.trim();
  const problem = mirrorUrlProblem(t);
  return problem === null ? { ok: true, value: t } : { ok: false, message: `${JSON.stringify(text)} ${problem}` };
}

function host(text: string): Parsed<string> {
  const t = text.trim().toLowerCase();
  return HOST.test(t) ? { ok: true, value: t } : { ok: false, message: `${JSON.stringify(text)} is not a host name or IP address` };
}

/** nginx's `on` / `off` (ingress-nginx's validator takes nothing else). */
function onOff(text: string): Parsed<boolean> {
  const t = text.trim();
  if (t === 'on') return { ok: true, value: true };
  if (t === 'off') return { ok: true, value: false };
  return { ok: false, message: `${JSON.stringify(text)} is not on or off` };
}
