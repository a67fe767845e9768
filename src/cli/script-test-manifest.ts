/**
 * The RouteScript `signalbox script test` runs: read from a manifest file or directory and put
 * through the real compile, so that the command accepts exactly what the proxy accepts and reports
 * it in the same words. Backends and lookup services name Services that a single file usually does
 * not hold (a directory does); the compiler keeps such a script (its routes would get 503 from the
 * missing cluster), so those diagnostics are only notes here.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { compile } from '../compile/compile.ts';
import { snapshotFromObjects } from '../compile/snapshot-from-objects.ts';
import { ConfigError } from '../errors.ts';
import type { Snapshot } from '../model/snapshot.ts';
import { DEFAULT_COMPILE_OPTIONS } from '../model/snapshot.ts';
import type { CompiledScript, Diagnostic } from '../model/table.ts';
import { createLogger } from '../log.ts';
import { parseManifest } from '../source/manifest-file.ts';
import { ManifestSource } from '../source/manifest-source.ts';
import { scriptLocations, withFileLines, type ScriptLocation } from '../source/script-locations.ts';
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
  const read = await readManifests(path);
  for (const d of read.fileDiagnostics) report(d, 'note');
  const { snapshot, diagnostics: shapeOfAll } = snapshotFromObjects(withDefaultNamespace(read.objects));
  // The problems of objects a RouteScript cannot name (a directory's Ingresses, say) say nothing
  // about the script, and would be noise here.
  const shape = shapeOfAll.filter((d) => SCRIPT_KINDS.has(d.kind));

  const keys = [...new Set(snapshot.routeScripts.map(keyOf).filter((k): k is string => k !== null))];
  if (keys.length === 0) {
    for (const d of shape) report(d, 'note');
    throw new ConfigError(`${path} holds no RouteScript (apiVersion signalbox.dev/v1alpha1)`);
  }
  const key = pick(keys, name, path);
  const only: Snapshot = { ...snapshot, routeScripts: snapshot.routeScripts.filter((rs) => keyOf(rs) === key) };
  const result = compile(only, DEFAULT_COMPILE_OPTIONS);
  const diagnostics = withFileLines([...shape, ...result.diagnostics.filter((d) => d.kind === 'RouteScript')], read.scripts);
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

/** The kinds a RouteScript's compile reads: itself, the Services of its backends and lookup, its ConfigMap. */
const SCRIPT_KINDS: ReadonlySet<string> = new Set(['RouteScript', 'Service', 'ConfigMap']);

/** What a file, or every manifest under a directory, holds. */
interface Manifests {
  readonly objects: readonly unknown[];
  /** Files of a directory that do not parse (a file given by name must parse). */
  readonly fileDiagnostics: readonly Diagnostic[];
  readonly scripts: readonly ScriptLocation[];
}

/**
 * Reads `path`: one manifest file, or a directory searched as `serve --manifests` searches it, so
 * that the Services and ConfigMaps a RouteScript names in files of their own are found too.
 */
async function readManifests(path: string): Promise<Manifests> {
  let isDirectory: boolean;
  try {
    isDirectory = (await stat(path)).isDirectory();
  } catch (error) {
    throw new ConfigError(`cannot read "${path}" (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  if (isDirectory) {
    const source = new ManifestSource(path, createLogger({ level: 'silent' }));
    await source.load();
    // Shown as the user can open them: under the directory given.
    const scripts = source.scriptLocations().map((l) => ({ ...l, file: join(path, l.file) }));
    return { objects: source.objects(), fileDiagnostics: source.diagnostics(), scripts };
  }
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read "${path}" (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  const parsed = parseManifest(text, path);
  if (!parsed.ok) throw new ConfigError(parsed.error);
  return { objects: parsed.objects, fileDiagnostics: [], scripts: scriptLocations(text, path) };
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
