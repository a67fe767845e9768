/**
 * The API source watching one namespace, against a small fake API server on a real socket: the
 * ConfigMaps the ingress-nginx controller ConfigMap names in `proxy-set-headers` / `add-headers`
 * outside that namespace are read through streams of their own, added once the controller
 * ConfigMap names them and removed when it stops naming them, without a restart; one the RBAC
 * does not grant is missing rather than holding every table back.
 */
import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { after, before, describe, test } from 'node:test';
import type { KubeApi } from '../../src/k8s/kube-api.ts';
import { startFakeKubeApi, type FakeKubeApi } from '../helpers/fake-kube-api.ts';
import { KubeSource } from '../../src/k8s/kube-source.ts';
import { withHeaderConfigMaps } from '../../src/k8s/nginx-secret-refs.ts';
import { createLogger } from '../../src/log.ts';

const MAIN = 'ingress-nginx/ingress-nginx-controller';

type ConfigMap = { metadata: { namespace: string; name: string; resourceVersion: string }; data: Record<string, string> };

/** The ConfigMaps the fake server holds, and the watches open on them. */
const configMaps = new Map<string, ConfigMap>();
const watches = new Set<{ namespace: string; selector: string | null; res: ServerResponse }>();
/** `namespace/name` of every ConfigMap asked for alone (listed or watched). */
const askedAlone = new Set<string>();
let version = 10;

function configMap(namespace: string, name: string, data: Record<string, string>): ConfigMap {
  return { metadata: { namespace, name, resourceVersion: String(++version) }, data };
}

function matches(object: ConfigMap, namespace: string, selector: string | null): boolean {
  return object.metadata.namespace === namespace && (selector === null || selector === `metadata.name=${object.metadata.name}`);
}

/** Stores `object` and tells the watches that see it. */
function modify(object: ConfigMap): void {
  configMaps.set(`${object.metadata.namespace}/${object.metadata.name}`, object);
  for (const w of watches) if (matches(object, w.namespace, w.selector)) w.res.write(`${JSON.stringify({ type: 'MODIFIED', object })}\n`);
}

function answer(req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://x');
  const json = (body: unknown): void => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const inNamespace = /^\/api\/v1\/namespaces\/([^/]+)\/configmaps$/.exec(url.pathname);
  if (inNamespace === null) {
    // Every other kind is empty, listed or watched.
    if (url.searchParams.get('watch') === 'true') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.flushHeaders();
      return;
    }
    return json({ metadata: { resourceVersion: '1' }, items: [] });
  }
  const namespace = inNamespace[1]!;
  const selector = url.searchParams.get('fieldSelector');
  if (selector !== null) askedAlone.add(`${namespace}/${selector.slice('metadata.name='.length)}`);
  // A Role that grants some of ingress-nginx's namespace's ConfigMaps by resourceNames, not this one.
  if (selector === 'metadata.name=forbidden-headers') {
    res.writeHead(403, { 'content-type': 'application/json' });
    return void res.end(JSON.stringify({ kind: 'Status', reason: 'Forbidden', message: 'configmaps "forbidden-headers" is forbidden', code: 403 }));
  }
  if (url.searchParams.get('watch') === 'true') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.flushHeaders();
    const entry = { namespace, selector, res };
    watches.add(entry);
    res.on('close', () => watches.delete(entry));
    // What changed since the version asked for, as a real API server replays it.
    const since = Number(url.searchParams.get('resourceVersion') ?? '0');
    for (const object of configMaps.values()) {
      if (matches(object, namespace, selector) && Number(object.metadata.resourceVersion) > since) res.write(`${JSON.stringify({ type: 'MODIFIED', object })}\n`);
    }
    return;
  }
  json({ metadata: { resourceVersion: String(version) }, items: [...configMaps.values()].filter((o) => matches(o, namespace, selector)) });
}

/** The names of the ConfigMaps `source` caches, sorted. */
function cached(source: KubeSource): string[] {
  return source.list('ConfigMap').map((o) => `${(o as ConfigMap).metadata.namespace}/${(o as ConfigMap).metadata.name}`).sort();
}

