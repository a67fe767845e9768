/**
 * The pure half of the fake Node's container logs: the pod runner stamps every line a server writes
 * with the time it arrived and stores it as the kubelet's CRI log format does
 * (`<RFC3339Nano> stdout F <line>`), and the kubelet endpoint (kubelet-server.ts) answers
 * `/containerLogs/...` from those records with the kubelet's filters: sinceTime, sinceSeconds,
 * tailLines, limitBytes, timestamps and stream. No I/O: tested in test/conformance/pod-logs.test.ts.
 */

/** Which of a container's output streams a line came from. */
export type LogStream = 'stdout' | 'stderr';

/** One stored line: when it arrived (Unix nanoseconds), its stream and its text (no newline). */
export interface LogRecord {
  readonly nanos: bigint;
  readonly stream: LogStream;
  readonly text: string;
}

/** A Unix time in nanoseconds as RFC3339 with nine fraction digits, in UTC, as the kubelet writes it. */
export function formatTimestamp(nanos: bigint): string {
  const ms = nanos / 1_000_000n;
  const iso = new Date(Number(ms)).toISOString(); // 2026-12-03T13:10:00.123Z
  const fraction = (nanos % 1_000_000_000n).toString().padStart(9, '0');
  return `${iso.slice(0, 19)}.${fraction}Z`;
}

const RFC3339 = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/i;

/** Parses an RFC3339 time (any fraction up to nanoseconds, Z or an offset) to Unix nanoseconds; null when it is not one. */
export function parseTimestamp(text: string): bigint | null {
  const match = RFC3339.exec(text);
  if (match === null) return null;
  const seconds = Date.parse(`${match[1]}${match[3]!.toUpperCase()}`);
  if (Number.isNaN(seconds)) return null;
  const fraction = BigInt((match[2] ?? '').padEnd(9, '0') || '0');
  return BigInt(seconds) * 1_000_000n + fraction;
}

/** A record as one line of the log file, newline included. */
export function formatRecord(record: LogRecord): string {
  return `${formatTimestamp(record.nanos)} ${record.stream} F ${record.text}\n`;
}

/** One line of the log file (without its newline) back to a record; null for a line that is not one of ours. */
export function parseRecord(line: string): LogRecord | null {
  const match = /^(\S+) (stdout|stderr) [FP] (.*)$/s.exec(line);
  if (match === null) return null;
  const nanos = parseTimestamp(match[1]!);
  return nanos === null ? null : { nanos, stream: match[2] as LogStream, text: match[3]! };
}

/** Every record of a log file's text; a last line without its newline (a write in progress) is left out. */
export function parseRecords(text: string): LogRecord[] {
  const lines = text.split('\n');
  lines.pop();
  return lines.map(parseRecord).filter((r): r is LogRecord => r !== null);
}

/**
 * Splits one stream's chunks into lines and stamps each with the time its newline arrived (the
 * clock is passed in: Unix nanoseconds). A line cut between two chunks is one record; what is left
 * without a newline when the stream ends is flushed by {@link LineStamper.end}.
 */
export class LineStamper {
  readonly #stream: LogStream;
  readonly #now: () => bigint;
  #partial = '';

  constructor(stream: LogStream, now: () => bigint) {
    this.#stream = stream;
    this.#now = now;
  }

