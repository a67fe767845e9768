/**
 * A raw HTTP/2 client for tests that must do what an attacker does rather than what node:http2's
 * client allows: frames written byte by byte (RFC 9113 §4) over TLS with ALPN `h2` (or in cleartext
 * with prior knowledge, for a plain-HTTP port), header blocks
 * in HPACK literal encoding (RFC 7541), and the server's frames parsed back (GOAWAY, RST_STREAM,
 * HEADERS, SETTINGS, PING).
 */
import { connect as netConnect, type Socket } from 'node:net';
import { connect } from 'node:tls';

/** Frame types (RFC 9113 §6). */
export const FRAME = { DATA: 0, HEADERS: 1, PRIORITY: 2, RST_STREAM: 3, SETTINGS: 4, PUSH_PROMISE: 5, PING: 6, GOAWAY: 7, WINDOW_UPDATE: 8, CONTINUATION: 9 } as const;

/** Frame flags. */
export const FLAG = { END_STREAM: 0x1, ACK: 0x1, END_HEADERS: 0x4, PADDED: 0x8, PRIORITY: 0x20 } as const;

/** Error codes (RFC 9113 §7). */
export const CODE = {
  NO_ERROR: 0x0, PROTOCOL_ERROR: 0x1, INTERNAL_ERROR: 0x2, FLOW_CONTROL_ERROR: 0x3, SETTINGS_TIMEOUT: 0x4, STREAM_CLOSED: 0x5,
  FRAME_SIZE_ERROR: 0x6, REFUSED_STREAM: 0x7, CANCEL: 0x8, COMPRESSION_ERROR: 0x9, CONNECT_ERROR: 0xa, ENHANCE_YOUR_CALM: 0xb,
} as const;

/** SETTINGS identifiers (RFC 9113 §6.5.2). */
export const SETTING = { HEADER_TABLE_SIZE: 1, ENABLE_PUSH: 2, MAX_CONCURRENT_STREAMS: 3, INITIAL_WINDOW_SIZE: 4, MAX_FRAME_SIZE: 5, MAX_HEADER_LIST_SIZE: 6 } as const;

/** The client connection preface. */
export const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

/** One frame: the 9-byte header then the payload. */
export function frame(type: number, flags: number, streamId: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const out = Buffer.alloc(9 + payload.length);
  out.writeUIntBE(payload.length, 0, 3);
  out[3] = type;
  out[4] = flags;
  out.writeUInt32BE(streamId & 0x7fffffff, 5);
  payload.copy(out, 9);
  return out;
}

/** An HPACK integer with an N-bit prefix (RFC 7541 §5.1); `high` holds the bits above the prefix. */
export function hpackInt(value: number, prefixBits: number, high = 0): Buffer {
  const max = (1 << prefixBits) - 1;
  if (value < max) return Buffer.from([high | value]);
  const bytes = [high | max];
  let rest = value - max;
  while (rest >= 128) {
    bytes.push((rest % 128) + 128);
    rest = Math.floor(rest / 128);
  }
  bytes.push(rest);
  return Buffer.from(bytes);
}

/** An HPACK string literal, never Huffman-coded. */
function hpackString(text: string): Buffer {
  const bytes = Buffer.from(text, 'latin1');
  return Buffer.concat([hpackInt(bytes.length, 7, 0), bytes]);
}

/**
 * A header field as an HPACK literal with a new name: without indexing (RFC 7541 §6.2.2), or with
 * incremental indexing (§6.2.1), which adds it to the dynamic table for {@link hpackIndexed}.
 */
export function hpackLiteral(name: string, value: string, index = false): Buffer {
  return Buffer.concat([Buffer.from([index ? 0x40 : 0x00]), hpackString(name), hpackString(value)]);
}

/** A reference to an entry of the static (1–61) or dynamic (62…) table (RFC 7541 §6.1). */
export function hpackIndexed(index: number): Buffer {
  return hpackInt(index, 7, 0x80);
}

/** The header block of a request: pseudo-headers first, then `extra`, all as literals. */
export function requestBlock(authority: string, path: string, method = 'GET', extra: Record<string, string> = {}): Buffer {
  const fields = [hpackLiteral(':method', method), hpackLiteral(':scheme', 'https'), hpackLiteral(':authority', authority), hpackLiteral(':path', path)];
  for (const [name, value] of Object.entries(extra)) fields.push(hpackLiteral(name, value));
  return Buffer.concat(fields);
}

