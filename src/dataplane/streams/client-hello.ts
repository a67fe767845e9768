/**
 * Reading the SNI name off a TLS ClientHello without terminating TLS (RFC 8446 §4.1.2 and §5.1,
 * RFC 6066 §3), for passthrough on the HTTPS port. The parser sees every byte the client has sent
 * so far and answers "more", "this name (or none)" or "malformed"; it never throws and never reads
 * past what it was given, so a hostile or truncated hello only ever ends in a close.
 *
 * The handshake message may span several TLS records (a record carries at most 2^14 bytes) and
 * the records any number of TCP segments; both are reassembled, up to {@link MAX_HELLO_BYTES}.
 */

/** The most bytes read while looking for the end of a ClientHello; a longer one is refused. */
export const MAX_HELLO_BYTES = 32 * 1024;

/** What the bytes so far say. */
export type HelloParse =
  | { readonly kind: 'more' }
  /** A complete ClientHello; `sni` is its host_name, lower case, or null when it sent none. */
  | { readonly kind: 'hello'; readonly sni: string | null }
  | { readonly kind: 'malformed'; readonly why: string };

const MORE: HelloParse = Object.freeze({ kind: 'more' });
const HANDSHAKE = 22;
const CLIENT_HELLO = 1;
const SERVER_NAME = 0;
const HOST_NAME = 0;
// RFC 6066: a host_name is an ASCII DNS name without a trailing dot; letters, digits, '-', '_' (seen in the wild), '.'.
const HOST = /^[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*$/;

function malformed(why: string): HelloParse {
  return { kind: 'malformed', why };
}

/** Parses the start of a connection, `bytes`, as TLS records carrying a ClientHello. */
export function parseClientHello(bytes: Buffer): HelloParse {
  if (bytes.length > MAX_HELLO_BYTES) return malformed('too-large');
  // Reassemble the handshake stream from the records seen so far.
  const parts: Buffer[] = [];
  let handshake = 0;
  let offset = 0;
  while (offset < bytes.length) {
    if (bytes.length - offset < 5) return MORE;
    if (bytes[offset] !== HANDSHAKE) return malformed('not a TLS handshake record');
    // legacy_record_version: 0x03 0x01..0x03 in practice; 0x0300 (SSL 3.0) is refused.
    if (bytes[offset + 1] !== 3 || bytes[offset + 2]! < 1 || bytes[offset + 2]! > 4) return malformed('not a TLS record version');
    const length = bytes.readUInt16BE(offset + 3);
    if (length === 0 || length > 16384) return malformed('record length out of range');
    if (bytes.length - offset - 5 < length) {
      parts.push(bytes.subarray(offset + 5));
      handshake += bytes.length - offset - 5;
      break;
    }
    parts.push(bytes.subarray(offset + 5, offset + 5 + length));
    handshake += length;
    offset += 5 + length;
    const joined = Buffer.concat(parts, handshake);
    if (joined.length >= 4) {
      const need = 4 + joined.readUIntBE(1, 3);
      if (joined.length >= need) return parseHandshake(joined.subarray(0, need));
    }
  }
  const joined = Buffer.concat(parts, handshake);
  if (joined.length >= 1 && joined[0] !== CLIENT_HELLO) return malformed('first handshake message is not a ClientHello');
  if (joined.length >= 4 && 4 + joined.readUIntBE(1, 3) > MAX_HELLO_BYTES) return malformed('too-large');
  return MORE;
}

/** A bounds-checked reader over one handshake message. */
class Reader {
  #at = 0;
  readonly buf: Buffer;
  constructor(buf: Buffer) {
    this.buf = buf;
  }
  get left(): number {
    return this.buf.length - this.#at;
  }
  u8(): number | null {
    return this.left >= 1 ? this.buf[this.#at++]! : null;
  }
  u16(): number | null {
    if (this.left < 2) return null;
    const v = this.buf.readUInt16BE(this.#at);
    this.#at += 2;
    return v;
  }
  bytes(n: number): Buffer | null {
    if (n > this.left) return null;
    const out = this.buf.subarray(this.#at, this.#at + n);
    this.#at += n;
    return out;
  }
}

function parseHandshake(msg: Buffer): HelloParse {
  if (msg[0] !== CLIENT_HELLO) return malformed('first handshake message is not a ClientHello');
  const r = new Reader(msg.subarray(4));
  if (r.bytes(2) === null || r.bytes(32) === null) return malformed('truncated version or random');
  const session = r.u8();
  if (session === null || session > 32 || r.bytes(session) === null) return malformed('bad session id');
  const suites = r.u16();
  if (suites === null || suites < 2 || suites % 2 !== 0 || r.bytes(suites) === null) return malformed('bad cipher suites');
  const compression = r.u8();
  if (compression === null || compression < 1 || r.bytes(compression) === null) return malformed('bad compression methods');
  if (r.left === 0) return { kind: 'hello', sni: null };
  const extLength = r.u16();
  if (extLength === null || extLength !== r.left) return malformed('extensions length does not match');
  let sni: string | null = null;
  const seen = new Set<number>();
  while (r.left > 0) {
    const type = r.u16();
    const length = r.u16();
    if (type === null || length === null) return malformed('truncated extension');
    const body = r.bytes(length);
    if (body === null) return malformed('extension longer than the hello');
    // RFC 8446 §4.2: no extension type appears twice.
    if (seen.has(type)) return malformed('an extension appears twice');
    seen.add(type);
    if (type !== SERVER_NAME) continue;
    const name = serverName(body);
    // A list without a host_name entry names no host: as if the client sent no SNI.
    if (name === null) continue;
    if (!name.startsWith('=')) return malformed(name);
    sni = name.slice(1);
  }
  return { kind: 'hello', sni };
}

/** `=name` for a valid server_name extension, else why not (null: no host_name entry at all). */
function serverName(body: Buffer): string | null {
  const r = new Reader(body);
  const listLength = r.u16();
  if (listLength === null || listLength !== r.left || listLength === 0) return 'bad server_name list length';
  let host: string | null = null;
  while (r.left > 0) {
    const type = r.u8();
    const length = r.u16();
    if (type === null || length === null) return 'truncated server_name entry';
    const name = r.bytes(length);
    if (name === null) return 'server_name entry longer than its list';
    if (type !== HOST_NAME) continue;
    // RFC 6066 §3: at most one name of each type.
    if (host !== null) return 'two host_name entries';
    const text = name.toString('latin1').toLowerCase();
    if (length === 0 || length > 253 || !HOST.test(text)) return 'host_name is not a DNS name';
    host = text;
  }
  return host === null ? null : `=${host}`;
}
