/**
 * The identity check of a backend's certificate when its policy names subject alternative names
 * (a BackendTLSPolicy's `validation.subjectAltNames`): the certificate must carry one of them,
 * whatever name was sent as SNI. It runs as Node's `checkServerIdentity` hook, which TLS calls only
 * after OpenSSL has verified the chain, so the chain check is unchanged. Pure: the data plane's
 * connections and the health probes share it, so a probe judges a certificate as traffic does.
 */
import { checkServerIdentity, type PeerCertificate } from 'node:tls';
import type { BackendSubjectAltName, BackendTlsPolicy } from './policy.ts';

/** The hook's signature, as `tls.connect` takes it. */
export type ServerIdentityCheck = (host: string, cert: PeerCertificate) => Error | undefined;

/**
 * The `checkServerIdentity` option for connections made under `tls`, or undefined when the policy
 * names no subject alternative names (TLS then checks the server name as it always does).
 */
export function subjectAltNameCheck(tls: BackendTlsPolicy): ServerIdentityCheck | undefined {
  const wanted = tls.subjectAltNames;
  if (wanted === undefined || wanted.length === 0) return undefined;
  return (_host, cert) => (wanted.some((san) => carries(cert, san)) ? undefined : mismatch(cert, wanted));
}

function carries(cert: PeerCertificate, san: BackendSubjectAltName): boolean {
  const entries = altNames(cert.subjectaltname);
  if (san.type === 'URI') return entries.some((e) => e.type === 'URI' && e.value === san.value);
  const name = san.value.toLowerCase();
  // A wildcard in the policy asks for that same wildcard in the certificate, not for any name under it.
  if (name.startsWith('*.')) return entries.some((e) => e.type === 'DNS' && e.value.toLowerCase() === name);
  // Only the subject alternative names are offered to Node's matcher, so the subject's CN never counts.
  return checkServerIdentity(name, { subjectaltname: cert.subjectaltname } as PeerCertificate) === undefined;
}

/**
 * The entries of Node's `subjectaltname` string (`DNS:a.example, URI:spiffe://x`); a value with a
 * comma or a quote in it is written as a JSON string, which is decoded.
 */
function altNames(text: string | undefined): { type: string; value: string }[] {
  const out: { type: string; value: string }[] = [];
  const entry = /([A-Za-z ]+):("(?:[^"\\]|\\.)*"|[^,]*)(?:, |$)/gy;
  for (let m = entry.exec(text ?? ''); m !== null && m[0] !== ''; m = entry.exec(text ?? '')) {
    let value = m[2]!;
    if (value.startsWith('"')) {
      try {
        value = JSON.parse(value) as string;
      } catch {
        continue;
      }
    }
    out.push({ type: m[1]!, value });
  }
  return out;
}

function mismatch(cert: PeerCertificate, wanted: readonly BackendSubjectAltName[]): Error {
  const names = wanted.map((s) => `${s.type === 'URI' ? 'URI' : 'DNS'}:${s.value}`).join(', ');
  const err = new Error(`the certificate's subject alternative names (${cert.subjectaltname ?? 'none'}) include none of ${names}`);
  // The code TLS gives a name mismatch: the request fails as upstream-tls, as for any other name.
  return Object.assign(err, { code: 'ERR_TLS_CERT_ALTNAME_INVALID', reason: err.message, cert });
}
