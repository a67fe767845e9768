/**
 * examples/shard-routing end to end: the example's own manifests and demo servers, a real proxy,
 * and what a user of the storefront sees. Also compiles each variant with the CLI, so the example
 * cannot rot unnoticed.
 */
import { scriptsOf } from '../../src/model/route-parts.ts';
import type { RoutingTable } from '../../src/model/table.ts';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { DEMO_PORTS, startShardBackends, type DemoServer, type ShardBackends } from '../../examples/shard-routing/backends.ts';
import { hashKey32 } from '../../src/balancer/hash.ts';
import { removeDir, tempManifestDir, writeManifests } from '../helpers/manifests.ts';
import { startProxy, type TestProxy } from '../helpers/proxy.ts';
import { send } from '../helpers/scripted.ts';
import { deadPort } from '../helpers/upstreams.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const example = join(root, 'examples', 'shard-routing');
const FREE_PORTS: Record<DemoServer, number> = { shop: 0, 'shop-a': 0, 'shop-b': 0, 'shard-directory': 0 };
const DEMO_PORT = new RegExp(`\\b(${Object.values(DEMO_PORTS).join('|')})\\b`, 'g');

/** A variant served from a copy of its manifests whose fixed ports are replaced by `ports`. */
interface Served {
  readonly backends: ShardBackends;
  readonly dir: string;
  readonly proxy: TestProxy;
}

/** Copies the variant's files, replacing each fixed demo port (one pass, so no port is rewritten twice). */
async function copyVariant(variant: string, ports: Readonly<Record<DemoServer, number>>, dir: string): Promise<void> {
  const nameOf = new Map(Object.entries(DEMO_PORTS).map(([name, port]) => [String(port), name as DemoServer]));
  for (const file of await readdir(join(example, variant))) {
    const text = await readFile(join(example, variant, file), 'utf8');
    await writeFile(join(dir, file), text.replace(DEMO_PORT, (port) => String(ports[nameOf.get(port)!])));
  }
}

async function serve(variant: string): Promise<Served> {
  const backends = await startShardBackends({ ports: FREE_PORTS });
  const dir = await tempManifestDir();
  await copyVariant(variant, backends.ports, dir);
  return { backends, dir, proxy: await startProxy(dir) };
}

async function stop(s: Served): Promise<void> {
  await s.proxy.stop();
  await s.backends.close();
  await removeDir(s.dir);
}

/** What the user sees: `status backend shard path` from a demo backend, else `status body`. */
async function visit(proxy: TestProxy, headers: Record<string, string>, path = '/cart'): Promise<string> {
  const res = await send(proxy, 'shop.example.com', path, headers);
  if (res.headers['content-type'] !== 'application/json') return `${res.status} ${res.body.trim()}`;
  const seen = JSON.parse(res.body) as { backend: string; shard: string | null; path: string };
  return `${res.status} ${seen.backend} ${seen.shard} ${seen.path}`;
}

/** The routing both variants give the directory's (and the map's) initial placement. */
function routesShops(served: () => Served): void {
  it('sends shop 1 to shard-a and shop 2 to shard-b, telling the backend its shard', async () => {
    assert.equal(await visit(served().proxy, { 'x-shop-id': '1' }), '200 shop-a shard-a /cart');
    assert.equal(await visit(served().proxy, { 'x-shop-id': '2' }), '200 shop-b shard-b /cart');
  });

  it('finds the shop in the shop cookie, then in a /shops/<id>/ path; the header wins', async () => {
    assert.equal(await visit(served().proxy, { cookie: 'theme=dark; shop=2' }), '200 shop-b shard-b /cart');
    assert.equal(await visit(served().proxy, {}, '/shops/3/orders?page=2'), '200 shop-a shard-a /shops/3/orders?page=2');
    assert.equal(await visit(served().proxy, { 'x-shop-id': '1', cookie: 'shop=2' }, '/shops/2/'), '200 shop-a shard-a /shops/2/');
  });

  it('answers 404 itself for an unknown shop or a malformed id', async () => {
    for (const id of ['99', 'constructor', 'a.b']) assert.equal(await visit(served().proxy, { 'x-shop-id': id }), '404 unknown shop', id);
  });

  it('leaves requests that name no shop to the route\'s own backend', async () => {
    assert.equal(await visit(served().proxy, {}, '/'), '200 shop null /');
    assert.equal(await visit(served().proxy, {}, '/shopsy/1'), '200 shop null /shopsy/1');
  });
}

