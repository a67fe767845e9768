/**
 * The RouteScript `signalbox script test` runs: read from a manifest file and put through the real
 * compile, so that the command accepts exactly what the proxy accepts and reports it in the same
 * words. Backends and lookup services name Services the file usually does not hold; the compiler
 * keeps such a script (its routes would get 503 from the missing cluster), so those diagnostics are
 * only notes here.
 */
import { readFile } from 'node:fs/promises';
import { compile } from '../compile/compile.ts';
import { snapshotFromObjects } from '../compile/snapshot-from-objects.ts';
import { ConfigError } from '../errors.ts';
import type { Snapshot } from '../model/snapshot.ts';
import { DEFAULT_COMPILE_OPTIONS } from '../model/snapshot.ts';
import type { CompiledScript, Diagnostic } from '../model/table.ts';
import { parseManifest } from '../source/manifest-file.ts';
import { withDefaultNamespace } from '../source/namespace-defaults.ts';

/** The chosen RouteScript, compiled, and the diagnostics that did not stop it. */
export interface ScriptUnderTest {
  readonly script: CompiledScript;
  /** Everything the file and the compile reported, to show as notes. */
  readonly notes: readonly Diagnostic[];
}

/**
 * Reads `path`, picks its RouteScript (`name` is `name` or `namespace/name`, needed when the file
 * holds several) and compiles the file's objects with only that RouteScript in them. Throws a
 * {@link ConfigError} when the file cannot be read or parsed, holds no such RouteScript, or the
 * compile drops it; in that last case `report` has been given the diagnostics first.
 */
export async function loadScriptUnderTest(path: string, name: string | undefined, report: (diagnostic: Diagnostic, severity: 'error' | 'note') => void): Promise<ScriptUnderTest> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read "${path}" (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  const parsed = parseManifest(text, path);
  if (!parsed.ok) throw new ConfigError(parsed.error);
  const { snapshot, diagnostics: shape } = snapshotFromObjects(withDefaultNamespace(parsed.objects));

  const keys = [...new Set(snapshot.routeScripts.map(keyOf).filter((k): k is string => k !== null))];
  if (keys.length === 0) {
    for (const d of shape) report(d, 'note');
    throw new ConfigError(`${path} holds no RouteScript (apiVersion signalbox.dev/v1alpha1)`);
  }
  const key = pick(keys, name, path);
  const only: Snapshot = { ...snapshot, routeScripts: snapshot.routeScripts.filter((rs) => keyOf(rs) === key) };
  const result = compile(only, DEFAULT_COMPILE_OPTIONS);
  const diagnostics = [...shape, ...result.diagnostics];
  const script = result.table.scripts[key];
  if (script !== undefined && !script.invalid) return { script, notes: diagnostics };

  // Dropped: its own errors say why; everything else is context.
  const [namespace, scriptName] = key.split('/') as [string, string];
  const own = (d: Diagnostic): boolean => d.kind === 'RouteScript' && d.namespace === namespace && d.name === scriptName && d.severity === 'error';
  for (const d of diagnostics) report(d, own(d) ? 'error' : 'note');
  const outcome = script?.invalid === true
    ? `its failurePolicy is reject, so its routes would answer ${script.rejectStatus} until it is fixed`
    : 'the proxy would ignore it and its routes would keep their normal routing';
  throw new ConfigError(`RouteScript ${key} is invalid: ${outcome}`);
}

/** `namespace/name` of a RouteScript in the snapshot (defaults applied), or null when it has no usable name. */
function keyOf(obj: unknown): string | null {
  const meta = (obj as { metadata?: { name?: unknown; namespace?: unknown } }).metadata;
  return typeof meta?.name === 'string' && typeof meta.namespace === 'string' ? `${meta.namespace}/${meta.name}` : null;
}

function pick(keys: readonly string[], name: string | undefined, path: string): string {
  const listed = keys.join(', ');
  if (name === undefined) {
    if (keys.length === 1) return keys[0]!;
    throw new ConfigError(`${path} holds several RouteScripts; choose one with --name (${listed})`);
  }
  const matches = keys.filter((k) => k === name || k.slice(k.indexOf('/') + 1) === name);
  if (matches.length === 1) return matches[0]!;
  if (matches.length === 0) throw new ConfigError(`--name: ${path} holds no RouteScript ${JSON.stringify(name)} (it holds ${listed})`);
  throw new ConfigError(`--name: ${JSON.stringify(name)} is in several namespaces; give namespace/name (${matches.join(', ')})`);
}
