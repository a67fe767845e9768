/**
 * The invariants of a virtual host's {@link ClientCertificateAuth}, for checkTable: a CA bundle of
 * PEM certificates (and a PEM CRL) the data plane can hand to OpenSSL, a mode and depth it knows
 * (every kind of host is chosen by SNI for the handshake) — a table never holds a check the data
 * plane would make differently or not at all.
 */
import type { ClientCertificateAuth, Provenance, VirtualHost } from './table.ts';

/** How the check reports: where, about which node, what (as in check-routes.ts). */
type Report = (at: string, provenance: Provenance, message: string) => void;

const MODES = new Set(['on', 'optional', 'optional_no_ca']);

/** Reports every problem of `auth`, the check of the virtual host `vhost` at `at`. */
export function checkClientAuth(at: string, _vhost: VirtualHost, auth: ClientCertificateAuth, report: Report): void {
  const p = auth.provenance;
  if (typeof auth.caPem !== 'string' || !auth.caPem.includes('-----BEGIN CERTIFICATE-----')) report(at, p, 'client certificate CA bundle holds no PEM certificate');
  if (auth.crlPem !== null && (typeof auth.crlPem !== 'string' || !auth.crlPem.includes('-----BEGIN X509 CRL-----'))) report(at, p, 'client certificate CRL is not a PEM CRL');
  if (!MODES.has(auth.verify)) report(at, p, `client certificate mode ${JSON.stringify(auth.verify)} is not on, optional or optional_no_ca`);
  if (!Number.isInteger(auth.depth) || auth.depth < 1 || auth.depth > 100) report(at, p, `client certificate depth ${auth.depth} is not an integer from 1 to 100`);
  if (auth.rejectUnverified !== undefined && typeof auth.rejectUnverified !== 'boolean') report(at, p, 'client certificate rejectUnverified is not a boolean');
  // A refused handshake has no request to let through: only a required certificate can be refused there.
  if (auth.rejectUnverified === true && auth.verify !== 'on') report(at, p, `client certificate handshakes are refused only in mode on, not ${auth.verify}`);
  if (typeof auth.passCertificate !== 'boolean') report(at, p, 'client certificate passCertificate is not a boolean');
}
