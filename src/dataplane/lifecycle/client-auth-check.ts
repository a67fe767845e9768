/**
 * The client-certificate check of a host (`VirtualHost.clientAuth`), made on each of its requests
 * before the route's filters, from what the connection's handshake verified
 * (client-auth-handshakes.ts):
 * - a connection whose handshake was for another SNI name (or for this host with another CA since)
 *   is answered 421 Misdirected Request (RFC 9110 §15.5.20): the Host of a request never gets it
 *   around the check, and the client retries on a connection of its own, as nginx has it; one
 *   without SNI, which could not be asked for a certificate, is checked as one that sent none;
 * - no certificate where one is required, or one that did not verify (unless `optional_no_ca`):
 *   400, as nginx (or a 302 to the error page; one that is a path of the host is served to them);
 * - a subject DN without a match of `matchCN`: 403;
 * - else the upstream is told what was verified: `ssl-client-verify`, `ssl-client-subject-dn`,
 *   `ssl-client-issuer-dn`, and `ssl-client-cert` (URL-escaped PEM) when asked. The client's own
 *   fields of those names never reach an upstream (upstream-headers.ts drops them).
 * Plain HTTP carries no certificate: a request there is checked as one without, unless its route
 * redirects it to HTTPS (it then never reaches an upstream).
 */
import type { ClientCertificateAuth, Route } from '../../model/table.ts';
import { compilePattern } from '../../regex/compile-pattern.ts';
import { searchPattern } from '../../compile/ingress-nginx/auth-tls-annotations.ts';
import { sameCheck, type ClientAuthHost } from '../server/tls/client-auth-hosts.ts';
import { verifiedClient, type VerifiedClient } from '../server/tls/client-auth-handshakes.ts';
import type { ErrorReason } from './error-responses.ts';
import type { LifecycleRequest } from './request.ts';
import type { UpstreamEdit } from './request-step.ts';

/** The check of one route of a host that verifies client certificates, prepared once per table. */
export class ClientAuthCheck {
  readonly #host: ClientAuthHost;
  readonly #auth: ClientCertificateAuth;
  readonly #match: RegExp | null;
  /** The route sends plain HTTP to HTTPS: nothing of such a request goes upstream. */
  readonly #redirectsPlain: boolean;
  /** An error page that is a path of the host: served to the clients sent there (else they would be sent again). */
  readonly #pagePath: string | null;
  /** A connection that sent no certificate: plain HTTP, or a handshake without SNI. */
  readonly #none: VerifiedClient;

  constructor(host: ClientAuthHost, route: Route) {
    this.#host = host;
    this.#auth = host.auth;
    const compiled = host.auth.matchCN === null ? null : compilePattern(searchPattern(host.auth.matchCN));
    // compile checked the pattern; one that does not compile here matches no subject (fails closed).
    this.#match = compiled === null ? null : compiled.ok ? compiled.regex : /(?!)/;
    this.#redirectsPlain = route.filters.some((f) => f.type === 'RequestRedirect' && f.scheme === 'https');
    this.#pagePath = host.auth.errorPage?.startsWith('/') === true ? host.auth.errorPage : null;
    this.#none = { host, present: false, verified: false, verify: 'NONE', subjectDN: '', issuerDN: '', certPem: null };
  }

  /** True: go on with the route. False: the request was answered. */
  admit(r: LifecycleRequest): boolean {
    let client: VerifiedClient;
    if (r.listener.proto !== 'https') {
      if (this.#redirectsPlain) return true;
      client = this.#none;
    } else {
      const socket = r.req.socket as { servername?: string | false | null } | null;
      const verified = verifiedClient(socket);
      if (verified !== undefined && sameCheck(verified.host, this.#host)) client = verified;
      // No SNI: the handshake could not ask, and no certificate came; nginx answers as without one.
      else if (verified === undefined && !socket?.servername) client = this.#none;
      else {
        r.fail('misdirected-request');
        return false;
      }
    }
    const mode = this.#auth.verify;
    // nginx serves an error page that is a path by an internal redirect, unchecked: so is it here.
    if (!client.verified && r.routed!.path !== this.#pagePath) {
      if (!client.present && mode === 'on') return this.#refuse(r, 'client-certificate-required');
      if (client.present && mode !== 'optional_no_ca') return this.#refuse(r, 'client-certificate-invalid');
    }
    if (this.#match !== null && !this.#match.test(client.subjectDN)) {
      r.fail('client-certificate-unauthorized');
      return false;
    }
    r.addEdit(new ClientFields(client, this.#auth.passCertificate));
    return true;
  }

  #refuse(r: LifecycleRequest, reason: ErrorReason): boolean {
    const page = this.#auth.errorPage;
    if (page === null) r.fail(reason);
    else r.respond(302, { location: page }, '', 'redirect');
    return false;
  }
}

/** Sets the fields that tell the upstream what was verified (nginx sends none that would be empty). */
class ClientFields implements UpstreamEdit {
  readonly #client: VerifiedClient;
  readonly #pass: boolean;

  constructor(client: VerifiedClient, pass: boolean) {
    this.#client = client;
    this.#pass = pass;
  }

  applyTo(headers: string[]): void {
    const c = this.#client;
    headers.push('ssl-client-verify', c.verify);
    if (c.subjectDN !== '') headers.push('ssl-client-subject-dn', c.subjectDN);
    if (c.issuerDN !== '') headers.push('ssl-client-issuer-dn', c.issuerDN);
    // nginx's $ssl_client_escaped_cert: every byte but letters, digits and -._~ percent-encoded (PEM has no !'()*).
    if (this.#pass && c.certPem !== null) headers.push('ssl-client-cert', encodeURIComponent(c.certPem));
  }
}
