/**
 * What `signalbox migrate` reports: for each Ingress that ingress-nginx would serve (or that carries
 * its annotations), the annotations with what signalbox does with each (annotation-table.ts), the
 * diagnostics its compile gave, and whether it is served; then a summary. Pure: the command reads
 * the manifests and compiles them, this only reads the result.
 */
import { NGINX_PREFIX, nginxAnnotation, type RiskLevel, type Support } from '../compile/ingress-nginx/annotation-table.ts';
import { nginxConfigMapOf } from '../compile/ingress-nginx/profile.ts';
import type { CompileOptions } from '../model/snapshot.ts';
import type { CompileResult, Condition, Diagnostic } from '../model/table.ts';
import { compareStrings } from '../compile/shared/order.ts';

/** One `nginx.ingress.kubernetes.io/*` annotation of an Ingress. */
export interface MigrateAnnotation {
  /** Without the prefix. */
  readonly name: string;
  readonly value: string;
  /** Null for a name ingress-nginx does not have. */
  readonly risk: RiskLevel | null;
  /** `unknown`: not an ingress-nginx annotation (a typo?); ignored by both controllers. */
  readonly support: Support | 'unknown';
  readonly note: string;
}

/**
 * How an Ingress fares:
 * - `served`: served, every annotation as ingress-nginx reads it;
 * - `differences`: served, but some annotation is not honoured or honoured differently, or an error
 *   dropped part of it;
 * - `refused`: nothing of it is served (an annotation above the risk level, a snippet);
 * - `not-taken`: it carries ingress-nginx annotations but is not of the class being migrated.
 */
export type MigrateVerdict = 'served' | 'differences' | 'refused' | 'not-taken';

/** One diagnostic, as printed. */
export interface MigrateDiagnostic {
  readonly severity: Diagnostic['severity'];
  readonly code: string;
  readonly message: string;
}

/** One Ingress of the report. */
export interface MigrateIngress {
  readonly namespace: string;
  readonly name: string;
  /** `spec.ingressClassName`, else the `kubernetes.io/ingress.class` annotation, else null. */
  readonly ingressClass: string | null;
  readonly verdict: MigrateVerdict;
  /** Its status condition `Accepted` is True. */
  readonly served: boolean;
  /** Its `Accepted` condition; null when it is not taken (it gets no status). */
  readonly accepted: Condition | null;
  readonly annotations: readonly MigrateAnnotation[];
  readonly diagnostics: readonly MigrateDiagnostic[];
}

/** The counts of the summary line. */
export interface MigrateSummary {
  readonly ingresses: number;
  readonly served: number;
  readonly differences: number;
  readonly refused: number;
  readonly notTaken: number;
}

/** The whole report. */
export interface MigrateReport {
  /** What the command assumed about the manifests (a missing IngressClass or ConfigMap). */
  readonly notes: readonly string[];
  readonly ingresses: readonly MigrateIngress[];
  /** Diagnostics of other objects (the ConfigMap, Services, files). */
  readonly otherDiagnostics: readonly (MigrateDiagnostic & { readonly kind: string; readonly namespace: string; readonly name: string })[];
  readonly summary: MigrateSummary;
}

/** Where the objects came from: files (`--in`), or the API (`--cluster`), which has what it has. */
export type MigrateSource = 'manifests' | 'cluster';

const INGRESS_CLASS_ANNOTATION = 'kubernetes.io/ingress.class';

/**
 * The IngressClass `options.ingressClass` when the manifests have none of that name (an export of
 * Ingresses often lacks it, and without it no Ingress naming the class would be taken), else null.
 */
export function assumedIngressClass(objects: readonly unknown[], options: CompileOptions): object | null {
  const present = objects.some((o) => kindOf(o) === 'IngressClass' && metadataOf(o).name === options.ingressClass);
  if (present) return null;
  return { apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: options.ingressClass }, spec: { controller: options.controllerName } };
}

/**
 * The report for `objects` (namespaces defaulted, with any assumed IngressClass) and their compile;
 * `extra` are the diagnostics of reading the files and shaping the snapshot.
 */