/** A SETTINGS frame with `entries` (id, value), or an ACK. */
export function settingsFrame(entries: readonly (readonly [number, number])[] = [], ack = false): Buffer {
  const payload = Buffer.alloc(entries.length * 6);
  entries.forEach(([id, value], i) => {
    payload.writeUInt16BE(id, i * 6);
    payload.writeUInt32BE(value, i * 6 + 2);
  });
  return frame(FRAME.SETTINGS, ack ? FLAG.ACK : 0, 0, payload);
}

/** A HEADERS frame carrying `block`; END_HEADERS unless `endHeaders` is false. */
export function headersFrame(streamId: number, block: Buffer, options: { endStream?: boolean; endHeaders?: boolean } = {}): Buffer {
  const flags = (options.endStream === false ? 0 : FLAG.END_STREAM) | (options.endHeaders === false ? 0 : FLAG.END_HEADERS);
  return frame(FRAME.HEADERS, flags, streamId, block);
}

/** A CONTINUATION frame carrying more of a header block. */
export function continuationFrame(streamId: number, block: Buffer, endHeaders = false): Buffer {
  return frame(FRAME.CONTINUATION, endHeaders ? FLAG.END_HEADERS : 0, streamId, block);
}

/** A DATA frame. */
export function dataFrame(streamId: number, data: Buffer, endStream = false): Buffer {
  return frame(FRAME.DATA, endStream ? FLAG.END_STREAM : 0, streamId, data);
}

/** A RST_STREAM frame with error `code` (CANCEL by default, as browsers send). */
export function rstStreamFrame(streamId: number, code: number = CODE.CANCEL): Buffer {
  const payload = Buffer.alloc(4);
  payload.writeUInt32BE(code, 0);
  return frame(FRAME.RST_STREAM, 0, streamId, payload);
}

/** A PING frame with 8 bytes of `data`. */
export function pingFrame(data: Buffer = Buffer.alloc(8), ack = false): Buffer {
  return frame(FRAME.PING, ack ? FLAG.ACK : 0, 0, data.subarray(0, 8));
}

/** A frame as received. */
export interface ReceivedFrame {
  readonly type: number;
  readonly flags: number;
  readonly streamId: number;
  readonly payload: Buffer;
  /** performance.now() when it was parsed. */
  readonly at: number;
}

/** A GOAWAY as received. */
export interface Goaway {
  readonly lastStreamId: number;
  readonly code: number;
  readonly at: number;
}

/**
 * One raw HTTP/2 connection. It sends the preface and an empty SETTINGS on open and, unless told
 * otherwise, acknowledges the server's SETTINGS (as every client must); everything else is up to the test.
 */
export class RawH2 {
  readonly socket: Socket;
  readonly frames: ReceivedFrame[] = [];
  /** The GOAWAY the server sent, once it did. */
  goaway: Goaway | null = null;
  /** Resolves when the connection is closed (by either side). */
  readonly closed: Promise<void>;
  #buffer: Buffer = Buffer.alloc(0);
  #waiters: { check: () => boolean; resolve: () => void }[] = [];
  #isClosed = false;

