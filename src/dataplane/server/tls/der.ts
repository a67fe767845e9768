/**
 * A minimal DER encoder (X.690): only the types an X.509 certificate needs. Shared by the
 * self-signed default certificate and the test PKI of the end-to-end harness.
 */

/** An X.509 extension: `SEQUENCE { extnID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING }`. */
export function extension(id: string, critical: boolean, value: Buffer): Buffer {
  const parts = [oid(id)];
  if (critical) parts.push(tlv(0x01, Buffer.of(0xff))); // critical DEFAULT FALSE: only encoded when true
  parts.push(tlv(0x04, value));
  return sequence(...parts);
}

/** RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050; always UTC, whole seconds. */
export function time(date: Date): Buffer {
  const digits = date.toISOString().replace(/\.\d+Z$/, 'Z').replace(/[-:T]/g, ''); // YYYYMMDDHHMMSSZ
  const year = date.getUTCFullYear();
  if (year >= 1950 && year < 2050) return tlv(0x17, Buffer.from(digits.slice(2), 'ascii'));
  return tlv(0x18, Buffer.from(digits, 'ascii'));
}

/** One tag-length-value. */
export function tlv(tag: number, content: Buffer): Buffer {
  return Buffer.concat([Buffer.of(tag), length(content.length), content]);
}

/** A definite length, short or long form. */
export function length(n: number): Buffer {
  if (n < 0x80) return Buffer.of(n);
  const bytes: number[] = [];
  for (let rest = n; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest & 0xff);
  return Buffer.of(0x80 | bytes.length, ...bytes);
}

/** SEQUENCE of already encoded items. */
export function sequence(...items: Buffer[]): Buffer {
  return tlv(0x30, Buffer.concat(items));
}

/** Context-specific, constructed, explicit tag `[n]` around one encoded value. */
export function explicit(n: number, inner: Buffer): Buffer {
  return tlv(0xa0 | n, inner);
}

/** A non-negative INTEGER from big-endian magnitude bytes: minimal, with a 0x00 pad if the top bit is set. */
export function integer(magnitude: Buffer): Buffer {
  let start = 0;
  while (start < magnitude.length - 1 && magnitude[start] === 0) start++;
  const body = magnitude.subarray(start);
  return tlv(0x02, (body[0] ?? 0) & 0x80 ? Buffer.concat([Buffer.of(0), body]) : body);
}

/** BIT STRING of whole bytes: the leading octet says 0 unused bits. */
export function bitString(bytes: Buffer): Buffer {
  return tlv(0x03, Buffer.concat([Buffer.of(0), bytes]));
}

/** OBJECT IDENTIFIER from dotted decimal. */
export function oid(dotted: string): Buffer {
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

/** PEM armour of DER bytes. */
export function toPem(label: string, der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}
