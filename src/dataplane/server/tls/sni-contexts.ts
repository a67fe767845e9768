import { createSecureContext, type SecureContext } from 'node:tls';
import type { Certificate } from '../../../model/table.ts';

/**
 * Chooses the certificate for a TLS handshake by SNI: an exact name first, then a wildcard for the
 * name's parent (`*.example.com` serves `a.example.com` only, one label), else the default
 * certificate. Secure contexts are built once per distinct certificate and reused across table
 * swaps, since building one parses the key and costs far more than a handshake lookup.
 */
export class SniContexts {
  readonly #default: SecureContext;
  #byName = new Map<string, SecureContext>();
  #cache = new Map<string, { readonly pem: string; readonly context: SecureContext }>();

  constructor(defaultCert: { readonly certPem: string; readonly keyPem: string }) {
    this.#default = createSecureContext({ cert: defaultCert.certPem, key: defaultCert.keyPem });
  }

  /** Replaces the certificates served; a certificate that fails to load is skipped (compile already checked it). */
  update(certificates: readonly Certificate[]): void {
    const byName = new Map<string, SecureContext>();
    const cache = new Map<string, { readonly pem: string; readonly context: SecureContext }>();
    for (const cert of certificates) {
      const pem = cert.certPem + cert.keyPem;
      let entry = this.#cache.get(cert.name);
      if (entry === undefined || entry.pem !== pem) {
        try {
          entry = { pem, context: createSecureContext({ cert: cert.certPem, key: cert.keyPem }) };
        } catch {
          continue;
        }
      }
      cache.set(cert.name, entry);
      for (const host of cert.hosts) byName.set(host, entry.context);
    }
    this.#byName = byName;
    this.#cache = cache;
  }

  /** The context for `servername` (any case); the default one when none matches. */
  lookup(servername: string): SecureContext {
    const name = servername.toLowerCase();
    const exact = this.#byName.get(name);
    if (exact !== undefined) return exact;
    const dot = name.indexOf('.');
    if (dot > 0) {
      const wildcard = this.#byName.get(`*${name.slice(dot)}`);
      if (wildcard !== undefined) return wildcard;
    }
    return this.#default;
  }

  /** The `SNICallback` for a TLS server. */
  readonly callback = (servername: string, cb: (err: Error | null, ctx?: SecureContext) => void): void => {
    cb(null, this.lookup(servername));
  };
}
