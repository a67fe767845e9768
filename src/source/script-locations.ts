/**
 * Where each RouteScript's `spec.code` sits in its manifest file, so that a compile error, which the
 * script engine counts from the first line of `code`, can also name the file's own line: the one an
 * editor jumps to.
 */
import YAML, { LineCounter } from 'yaml';
import type { Diagnostic } from '../model/table.ts';

/** The position of one RouteScript's code in a file. */
export interface ScriptLocation {
  readonly namespace: string;
  readonly name: string;
  /** The file, as it should be shown. */
  readonly file: string;
  /** The file line (1-based) of the code's first line. */
  readonly line: number;
  /** Columns the block is indented by in the file. */
  readonly indent: number;
}

/**
 * The RouteScripts of a manifest whose `code` is a literal block scalar (`code: |`), the form in
 * which each line of the code is one line of the file. Other forms (a quoted string, JSON, a folded
 * block) have no such mapping and are left out; so is anything that does not parse.
 */
export function scriptLocations(text: string, file: string): ScriptLocation[] {
  if (!text.includes('RouteScript')) return [];
  const lineCounter = new LineCounter();
  let docs: YAML.Document.Parsed[];
  try {
    docs = YAML.parseAllDocuments(text, { lineCounter, keepSourceTokens: false }) as YAML.Document.Parsed[];
  } catch {
    return [];
  }
  if (!Array.isArray(docs)) return [];
  const out: ScriptLocation[] = [];
  const visit = (node: unknown): void => {
    if (!YAML.isMap(node)) return;
    const kind = node.get('kind');
    const items = node.get('items', true);
    if (typeof kind === 'string' && kind.endsWith('List') && YAML.isSeq(items)) {
      for (const item of items.items) visit(item);
      return;
    }
    if (kind !== 'RouteScript') return;
    const name = node.getIn(['metadata', 'name']);
    const namespace = node.getIn(['metadata', 'namespace']) ?? 'default';
    const code = node.getIn(['spec', 'code'], true);
    if (typeof name !== 'string' || typeof namespace !== 'string' || !YAML.isScalar(code) || code.type !== 'BLOCK_LITERAL' || !code.range) return;
    // The block's header (`|`, `|-`, `|2`) ends its line; the code starts on the next one.
    const header = lineCounter.linePos(code.range[0]).line;
    const start = lineCounter.lineStarts[header];
    if (start === undefined) return;
    // The block's indentation is that of its first line that is not blank.
    const indent = /^(?:[ \t]*\r?\n)*( *)/.exec(text.slice(start))![1]!.length;
    out.push({ namespace, name, file, line: header + 1, indent });
  };
  for (const doc of docs) if (doc.errors.length === 0) visit(doc.contents);
  return out;
}

const CODE_POSITION = /^code (\d+):(\d+): /;

/**
 * `diagnostics` with each RouteScriptCompileError of a located script saying the file's line and
 * column too: `code 2:21 (shop.yaml line 8, column 25): SyntaxError: …`. Others are unchanged.
 */
export function withFileLines(diagnostics: readonly Diagnostic[], locations: readonly ScriptLocation[]): Diagnostic[] {
  if (locations.length === 0) return [...diagnostics];
  return diagnostics.map((d) => {
    if (d.code !== 'RouteScriptCompileError' || d.kind !== 'RouteScript') return d;
    const at = CODE_POSITION.exec(d.message);
    const where = locations.find((l) => l.namespace === d.namespace && l.name === d.name);
    if (at === null || where === undefined) return d;
    const line = where.line + Number(at[1]) - 1;
    const column = where.indent + Number(at[2]);
    return { ...d, message: `code ${at[1]}:${at[2]} (${where.file} line ${line}, column ${column}): ${d.message.slice(at[0].length)}` };
  });
}
