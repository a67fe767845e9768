import YAML from 'yaml';

/** The objects in one manifest file, or why it could not be read. */
export type ParsedManifest =
  | { readonly ok: true; readonly objects: readonly unknown[] }
  | { readonly ok: false; readonly error: string };

/** Whether `path` names a manifest file signalbox reads. */
export function isManifestFile(path: string): boolean {
  return /\.(ya?ml|json)$/i.test(path) && !/(^|\/)\./.test(path);
}

/**
 * Parses the text of a manifest file: YAML (several documents allowed) or JSON, with `kind: List`
 * (or any `*List` kind with `items`) flattened into its items. Empty documents are skipped. Any
 * syntax error fails the whole file, with the line and column in the message, so that a half-saved
 * file never replaces the last good one.
 */
export function parseManifest(text: string, fileName: string): ParsedManifest {
  const objects: unknown[] = [];
  let docs: YAML.Document.Parsed[];
  try {
    docs = YAML.parseAllDocuments(text, { prettyErrors: true, uniqueKeys: true }) as YAML.Document.Parsed[];
  } catch (err) {
    return { ok: false, error: `${fileName}: ${firstLine((err as Error).message)}` };
  }
  if (!Array.isArray(docs)) docs = [docs];
  for (const doc of docs) {
    const problem = doc.errors[0];
    if (problem) return { ok: false, error: `${fileName}: ${firstLine(problem.message)}` };
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: 1000 });
    } catch (err) {
      return { ok: false, error: `${fileName}: ${firstLine((err as Error).message)}` };
    }
    if (value === null || value === undefined) continue;
    flatten(value, objects);
  }
  return { ok: true, objects };
}

/**
 * The first line of a YAML error: with prettyErrors the message goes on, after a colon, with the
 * offending source lines, which a one-line diagnostic cannot show; the colon goes with them.
 */
function firstLine(message: string): string {
  return message.split('\n')[0]!.replace(/:\s*$/, '');
}

function flatten(value: unknown, out: unknown[]): void {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const v = value as { kind?: unknown; items?: unknown };
    if (typeof v.kind === 'string' && v.kind.endsWith('List') && Array.isArray(v.items)) {
      for (const item of v.items) flatten(item, out);
      return;
    }
  }
  out.push(value);
}