function compilesCleanly(variant: string, script: string): void {
  it('compiles with the CLI without error diagnostics, the script on the storefront route', () => {
    const r = spawnSync(process.execPath, [join(root, 'bin', 'signalbox.js'), 'compile', '--in', join(example, variant), '-o', 'json'], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { table: RoutingTable; diagnostics: { severity: string }[] };
    assert.deepEqual(out.diagnostics.filter((d) => d.severity === 'error'), []);
    assert.deepEqual(out.table.virtualHosts.flatMap((v) => v.routes.flatMap(scriptsOf)), [script]);
  });
}

describe('examples/shard-routing/data-map', () => {
  let served: Served;
  before(async () => {
    served = await serve('data-map');
  });
  after(() => stop(served));

  compilesCleanly('data-map', 'shop/shard-map');
  routesShops(() => served);

  it('follows an edit of the map without a restart: a shop moves, unmapped shops spread by hash', async () => {
    const file = join(served.dir, '30-routescript.yaml');
    const script = YAML.parse(await readFile(file, 'utf8')) as { spec: { data: { shards: Record<string, string>; spread: string[] } } };
    script.spec.data.shards['1'] = 'shard-b';
    script.spec.data.spread = ['shard-a', 'shard-b'];
    const next = served.proxy.nextTable();
    await writeManifests(served.dir, '30-routescript.yaml', [script]);
    await next;
    assert.equal(await visit(served.proxy, { 'x-shop-id': '1' }), '200 shop-b shard-b /cart');
    for (const id of ['99', '100']) {
      const shard = script.spec.data.spread[hashKey32(id) % 2]!;
      const expected = `200 ${shard === 'shard-a' ? 'shop-a' : 'shop-b'} ${shard} /cart`;
      for (let i = 0; i < 3; i++) assert.equal(await visit(served.proxy, { 'x-shop-id': id }), expected, `shop ${id}`);
    }
  });
});

describe('examples/shard-routing/lookup-service', () => {
  let served: Served;
  before(async () => {
    served = await serve('lookup-service');
  });
  after(() => stop(served));

  compilesCleanly('lookup-service', 'shop/shard-lookup');
  routesShops(() => served);

  it('asks the directory once per shop, then answers from its cache; "unknown" is cached too', async () => {
    served.backends.directory.set('4', 'shard-b');
    for (let i = 0; i < 4; i++) {
      assert.equal(await visit(served.proxy, { 'x-shop-id': '4' }), '200 shop-b shard-b /cart');
      assert.equal(await visit(served.proxy, { 'x-shop-id': '98' }), '404 unknown shop');
    }
    assert.equal(served.backends.asked.get('4'), 1);
    assert.equal(served.backends.asked.get('98'), 1);
  });

  it('answers 503 when the directory names no backend or cannot be reached; cached shops still route', async () => {
    served.backends.directory.set('5', 'shard-z');
    const unavailable = await send(served.proxy, 'shop.example.com', '/', { 'x-shop-id': '5' });
    assert.deepEqual([unavailable.status, unavailable.headers['retry-after'], unavailable.body], [503, '1', 'shard directory unavailable\n']);

    const services = join(served.dir, '10-services.yaml');
    const text = await readFile(services, 'utf8');
    const next = served.proxy.nextTable();
    // Written aside and renamed, as editors do, so the watcher never reads half a file.
    await writeFile(`${services}.tmp`, text.replace(`port: ${served.backends.ports['shard-directory']},`, `port: ${await deadPort()},`));
    await rename(`${services}.tmp`, services);
    await next;
    served.backends.directory.set('6', 'shard-a');
    assert.equal(await visit(served.proxy, { 'x-shop-id': '6' }), '503 shard directory unavailable');
    assert.equal(await visit(served.proxy, { 'x-shop-id': '1' }), '200 shop-a shard-a /cart');
    assert.equal(served.backends.asked.get('6'), undefined);
  });
});
