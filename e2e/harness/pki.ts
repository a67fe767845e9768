/**
 * The certificates and keys a test cluster needs, built with nothing but `node:crypto`: a CA, a
 * serving certificate for the API server, client certificates (the admin is `O=system:masters`) and
 * the service-account signing key pair.
 *
 * Node can generate keys and sign bytes but cannot issue certificates, so the DER of each X.509 v3
 * certificate (RFC 5280 §4.1) is assembled here with a small encoder. `src/dataplane/server/tls/self-signed.ts`
 * does the same for one self-signed certificate; this file adds what a chain needs (a CA, names with
 * organizations, IP addresses, key identifiers, client usage). Depending on the `openssl` CLI instead
 * would fail on minimal Debian images, which ship libssl but not the `openssl` package.
 *
 * All keys are EC P-256: generating one takes about a millisecond (RSA-2048 takes tens), and Go's
 * crypto/x509 and the API server's service-account token signer (ES256) accept them.
 */
import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';
import { bitString, extension, integer, oid, sequence, time, tlv, toPem } from '../../src/dataplane/server/tls/der.ts';

/** A PEM certificate and its PEM (PKCS#8) private key. */
export interface CertificateAndKey {
  readonly certPem: string;
  readonly keyPem: string;
}

/** A CA that can issue certificates with {@link issueCertificate}. */
export interface CertificateAuthority extends CertificateAndKey {
  readonly privateKey: KeyObject;
  /** The DER of its subject, copied byte for byte as the issuer of what it signs (chain building compares bytes). */
  readonly subjectDer: Buffer;
  readonly keyId: Buffer;
}

/** What to put in a certificate issued by {@link issueCertificate}. */
export interface CertificateRequest {
  readonly commonName: string;
  /** `O=` values; for Kubernetes client certificates these are the user's groups. */
  readonly organizations?: readonly string[];
  readonly dnsNames?: readonly string[];
  readonly ipAddresses?: readonly string[];
  /** `server` for TLS serving (extKeyUsage serverAuth), `client` for client authentication. */
  readonly usage: 'server' | 'client';
}

/** Everything {@link generateClusterPki} makes. */
export interface ClusterPki {
  readonly ca: CertificateAuthority;
  /** For 127.0.0.1, ::1 and localhost. */
  readonly serving: CertificateAndKey;
  /** `CN=admin, O=system:masters`: the group the API server lets do anything, RBAC or not. */
  readonly admin: CertificateAndKey;
  /** The key pair that signs and verifies service-account tokens. */
  readonly serviceAccount: { readonly publicKeyPem: string; readonly privateKeyPem: string };
}

/** Certificates outlive any test run by far but expire soon enough not to matter if one leaks. */
const DEFAULT_DAYS = 2;

