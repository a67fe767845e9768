/**
 * The data-plane step of a {@link CompressFilter}: on the head of an upstream response, decides
 * whether its body is compressed, edits the head to say so, and makes the encoder the body streams
 * through (exchange.ts does the streaming).
 */
import { BrotliCompress, constants as zlib, createBrotliCompress, createGzip, type Gzip } from 'node:zlib';
import type { CompressCoding, CompressFilter } from '../../../model/table.ts';
import type { ClientRequest } from '../proxy-state.ts';
import { acceptsCoding } from './accept-encoding.ts';

/** The encoder a response body goes through. */
export type BodyEncoder = Gzip | BrotliCompress;

/** One coding, prepared: its types as a set (null: any type). */
interface PreparedCoding {
  readonly coding: CompressCoding;
  readonly types: ReadonlySet<string> | null;
}

/** A route's Compress filter, prepared once per table swap. */
export class CompressStep {
  readonly #gzip: PreparedCoding | null;
  readonly #brotli: PreparedCoding | null;
  readonly #gzipDisable: RegExp | null;

  constructor(filter: CompressFilter) {
    const prepare = (c: CompressCoding | null): PreparedCoding | null => c === null ? null : { coding: c, types: c.types.includes('*') ? null : new Set(c.types) };
    this.#gzip = prepare(filter.gzip);
    this.#brotli = prepare(filter.brotli);
    this.#gzipDisable = filter.gzipDisable === null ? null : new RegExp(filter.gzipDisable, 'i');
  }

  /**
   * For the upstream head about to go out (`headers`: name, value… with lower-case names, edited
   * in place): the encoder of its body, or null when it goes as it came. `bodiless` is a response
   * to HEAD, or a 204 or 304.
   */
  encoderFor(req: ClientRequest, status: number, bodiless: boolean, headers: string[]): BodyEncoder | null {
    // nginx's gzip and brotli filters: these statuses only, and never a header-only response.
    if (bodiless || (status !== 200 && status !== 403 && status !== 404)) return null;
    let type: string | null = null;
    let length = -1;
    for (let i = 0; i < headers.length; i += 2) {
      const name = headers[i]!;
      if (name === 'content-encoding' && headers[i + 1] !== '') return null;
      if (name === 'content-type') type = headers[i + 1]!.split(';')[0]!.trim().toLowerCase();
      else if (name === 'content-length') length = Number(headers[i + 1]);
      // RFC 9111 §5.2.2.6: a proxy does not transform content the upstream marked no-transform
      // (nginx's gzip pays no heed to it; the origin asked, and nothing is lost by obeying).
      else if (name === 'cache-control' && /(?:^|,)\s*no-transform\s*(?:,|$)/i.test(headers[i + 1]!)) return null;
    }
    // A gRPC message stream has its own compression (grpc-encoding); a Content-Encoding breaks it.
    if (type === null || type === '' || type.startsWith('application/grpc')) return null;
    const brotli = eligible(this.#brotli, type, length);
    const gzip = eligible(this.#gzip, type, length);
    if (!brotli && !gzip) return null;
    // gzip_vary: a cache must keep the two forms apart, whatever this client was sent.
    addVary(headers);
    // gzip_http_version 1.1: an HTTP/1.0 client cannot be sent a body of unknown length but by closing.
    if (req.httpVersionMajor === 1 && req.httpVersionMinor === 0) return null;
    const accept = req.headers['accept-encoding'];
    if (brotli && acceptsCoding(accept, 'br')) {
      encoded(headers, 'br');
      return createBrotliCompress({ params: { [zlib.BROTLI_PARAM_QUALITY]: this.#brotli!.coding.level, ...(length >= 0 ? { [zlib.BROTLI_PARAM_SIZE_HINT]: length } : {}) } });
    }
    if (!gzip || !acceptsCoding(accept, 'gzip')) return null;
    const agent = req.headers['user-agent'];
    if (this.#gzipDisable !== null && typeof agent === 'string' && this.#gzipDisable.test(agent)) return null;
    encoded(headers, 'gzip');
    return createGzip({ level: this.#gzip!.coding.level });
  }
}

/**
 * Pushes what `encoder` has taken so far out to the client, without ending its block the way a
 * full flush would: gzip's sync flush (the dictionary is kept), brotli's flush operation.
 */
export function flushEncoder(encoder: BodyEncoder): void {
  encoder.flush(encoder instanceof BrotliCompress ? zlib.BROTLI_OPERATION_FLUSH : zlib.Z_SYNC_FLUSH);
}

function eligible(c: PreparedCoding | null, type: string, length: number): boolean {
  if (c === null) return false;
  if (length >= 0 && length < c.coding.minLength) return false;
  return c.types === null || c.types.has(type);
}

function addVary(headers: string[]): void {
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i] !== 'vary') continue;
    const listed = headers[i + 1]!.split(',').map((v) => v.trim().toLowerCase());
    if (listed.includes('accept-encoding') || listed.includes('*')) return;
  }
  headers.push('vary', 'Accept-Encoding');
}

/**
 * The head of a body sent in `coding`: its length is no longer known (chunked, or HTTP/2 frames),
 * ranges of it cannot be served, and its ETag says the bytes differ but the content does not.
 */
function encoded(headers: string[], coding: string): void {
  for (let i = headers.length - 2; i >= 0; i -= 2) {
    const name = headers[i]!;
    if (name === 'content-length' || name === 'accept-ranges' || name === 'content-encoding') headers.splice(i, 2);
    else if (name === 'etag') {
      const etag = headers[i + 1]!;
      // nginx's ngx_http_weak_etag: a strong ETag becomes weak; one that is neither is dropped.
      if (etag.startsWith('"')) headers[i + 1] = `W/${etag}`;
      else if (!etag.startsWith('W/')) headers.splice(i, 2);
    }
  }
  headers.push('content-encoding', coding);
}
