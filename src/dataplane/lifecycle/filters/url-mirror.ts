import type { UrlMirrorFilter } from '../../../model/table.ts';
import { MirrorBody } from '../../upstream/mirror-body.ts';
import type { UrlMirrorClient } from '../../upstream/url-mirror-client.ts';
import type { LifecycleRequest } from '../request.ts';
import type { RequestStep } from '../request-step.ts';
import type { RoutedRequest } from '../route-request.ts';

const VARIABLE = /\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))/g;

/**
 * UrlMirror: marks every request of the route for a copy to the filter's URL, sent when the
 * request itself goes upstream (forward.ts) through the worker's {@link UrlMirrorClient}. A request
 * a filter answers never reaches that point, so it is not copied (nginx mirrors after its access
 * phase too).
 */
export class UrlMirrorStep implements RequestStep {
  readonly #filter: UrlMirrorFilter;
  readonly #variables: boolean;
  /** The URL without a variable: sent to as written, with the request's query when it has none. */
  readonly #fixed: URL | null;

  constructor(filter: UrlMirrorFilter) {
    this.#filter = filter;
    this.#variables = VARIABLE.test(filter.url);
    VARIABLE.lastIndex = 0;
    this.#fixed = this.#variables ? null : URL.parse(filter.url);
  }

  run(r: LifecycleRequest): boolean {
    r.addUrlMirror(this);
    return true;
  }

  /** The copy's URL for `routed`: variables expanded, or the fixed URL with the request's query. */
  urlFor(routed: RoutedRequest): string {
    const { target, path } = routed;
    if (!this.#variables) {
      const fixed = this.#fixed;
      if (fixed === null) return this.#filter.url;
      return fixed.search === '' && target.query !== '' ? `${fixed.origin}${fixed.pathname}${target.query}` : this.#filter.url;
    }
    const values: Readonly<Record<string, string>> = {
      request_uri: target.path + target.query,
      uri: path,
      args: target.query.slice(1),
      is_args: target.query === '' ? '' : '?',
    };
    return this.#filter.url.replace(VARIABLE, (whole, braced: string | undefined, bare: string | undefined) => values[braced ?? bare ?? ''] ?? whole);
  }

  /**
   * Sends the copy of a request going upstream with `headers` (the upstream's, after the route's
   * edits); returns the copy's body to tap when it carries one, else null.
   */
  send(client: UrlMirrorClient, routed: RoutedRequest, method: string, headers: readonly string[], hasBody: boolean): MirrorBody | null {
    const f = this.#filter;
    const withBody = hasBody && f.requestBody;
    const out: string[] = [];
    for (let i = 0; i < headers.length; i += 2) {
      const name = headers[i]!.toLowerCase();
      if (name === 'host' || (hasBody && !withBody && name === 'content-length')) continue;
      out.push(headers[i]!, headers[i + 1]!);
    }
    out.push('host', f.host);
    if (hasBody && !withBody) out.push('content-length', '0');
    const body = withBody ? new MirrorBody() : null;
    client.send({ url: this.urlFor(routed), method, headers: out, body });
    return body;
  }
}
