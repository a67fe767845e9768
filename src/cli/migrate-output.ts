/**
 * `signalbox migrate`'s two outputs: a text report to read (one block per Ingress, then the
 * summary line), and the same as JSON, whose keys are always written in the same order.
 */
import type { MigrateIngress, MigrateReport, MigrateSummary, MigrateVerdict } from './migrate-report.ts';

const VERDICTS: Record<MigrateVerdict, string> = {
  served: 'served as ingress-nginx would',
  differences: 'served, with differences',
  refused: 'refused: not served',
  'not-taken': 'not of the class taken over: left to its own controller',
};

/** The text report, ending in a newline. */
export function renderMigrateTable(report: MigrateReport): string {
  const lines: string[] = [];
  for (const note of report.notes) lines.push(`note: ${note}`);
  if (report.notes.length > 0) lines.push('');
  for (const ingress of report.ingresses) lines.push(...ingressBlock(ingress), '');
  if (report.otherDiagnostics.length > 0) {
    lines.push('other diagnostics:');
    for (const d of report.otherDiagnostics) lines.push(`  ${d.severity.padEnd(7)} ${d.code}  ${d.kind}/${d.namespace === '' ? '' : `${d.namespace}/`}${d.name}: ${d.message}`);
    lines.push('');
  }
  lines.push(summaryLine(report.summary));
  return `${lines.join('\n')}\n`;
}

/** The JSON report (two-space indents), ending in a newline. */
export function renderMigrateJson(report: MigrateReport): string {
  // Spelled out rather than serialised as built, so the key order is part of this file.
  const out = {
    notes: report.notes,
    ingresses: report.ingresses.map((i) => ({
      namespace: i.namespace,
      name: i.name,
      ingressClass: i.ingressClass,
      verdict: i.verdict,
      served: i.served,
      accepted: i.accepted === null ? null : { status: i.accepted.status, reason: i.accepted.reason, message: i.accepted.message },
      annotations: i.annotations.map((a) => ({ name: a.name, value: a.value, risk: a.risk, support: a.support, note: a.note })),
      diagnostics: i.diagnostics.map((d) => ({ severity: d.severity, code: d.code, message: d.message })),
    })),
    otherDiagnostics: report.otherDiagnostics.map((d) => ({ kind: d.kind, namespace: d.namespace, name: d.name, severity: d.severity, code: d.code, message: d.message })),
    summary: {
      ingresses: report.summary.ingresses,
      served: report.summary.served,
      differences: report.summary.differences,
      refused: report.summary.refused,
      notTaken: report.summary.notTaken,
      line: summaryLine(report.summary),
    },
  };
  return `${JSON.stringify(out, null, 2)}\n`;
}

/** `N Ingresses: X served as ingress-nginx would, Y with differences, Z refused`. */
export function summaryLine(s: MigrateSummary): string {
  const notTaken = s.notTaken === 0 ? '' : `, ${s.notTaken} not of the class`;
  return `${s.ingresses} Ingress${s.ingresses === 1 ? '' : 'es'}: ${s.served} served as ingress-nginx would, ${s.differences} with differences, ${s.refused} refused${notTaken}`;
}

function ingressBlock(i: MigrateIngress): string[] {
  const cls = i.ingressClass === null ? 'no class' : `class ${i.ingressClass}`;
  const lines = [`Ingress ${i.namespace}/${i.name} (${cls}): ${VERDICTS[i.verdict]}`];
  if (i.accepted !== null) lines.push(`  Accepted: ${i.accepted.status} (${i.accepted.reason})`);
  if (i.annotations.length > 0) {
    lines.push('  annotations:');
    const width = Math.max(...i.annotations.map((a) => a.name.length));
    for (const a of i.annotations) lines.push(`    ${a.name.padEnd(width)}  ${a.support.padEnd(14)}  ${a.note}`);
  }
  if (i.diagnostics.length > 0) {
    lines.push('  diagnostics:');
    for (const d of i.diagnostics) lines.push(`    ${d.severity.padEnd(7)} ${d.code}: ${d.message}`);
  }
  return lines;
}