/** A fresh CA and the certificates and keys of one test cluster. */
export function generateClusterPki(): ClusterPki {
  const ca = createCertificateAuthority('signalbox-e2e-ca');
  const serviceAccount = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return {
    ca,
    serving: issueCertificate(ca, { commonName: 'kube-apiserver', usage: 'server', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1', '::1'] }),
    admin: issueCertificate(ca, { commonName: 'admin', organizations: ['system:masters'], usage: 'client' }),
    serviceAccount: {
      publicKeyPem: serviceAccount.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      privateKeyPem: serviceAccount.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    },
  };
}

/** A self-signed CA certificate (basicConstraints CA:true, keyUsage keyCertSign and cRLSign). */
export function createCertificateAuthority(commonName: string, days = DEFAULT_DAYS): CertificateAuthority {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const subjectDer = distinguishedName(commonName, []);
  const keyId = keyIdentifier(publicKey);
  const certDer = certificate({
    subjectDer,
    issuerDer: subjectDer,
    publicKey,
    signer: privateKey,
    days,
    extensions: [
      extension('2.5.29.19', true, sequence(tlv(0x01, Buffer.of(0xff)))), // cA TRUE, no pathLenConstraint
      // digitalSignature (bit 0), keyCertSign (bit 5), cRLSign (bit 6): 0b1000_0110, the last bit unused.
      extension('2.5.29.15', true, tlv(0x03, Buffer.of(1, 0x86))),
      extension('2.5.29.14', false, tlv(0x04, keyId)),
    ],
  });
  return {
    certPem: toPem('CERTIFICATE', certDer),
    keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    privateKey,
    subjectDer,
    keyId,
  };
}

/**
 * A certificate for a fresh EC P-256 key, signed by `ca`.
 *
 * @throws TypeError when an IP address does not parse or a name is empty or has control characters.
 */
export function issueCertificate(ca: CertificateAuthority, request: CertificateRequest, days = DEFAULT_DAYS): CertificateAndKey {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const names = [
    // GeneralName dNSName is [2] IMPLICIT IA5String, iPAddress is [7] IMPLICIT OCTET STRING.
    ...(request.dnsNames ?? []).map((name) => tlv(0x82, Buffer.from(checkedName(name, /^[\x21-\x7e]+$/), 'ascii'))),
    ...(request.ipAddresses ?? []).map((ip) => tlv(0x87, ipBytes(ip))),
  ];
  const usage = request.usage === 'server' ? '1.3.6.1.5.5.7.3.1' : '1.3.6.1.5.5.7.3.2';
  const certDer = certificate({
    subjectDer: distinguishedName(request.commonName, request.organizations ?? []),
    issuerDer: ca.subjectDer,
    publicKey,
    signer: ca.privateKey,
    days,
    extensions: [
      // CA:false is the DEFAULT of BasicConstraints, and DER omits defaults: an empty SEQUENCE.
      extension('2.5.29.19', true, sequence()),
      extension('2.5.29.15', true, tlv(0x03, Buffer.of(7, 0x80))), // digitalSignature only
      extension('2.5.29.37', false, sequence(oid(usage))),
      extension('2.5.29.14', false, tlv(0x04, keyIdentifier(publicKey))),
      extension('2.5.29.35', false, sequence(tlv(0x80, ca.keyId))), // [0] IMPLICIT keyIdentifier
      ...(names.length > 0 ? [extension('2.5.29.17', false, sequence(...names))] : []),
    ],
  });
  return { certPem: toPem('CERTIFICATE', certDer), keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
}

interface CertificateParts {
  subjectDer: Buffer;
  issuerDer: Buffer;
  publicKey: KeyObject;
  signer: KeyObject;
  days: number;
  extensions: Buffer[];
}

// ecdsa-with-SHA256 takes no parameters: the AlgorithmIdentifier is the OID alone (RFC 5758 §3.2).
const ECDSA_WITH_SHA256 = sequence(oid('1.2.840.10045.4.3.2'));

function certificate(parts: CertificateParts): Buffer {
  if (!Number.isFinite(parts.days) || parts.days <= 0) throw new TypeError('days must be a positive number');
  const now = Date.now();
  const tbs = sequence(
    tlv(0xa0, integer(Buffer.of(2))), // [0] EXPLICIT version; v3 is encoded as 2
    integer(serialNumber()),
    ECDSA_WITH_SHA256,
    parts.issuerDer,
    // Valid from an hour ago so that a clock a little behind ours (etcd, a container) accepts it at once.
    sequence(time(new Date(now - 3_600_000)), time(new Date(now + parts.days * 86_400_000))),
    parts.subjectDer,
    parts.publicKey.export({ type: 'spki', format: 'der' }),
    tlv(0xa3, sequence(...parts.extensions)), // [3] EXPLICIT extensions
  );
  // EC keys sign to a DER Ecdsa-Sig-Value by default, which is what the signature BIT STRING holds.
  return sequence(tbs, ECDSA_WITH_SHA256, bitString(sign('sha256', tbs, parts.signer)));
}

/**
 * RFC 5280 §4.2.1.2 method 1: SHA-1 of the subjectPublicKey bits, which for an EC key are the
 * uncompressed point 04 || x || y.
 */
function keyIdentifier(publicKey: KeyObject): Buffer {
  const jwk = publicKey.export({ format: 'jwk' });
  if (jwk.x === undefined || jwk.y === undefined) throw new TypeError('not an EC public key');
  const point = Buffer.concat([Buffer.of(4), Buffer.from(jwk.x, 'base64url'), Buffer.from(jwk.y, 'base64url')]);
  return createHash('sha1').update(point).digest();
}

/**
 * `O=…, CN=…`, one attribute per RDN in that order, as a SEQUENCE OF RelativeDistinguishedName. The
 * Kubernetes x509 authenticator takes the user name from CN and the groups from every O.
 */
function distinguishedName(commonName: string, organizations: readonly string[]): Buffer {
  const rdn = (type: string, value: string) =>
    tlv(0x31, sequence(oid(type), tlv(0x0c, Buffer.from(checkedName(value, /^[^\p{Cc}]{1,64}$/u), 'utf8'))));
  return sequence(...organizations.map((o) => rdn('2.5.4.10', o)), rdn('2.5.4.3', commonName));
}

function checkedName(name: string, pattern: RegExp): string {
  if (!pattern.test(name)) throw new TypeError(`not usable in a certificate: ${JSON.stringify(name)}`);
  return name;
}

function ipBytes(ip: string): Buffer {
  if (isIPv4(ip)) return Buffer.from(ip.split('.').map(Number));
  if (!isIPv6(ip) || ip.includes('.')) throw new TypeError(`not an IP address (IPv4-mapped forms are not supported): ${JSON.stringify(ip)}`);
  // Expand the one `::` into the zero groups it stands for, then write eight 16-bit groups.
  const [head = '', tail] = ip.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  const out = Buffer.alloc(16);
  groups.forEach((group, i) => out.writeUInt16BE(Number.parseInt(group, 16), i * 2));
  return out;
}

/** 16 random bytes with the top bit cleared (serials must be positive) and the next set (fixed length). */
function serialNumber(): Buffer {
  const bytes = randomBytes(16);
  bytes[0] = ((bytes[0] ?? 0) & 0x7f) | 0x40;
  return bytes;
}

