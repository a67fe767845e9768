/**
 * One container's log, as the pod runner keeps it: the server's stdout and stderr go through a
 * {@link LineStamper} each, and every line is appended to the log file with its time at once
 * (synchronously, so a reader that reads the file and then subscribes misses nothing and sees
 * nothing twice), and handed to the followers of `kubectl logs -f`.
 */
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { formatRecord, LineStamper, nanoClock, parseRecords, type LogRecord, type LogStream } from './pod-logs.ts';

/** Called with each new record; `null` once the log ends (the container stopped). */
export type LogFollower = (record: LogRecord | null) => void;

/** The log file of one running container and its followers. */
export class ContainerLog {
  readonly path: string;
  readonly #fd: number;
  readonly #now = nanoClock();
  readonly #followers = new Set<LogFollower>();
  #open = 2;
  #ended = false;

  /** Opens (appends to) `path`. */
  constructor(path: string) {
    this.path = path;
    this.#fd = openSync(path, 'a');
  }

  /** Stamps and stores everything `source` writes, as `stream`; the log ends once stdout and stderr both have. */
  attach(stream: LogStream, source: Readable): void {
    const stamper = new LineStamper(stream, this.#now);
    source.setEncoding('utf8');
    source.on('data', (chunk: string) => this.#append(stamper.push(chunk)));
    source.once('close', () => {
      this.#append(stamper.end());
      if (--this.#open === 0) this.end();
    });
  }

  /** The records stored so far and, from then on, every new one to `follower`; returns the unsubscribe. */
  readAndFollow(follower: LogFollower | null): { records: LogRecord[]; ended: boolean; unfollow: () => void } {
    // Read and subscribe in one synchronous step: no line can be appended in between.
    const records = this.#read();
    if (follower !== null && !this.#ended) this.#followers.add(follower);
    return { records, ended: this.#ended, unfollow: () => follower !== null && this.#followers.delete(follower) };
  }

  /** Ends the log: followers are told, the file is closed (it stays until the pod's directory goes). */
  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    closeSync(this.#fd);
    for (const follower of this.#followers) follower(null);
    this.#followers.clear();
  }

  #read(): LogRecord[] {
    try {
      return parseRecords(readFileSync(this.path, 'utf8'));
    } catch {
      return [];
    }
  }

  #append(records: readonly LogRecord[]): void {
    if (this.#ended || records.length === 0) return;
    writeSync(this.#fd, records.map(formatRecord).join(''));
    for (const record of records) for (const follower of this.#followers) follower(record);
  }
}
