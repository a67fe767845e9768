/**
 * A self-signed server certificate built with nothing but `node:crypto`.
 *
 * The data plane needs a default certificate for SNI names that no Secret covers (ingress-nginx calls
 * its equivalent the "fake certificate"). Node can generate keys and sign bytes but cannot issue a
 * certificate, so this file assembles the DER of an X.509 v3 certificate (RFC 5280 §4.1) by hand with a
 * minimal DER encoder. Only the few ASN.1 types a certificate needs are implemented.
 */
import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';

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

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  const parts = [oid(id)];
  if (critical) parts.push(tlv(0x01, Buffer.of(0xff))); // critical DEFAULT FALSE: only encoded when true
  parts.push(tlv(0x04, value));
  return sequence(...parts);
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

/** RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050; always UTC, whole seconds. */
function time(date: Date): Buffer {
  const digits = date.toISOString().replace(/\.\d+Z$/, 'Z').replace(/[-:T]/g, ''); // YYYYMMDDHHMMSSZ
  const year = date.getUTCFullYear();
  if (year >= 1950 && year < 2050) return tlv(0x17, Buffer.from(digits.slice(2), 'ascii'));
  return tlv(0x18, Buffer.from(digits, 'ascii'));
}

// --- minimal DER encoder (X.690) ---

function tlv(tag: number, content: Buffer): Buffer {
  return Buffer.concat([Buffer.of(tag), length(content.length), content]);
}

function length(n: number): Buffer {
  if (n < 0x80) return Buffer.of(n);
  const bytes: number[] = [];
  for (let rest = n; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest & 0xff);
  return Buffer.of(0x80 | bytes.length, ...bytes);
}

function sequence(...items: Buffer[]): Buffer {
  return tlv(0x30, Buffer.concat(items));
}

/** Context-specific, constructed, explicit tag `[n]` around one encoded value. */
function explicit(n: number, inner: Buffer): Buffer {
  return tlv(0xa0 | n, inner);
}

/** A non-negative INTEGER from big-endian magnitude bytes: minimal, with a 0x00 pad if the top bit is set. */
function integer(magnitude: Buffer): Buffer {
  let start = 0;
  while (start < magnitude.length - 1 && magnitude[start] === 0) start++;
  const body = magnitude.subarray(start);
  return tlv(0x02, (body[0] ?? 0) & 0x80 ? Buffer.concat([Buffer.of(0), body]) : body);
}

/** BIT STRING of whole bytes: the leading octet says 0 unused bits. */
function bitString(bytes: Buffer): Buffer {
  return tlv(0x03, Buffer.concat([Buffer.of(0), bytes]));
}

function oid(dotted: string): Buffer {
  const arcs = dotted.split('.').map(Number);
  const [first = 0, second = 0, ...rest] = arcs;
  const out: number[] = [];
  for (const arc of [first * 40 + second, ...rest]) {
    // base 128, most significant group first, continuation bit on all but the last
    const groups = [arc & 0x7f];
    for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128)) groups.unshift((v & 0x7f) | 0x80);
    out.push(...groups);
  }
  return tlv(0x06, Buffer.from(out));
}

function toPem(label: string, der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}
