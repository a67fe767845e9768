/**
 * A light structural check of crds/routescript.yaml: the CRD the chart installs and the schema the
 * compiler mirrors (src/compile/route-scripts.ts). Not a full validator — it checks what makes a
 * schema structural (every node typed, every property with a schema, required names declared) and
 * the parts of the spec the compiler relies on.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import YAML from 'yaml';

const FILE = join(import.meta.dirname, '../../crds/routescript.yaml');
type Schema = { [key: string]: unknown };

function load(): Schema {
  const docs = YAML.parseAllDocuments(readFileSync(FILE, 'utf8'));
  assert.ok(Array.isArray(docs) && docs.length === 1, 'one document');
  assert.deepEqual(docs[0]!.errors, []);
  return docs[0]!.toJS() as Schema;
}

/** Walks every schema node, failing on the first structural problem. */
function checkStructural(node: Schema, where: string): void {
  const preserve = node['x-kubernetes-preserve-unknown-fields'] === true;
  assert.equal(typeof node.type, 'string', `${where}: has no type`);
  if (node.type === 'object') {
    const props = node.properties as Record<string, Schema> | undefined;
    const extra = node.additionalProperties as Schema | undefined;
    assert.ok(!(props !== undefined && extra !== undefined), `${where}: properties and additionalProperties are exclusive`);
    for (const [name, child] of Object.entries(props ?? {})) {
      assert.ok(child !== null && typeof child === 'object', `${where}.${name}: no schema`);
      checkStructural(child, `${where}.${name}`);
    }
    if (extra !== undefined) checkStructural(extra, `${where}[*]`);
    for (const name of (node.required as string[] | undefined) ?? []) {
      assert.ok(props !== undefined && Object.hasOwn(props, name), `${where}: required "${name}" is not a property`);
    }
    if (props === undefined && extra === undefined && where !== '$.metadata') {
      assert.ok(preserve, `${where}: an object without properties must preserve unknown fields`);
    }
  } else if (node.type === 'array') {
    assert.ok(node.items !== null && typeof node.items === 'object', `${where}: array without items`);
    checkStructural(node.items as Schema, `${where}[]`);
  }
  if (node.enum !== undefined) {
    for (const v of node.enum as unknown[]) assert.equal(typeof v, node.type === 'integer' ? 'number' : node.type, `${where}: enum value ${String(v)}`);
  }
}

test('the RouteScript CRD is a v1 CRD with one served storage version', () => {
  const crd = load();
  assert.equal(crd.apiVersion, 'apiextensions.k8s.io/v1');
  assert.equal(crd.kind, 'CustomResourceDefinition');
  const spec = crd.spec as Schema;
  assert.equal((crd.metadata as Schema).name, 'routescripts.signalbox.dev');
  assert.equal(spec.group, 'signalbox.dev');
  assert.equal(spec.scope, 'Namespaced');
  assert.equal((spec.names as Schema).kind, 'RouteScript');
  const versions = spec.versions as Schema[];
  assert.equal(versions.length, 1);
  const v = versions[0]!;
  assert.equal(v.name, 'v1alpha1');
  assert.equal(v.served, true);
  assert.equal(v.storage, true);
  assert.deepEqual(v.subresources, { status: {} });
  const columns = (v.additionalPrinterColumns as Schema[]).map((c) => c.name);
  assert.deepEqual(columns, ['Targets', 'Order', 'Failure policy', 'Accepted', 'Programmed', 'Age']);
});

test('the RouteScript schema is structural', () => {
  const v = ((load().spec as Schema).versions as Schema[])[0]!;
  checkStructural((v.schema as Schema).openAPIV3Schema as Schema, '$');
});

test('the RouteScript schema declares what the compiler relies on', () => {
  const root = (((load().spec as Schema).versions as Schema[])[0]!.schema as Schema).openAPIV3Schema as Schema;
  const spec = (root.properties as Record<string, Schema>).spec!;
  const p = spec.properties as Record<string, Schema>;
  assert.deepEqual(spec.required, ['targetRefs', 'code']);
  assert.equal(p.targetRefs!.minItems, 1);
  const ref = p.targetRefs!.items as Schema;
  assert.deepEqual((ref.properties as Record<string, Schema>).kind!.enum, ['Ingress', 'Service', 'HTTPRoute', 'GRPCRoute']);
  assert.equal((ref.properties as Record<string, Schema>).sectionName!.type, 'string');
  assert.equal(p.data!['x-kubernetes-preserve-unknown-fields'], true);
  const limits = p.limits!.properties as Record<string, Schema>;
  assert.deepEqual([limits.timeoutMs!.minimum, limits.timeoutMs!.maximum, limits.timeoutMs!.default], [1, 1000, 5]);
  assert.deepEqual([limits.memoryMiB!.minimum, limits.memoryMiB!.maximum, limits.memoryMiB!.default], [8, 512, 16]);
  assert.deepEqual([p.failurePolicy!.enum, p.failurePolicy!.default], [['fallback', 'reject'], 'fallback']);
  assert.deepEqual([p.rejectStatus!.minimum, p.rejectStatus!.maximum, p.rejectStatus!.default], [400, 599, 503]);
  assert.equal(p.code!.type, 'string');
  const status = (root.properties as Record<string, Schema>).status!.properties as Record<string, Schema>;
  assert.equal(status.observedGeneration!.type, 'integer');
  const condition = status.conditions!.items as Schema;
  assert.deepEqual(condition.required, ['type', 'status', 'lastTransitionTime', 'reason', 'message']);
});