export function migrateReport(objects: readonly unknown[], result: CompileResult, extra: readonly Diagnostic[], options: CompileOptions, notes: readonly string[], where: MigrateSource = 'manifests'): MigrateReport {
  const diagnostics = [...extra, ...result.diagnostics];
  // Indexed once: an export of a whole cluster holds thousands of Ingresses.
  const byIngress = new Map<string, Diagnostic[]>();
  for (const d of diagnostics) {
    if (d.kind !== 'Ingress') continue;
    const key = `${d.namespace}/${d.name}`;
    const list = byIngress.get(key);
    if (list === undefined) byIngress.set(key, [d]);
    else list.push(d);
  }
  const statuses = new Map(result.statuses.filter((s) => s.kind === 'Ingress').map((s) => [`${s.namespace}/${s.name}`, s]));
  const listed = new Set<string>();
  const ingresses: MigrateIngress[] = [];
  for (const obj of objects) {
    if (kindOf(obj) !== 'Ingress') continue;
    const meta = metadataOf(obj);
    if (typeof meta.name !== 'string' || typeof meta.namespace !== 'string') continue;
    const key = `${meta.namespace}/${meta.name}`;
    const annotations = nginxAnnotationsOf(meta.annotations);
    const status = statuses.get(key);
    if (listed.has(key) || (status === undefined && annotations.length === 0)) continue;
    listed.add(key);
    const accepted = status?.conditions.find((c) => c.type === 'Accepted') ?? null;
    const own = byIngress.get(key) ?? [];
    ingresses.push({
      namespace: meta.namespace,
      name: meta.name,
      ingressClass: classOf(obj, meta.annotations),
      verdict: verdictOf(status !== undefined, accepted, annotations, own),
      served: accepted?.status === 'True',
      accepted,
      annotations,
      diagnostics: own.map(shown),
    });
  }
  ingresses.sort((a, b) => compareStrings(a.namespace, b.namespace) || compareStrings(a.name, b.name));
  const others = diagnostics
    .filter((d) => !(d.kind === 'Ingress' && listed.has(`${d.namespace}/${d.name}`)))
    .map((d) => ({ kind: d.kind, namespace: d.namespace, name: d.name, ...shown(d) }));
  const count = (v: MigrateVerdict): number => ingresses.filter((i) => i.verdict === v).length;
  return {
    notes: [...notes, ...configMapNote(objects, options, where)],
    ingresses,
    otherDiagnostics: others,
    summary: { ingresses: ingresses.length, served: count('served'), differences: count('differences'), refused: count('refused'), notTaken: count('not-taken') },
  };
}

/** Whether `--fail-on-unsupported` fails: an Ingress is refused, or carries an unsupported annotation. */
export function hasUnsupported(report: MigrateReport): boolean {
  return report.ingresses.some((i) => i.verdict === 'refused' || (i.verdict !== 'not-taken' && i.annotations.some((a) => a.support === 'unsupported')));
}

function verdictOf(taken: boolean, accepted: Condition | null, annotations: readonly MigrateAnnotation[], diagnostics: readonly Diagnostic[]): MigrateVerdict {
  if (!taken) return 'not-taken';
  if (accepted?.status !== 'True') return 'refused';
  if (annotations.some((a) => a.support === 'unsupported' || a.support === 'differs')) return 'differences';
  return diagnostics.some((d) => d.severity === 'error') ? 'differences' : 'served';
}

function nginxAnnotationsOf(annotations: unknown): MigrateAnnotation[] {
  if (annotations === null || typeof annotations !== 'object' || Array.isArray(annotations)) return [];
  return Object.entries(annotations as Record<string, unknown>)
    .filter((e): e is [string, string] => e[0].startsWith(NGINX_PREFIX) && typeof e[1] === 'string')
    .map(([full, value]) => {
      const name = full.slice(NGINX_PREFIX.length);
      const row = nginxAnnotation(name);
      return row === undefined
        ? { name, value, risk: null, support: 'unknown' as const, note: 'Not an ingress-nginx annotation (a typo?); ignored.' }
        : { name, value, risk: row.risk, support: row.support, note: row.note };
    })
    .sort((a, b) => compareStrings(a.name, b.name));
}

/** The ConfigMap the profile reads by default is often missing from an export: say what that means. */
function configMapNote(objects: readonly unknown[], options: CompileOptions, where: MigrateSource): string[] {
  const name = nginxConfigMapOf(options);
  if (name === null || options.nginxConfigMap !== undefined) return [];
  const present = objects.some((o) => kindOf(o) === 'ConfigMap' && `${String(metadataOf(o).namespace)}/${String(metadataOf(o).name)}` === name);
  if (present) return [];
  const missing = where === 'cluster' ? 'does not exist in the cluster' : 'is not among the manifests';
  return [`ConfigMap ${name} ${missing}: ingress-nginx's defaults apply (--nginx-configmap names another)`];
}

function classOf(obj: unknown, annotations: unknown): string | null {
  const spec = (obj as { spec?: { ingressClassName?: unknown } }).spec;
  if (typeof spec?.ingressClassName === 'string' && spec.ingressClassName !== '') return spec.ingressClassName;
  const annotation = annotations !== null && typeof annotations === 'object' ? (annotations as Record<string, unknown>)[INGRESS_CLASS_ANNOTATION] : undefined;
  return typeof annotation === 'string' ? annotation : null;
}

function shown(d: Diagnostic): MigrateDiagnostic {
  return { severity: d.severity, code: d.code, message: d.message };
}

function kindOf(obj: unknown): unknown {
  return obj !== null && typeof obj === 'object' ? (obj as { kind?: unknown }).kind : undefined;
}

function metadataOf(obj: unknown): { name?: unknown; namespace?: unknown; annotations?: unknown } {
  const meta = obj !== null && typeof obj === 'object' ? (obj as { metadata?: unknown }).metadata : undefined;
  return meta !== null && typeof meta === 'object' ? (meta as { name?: unknown; namespace?: unknown; annotations?: unknown }) : {};
}
