/**
 * Collecting diagnostics during a compile. Processors report problems here instead of throwing;
 * the collector fixes the output order so that the result does not depend on processing order.
 */
import type { DiagnosticCode, SeverityOf } from '../../model/diagnostic-codes.ts';
import type { Diagnostic, Provenance } from '../../model/table.ts';
import { comparePaths, compareStrings } from './order.ts';

/** The object a diagnostic is about. */
export interface DiagnosticSubject {
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
}

/** Accumulates diagnostics; processors receive one and call {@link DiagnosticSink.report}. */
export class DiagnosticSink {
  readonly #items: Diagnostic[] = [];

  /**
   * Records one problem with `subject`. The code is one of the catalogue's (model/diagnostic-codes.ts)
   * and the severity the one it gives that code, both checked by the compiler. `path` is the
   * provenance of the part concerned; omit it when the whole object is meant.
   */
  report<C extends DiagnosticCode>(
    subject: DiagnosticSubject,
    code: C,
    severity: SeverityOf<C>,
    message: string,
    path?: Provenance,
  ): void {
    const base = { kind: subject.kind, namespace: subject.namespace, name: subject.name, code, message, severity };
    this.#items.push(path === undefined ? base : { ...base, path });
  }

  /** Every diagnostic so far, in the order they were reported. */
  get items(): readonly Diagnostic[] {
    return this.#items;
  }
}

/**
 * Sorts diagnostics by kind, namespace, name, path (numbers in paths compare as numbers, so
 * `rule/2` comes before `rule/10`), code and finally message, and removes exact
 * duplicates (the same problem reported twice through two routes to the same cause).
 */
export function sortDiagnostics(items: readonly Diagnostic[]): Diagnostic[] {
  const sorted = [...items].sort(compareDiagnostics);
  return sorted.filter((d, i) => i === 0 || compareDiagnostics(d, sorted[i - 1]!) !== 0);
}

function compareDiagnostics(a: Diagnostic, b: Diagnostic): number {
  return (
    compareStrings(a.kind, b.kind) ||
    compareStrings(a.namespace, b.namespace) ||
    compareStrings(a.name, b.name) ||
    comparePaths(a.path ?? '', b.path ?? '') ||
    compareStrings(a.code, b.code) ||
    compareStrings(a.message, b.message) ||
    compareStrings(a.severity, b.severity)
  );
}

/**
 * Runs one object's processing so that an unexpected shape the guards did not foresee becomes an
 * `ObjectInvalid` diagnostic on `subject` and `fallback`, never an exception that would stop the
 * whole compile.
 */
export function guarded<T>(sink: DiagnosticSink, subject: DiagnosticSubject, fallback: T, work: () => T): T {
  try {
    return work();
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    sink.report(subject, 'ObjectInvalid', 'error', `the object could not be processed (${detail}); it is ignored`);
    return fallback;
  }
}
