import { pino, type Logger } from 'pino';

/** One access-log line. Field names are stable: log pipelines parse them. */
export interface AccessEntry {
  readonly method: string;
  readonly host: string;
  readonly path: string;
  readonly status: number;
  /** Response body bytes sent to the client. */
  readonly bytes: number;
  /** Milliseconds from the start of the request to the end of the response. */
  readonly duration_ms: number;
  /** Route provenance, '' when no route matched. */
  readonly route: string;
  /** `address:port` of the upstream endpoint, '' when none was used. */
  readonly upstream: string;
  readonly client: string;
  /** Why signalbox answered itself (see error-responses.ts), absent when an upstream answered. */
  readonly error?: string;
  readonly protocol: string;
}

/**
 * Access log sink. Lines are JSON written through pino to an asynchronous destination (sonic-boom):
 * while one write is in flight, further lines queue and go out together in the next, so a busy
 * worker pays one serialisation per request and few system calls, and a quiet one shows each line
 * at once.
 */
export interface AccessLog {
  readonly enabled: boolean;
  write(entry: AccessEntry): void;
  /** Writes out what is buffered. */
  flush(): void;
}

/**
 * Builds the access log for `target`: `stdout`, `stderr`, `off`, or a file path (appended to). Every
 * line carries `worker`, the index of the data-plane worker thread that served it.
 */
export function createAccessLog(target: string, worker: number): AccessLog {
  if (target === 'off') return { enabled: false, write() {}, flush() {} };
  const dest = pino.destination({
    dest: target === 'stdout' ? 1 : target === 'stderr' ? 2 : target,
    sync: false,
    mkdir: target !== 'stdout' && target !== 'stderr',
  });
  const logger: Logger = pino({ base: { worker }, messageKey: 'msg', timestamp: pino.stdTimeFunctions.isoTime }, dest);
  return {
    enabled: true,
    write(entry) {
      logger.info(entry);
    },
    flush() {
      try {
        dest.flushSync();
      } catch {
        // Not yet open, or nothing to flush: either way nothing is lost that could be written.
      }
    },
  };
}
