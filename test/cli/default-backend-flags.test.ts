/**
 * `--default-backend-service`: ingress-nginx's global default backend, the Service whose pages
 * `custom-http-errors` fetches for Ingresses without a `default-backend` of their own. A value that
 * is no `namespace/name` stops the command with a one-line message.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { nginxCompileFlags } from '../../src/cli/dataplane-flags.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const bin = join(root, 'bin', 'signalbox.js');
const NGINX = ['--ingress-class', 'nginx', '--controller-name', 'k8s.io/ingress-nginx', '-o', 'json'];

describe('--default-backend-service', () => {
  it('is the compile option when given, nothing otherwise', () => {
    assert.deepEqual(nginxCompileFlags({}), {});
    assert.deepEqual(nginxCompileFlags({ defaultBackendService: 'ingress-nginx/default-http-backend' }), { defaultBackendService: 'ingress-nginx/default-http-backend' });
    for (const bad of ['default-http-backend', 'a/b/c', 'Ingress/x']) {
      assert.throws(() => nginxCompileFlags({ defaultBackendService: bad }), /--default-backend-service .* is not namespace\/name/, bad);
    }
  });

  it('gives compile the global error pages: the ConfigMap\'s codes come from it', () => {
    const input = join(root, 'testdata/compile/nginx-error-pages.in.yaml');
    const run = (extra: string[]): { table: { virtualHosts: { host: string; routes: { filters: { type: string; cluster?: string; codes?: number[] }[] }[] }[] }; diagnostics: { code: string }[] } => {
      const r = spawnSync(process.execPath, [bin, 'compile', '--in', input, ...NGINX, ...extra], { encoding: 'utf8', timeout: 30_000 });
      assert.equal(r.status, 0, r.stderr);
      return JSON.parse(r.stdout);
    };
    const pagesOf = (out: ReturnType<typeof run>): unknown[] =>
      out.table.virtualHosts.find((v) => v.host === 'plain.example.com')!.routes[0]!.filters.filter((f) => f.type === 'DefaultBackend').map((f) => [f.cluster, f.codes]);
    assert.deepEqual(pagesOf(run(['--default-backend-service', 'ingress-nginx/default-http-backend'])), [['ingress-nginx/default-http-backend:80', [404, 503]]]);
    const without = run([]);
    assert.deepEqual(pagesOf(without), []);
    assert.ok(without.diagnostics.some((d) => d.code === 'NginxConfigUnsupported'), 'the ConfigMap key without the flag is reported');
  });

  it('a value that is no namespace/name stops compile with exit code 2', () => {
    const r = spawnSync(process.execPath, [bin, 'compile', '--in', join(root, 'examples/quickstart'), '--default-backend-service', 'errors'], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 2, r.stderr);
    assert.equal(r.stderr.trim(), 'signalbox: --default-backend-service "errors" is not namespace/name');
  });
});
