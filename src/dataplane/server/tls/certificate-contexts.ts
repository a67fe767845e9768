import { createSecureContext, type SecureContext } from 'node:tls';
import type { Certificate } from '../../../model/table.ts';

/** A table certificate with its secure context, built once. */
export interface LoadedCertificate {
  readonly certificate: Certificate;
  readonly context: SecureContext;
}

/**
 * The secure contexts of a worker's table certificates, shared by all its TLS sockets. Building one
 * parses the key and costs far more than a handshake, so each is built once per distinct
 * certificate and reused across table swaps and across sockets.
 */
export class CertificateContexts {
  #loaded: readonly LoadedCertificate[] = [];
  #byName = new Map<string, LoadedCertificate & { readonly pem: string }>();

  /** Replaces the certificates; one that fails to load is skipped (compile already checked it). */
  update(certificates: readonly Certificate[]): void {
    const byName = new Map<string, LoadedCertificate & { readonly pem: string }>();
    for (const certificate of certificates) {
      const pem = certificate.certPem + certificate.keyPem;
      const known = this.#byName.get(certificate.name);
      if (known !== undefined && known.pem === pem) {
        byName.set(certificate.name, { ...known, certificate });
        continue;
      }
      try {
        byName.set(certificate.name, { certificate, pem, context: createSecureContext({ cert: certificate.certPem, key: certificate.keyPem }) });
      } catch {
        continue;
      }
    }
    this.#byName = byName;
    this.#loaded = [...byName.values()];
  }

  /** Every certificate that loaded, in table order. */
  get all(): readonly LoadedCertificate[] {
    return this.#loaded;
  }

  /** The certificate named `name`, or undefined when the table has none that loaded. */
  get(name: string): LoadedCertificate | undefined {
    return this.#byName.get(name);
  }
}
