import ivm from 'isolated-vm';
import { scriptFilename } from './script-isolate.ts';

/** Largest script source accepted, in characters. */
export const MAX_SCRIPT_LENGTH = 512 * 1024;

/** The result of {@link checkScript}: a problem has a 1-based line and column in the source. */
export type ScriptCheck = { ok: true } | { ok: false; message: string; line: number; column: number };

/** The syntax check shares one small isolate per thread; it only parses and links, never runs code. */
let checker: ivm.Isolate | null = null;
/** Uncached checks made, and how many one checker serves before it is replaced. */
let checks = 0;
const RECYCLE_AFTER = 200;

/** The hooks a RouteScript module exports (as bindings; whether they are functions is known once it runs). */
export interface ScriptHooks {
  /** It exports `onRequest(req, ctx)`: run before the request goes upstream. */
  readonly onRequest: boolean;
  /** It exports `onResponse(res, ctx)`: run before the response goes to the client. */
  readonly onResponse: boolean;
}

/** What a module must export, in messages. */
export const HOOKS_REQUIRED = 'the module must export a function onRequest(req, ctx), onResponse(res, ctx) or both';

/**
 * Checks that `code` is a RouteScript module for the compiler's diagnostics: it parses as an ES
 * module, imports nothing, and exports a binding named `onRequest`, `onResponse` or both. Nothing
 * of it runs, so the answer depends only on the text (whether a hook is really a function is known
 * only once the module runs; the engine reports that when it loads the script).
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
  if (check.ok) remember(code, check.hooks);
  return check.ok ? OK : check;
}

/**
 * The hooks `code` exports, read without running it; null when it is no RouteScript module. The
 * engine asks once per loaded version, so that a route whose script has no `onResponse` pays
 * nothing in the response phase.
 */
export function scriptHooks(code: string): ScriptHooks | null {
  const known = accepted.get(code);
  if (known !== undefined) return known;
  const check = code.length > MAX_SCRIPT_LENGTH ? null : checkUncached(code, 'script');
  if (check === null || !check.ok) return null;
  remember(code, check.hooks);
  return check.hooks;
}

/** Texts that passed, with their hooks, bounded: a cache, not a registry. */
const accepted = new Map<string, ScriptHooks>();
const MAX_ACCEPTED = 4_096;
const OK: ScriptCheck = Object.freeze({ ok: true });

function remember(code: string, hooks: ScriptHooks): void {
  if (accepted.size >= MAX_ACCEPTED) accepted.clear();
  accepted.set(code, hooks);
}

type UncachedCheck = { ok: true; hooks: ScriptHooks } | (ScriptCheck & { ok: false });

function checkUncached(code: string, id: string): UncachedCheck {
  // Linked modules and their contexts are only freed by the checker's garbage collector, which a
  // compile loop gives little reason to run: a fresh checker now and then bounds what it holds.
  if (checker !== null && !checker.isDisposed && ++checks % RECYCLE_AFTER === 0) checker.dispose();
  if (checker === null || checker.isDisposed) checker = new ivm.Isolate({ memoryLimit: 64 });
  const isolate = checker;
  const filename = scriptFilename(id);
  let module: ivm.Module;
  try {
    module = isolate.compileModuleSync(code, { filename });
  } catch (error) {
    return fromV8Error(error, filename) as UncachedCheck;
  }
  try {
    const imported = module.dependencySpecifiers[0];
    if (imported !== undefined) {
      const at = positionOf(code, imported);
      return { ok: false, message: `imports are not supported in a RouteScript (it imports ${JSON.stringify(imported)})`, line: at.line, column: at.column };
    }
    const hooks = exportedHooks(isolate, module, code, filename);
    if (!hooks.onRequest && !hooks.onResponse) return { ok: false, message: HOOKS_REQUIRED, line: 1, column: 1 };
    return { ok: true, hooks };
  } finally {
    module.release();
  }
}

/**
 * Which hooks `module` exports, without evaluating it: linking a module that imports a name from
 * it proves the export exists (a missing one is a link-time SyntaxError). A failed link leaves the
 * module unusable for another, so the second probe links a fresh copy of it.
 */
function exportedHooks(isolate: ivm.Isolate, module: ivm.Module, code: string, filename: string): ScriptHooks {
  const context = isolate.createContextSync();
  try {
    const onRequest = links(isolate, context, module, 'onRequest');
    const again = isolate.compileModuleSync(code, { filename });
    try {
      return Object.freeze({ onRequest, onResponse: links(isolate, context, again, 'onResponse') });
    } finally {
      again.release();
    }
  } finally {
    context.release();
  }
}

function links(isolate: ivm.Isolate, context: ivm.Context, module: ivm.Module, name: string): boolean {
  const probe = isolate.compileModuleSync(`import { ${name} } from 'routescript';`, { filename: 'signalbox:check' });
  try {
    probe.instantiateSync(context, () => module);
    return true;
  } catch {
    return false;
  } finally {
    probe.release();
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