  /** The complete lines in `chunk` (and what came before it), stamped now. */
  push(chunk: string): LogRecord[] {
    const parts = (this.#partial + chunk).split('\n');
    this.#partial = parts.pop()!;
    if (parts.length === 0) return [];
    const nanos = this.#now();
    return parts.map((text) => ({ nanos, stream: this.#stream, text: text.replace(/\r$/, '') }));
  }

  /** The unterminated rest, if any, as a last record. */
  end(): LogRecord[] {
    if (this.#partial === '') return [];
    const text = this.#partial;
    this.#partial = '';
    return [{ nanos: this.#now(), stream: this.#stream, text }];
  }
}

/** A clock in Unix nanoseconds: the wall clock once, then the monotonic clock, so stamps never go backwards. */
export function nanoClock(): () => bigint {
  const base = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();
  return () => base + process.hrtime.bigint();
}

/** What a `/containerLogs` request asks for, as the kubelet reads its query. */
export interface LogQuery {
  /** Lines stamped before this (Unix nanoseconds) are left out. */
  readonly since: bigint | null;
  readonly tailLines: number | null;
  readonly limitBytes: number | null;
  readonly timestamps: boolean;
  readonly follow: boolean;
  readonly previous: boolean;
  readonly stream: LogStream | null;
}

/** A query, or why it is refused (the kubelet answers 400 then). */
export type ParsedLogQuery = { readonly query: LogQuery } | { readonly error: string };

/**
 * Reads the query string the API server sends (pkg/registry/core/pod/strategy.go LogLocation):
 * booleans as `true`, sinceTime as RFC3339, sinceSeconds relative to `now` (Unix nanoseconds).
 */
export function parseLogQuery(params: URLSearchParams, now: bigint): ParsedLogQuery {
  const flag = (name: string) => params.get(name) === 'true';
  const count = (name: string): number | null | string => {
    const value = params.get(name);
    if (value === null) return null;
    return /^\d+$/.test(value) ? Number(value) : `${name} must be a non-negative integer, not ${JSON.stringify(value)}`;
  };
  let since: bigint | null = null;
  const sinceTime = params.get('sinceTime');
  if (sinceTime !== null) {
    since = parseTimestamp(sinceTime);
    if (since === null) return { error: `sinceTime is not an RFC3339 time: ${JSON.stringify(sinceTime)}` };
  }
  const sinceSeconds = count('sinceSeconds');
  if (typeof sinceSeconds === 'string') return { error: sinceSeconds };
  if (sinceSeconds !== null) {
    if (since !== null) return { error: 'at most one of sinceTime or sinceSeconds may be specified' };
    since = now - BigInt(sinceSeconds) * 1_000_000_000n;
  }
  const tailLines = count('tailLines');
  if (typeof tailLines === 'string') return { error: tailLines };
  const limitBytes = count('limitBytes');
  if (typeof limitBytes === 'string') return { error: limitBytes };
  const streamParam = params.get('stream');
  let stream: LogStream | null = null;
  if (streamParam === 'Stdout') stream = 'stdout';
  else if (streamParam === 'Stderr') stream = 'stderr';
  else if (streamParam !== null && streamParam !== 'All') return { error: `unknown stream ${JSON.stringify(streamParam)}` };
  return { query: { since, tailLines, limitBytes, timestamps: flag('timestamps'), follow: flag('follow'), previous: flag('previous'), stream } };
}

/** Whether a record passes the query's stream and since filters (tailLines and limitBytes act on the whole answer). */
export function keeps(query: LogQuery, record: LogRecord): boolean {
  if (query.stream !== null && record.stream !== query.stream) return false;
  return query.since === null || record.nanos >= query.since;
}

/** How a record is sent: its text, with its time in front when timestamps are asked for. */
export function renderRecord(query: LogQuery, record: LogRecord): string {
  return query.timestamps ? `${formatTimestamp(record.nanos)} ${record.text}\n` : `${record.text}\n`;
}

/**
 * The records a request is answered with, in order: as the kubelet does, tailLines picks the last
 * lines of the stream(s) asked for first, and since filters those. limitBytes is applied by the
 * writer ({@link ByteLimit}), since it cuts through a line.
 */
export function selectRecords(query: LogQuery, records: readonly LogRecord[]): LogRecord[] {
  let chosen = query.stream === null ? [...records] : records.filter((r) => r.stream === query.stream);
  if (query.tailLines !== null) chosen = query.tailLines === 0 ? [] : chosen.slice(-query.tailLines);
  return chosen.filter((r) => keeps(query, r));
}

/** Counts what is sent against limitBytes: cuts the chunk that crosses it and says when the answer is complete. */
export class ByteLimit {
  #left: number;

  constructor(limitBytes: number | null) {
    this.#left = limitBytes ?? Infinity;
  }

  /** The bytes of `text` that may still be sent (bytes: the cut may fall inside a character, as the kubelet's does). */
  take(text: string): Buffer {
    const bytes = Buffer.from(text);
    const taken = bytes.subarray(0, Math.max(0, Math.min(bytes.length, this.#left)));
    this.#left -= taken.length;
    return taken;
  }

  get done(): boolean {
    return this.#left <= 0;
  }
}
