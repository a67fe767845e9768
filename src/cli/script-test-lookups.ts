/**
 * `ctx.lookup` without the lookup service: answers from a table given on the command line, so a
 * script's handling of found, missing and odd values can be tried offline.
 */
import { ConfigError } from '../errors.ts';
import type { LookupFetcher } from '../script/index.ts';
import { kindOf } from './script-test-requests.ts';

/** Mirrors what the proxy's lookup answers for a script without `spec.lookup`. */
const NO_LOOKUP_SERVICE = 'this script has no lookup service configured';

/**
 * The lookup table from a `--lookups` file (a JSON object of key → string, or null for "not
 * found") overlaid with the `--lookup KEY=VALUE` flags, or null when neither was given.
 */
export function lookupTable(flags: readonly string[], file: { readonly name: string; readonly text: string } | null): Map<string, string | null> | null {
  if (flags.length === 0 && file === null) return null;
  const table = new Map<string, string | null>();
  if (file !== null) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(file.text);
    } catch (error) {
      throw new ConfigError(`--lookups ${file.name}: not JSON (${(error as Error).message})`);
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new ConfigError(`--lookups ${file.name}: must hold a JSON object of key to value, got ${kindOf(parsed)}`);
    }
    for (const [key, value] of Object.entries(parsed)) {
      if (value !== null && typeof value !== 'string') throw new ConfigError(`--lookups ${file.name}: the value of ${JSON.stringify(key)} must be a string or null, got ${kindOf(value)}`);
      table.set(key, value);
    }
  }
  for (const flag of flags) {
    const eq = flag.indexOf('=');
    if (eq <= 0) throw new ConfigError(`--lookup: "${flag}" is not KEY=VALUE`);
    table.set(flag.slice(0, eq), flag.slice(eq + 1));
  }
  return table;
}

/**
 * The engine's lookup: from `table` (a key not in it is not found) when the script declares a
 * lookup service, else failing as the proxy's does, so a script that forgot `spec.lookup` fails
 * here too.
 */
export function tableLookup(table: ReadonlyMap<string, string | null> | null, declared: boolean): LookupFetcher {
  if (!declared) return () => Promise.reject(new Error(NO_LOOKUP_SERVICE));
  return (_scriptId, key) => Promise.resolve(table?.get(key) ?? null);
}
