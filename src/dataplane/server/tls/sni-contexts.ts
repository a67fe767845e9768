import { constants } from 'node:crypto';
import { createSecureContext, type SecureContext } from 'node:tls';
import type { CertificateContexts } from './certificate-contexts.ts';
import type { CertificateOffer } from './certificate-offer.ts';
import type { ClientAuthHost, ClientAuthHosts } from './client-auth-hosts.ts';
import type { HostTlsHosts } from './host-tls-hosts.ts';
import type { HostTlsParameters } from '../../../model/tls-parameters.ts';

/**
 * No session tickets where a client certificate is asked for: a resumed session skips the choice of
 * the context by SNI, and would carry a verification made under a CA the host may no longer trust
 * (see client-auth-handshakes.ts). Without tickets and without a session cache (Node keeps none)
 * every such handshake verifies the certificate again.
 */
export const NO_RESUMPTION = constants.SSL_OP_NO_TICKET;

/** A certificate and key in PEM, as a TLS server's own options take them. */
export interface PemPair {
  readonly certPem: string;
  readonly keyPem: string;
}

/**
 * Chooses the certificate of one TLS socket's handshakes by SNI, among the certificates the socket
 * offers (certificate-offer.ts): an exact name first, then a wildcard for the name's parent
 * (`*.example.com` serves `a.example.com` only, one label), else the socket's fallback certificate,
 * else the data plane's default one, else the handshake fails. A handshake without SNI never reaches
 * the callback: it gets the server's own context, which {@link noSniPair} says what to set to.
 */
export class SniContexts {
  readonly #default: SecureContext | null;
  readonly #defaultPair: PemPair | null;
  #byName = new Map<string, SecureContext>();
  #pairByName = new Map<string, PemPair>();
  #fallback: SecureContext | null;
  #fallbackPair: PemPair | null;
  #clientAuth: ClientAuthHosts | null = null;
  #hostTls: HostTlsHosts | null = null;
  #listenerTls: HostTlsParameters | null = null;
  /** The worker's loaded certificates as of the last update, for the TLS listeners that terminate streams. */
  #loaded: CertificateContexts | null = null;
  /** The contexts that ask for a client certificate, by certificate, CA and CRL; kept while in use. */
  #authContexts = new Map<string, SecureContext>();

  /** `defaultCert`: the data plane's default certificate, or null when it has none. */
  constructor(defaultCert: PemPair | null) {
    this.#defaultPair = defaultCert;
    this.#default = defaultCert === null ? null : createSecureContext({ cert: defaultCert.certPem, key: defaultCert.keyPem });
    this.#fallback = this.#default;
    this.#fallbackPair = defaultCert;
  }

  /**
   * Serves `offer` from now on, with the worker's loaded certificates; the names of `clientAuth`
   * ask for a client certificate (see clientAuthContext), those of `hostTls` have TLS parameters
   * of their own (see tlsParametersFor); `listenerTls` are those of every other handshake.
   */
  update(contexts: CertificateContexts, offer: CertificateOffer, clientAuth: ClientAuthHosts | null = null, hostTls: HostTlsHosts | null = null, listenerTls: HostTlsParameters | null = null): void {
    this.#listenerTls = listenerTls;
    const byName = new Map<string, SecureContext>();
    const pairByName = new Map<string, PemPair>();
    const offered = offer.certificates === null ? contexts.all : offer.certificates.flatMap((name) => contexts.get(name) ?? []);
    for (const { certificate, context } of offered) {
      for (const host of certificate.hosts) {
        if (byName.has(host)) continue;
        byName.set(host, context);
        pairByName.set(host, certificate);
      }
    }
    const fallback = offer.fallback === null ? undefined : contexts.get(offer.fallback);
    this.#loaded = contexts;
    this.#byName = byName;
    this.#pairByName = pairByName;
    this.#clientAuth = clientAuth?.active === true ? clientAuth : null;
    this.#hostTls = hostTls?.active === true ? hostTls : null;
    this.#fallback = fallback?.context ?? this.#default;
    this.#fallbackPair = fallback === undefined ? this.#defaultPair : fallback.certificate;
  }

