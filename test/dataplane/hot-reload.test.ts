import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Agent, request } from 'undici';
import { ingress, ingressClass, removeDir, serviceWithEndpoints, tempManifestDir, writeManifests } from '../helpers/manifests.ts';
import { startProxy, type TestProxy } from '../helpers/proxy.ts';
import { startUpstream, type TestUpstream } from '../helpers/upstreams.ts';

describe('hot reload from the manifest directory', () => {
  let dir: string;
  let proxy: TestProxy;
  let blue: TestUpstream;
  let green: TestUpstream;

  const routeTo = (service: string): object[] => [
    ingressClass(),
    ...serviceWithEndpoints('blue', [{ port: blue.port }]),
    ...serviceWithEndpoints('green', [{ port: green.port }]),
    ingress('app', 'app.test', [{ path: '/', service }]),
  ];

  before(async () => {
    // The upstreams answer slowly enough that requests are in flight at every swap.
    const slowly = (name: string) => (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => {
      req.resume();
      setTimeout(() => res.end(name), 20);
    };
    blue = await startUpstream('blue', slowly('blue'));
    green = await startUpstream('green', slowly('green'));
    dir = await tempManifestDir();
    await writeManifests(dir, 'app.yaml', routeTo('blue'));
    proxy = await startProxy(dir, { workers: 2 });
  });
  after(async () => {
    await proxy.stop();
    await blue.close();
    await green.close();
    await removeDir(dir);
  });

  it('switches routes under load within a second, failing no request', async () => {
    const agent = new Agent({ connections: 16 });
    const results: { status: number; body: string; at: number }[] = [];
    let stop = false;
    const deadline = Date.now() + 15_000;
    const client = async (): Promise<void> => {
      while (!stop && Date.now() < deadline) {
        const res = await request(`${proxy.http}/`, { headers: { host: 'app.test' }, dispatcher: agent });
        results.push({ status: res.statusCode, body: await res.body.text(), at: Date.now() });
      }
    };
    const clients = Array.from({ length: 16 }, client);
    await new Promise((r) => setTimeout(r, 300));
    const swaps: number[] = [];
    for (const target of ['green', 'blue', 'green', 'blue', 'green']) {
      const applied = proxy.nextTable();
      const changedAt = Date.now();
      await writeManifests(dir, 'app.yaml', routeTo(target));
      await applied;
      swaps.push(Date.now() - changedAt);
      await new Promise((r) => setTimeout(r, 300));
    }
    stop = true;
    await Promise.all(clients);
    await agent.close();

    const failed = results.filter((r) => r.status !== 200);
    assert.equal(failed.length, 0, `failed requests: ${JSON.stringify(failed.slice(0, 3))}`);
    assert.ok(results.length > 200, `enough load: ${results.length} requests`);
    for (const ms of swaps) assert.ok(ms < 1_000, `a change is live within a second (took ${ms} ms)`);
    assert.equal(results.at(-1)!.body, 'green');
  });

  it('keeps the last good content of a file that stops parsing, and reports it', async () => {
    await writeManifests(dir, 'app.yaml', routeTo('blue'));
    await proxy.nextTable();
    const broken = proxy.nextTable();
    await writeFile(join(dir, 'app.yaml'), 'kind: Ingress\nmetadata: {name: [unclosed\n');
    await broken; // the diagnostics change, so a table is published — with the same routes
    const res = await request(`${proxy.http}/`, { headers: { host: 'app.test' } });
    assert.equal(await res.body.text(), 'blue');
    const table = (await (await request(`${proxy.debug}/debug/table`)).body.json()) as { diagnostics: { code: string; name: string }[] };
    assert.ok(table.diagnostics.some((d) => d.code === 'ManifestParseError' && d.name === 'app.yaml'), JSON.stringify(table.diagnostics));
    const metrics = await (await request(`${proxy.admin}/metrics`)).body.text();
    assert.match(metrics, /signalbox_source_errors_total\{reason="parse"\} [1-9]/);
    assert.match(metrics, /signalbox_diagnostics\{severity="error",code="ManifestParseError"\} 1/);

    const fixed = proxy.nextTable();
    await writeManifests(dir, 'app.yaml', routeTo('green'));
    await fixed;
    const after = await request(`${proxy.http}/`, { headers: { host: 'app.test' } });
    assert.equal(await after.body.text(), 'green');
  });

  it('drops the routes of a deleted file', async () => {
    const removed = proxy.nextTable();
    await writeManifests(dir, 'app.yaml', [ingressClass()]);
    await removed;
    const res = await request(`${proxy.http}/`, { headers: { host: 'app.test' } });
    assert.equal(res.statusCode, 404);
    await res.body.text();
  });
});
