/**
 * Error classes with stable codes. A code never changes once released: logs, metrics and tests key
 * on it, never on the message.
 */

/** Base class of every error signalbox raises on purpose. */
export class SignalboxError extends Error {
  /** Stable machine-readable code, `SB_...`. */
  readonly code: string;
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'SignalboxError';
    this.code = code;
  }
}

/** A command-line flag or configuration value is invalid. */
export class ConfigError extends SignalboxError {
  constructor(message: string) {
    super('SB_CONFIG_INVALID', message);
    this.name = 'ConfigError';
  }
}

/** A listener could not be opened (port in use, permission denied). */
export class ListenError extends SignalboxError {
  constructor(message: string, options?: ErrorOptions) {
    super('SB_LISTEN_FAILED', message, options);
    this.name = 'ListenError';
  }
}

/** `signalbox migrate --cluster` could not list what it reads from the Kubernetes API. */
export class ClusterReadError extends SignalboxError {
  constructor(message: string) {
    super('SB_CLUSTER_READ_FAILED', message);
    this.name = 'ClusterReadError';
  }
}