  /**
   * The TLS parameters of the socket's own handshakes (the server's context: without SNI, or for a
   * name without parameters of its own); null: Node's defaults.
   */
  get listenerTlsParameters(): HostTlsParameters | null {
    return this.#listenerTls;
  }

  /** The certificate a handshake without SNI gets (the server's own context); null: none. */
  get noSniPair(): PemPair | null {
    return this.#fallbackPair;
  }

  /** The context for `servername` (any case); the fallback when none matches; null when there is none. */
  lookup(servername: string): SecureContext | null {
    return bySni(this.#byName, servername) ?? this.#fallback;
  }

  /** Whether some SNI name asks for a client certificate on this socket now. */
  get asksClientCertificates(): boolean {
    return this.#clientAuth !== null;
  }

  /** Whether some SNI name's handshake differs from the listener's: then every ClientHello is read first. */
  get readsClientHellos(): boolean {
    return this.#clientAuth !== null || this.#hostTls !== null;
  }

  /**
   * The TLS parameters of the host `servername` reaches; null: the listener's. They must be set
   * before the handshake starts — OpenSSL takes the versions and ciphers from the server's first
   * context, and switching context by SNI changes only the certificate — so such a name's
   * connections go to a TLS server made with them (host-tls-handshakes.ts).
   */
  tlsParametersFor(servername: string): HostTlsParameters | null {
    return this.#hostTls?.lookup(servername) ?? null;
  }

  /** The client-certificate check the host `servername` reaches; null when it makes none. */
  clientAuthFor(servername: string): ClientAuthHost | null {
    return this.#clientAuth?.lookup(servername) ?? null;
  }

  /**
   * The context of a handshake that asks `servername` for a client certificate: its certificate
   * (as {@link lookup} chooses it) with the check's CA bundle and CRL, which OpenSSL verifies the
   * client's certificate against and names in its CertificateRequest. Null when the name makes no
   * check, or has no certificate.
   */
  clientAuthContext(servername: string): { readonly context: SecureContext; readonly host: ClientAuthHost } | null {
    const host = this.clientAuthFor(servername);
    const pair = bySni(this.#pairByName, servername) ?? this.#fallbackPair;
    if (host === null || pair === null) return null;
    const { caPem, crlPem } = host.auth;
    const key = `${pair.certPem}\0${caPem}\0${crlPem ?? ''}`;
    let context = this.#authContexts.get(key);
    if (context === undefined) {
      // Few hosts check client certificates; a stale entry goes when the cache outgrows them.
      if (this.#authContexts.size >= 256) this.#authContexts.clear();
      context = createSecureContext({ cert: pair.certPem, key: pair.keyPem, ca: caPem, ...(crlPem === null ? {} : { crl: crlPem }), secureOptions: NO_RESUMPTION });
      this.#authContexts.set(key, context);
    }
    return { context, host };
  }

  /**
   * The context a TLS listener in Terminate mode makes a stream's handshake for `servername` with:
   * of the table certificates `names` (the listener's), the first whose names cover it, else the
   * first that loaded; null when none did.
   */
  streamContext(names: readonly string[], servername: string): SecureContext | null {
    const loaded = names.flatMap((name) => this.#loaded?.get(name) ?? []);
    const name = servername.toLowerCase();
    const dot = name.indexOf('.');
    // As bySni: the exact name, or a wildcard for its parent (one label).
    const wildcard = dot > 0 ? `*${name.slice(dot)}` : null;
    const covering = loaded.find(({ certificate }) => certificate.hosts.some((h) => h === name || h === wildcard));
    return (covering ?? loaded[0])?.context ?? null;
  }

  /** The `SNICallback` for a TLS server. */
  readonly callback = (servername: string, cb: (err: Error | null, ctx?: SecureContext) => void): void => {
    const context = this.lookup(servername);
    if (context === null) cb(new Error(`no certificate for ${servername}`));
    else cb(null, context);
  };
}

/** The entry for `servername` (any case) by exact name, then by a one-label wildcard; undefined: none. */
function bySni<T>(map: ReadonlyMap<string, T>, servername: string): T | undefined {
  const name = servername.toLowerCase();
  const exact = map.get(name);
  if (exact !== undefined) return exact;
  const dot = name.indexOf('.');
  return dot > 0 ? map.get(`*${name.slice(dot)}`) : undefined;
}
