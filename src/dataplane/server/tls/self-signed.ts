/**
 * A self-signed server certificate built with nothing but `node:crypto`.
 *
 * The data plane needs a default certificate for SNI names that no Secret covers (ingress-nginx calls
 * its equivalent the "fake certificate"). Node can generate keys and sign bytes but cannot issue a
 * certificate, so this file assembles the DER of an X.509 v3 certificate (RFC 5280 §4.1) by hand with the
 * minimal DER encoder of der.ts.
 */
import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { bitString, explicit, extension, integer, oid, sequence, time, tlv, toPem } from './der.ts';

/** Options of {@link generateSelfSignedCertificate}. */
export interface SelfSignedOptions {
  /** Subject (and issuer) common name, 1–64 characters (RFC 5280's upper bound). */
  commonName: string;
  /** DNS names for subjectAltName; defaults to `[commonName]` because clients ignore the CN. */
  dnsNames?: string[];
  /** Validity in days from now; defaults to 365. The certificate is also valid from one hour ago. */
  days?: number;
}

/** A PEM certificate and its PEM (PKCS#8) private key, ready for `tls.createSecureContext`. */
export interface SelfSignedCertificate {
  certPem: string;
  keyPem: string;
}

/**
 * Generates an EC P-256 key and a self-signed X.509 v3 server certificate for it: subject = issuer =
 * `CN=commonName`, basicConstraints CA:false, keyUsage digitalSignature, extKeyUsage serverAuth,
 * subjectAltName with the DNS names, signed with ecdsa-with-SHA256.
 *
 * @throws TypeError when the common name is empty, longer than 64 characters or has control characters,
 *   when a DNS name (including the default, the common name) is not printable ASCII without spaces,
 *   or when `days` is not a positive number.
 */
export function generateSelfSignedCertificate(opts: SelfSignedOptions): SelfSignedCertificate {
  const { commonName } = opts;
  const dnsNames = opts.dnsNames ?? [commonName];
  const days = opts.days ?? 365;
  if (commonName.length < 1 || commonName.length > 64 || /\p{Cc}/u.test(commonName)) {
    throw new TypeError('commonName must have 1 to 64 characters and no control characters');
  }
  // dNSName is an IA5String; printable ASCII without spaces is what a host name can be.
  for (const name of dnsNames) {
    if (!/^[\x21-\x7e]+$/.test(name)) throw new TypeError(`dnsNames: not a host name: ${JSON.stringify(name)}`);
  }
  if (!Number.isFinite(days) || days <= 0) throw new TypeError('days must be a positive number');

  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const now = Date.now();
  const name = distinguishedName(commonName);
  const tbs = sequence(
    explicit(0, integer(Buffer.of(2))), // version v3 is encoded as 2
    integer(serialNumber()),
    ECDSA_WITH_SHA256,
    name, // issuer
    sequence(time(new Date(now - 3_600_000)), time(new Date(now + days * 86_400_000))),
    name, // subject
    publicKey.export({ type: 'spki', format: 'der' }), // already a DER SubjectPublicKeyInfo
    explicit(3, sequence(...extensions(dnsNames))),
  );
  const signature = sign('sha256', tbs, privateKey); // EC keys sign to a DER Ecdsa-Sig-Value by default
  const certDer = sequence(tbs, ECDSA_WITH_SHA256, bitString(signature));
  return {
    certPem: toPem('CERTIFICATE', certDer),
    keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}

// ecdsa-with-SHA256 takes no parameters: the AlgorithmIdentifier is the OID alone (RFC 5758 §3.2).
const ECDSA_WITH_SHA256 = sequence(oid('1.2.840.10045.4.3.2'));

function extensions(dnsNames: string[]): Buffer[] {
  return [
    // CA:false is the DEFAULT of BasicConstraints, and DER omits defaults: an empty SEQUENCE.
    extension('2.5.29.19', true, sequence()),
    // keyUsage digitalSignature is bit 0; the named-bit rule drops the 7 trailing zero bits.
    extension('2.5.29.15', true, tlv(0x03, Buffer.of(7, 0x80))),
    extension('2.5.29.37', false, sequence(oid('1.3.6.1.5.5.7.3.1'))), // id-kp-serverAuth
    // GeneralName dNSName is [2] IMPLICIT IA5String.
    extension('2.5.29.17', false, sequence(...dnsNames.map((n) => tlv(0x82, Buffer.from(n, 'ascii'))))),
  ];
}

/** `CN=<cn>` as a Name: SEQUENCE OF RelativeDistinguishedName (SET OF AttributeTypeAndValue). */
function distinguishedName(cn: string): Buffer {
  return sequence(tlv(0x31, sequence(oid('2.5.4.3'), tlv(0x0c, Buffer.from(cn, 'utf8')))));
}

/** 16 random bytes with the top bit cleared (serials must be positive) and the next set (fixed length). */
function serialNumber(): Buffer {
  const bytes = randomBytes(16);
  bytes[0] = ((bytes[0] ?? 0) & 0x7f) | 0x40;
  return bytes;
}
