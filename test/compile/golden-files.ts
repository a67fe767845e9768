/**
 * What the golden suites share: reading multi-document YAML, rendering a result the way the
 * .out.yaml files hold it, and a deterministic shuffle for the order-independence checks.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import YAML from 'yaml';
import type { RoutingTable } from '../../src/model/table.ts';

/** Whether this run rewrites the .out.yaml files (refused when `CI` is set). */
export const UPDATE = process.env.UPDATE_GOLDEN === '1';
// Rewriting the expectations makes every case pass; in CI that would hide any regression.
if (UPDATE && process.env.CI !== undefined && process.env.CI !== '' && process.env.CI !== 'false') {
  throw new Error('UPDATE_GOLDEN=1 is refused when CI is set: regenerate the golden files locally and commit the reviewed diff');
}

/** Parses a multi-document YAML file into plain objects; a YAML syntax error fails the test. */
export function loadObjects(file: string): unknown[] {
  const docs = YAML.parseAllDocuments(readFileSync(file, 'utf8'));
  if (!Array.isArray(docs)) throw docs;
  return docs.map((doc) => {
    assert.deepEqual(doc.errors, [], `${file}: YAML errors`);
    return doc.toJS() as unknown;
  });
}

/**
 * The golden rendering of a result whose `table` is a routing table: PEMs (certificates' and
 * clusters' client certificates') become fingerprints, and
 * each part of a cluster's policy is one flow-style line, so that the files stay readable. Objects
 * shared in the result (every cluster without annotations has the same default policy) are written
 * out each time, never as YAML aliases. `header` is the comment that opens the file.
 */
export function render(header: string, dump: { readonly table: RoutingTable } & Record<string, unknown>): string {
  const fingerprint = (pem: string): string => `sha256:${createHash('sha256').update(pem).digest('hex')}`;
  const table = {
    ...dump.table,
    certificates: dump.table.certificates.map((c) => ({ ...c, certPem: fingerprint(c.certPem), keyPem: fingerprint(c.keyPem) })),
    clusters: Object.fromEntries(Object.entries(dump.table.clusters).map(([key, cluster]) => {
      const tls = cluster.policy.tls;
      const client = tls?.clientCertificate ?? null;
      if (tls === null || client === null || client.certPem === null) return [key, cluster];
      const shown = { ...client, certPem: fingerprint(client.certPem), keyPem: fingerprint(client.keyPem) };
      return [key, { ...cluster, policy: { ...cluster.policy, tls: { ...tls, clientCertificate: shown } } }];
    })),
  };
  const doc = new YAML.Document({ ...dump, table }, { aliasDuplicateObjects: false });
  YAML.visit(doc, {
    Pair(_key, pair) {
      if (!YAML.isScalar(pair.key) || pair.key.value !== 'policy' || !YAML.isMap(pair.value)) return undefined;
      for (const part of pair.value.items) if (YAML.isCollection(part.value)) part.value.flow = true;
      return YAML.visit.SKIP;
    },
  });
  return header + doc.toString({ lineWidth: 0 });
}

/** A deterministic Fisher–Yates shuffle (mulberry32), so a failure reproduces. */
export function shuffled<T>(items: readonly T[], seed: number): T[] {
  let state = seed >>> 0;
  const random = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

