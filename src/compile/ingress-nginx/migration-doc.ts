/**
 * The migration guide, rendered from the tables the front end itself uses:
 *
 *     node src/compile/ingress-nginx/migration-doc.ts > docs/migrating-from-ingress-nginx.md
 *
 * The annotation table (annotation-table.ts), the ConfigMap keys (config-map-keys.ts) and the two
 * profiles' defaults (settings.ts, profile.ts) are rendered; the prose around them is in
 * migration-doc-text.ts. test/compile/migration-doc.test.ts fails when the document differs from
 * what this renders, so the guide cannot drift from what `signalbox migrate` and the compile report.
 * Rendering is pure; only running this file as a script prints.
 */
import { NGINX_ANNOTATIONS, type Support } from './annotation-table.ts';
import { NGINX_CONFIG_KEYS } from './config-map-keys.ts';
import { CUT_OVER, ERROR_PAGES, INTRO, PATHS, REPORTS, ROUTESCRIPT_SNIPPETS } from './migration-doc-text.ts';
import { DEFAULT_NGINX_CONFIGMAP } from './profile.ts';
import { hstsValue, INGRESS_NGINX_SETTINGS, SIGNALBOX_SETTINGS, type NginxSettings } from './settings.ts';

/** The support values, in the order the guide explains them. */
export const SUPPORT_VALUES: readonly Support[] = Object.freeze(['supported', 'differs', 'unsupported', 'not-applicable']);

/** The Markdown table of every ingress-nginx annotation: name, risk, support, note. */
export function renderNginxAnnotationTable(): string {
  return table(['Annotation', 'Risk', 'Support', 'Note'], NGINX_ANNOTATIONS.map((a) => [code(a.name), a.risk, a.support, a.note]));
}

/** The Markdown table of every key of ingress-nginx's controller ConfigMap: name, support, note. */
export function renderNginxConfigKeyTable(): string {
  return table(['Key', 'Support', 'Note'], NGINX_CONFIG_KEYS.map((k) => [code(k.name), k.support, k.note === '' ? '—' : k.note]));
}

/** The defaults of the two profiles, side by side. */
export function renderProfileDefaults(): string {
  const both = (f: (s: NginxSettings) => string): [string, string] => [f(INGRESS_NGINX_SETTINGS), f(SIGNALBOX_SETTINGS)];
  const rows: string[][] = [
    ['ConfigMap read', code(DEFAULT_NGINX_CONFIGMAP), 'none (`--nginx-configmap` names one)'],
    [code('proxy-body-size'), ...both((s) => (s.proxyBodySize === 0 ? 'no limit' : code(size(s.proxyBodySize))))],
    [`${code('ssl-redirect')} (hosts with TLS)`, ...both((s) => code(String(s.sslRedirect)))],
    [code('force-ssl-redirect'), ...both((s) => code(String(s.forceSslRedirect)))],
    [code('http-redirect-code'), ...both((s) => code(String(s.httpRedirectCode)))],
    [`${code('hsts')} (HTTPS answers of hosts with TLS)`, ...both((s) => (s.hsts === null ? 'none' : code(hstsValue(s.hsts))))],
    [code('allow-snippet-annotations'), ...both((s) => code(String(s.allowSnippetAnnotations)))],
    [code('annotations-risk-level'), ...both((s) => s.riskLevel)],
    [code('strict-validate-path-type'), ...both((s) => code(String(s.strictValidatePathType)))],
    [`${code('ImplementationSpecific')} paths`, 'nginx\'s string prefix', code('Prefix')],
  ];
  return table(['Setting', 'ingress-nginx profile', 'signalbox\'s class'], rows);
}

/** docs/migrating-from-ingress-nginx.md, whole. */
export function renderMigrationDoc(): string {
  const count = (support: Support): number => NGINX_ANNOTATIONS.filter((a) => a.support === support).length;
  const counts = SUPPORT_VALUES.map((s) => `${count(s)} ${s}`).join(', ');
  return `# Migrating from ingress-nginx

<!-- Generated from src/compile/ingress-nginx/ (annotation-table.ts, config-map-keys.ts, settings.ts, migration-doc-text.ts) by \`node src/compile/ingress-nginx/migration-doc.ts > docs/migrating-from-ingress-nginx.md\`; edit those, not this file. -->

${INTRO}
The defaults, where the two differ or a ConfigMap key changes them:

${renderProfileDefaults()}
${REPORTS}
## Annotations

Every annotation ingress-nginx documents, ${NGINX_ANNOTATIONS.length} in all (${counts}).
\`nginx.ingress.kubernetes.io/\` is left out of the names; the risk is ingress-nginx's, which
\`annotations-risk-level\` is compared with.

${renderNginxAnnotationTable()}
## ConfigMap keys

Every key of ingress-nginx's controller ConfigMap, ${NGINX_CONFIG_KEYS.length} in all. Only the
\`supported\` ones are read; for a \`differs\` key the note names the flag or annotation that does the
same in signalbox.

${renderNginxConfigKeyTable()}
${PATHS}
${ERROR_PAGES}
${CUT_OVER}
${ROUTESCRIPT_SNIPPETS}`;
}

function table(head: readonly string[], rows: readonly (readonly string[])[]): string {
  const lines = [head, head.map(() => '---'), ...rows].map((cells) => `| ${cells.map(escapeCell).join(' | ')} |`);
  return `${lines.join('\n')}\n`;
}

/** A byte count as nginx writes sizes: `1m`, `8k`, or bytes. */
function size(bytes: number): string {
  if (bytes % (1024 * 1024) === 0) return `${bytes / (1024 * 1024)}m`;
  if (bytes % 1024 === 0) return `${bytes / 1024}k`;
  return String(bytes);
}

function code(text: string): string {
  return `\`${text}\``;
}

/** A pipe would end the cell, even inside a code span (GitHub Flavored Markdown). */
function escapeCell(text: string): string {
  return text.replaceAll('|', '\\|');
}

if (import.meta.main) process.stdout.write(renderMigrationDoc());
