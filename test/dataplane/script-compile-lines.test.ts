import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { request } from 'undici';
import { ingress, ingressClass, removeDir, serviceWithEndpoints, tempManifestDir, writeManifests } from '../helpers/manifests.ts';
import { startProxy } from '../helpers/proxy.ts';
import { startUpstream } from '../helpers/upstreams.ts';

const BROKEN = `# A RouteScript whose code does not compile: line 2 of its code, line 9 of this file.
apiVersion: signalbox.dev/v1alpha1
kind: RouteScript
metadata: {name: broken}
spec:
  targetRefs: [{kind: Ingress, name: app}]
  code: |
    export function onRequest(req) {
      return { backend: ;
    }
`;

describe('serve --manifests: a RouteScript that does not compile', () => {
  it('names the line in its code and the line and column in its file; the route keeps normal routing', async () => {
    const up = await startUpstream('app');
    const dir = await tempManifestDir();
    await writeManifests(dir, 'app.yaml', [ingressClass(), ...serviceWithEndpoints('app', [{ port: up.port }]), ingress('app', 'app.test', [{ path: '/', service: 'app' }])]);
    await writeFile(join(dir, 'script.yaml'), BROKEN);
    const proxy = await startProxy(dir);
    try {
      const res = await request(`${proxy.http}/x`, { headers: { host: 'app.test' } });
      assert.equal(await res.body.text(), 'app GET /x');
      const table = (await (await request(`${proxy.debug}/debug/table`)).body.json()) as { diagnostics: { name: string; code: string; message: string }[] };
      const diagnostic = table.diagnostics.find((d) => d.name === 'broken');
      assert.equal(diagnostic?.code, 'RouteScriptCompileError');
      assert.match(diagnostic!.message, /^code 2:21 \(script\.yaml line 9, column 25\): SyntaxError: Unexpected token ';'/);
      assert.equal(BROKEN.split('\n')[9 - 1]![25 - 1], ';', 'the file line and column point at the token');
    } finally {
      await proxy.stop();
      await up.close();
      await removeDir(dir);
    }
  });
});