describe('ConfigMaps a ConfigMap names outside the watched namespace', () => {
  let fake: FakeKubeApi;
  let api: KubeApi;

  before(async () => {
    fake = await startFakeKubeApi(answer);
    api = fake.api;
    modify(configMap('ingress-nginx', 'ingress-nginx-controller', { 'proxy-set-headers': 'ingress-nginx/upstream-headers', 'add-headers': 'response-headers' }));
    modify(configMap('ingress-nginx', 'upstream-headers', { 'X-Team': 'shop' }));
    modify(configMap('ingress-nginx', 'response-headers', { 'X-Served-By': 'edge' }));
    modify(configMap('ingress-nginx', 'other-headers', { 'X-Team': 'payments' }));
    modify(configMap('ingress-nginx', 'unnamed', { secret: 'not for us' }));
  });

  after(async () => {
    await fake.close();
  });

  test('are in the first table, followed as the controller ConfigMap changes', { timeout: 10_000 }, async () => {
    const source = new KubeSource(api, 'default', createLogger({ level: 'silent' }), undefined, undefined, [MAIN], withHeaderConfigMaps(MAIN));
    try {
      await source.load();
      assert.deepEqual(cached(source), ['ingress-nginx/ingress-nginx-controller', 'ingress-nginx/response-headers', 'ingress-nginx/upstream-headers'], 'both header ConfigMaps are read before the first table; the namespace\'s others are not');
      assert.deepEqual((source.get('ConfigMap', 'ingress-nginx', 'upstream-headers') as ConfigMap | undefined)?.data, { 'X-Team': 'shop' });

      // The controller ConfigMap now names another ConfigMap for proxy-set-headers, and no add-headers.
      const followed = new Promise<void>((resolve) => source.watch(() => {
        if (source.get('ConfigMap', 'ingress-nginx', 'other-headers') !== undefined) resolve();
      }));
      modify(configMap('ingress-nginx', 'ingress-nginx-controller', { 'proxy-set-headers': 'ingress-nginx/other-headers' }));
      await followed;
      assert.deepEqual(cached(source), ['ingress-nginx/ingress-nginx-controller', 'ingress-nginx/other-headers'], 'the ConfigMaps no longer named are let go');
      assert.deepEqual((source.get('ConfigMap', 'ingress-nginx', 'other-headers') as ConfigMap | undefined)?.data, { 'X-Team': 'payments' });
      assert.ok(!askedAlone.has('ingress-nginx/unnamed'), 'an unnamed ConfigMap is never asked for');

      // The new one is watched: a change to it reaches the source.
      const changed = new Promise<void>((resolve) => source.watch(() => {
        if ((source.get('ConfigMap', 'ingress-nginx', 'other-headers') as ConfigMap | undefined)?.data['X-Team'] === 'billing') resolve();
      }));
      modify(configMap('ingress-nginx', 'other-headers', { 'X-Team': 'billing' }));
      await changed;
      const open = (name: string): boolean => [...watches].some((w) => w.selector === `metadata.name=${name}`);
      // The streams no longer wanted close; those still wanted are (re)opened. Fails by timing out.
      await waitFor(() => !open('upstream-headers') && !open('response-headers') && open('ingress-nginx-controller') && open('other-headers'));
    } finally {
      await source.close();
    }
  });

  test('one the RBAC does not grant counts as missing: the rest is served, nothing is held back', { timeout: 10_000 }, async () => {
    modify(configMap('ingress-nginx', 'ingress-nginx-controller', { 'proxy-set-headers': 'ingress-nginx/forbidden-headers', 'add-headers': 'ingress-nginx/response-headers' }));
    const errors: string[] = [];
    const source = new KubeSource(api, 'default', createLogger({ level: 'silent' }), { error: (kind) => errors.push(kind), listed: () => {} }, undefined, [MAIN], withHeaderConfigMaps(MAIN));
    try {
      await source.load();
      assert.ok(source.synced);
      assert.deepEqual(cached(source), ['ingress-nginx/ingress-nginx-controller', 'ingress-nginx/response-headers']);
      assert.ok(errors.includes('ConfigMap'), 'the refusal is counted');
    } finally {
      await source.close();
    }
  });
});

/** Resolves once `condition` holds, looking at each turn of the event loop (the closing watches are the server's to notice). */
async function waitFor(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setImmediate(resolve));
}
