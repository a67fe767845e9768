import ivm from 'isolated-vm';
import { scriptFilename } from './script-isolate.ts';

/** Largest script source accepted, in characters. */
export const MAX_SCRIPT_LENGTH = 512 * 1024;

/** The result of {@link checkScript}: a problem has a 1-based line and column in the source. */
export type ScriptCheck = { ok: true } | { ok: false; message: string; line: number; column: number };

/** The syntax check shares one small isolate per thread; it only parses and links, never runs code. */
let checker: ivm.Isolate | null = null;

/**
 * Checks that `code` is a RouteScript module for the compiler's diagnostics: it parses as an ES
 * module, imports nothing, and exports a binding named `onRequest`. Nothing of it runs, so the answer
 * depends only on the text (whether `onRequest` is really a function is known only once the module
 * runs; the engine reports that when it loads the script).
 *
 * Syntax errors come from V8 itself, with its message and position. The id only names the file in
 * messages.
 */
export function checkScript(code: string, id = 'script'): ScriptCheck {
  if (code.length > MAX_SCRIPT_LENGTH) return problem(`the script is longer than ${MAX_SCRIPT_LENGTH} characters`, 1, 1);
  // Every rebuild compiles every RouteScript again; an accepted text stays accepted (the answer
  // depends on the text alone), so it is parsed once. Problems are not kept: their messages name the id.
  if (accepted.has(code)) return OK;
  const check = checkUncached(code, id);
  if (check.ok) {
    if (accepted.size >= MAX_ACCEPTED) accepted.clear();
    accepted.add(code);
  }
  return check;
}

/** Texts that passed, bounded: a cache, not a registry. */
const accepted = new Set<string>();
const MAX_ACCEPTED = 4_096;
const OK: ScriptCheck = Object.freeze({ ok: true });

function checkUncached(code: string, id: string): ScriptCheck {
  if (checker === null || checker.isDisposed) checker = new ivm.Isolate({ memoryLimit: 64 });
  const filename = scriptFilename(id);
  let module: ivm.Module;
  try {
    module = checker.compileModuleSync(code, { filename });
  } catch (error) {
    return fromV8Error(error, filename);
  }
  try {
    const imported = module.dependencySpecifiers[0];
    if (imported !== undefined) {
      const at = positionOf(code, imported);
      return problem(`imports are not supported in a RouteScript (it imports ${JSON.stringify(imported)})`, at.line, at.column);
    }
    // Linking a module that imports `onRequest` from the script proves the export exists without
    // evaluating anything: a missing export is a link-time SyntaxError.
    const probe = checker.compileModuleSync("import { onRequest } from 'routescript';", { filename: 'signalbox:check' });
    const context = checker.createContextSync();
    try {
      probe.instantiateSync(context, () => module);
    } catch {
      return problem('the module must export a function onRequest(req, ctx)', 1, 1);
    } finally {
      probe.release();
      context.release();
    }
    return { ok: true };
  } finally {
    module.release();
  }
}

function problem(message: string, line: number, column: number): ScriptCheck {
  return { ok: false, message, line, column };
}

/** V8's message ends with `[filename:line:column]`; the position moves into the result. */
function fromV8Error(error: unknown, filename: string): ScriptCheck {
  const name = error instanceof Error ? error.name : 'Error';
  const raw = error instanceof Error ? error.message : String(error);
  const suffix = /\s*\[(.*):(\d+):(\d+)\]$/.exec(raw);
  if (suffix !== null && suffix[1] === filename) {
    return problem(`${name}: ${raw.slice(0, suffix.index)}`, Number(suffix[2]), Number(suffix[3]));
  }
  return problem(`${name}: ${raw}`, 1, 1);
}

/** 1-based position of the first quoted occurrence of `specifier`, or 1:1. */
function positionOf(code: string, specifier: string): { line: number; column: number } {
  let index = -1;
  for (const quote of ["'", '"', '`']) {
    const found = code.indexOf(`${quote}${specifier}${quote}`);
    if (found >= 0 && (index < 0 || found < index)) index = found;
  }
  if (index < 0) return { line: 1, column: 1 };
  const before = code.slice(0, index);
  const line = before.split('\n').length;
  return { line, column: index - before.lastIndexOf('\n') };
}
