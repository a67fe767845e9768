import type { Diagnostic } from '../model/table.ts';

/**
 * Where the control plane's objects come from: a manifest directory (`serve`) or the Kubernetes API
 * (`controller`). Level-triggered: a change only says "look again"; `objects()` is always the whole
 * current set, compiled from scratch.
 */
export interface ObjectSource {
  /** Resolves once the first complete set of objects is in (no table is built before). */
  load(): Promise<void>;
  /** Every object now, as manifests would give them (kind and apiVersion set). */
  objects(): unknown[];
  /** Problems of the source itself (a file that does not parse), published with the table. */
  diagnostics(): Diagnostic[];
  /**
   * `diagnostics` with what only the source knows added to their messages (the file line of a
   * RouteScript's compile error); optional, the identity when absent.
   */
  locate?(diagnostics: readonly Diagnostic[]): Diagnostic[];
  /** Calls `onChange` after each change, from now on. */
  watch(onChange: () => void): void;
  /** Stops watching. */
  close(): void | Promise<void>;
}
