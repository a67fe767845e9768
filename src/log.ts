import { pino, type Logger, type DestinationStream } from 'pino';

/** The logger type used everywhere. */
export type { Logger };

/** Options for {@link createLogger}. */
export interface LogOptions {
  /** pino level name: trace, debug, info, warn, error, fatal, silent. */
  readonly level?: string;
  /** Extra fields on every line, e.g. `{component: 'dataplane', worker: 1}`. */
  readonly bindings?: Record<string, unknown>;
  /** Where lines go; standard error by default so that standard output stays for data. */
  readonly destination?: DestinationStream;
}

/**
 * The process logger: JSON lines through pino. Diagnostics and lifecycle events go here; access
 * logs have their own stream (see dataplane/access-log.ts) so that they can be sent elsewhere.
 */
export function createLogger(options: LogOptions = {}): Logger {
  const destination = options.destination ?? pino.destination({ dest: 2, sync: true });
  const logger = pino({ level: options.level ?? 'info', base: undefined, timestamp: pino.stdTimeFunctions.isoTime }, destination);
  return options.bindings ? logger.child(options.bindings) : logger;
}
