/**
 * Node's own llhttp binding — the parser node:http uses — loaded for upstream responses. It is
 * used in strict mode (no lenient flag): Content-Length together with Transfer-Encoding, duplicate
 * or malformed lengths, bare LF line ends, bad chunk sizes and the like fail with an `HPE_*` code
 * (RFC 9112 §6.3), the codes error-responses.ts maps to `upstream-protocol-error`.
 */
import { createRequire } from 'node:module';

/** The parser callbacks, indexed by the constants of the binding. */
export interface NativeParser {
  initialize(type: number, resource: object, maxHeaderSize: number, lenient: number): void;
  /** Bytes consumed, or the parse error (with `code` `HPE_*`). */
  execute(data: Buffer): number | (Error & { code: string });
  /** End of input: an error when a message was cut short, else undefined. */
  finish(): undefined | (Error & { code: string });
  remove(): void;
  free(): void;
  [key: number]: unknown;
}

/** The binding's constructor and constants. */
interface NativeParserClass {
  new (): NativeParser;
  readonly RESPONSE: number;
  readonly kOnMessageBegin: number;
  readonly kOnHeaders: number;
  readonly kOnHeadersComplete: number;
  readonly kOnBody: number;
  readonly kOnMessageComplete: number;
  readonly kLenientNone: number;
}

// `node:_http_common` is the module node:http takes its parser from; requiring it prints no
// deprecation warning (process.binding('http_parser') is gone in Node 24).
const { HTTPParser } = createRequire(import.meta.url)('node:_http_common') as { HTTPParser: NativeParserClass };

/** The binding, for the callback keys. */
export const Parser = HTTPParser;

/** The largest response head accepted: beyond it the parser fails with HPE_HEADER_OVERFLOW. */
export const MAX_RESPONSE_HEAD = 64 * 1024;

/** Callbacks of one connection's parser. */
export interface ResponseEvents {
  onHeadersComplete(status: number, headers: string[], statusText: string, keepAlive: boolean): number;
  onHeaders(headers: string[]): void;
  onBody(chunk: Buffer): void;
  onMessageComplete(): void;
  onMessageBegin(): void;
}

/** A strict response parser whose events go to `events`. */
export function responseParser(events: ResponseEvents): NativeParser {
  const parser = new HTTPParser();
  parser.initialize(HTTPParser.RESPONSE, {}, MAX_RESPONSE_HEAD, HTTPParser.kLenientNone);
  parser[HTTPParser.kOnMessageBegin] = () => events.onMessageBegin();
  parser[HTTPParser.kOnHeaders] = (headers: string[]) => events.onHeaders(headers);
  parser[HTTPParser.kOnHeadersComplete] = (_major: number, _minor: number, headers: string[] | undefined, _method: unknown, _url: unknown, status: number, statusText: string | undefined, _upgrade: boolean, keepAlive: boolean) =>
    events.onHeadersComplete(status, headers ?? [], statusText ?? '', keepAlive);
  parser[HTTPParser.kOnBody] = (chunk: Buffer) => events.onBody(chunk);
  parser[HTTPParser.kOnMessageComplete] = () => events.onMessageComplete();
  return parser;
}

/** Header fields as the dispatch contract hands them over: lower-case names, repeats as arrays. */
export function headerRecord(flat: readonly string[]): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (let i = 0; i < flat.length; i += 2) {
    const name = flat[i]!.toLowerCase();
    const value = flat[i + 1]!;
    const had = out[name];
    if (had === undefined) out[name] = value;
    else if (typeof had === 'string') out[name] = [had, value];
    else had.push(value);
  }
  return out;
}

/**
 * How long an idle connection may be kept after a response, from its `Keep-Alive: timeout=N`
 * hint less a 2 s margin (the upstream's own timer may fire first), at most `maxMs`; `fallbackMs`
 * without a hint; 0 when the hint leaves no time at all.
 */
export function keepAliveMs(hint: string | string[] | undefined, fallbackMs: number, maxMs: number): number {
  if (typeof hint !== 'string') return fallbackMs;
  const m = /(?:^|[,;\s])timeout\s*=\s*(\d+)/i.exec(hint);
  if (m === null) return fallbackMs;
  const ms = Number(m[1]) * 1000 - 2000;
  return ms <= 0 ? 0 : Math.min(ms, maxMs);
}
