import { watch, type FSWatcher } from 'node:fs';
import { readFile, readdir, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { ConfigError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { Diagnostic } from '../model/table.ts';
import { isManifestFile, parseManifest } from './manifest-file.ts';
import { scriptLocations, withFileLines, type ScriptLocation } from './script-locations.ts';

/** Quiet time after a file event before the directory is scanned. */
const SETTLE_MS = 40;

interface FileState {
  /** mtime+size, to skip files that did not change. */
  stamp: string;
  /** The objects of the last good parse (kept when a later parse fails). */
  objects: readonly unknown[];
  /** The current parse error, if the file is broken now. */
  error: string | null;
  /** Where the RouteScripts of the last good parse have their code. */
  scripts: readonly ScriptLocation[];
}

/** Counts a file that failed to load (wired to the source-errors metric). */
export type SourceErrorCounter = (reason: 'parse' | 'read') => void;

/**
 * The file source: every manifest under a directory, kept current by watching it. It keeps, for each
 * file, the objects of its last good parse: a file that stops parsing is reported (log, metric,
 * diagnostic) and its previous content stays in force until it is fixed or deleted.
 */
export class ManifestSource {
  readonly #dir: string;
  readonly #log: Logger;
  readonly #countError: SourceErrorCounter;
  readonly #files = new Map<string, FileState>();
  /** One watcher per directory: Node's recursive watch on Linux follows inodes, and loses a file
   * that an editor replaced by rename; a directory watch sees every change of its entries. */
  readonly #watchers = new Map<string, FSWatcher>();
  #watching = false;
  #settle: NodeJS.Timeout | null = null;
  #poll: NodeJS.Timeout | null = null;
  #scanning: Promise<boolean> | null = null;
  #rescanWanted = false;
  #onChange: () => void = () => {};

  constructor(dir: string, log: Logger, countError: SourceErrorCounter = () => {}) {
    this.#dir = dir;
    this.#log = log;
    this.#countError = countError;
  }

  /** Reads every file once. Rejects only if the directory itself cannot be read. */
  async load(): Promise<void> {
    try {
      if (!(await stat(this.#dir)).isDirectory()) throw new Error('not a directory');
    } catch (err) {
      throw new ConfigError(`--manifests: cannot read directory "${this.#dir}": ${(err as Error).message}`);
    }
    await this.#scan();
  }

  /**
   * Watches the directory; `onChange` runs after any file's objects changed. A slow poll backs up
   * the watcher, since editors that save by renaming and some file systems lose events.
   */
  watch(onChange: () => void, pollMs = 2_000): void {
    this.#onChange = onChange;
    this.#watching = true;
    void listDirectories(this.#dir).then((dirs) => this.#watchDirectories(dirs));
    this.#poll = setInterval(() => this.#requestScan(), pollMs);
    this.#poll.unref();
  }

  /** Stops watching. */
  close(): void {
    this.#watching = false;
    for (const w of this.#watchers.values()) w.close();
    this.#watchers.clear();
    if (this.#settle) clearTimeout(this.#settle);
    if (this.#poll) clearInterval(this.#poll);
  }

  /** Every object of every file (last good content), files in path order. */
  objects(): unknown[] {
    const out: unknown[] = [];
    for (const path of [...this.#files.keys()].sort()) out.push(...this.#files.get(path)!.objects);
    return out;
  }

  /** Where each RouteScript of the directory has its code (file names relative to the directory). */
  scriptLocations(): ScriptLocation[] {
    return [...this.#files.keys()].sort().flatMap((path) => this.#files.get(path)!.scripts);
  }

  /** `diagnostics` with the file line added to each RouteScript compile error (see script-locations.ts). */
  locate(diagnostics: readonly Diagnostic[]): Diagnostic[] {
    return withFileLines(diagnostics, this.scriptLocations());
  }

  /** One diagnostic per file that currently fails to parse. */
  diagnostics(): Diagnostic[] {
    const out: Diagnostic[] = [];
    for (const [path, file] of [...this.#files].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
      if (file.error === null) continue;
      out.push({
        kind: 'File',
        namespace: '',
        name: relative(this.#dir, path),
        code: 'ManifestParseError',
        message: `${file.error} (the file's last good content is still in force)`,
        severity: 'error',
      });
    }
    return out;
  }

  /**
   * Scans shortly after the last file event, not at the first: a file written in place (truncate,
   * then write) would otherwise be read while still empty or half-written.
   */
  #scanSoon(): void {
    if (this.#settle) clearTimeout(this.#settle);
    this.#settle = setTimeout(() => {
      this.#settle = null;
      this.#requestScan();
    }, SETTLE_MS);
  }

  #requestScan(): void {
    if (this.#scanning) {
      this.#rescanWanted = true;
      return;
    }
    this.#scanning = this.#scan().finally(() => {
      this.#scanning = null;
      if (this.#rescanWanted) {
        this.#rescanWanted = false;
        this.#requestScan();
      }
    });
    this.#scanning.then((changed) => {
      if (changed) this.#onChange();
    }, (err) => this.#log.error({ err }, 'manifest scan failed'));
  }

  /** Keeps exactly one watcher on each directory in `dirs`. */
  #watchDirectories(dirs: readonly string[]): void {
    if (!this.#watching) return;
    const wanted = new Set(dirs);
    for (const [dir, watcher] of this.#watchers) {
      if (wanted.has(dir)) continue;
      watcher.close();
      this.#watchers.delete(dir);
    }
    for (const dir of wanted) {
      if (this.#watchers.has(dir)) continue;
      try {
        const watcher = watch(dir, { persistent: false }, () => this.#scanSoon());
        watcher.on('error', () => {
          watcher.close();
          this.#watchers.delete(dir);
        });
        this.#watchers.set(dir, watcher);
      } catch (err) {
        this.#log.warn({ dir, err: (err as Error).message }, 'cannot watch directory; polling it');
      }
    }
  }

  /** Re-reads what changed; true if any file's objects or error changed. */
  async #scan(): Promise<boolean> {
    const seen = new Set<string>();
    let changed = false;
    const { files, dirs } = await listTree(this.#dir);
    this.#watchDirectories(dirs);
    for (const path of files) {
      seen.add(path);
      let stamp: string;
      try {
        const s = await stat(path);
        stamp = `${s.mtimeMs}:${s.size}:${s.ino}`;
      } catch {
        continue; // deleted between the listing and now; the next scan settles it
      }
      const previous = this.#files.get(path);
      if (previous?.stamp === stamp) continue;
      let text: string;
      try {
        text = await readFile(path, 'utf8');
      } catch (err) {
        this.#countError('read');
        this.#log.warn({ file: path, err: (err as Error).message }, 'cannot read manifest; keeping its last good content');
        continue;
      }
      const parsed = parseManifest(text, relative(this.#dir, path));
      if (parsed.ok) {
        this.#files.set(path, { stamp, objects: parsed.objects, error: null, scripts: scriptLocations(text, relative(this.#dir, path)) });
        changed = true;
      } else {
        this.#countError('parse');
        this.#log.error({ file: path, error: parsed.error }, 'manifest does not parse; keeping its last good content');
        if (previous?.error !== parsed.error) changed = true;
        this.#files.set(path, { stamp, objects: previous?.objects ?? [], error: parsed.error, scripts: previous?.scripts ?? [] });
      }
    }
    for (const path of [...this.#files.keys()]) {
      if (seen.has(path)) continue;
      this.#files.delete(path);
      changed = true;
    }
    return changed;
  }
}

/** Manifest files under `dir` recursively (hidden files and directories skipped), and its directories. */
async function listTree(dir: string): Promise<{ files: string[]; dirs: string[] }> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const files: string[] = [];
  const dirs: string[] = [dir];
  for (const entry of entries) {
    const full = join(entry.parentPath, entry.name);
    const rel = relative(dir, full);
    if (entry.isDirectory() && !/(^|\/)\./.test(rel)) dirs.push(full);
    else if (entry.isFile() && isManifestFile(rel)) files.push(full);
  }
  return { files: files.sort(), dirs: dirs.sort() };
}

async function listDirectories(dir: string): Promise<string[]> {
  return (await listTree(dir)).dirs;
}
