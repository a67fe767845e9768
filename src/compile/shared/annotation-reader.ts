/**
 * Reading the `signalbox.dev/*` annotations of one object against the table in annotations.ts.
 * Every annotation with our prefix is accounted for: a name the table does not know is reported
 * (`AnnotationUnknown`, with the closest known name when it looks like a typo), a name that belongs
 * on another kind of object is reported (`AnnotationIgnored`), and a value that does not parse is
 * reported (`AnnotationInvalid`) and read as unset, so that only that field keeps its default.
 * Annotations with other prefixes are not looked at.
 */
import { parseAnnotationValue } from './annotation-values.ts';
import {
  ANNOTATION_PREFIX,
  ANNOTATIONS,
  annotationSpec,
  type AnnotatedKind,
  type AnnotationName,
  type AnnotationValue,
} from './annotations.ts';
import type { DiagnosticCode, SeverityOf } from '../../model/diagnostic-codes.ts';
import type { DiagnosticSink } from './diagnostics.ts';
import { field, isRecord } from './guards.ts';
import type { ObjectIdentity } from './objects.ts';
import { describe } from './objects.ts';
import { compareStrings } from './order.ts';

/** Diagnostic codes about annotations. */
export const ANNOTATION_CODES = {
  /** A value that does not parse, or conflicts with another annotation (error; the default is used). */
  invalid: 'AnnotationInvalid',
  /** A `signalbox.dev/` name that is not in the table (warning; ignored). */
  unknown: 'AnnotationUnknown',
  /** A valid annotation that has no effect where it is (warning). */
  ignored: 'AnnotationIgnored',
  /** An annotation that another one needs to take effect is missing (warning). */
  missing: 'AnnotationMissing',
} as const;

/** The most edits between an unknown name and a known one for the known one to be suggested. */
const MAX_SUGGESTION_DISTANCE = 3;
/** Names longer than this get no suggestion (ours are under 50 characters). */
const MAX_SUGGESTED_LENGTH = 80;

/**
 * The signalbox annotations of one object, parsed. Constructing one reports every problem of a
 * single annotation; problems between annotations are reported by the caller through
 * {@link AnnotationReader.reject} and {@link AnnotationReader.warn}.
 */
export class AnnotationReader {
  readonly #id: ObjectIdentity;
  readonly #sink: DiagnosticSink;
  /** Every annotation of ours that is present, valid or not, by name: its value as JSON, for messages. */
  readonly #present = new Map<string, string>();
  readonly #values = new Map<string, unknown>();

  /** Reads `metadata.annotations` of `obj`, an object of kind `on` identified as `id`. */
  constructor(id: ObjectIdentity, on: AnnotatedKind, obj: unknown, sink: DiagnosticSink) {
    this.#id = id;
    this.#sink = sink;
    const annotations = field(field(obj, 'metadata'), 'annotations');
    if (annotations === undefined || annotations === null) return;
    if (!isRecord(annotations)) {
      sink.report(id, ANNOTATION_CODES.invalid, 'error', `metadata.annotations must be a map of strings, got ${describe(annotations)}; every signalbox.dev annotation is ignored`);
      return;
    }
    for (const name of Object.keys(annotations).sort(compareStrings)) {
      if (!name.startsWith(ANNOTATION_PREFIX)) continue;
      const raw = annotations[name];
      const spec = annotationSpec(name);
      if (spec === undefined) {
        const guess = suggestion(name, on);
        const hint = guess === undefined ? '' : ` (did you mean ${guess}?)`;
        this.#report(name, ANNOTATION_CODES.unknown, 'warning', `${name} is not a signalbox annotation${hint}; it is ignored`);
        continue;
      }
      if (spec.on !== on) {
        const instead = spec.name === 'signalbox.dev/weight' ? '; on a Service, use signalbox.dev/endpoint-weights' : '';
        this.#report(name, ANNOTATION_CODES.ignored, 'warning', `${name} is read from ${article(spec.on)} ${spec.on}, not from ${article(on)} ${on}; it is ignored${instead}`);
        continue;
      }
      this.#present.set(name, JSON.stringify(raw) ?? describe(raw));
      if (typeof raw !== 'string') {
        this.reject(name as AnnotationName, `must be a string (quote it in YAML), got ${describe(raw)}`);
        continue;
      }
      const parsed = parseAnnotationValue(spec, raw);
      if (parsed.ok) this.#values.set(name, parsed.value);
      else this.reject(name as AnnotationName, `is not valid: ${parsed.problem}`);
    }
  }

  /** True when annotation `name` is present on the object, whether or not its value is valid. */
  has(name: AnnotationName): boolean {
    return this.#present.has(name);
  }

  /** The value of annotation `name`, or undefined when it is absent, invalid or rejected. */
  get<N extends AnnotationName>(name: N): AnnotationValue<N> | undefined {
    // The parser of the annotation's kind produced it, and AnnotationValue follows that kind.
    return this.#values.get(name) as AnnotationValue<N> | undefined;
  }

  /**
   * Reports annotation `name` as invalid — `<name> "<value>" <reason>; the default applies: <default>`
   * — and forgets its value. `fallback` replaces the documented default when it depends on other
   * annotations.
   */
  reject(name: AnnotationName, reason: string, fallback?: string): void {
    // The documented default is Markdown; a message is plain text.
    const then = fallback ?? annotationSpec(name)!.default.replaceAll('`', '');
    this.#values.delete(name);
    this.#report(name, ANNOTATION_CODES.invalid, 'error', `${name} ${this.#present.get(name) ?? '""'} ${reason}; the default applies: ${then}`);
  }

  /** Reports a warning about annotation `name` (`AnnotationIgnored` or `AnnotationMissing`). */
  warn(name: AnnotationName, code: typeof ANNOTATION_CODES.ignored | typeof ANNOTATION_CODES.missing, message: string): void {
    this.#report(name, code, 'warning', message);
  }

  #report<C extends DiagnosticCode>(name: string, code: C, severity: SeverityOf<C>, message: string): void {
    this.#sink.report(this.#id, code, severity, message, `${this.#id.provenance}/annotations/${name}`);
  }
}

function article(kind: AnnotatedKind): string {
  return kind === 'EndpointSlice' ? 'an' : 'a';
}

/** The known name for kind `on` closest to `name`, when it is close enough to be a typo. */
function suggestion(name: string, on: AnnotatedKind): string | undefined {
  // A name far longer than any of ours is no typo, and would only cost time to compare.
  if (name.length > MAX_SUGGESTED_LENGTH) return undefined;
  let best: string | undefined;
  let bestDistance = MAX_SUGGESTION_DISTANCE + 1;
  for (const spec of ANNOTATIONS) {
    if (spec.on !== on) continue;
    const distance = editDistance(name, spec.name);
    if (distance < bestDistance) {
      best = spec.name;
      bestDistance = distance;
    }
  }
  return best;
}

/** Levenshtein distance: insertions, deletions and substitutions. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}
