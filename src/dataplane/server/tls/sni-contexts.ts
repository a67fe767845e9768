import { createSecureContext, type SecureContext } from 'node:tls';
import type { CertificateContexts } from './certificate-contexts.ts';
import type { CertificateOffer } from './certificate-offer.ts';

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
  #fallback: SecureContext | null;
  #fallbackPair: PemPair | null;

  /** `defaultCert`: the data plane's default certificate, or null when it has none. */
  constructor(defaultCert: PemPair | null) {
    this.#defaultPair = defaultCert;
    this.#default = defaultCert === null ? null : createSecureContext({ cert: defaultCert.certPem, key: defaultCert.keyPem });
    this.#fallback = this.#default;
    this.#fallbackPair = defaultCert;
  }

  /** Serves `offer` from now on, with the worker's loaded certificates. */
  update(contexts: CertificateContexts, offer: CertificateOffer): void {
    const byName = new Map<string, SecureContext>();
    const offered = offer.certificates === null ? contexts.all : offer.certificates.flatMap((name) => contexts.get(name) ?? []);
    for (const { certificate, context } of offered) for (const host of certificate.hosts) if (!byName.has(host)) byName.set(host, context);
    const fallback = offer.fallback === null ? undefined : contexts.get(offer.fallback);
    this.#byName = byName;
    this.#fallback = fallback?.context ?? this.#default;
    this.#fallbackPair = fallback === undefined ? this.#defaultPair : fallback.certificate;
  }

  /** The certificate a handshake without SNI gets (the server's own context); null: none. */
  get noSniPair(): PemPair | null {
    return this.#fallbackPair;
  }

  /** The context for `servername` (any case); the fallback when none matches; null when there is none. */
  lookup(servername: string): SecureContext | null {
    const name = servername.toLowerCase();
    const exact = this.#byName.get(name);
    if (exact !== undefined) return exact;
    const dot = name.indexOf('.');
    if (dot > 0) {
      const wildcard = this.#byName.get(`*${name.slice(dot)}`);
      if (wildcard !== undefined) return wildcard;
    }
    return this.#fallback;
  }

  /** The `SNICallback` for a TLS server. */
  readonly callback = (servername: string, cb: (err: Error | null, ctx?: SecureContext) => void): void => {
    const context = this.lookup(servername);
    if (context === null) cb(new Error(`no certificate for ${servername}`));
    else cb(null, context);
  };
}
