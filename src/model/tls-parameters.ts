/**
 * The TLS versions and cipher list of a TLS connection, as the IR carries them (backend TLS policy,
 * route overrides) and as Node's `tls` options take them. Plain data: absent fields mean Node's
 * defaults — TLS 1.2 to TLS 1.3 and `tls.DEFAULT_CIPHERS` — so a table that sets nothing is the
 * same JSON as before these fields existed.
 */

/**
 * A TLS version signalbox speaks, in Node's spelling (`minVersion`, `maxVersion`). TLS 1.0 and 1.1
 * are not among them: RFC 8996 deprecates them, and Node's OpenSSL 3 refuses them at its default
 * security level anyway (their handshakes sign with MD5/SHA-1), so offering them would only fail later.
 */
export type TlsVersion = 'TLSv1.2' | 'TLSv1.3';

/** Every {@link TlsVersion}, oldest first. */
export const TLS_VERSIONS: readonly TlsVersion[] = Object.freeze(['TLSv1.2', 'TLSv1.3'] as const);

/**
 * The syntax of an OpenSSL cipher list (`ECDHE-RSA-AES128-GCM-SHA256:!aNULL`, `HIGH:@STRENGTH`):
 * names, `+`/`-`/`!` prefixes, `:` separators and `@` commands. Whether a name means a cipher is
 * OpenSSL's call; this only keeps other text (spaces, quotes, `;`) out.
 */
export const CIPHER_LIST_SYNTAX = /^[A-Za-z0-9+_\-!@=.]+(:[A-Za-z0-9+_\-!@=.]+)*$/;

/** The versions and ciphers of a TLS connection; each absent field is Node's default. */
export interface TlsParameters {
  /** The oldest version offered or accepted; absent: TLS 1.2. */
  readonly minVersion?: TlsVersion;
  /** The newest version offered or accepted; absent: TLS 1.3. Never older than {@link minVersion}. */
  readonly maxVersion?: TlsVersion;
  /**
   * An OpenSSL cipher list for TLS 1.2 (Node's `ciphers`); names starting `TLS_` in it choose the
   * TLS 1.3 suites too (Node passes those to `SSL_CTX_set_ciphersuites`), and a list without any
   * leaves TLS 1.3 with all its suites, as nginx's `ssl_ciphers` does. Absent: Node's default list.
   */
  readonly ciphers?: string;
}

/**
 * The TLS parameters of a host's handshakes with clients (nginx's server-level `ssl_ciphers`,
 * `ssl_prefer_server_ciphers`): as {@link TlsParameters}, and whether the server's cipher order wins.
 */
export interface HostTlsParameters extends TlsParameters {
  /** True: the server's cipher order chooses (Node's `honorCipherOrder`); absent: the client's. */
  readonly preferServerCiphers?: boolean;
}

/** The part of a handshake server's key that `p` decides: hosts with equal parameters share one. */
export function hostTlsParametersKey(p: HostTlsParameters): string {
  return `${tlsParametersKey(p)}|${p.preferServerCiphers === true ? 'server' : 'client'}`;
}

/** The Node `tls` options for `p`: only the fields it sets, so that Node's defaults stay defaults. */
export function tlsParameterOptions(p: TlsParameters): { minVersion?: TlsVersion; maxVersion?: TlsVersion; ciphers?: string } {
  return {
    ...(p.minVersion === undefined ? {} : { minVersion: p.minVersion }),
    ...(p.maxVersion === undefined ? {} : { maxVersion: p.maxVersion }),
    ...(p.ciphers === undefined ? {} : { ciphers: p.ciphers }),
  };
}

/** The part of a connection pool's key that `p` decides: a change gives fresh connections. */
export function tlsParametersKey(p: TlsParameters): string {
  return `${p.minVersion ?? ''}-${p.maxVersion ?? ''}|${p.ciphers ?? ''}`;
}

/**
 * `p` in canonical form: a version equal to the default is left out, so that `TLSv1.2 TLSv1.3`
 * and nothing compile to the same table. `p` must already be valid (min not newer than max).
 */
export function canonicalTlsParameters(p: TlsParameters): TlsParameters {
  return {
    ...(p.minVersion === undefined || p.minVersion === 'TLSv1.2' ? {} : { minVersion: p.minVersion }),
    ...(p.maxVersion === undefined || p.maxVersion === 'TLSv1.3' ? {} : { maxVersion: p.maxVersion }),
    ...(p.ciphers === undefined ? {} : { ciphers: p.ciphers }),
  };
}

/** Why `p` cannot be used, or null: unknown versions, min newer than max, a cipher list out of syntax. */
export function tlsParametersProblem(p: TlsParameters): string | null {
  const min = p.minVersion ?? 'TLSv1.2';
  const max = p.maxVersion ?? 'TLSv1.3';
  if (!TLS_VERSIONS.includes(min)) return `minVersion ${JSON.stringify(min)} is not one of ${TLS_VERSIONS.join(', ')}`;
  if (!TLS_VERSIONS.includes(max)) return `maxVersion ${JSON.stringify(max)} is not one of ${TLS_VERSIONS.join(', ')}`;
  if (TLS_VERSIONS.indexOf(min) > TLS_VERSIONS.indexOf(max)) return `minVersion ${min} is newer than maxVersion ${max}`;
  if (p.ciphers !== undefined && (typeof p.ciphers !== 'string' || !CIPHER_LIST_SYNTAX.test(p.ciphers))) return `ciphers ${JSON.stringify(p.ciphers)} is not an OpenSSL cipher list`;
  return null;
}