  private constructor(socket: Socket, ackSettings: boolean) {
    this.socket = socket;
    this.closed = new Promise((resolve) => socket.once('close', () => {
      this.#isClosed = true;
      this.#notify();
      resolve();
    }));
    socket.on('error', () => {});
    socket.on('data', (chunk: Buffer) => {
      this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
      while (this.#buffer.length >= 9) {
        const length = this.#buffer.readUIntBE(0, 3);
        if (this.#buffer.length < 9 + length) break;
        const f: ReceivedFrame = {
          type: this.#buffer[3]!,
          flags: this.#buffer[4]!,
          streamId: this.#buffer.readUInt32BE(5) & 0x7fffffff,
          payload: this.#buffer.subarray(9, 9 + length),
          at: performance.now(),
        };
        this.#buffer = this.#buffer.subarray(9 + length);
        this.frames.push(f);
        if (f.type === FRAME.GOAWAY && this.goaway === null) {
          this.goaway = { lastStreamId: f.payload.readUInt32BE(0) & 0x7fffffff, code: f.payload.readUInt32BE(4), at: f.at };
        }
        if (ackSettings && f.type === FRAME.SETTINGS && (f.flags & FLAG.ACK) === 0) this.write(settingsFrame([], true));
      }
      this.#notify();
    });
  }

  /**
   * Connects to 127.0.0.1:`port` with SNI `servername`, ALPN h2 (or, with `cleartext`, over plain
   * TCP with prior knowledge), and sends the preface and SETTINGS.
   */
  static open(port: number, options: { servername?: string; settings?: readonly (readonly [number, number])[]; ackSettings?: boolean; cleartext?: boolean } = {}): Promise<RawH2> {
    return new Promise((resolve, reject) => {
      if (options.cleartext === true) {
        const plain = netConnect({ port, host: '127.0.0.1', noDelay: true }, () => {
          const conn = new RawH2(plain, options.ackSettings !== false);
          conn.write(PREFACE, settingsFrame(options.settings ?? []));
          resolve(conn);
        });
        plain.once('error', reject);
        return;
      }
      const socket = connect({ port, host: '127.0.0.1', servername: options.servername ?? 'localhost', ALPNProtocols: ['h2'], rejectUnauthorized: false }, () => {
        if (socket.alpnProtocol !== 'h2') {
          socket.destroy();
          reject(new Error(`ALPN gave ${String(socket.alpnProtocol)}, not h2`));
          return;
        }
        socket.setNoDelay(true);
        const conn = new RawH2(socket, options.ackSettings !== false);
        conn.write(PREFACE, settingsFrame(options.settings ?? []));
        resolve(conn);
      });
      socket.once('error', reject);
    });
  }

  /** Writes frames; false once the connection is gone (an attacker's loop stops there). */
  write(...frames: Buffer[]): boolean {
    if (this.#isClosed || this.socket.destroyed || !this.socket.writable) return false;
    this.socket.write(frames.length === 1 ? frames[0]! : Buffer.concat(frames));
    return true;
  }

  /** Whether the socket is still open. */
  get open(): boolean {
    return !this.#isClosed;
  }

  /** The server's SETTINGS (its first, non-ACK frame) as id → value. */
  serverSettings(): Map<number, number> {
    const out = new Map<number, number>();
    const f = this.frames.find((x) => x.type === FRAME.SETTINGS && (x.flags & FLAG.ACK) === 0);
    if (f === undefined) return out;
    for (let i = 0; i + 6 <= f.payload.length; i += 6) out.set(f.payload.readUInt16BE(i), f.payload.readUInt32BE(i + 2));
    return out;
  }

  /** The RST_STREAM the server sent for `streamId`: its code, or null when none. */
  resetCode(streamId: number): number | null {
    const f = this.frames.find((x) => x.type === FRAME.RST_STREAM && x.streamId === streamId);
    return f === undefined ? null : f.payload.readUInt32BE(0);
  }

  /** Frames of `type` received so far. */
  count(type: number): number {
    return this.frames.filter((f) => f.type === type).length;
  }

  /** Resolves once `check()` holds (checked on every frame and at close), or rejects after `timeoutMs`. */
  until(check: () => boolean, timeoutMs = 5_000, what = 'condition'): Promise<void> {
    if (check()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== waiter);
        reject(new Error(`${what} not reached within ${timeoutMs} ms`));
      }, timeoutMs);
      const waiter = { check, resolve: () => { clearTimeout(timer); resolve(); } };
      this.#waiters.push(waiter);
    });
  }

  /** Resolves with the server's GOAWAY, or null if the connection closed without one. */
  async goawayOrClose(timeoutMs = 5_000): Promise<Goaway | null> {
    await this.until(() => this.goaway !== null || this.#isClosed, timeoutMs, 'GOAWAY or close');
    return this.goaway;
  }

  /** Closes the socket. */
  destroy(): void {
    this.socket.destroy();
  }

  #notify(): void {
    const ready = this.#waiters.filter((w) => w.check());
    if (ready.length === 0) return;
    this.#waiters = this.#waiters.filter((w) => !ready.includes(w));
    for (const w of ready) w.resolve();
  }
}
