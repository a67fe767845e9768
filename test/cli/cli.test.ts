import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { request } from 'undici';
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { generateSelfSignedCertificate } from '../../src/dataplane/server/tls/self-signed.ts';
import { ingress, ingressClass, removeDir, routeScript, serviceWithEndpoints, tempManifestDir, tlsSecret, writeManifests } from '../helpers/manifests.ts';
import { startSignalboxProcess } from '../helpers/signalbox-process.ts';
import { startUpstream } from '../helpers/upstreams.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const bin = join(root, 'bin', 'signalbox.js');

function run(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('signalbox command line', () => {
  it('lists its commands in --help', () => {
    const r = run(['--help']);
    assert.equal(r.status, 0);
    assert.match(r.stdout, /serve \[options\]/);
    assert.match(r.stdout, /compile \[options\]/);
  });

  it('compiles the quickstart example offline into a table with no diagnostics', () => {
    const r = run(['compile', '--in', join(root, 'examples', 'quickstart')]);
    assert.equal(r.status, 0, r.stderr);
    const out = YAML.parse(r.stdout) as { table: { virtualHosts: { host: string }[]; defaultRoute: { backends: { cluster: string }[] } }; diagnostics: unknown[] };
    assert.deepEqual(out.table.virtualHosts.map((v) => v.host), ['cafe.example.com', '*.tea.example.com']);
    assert.equal(out.table.defaultRoute.backends[0]!.cluster, 'cafe/coffee:80');
    assert.deepEqual(out.diagnostics, []);
  });

  it('reports bad input as diagnostics, and fails with --fail-on-error', async () => {
    const dir = await tempManifestDir();
    try {
      await writeFile(join(dir, 'bad.yaml'), 'apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: x}\nspec: {rules: [{host: "bad host!", http: {paths: []}}]}\n');
      await writeFile(join(dir, 'broken.yaml'), 'kind: [\n');
      const lenient = run(['compile', '--in', dir, '-o', 'json']);
      assert.equal(lenient.status, 0);
      const out = JSON.parse(lenient.stdout) as { diagnostics: { code: string; kind: string; message: string }[] };
      const parseError = out.diagnostics.find((d) => d.code === 'ManifestParseError' && d.kind === 'File');
      // One line, the position ending the sentence: no colon left dangling from YAML's excerpt.
      assert.match(parseError?.message ?? '', /^broken\.yaml: [^\n:]+ at line \d+, column \d+ \(the file's last good content is still in force\)$/);
      const strict = run(['compile', '--in', dir, '--fail-on-error']);
      assert.equal(strict.status, 1);
    } finally {
      await removeDir(dir);
    }
  });

  it('compile prints RouteScript data as its shape and never a private key; --show-data prints the data', async () => {
    const dir = await tempManifestDir();
    const secret = 'k-compile-SECRET-0a1b2c3d';
    const cert = generateSelfSignedCertificate({ commonName: 'a.test', dnsNames: ['a.test'] });
    try {
      await writeManifests(dir, 'a.yaml', [
        ingressClass(),
        ...serviceWithEndpoints('web', [{ port: 8080 }]),
        tlsSecret('a-cert', cert.certPem, cert.keyPem),
        ingress('web', 'a.test', [{ path: '/', service: 'web' }], { tls: [{ hosts: ['a.test'], secretName: 'a-cert' }] }),
        routeScript('keys', { targetRefs: [{ kind: 'Ingress', name: 'web' }], data: { keys: { [secret]: 'alice' } }, code: 'export function onRequest() { return null; }' }),
      ]);
      const keyLine = cert.keyPem.split('\n')[1]!;
      const shaped = run(['compile', '--in', dir, '-o', 'json']);
      assert.equal(shaped.status, 0, shaped.stderr);
      assert.ok(!shaped.stdout.includes(secret), 'no data value');
      assert.ok(!shaped.stdout.includes(keyLine), 'no private key');
      const out = JSON.parse(shaped.stdout) as { table: { scripts: Record<string, { data: { redacted: boolean; keys: Record<string, { type: string }> } }>; certificates: { keyPem: string }[] } };
      assert.equal(out.table.scripts['default/keys']?.data.redacted, true);
      assert.deepEqual(out.table.scripts['default/keys']?.data.keys, { keys: { type: 'object', bytes: JSON.stringify({ [secret]: 'alice' }).length } });
      assert.equal(out.table.certificates[0]?.keyPem, '(redacted)');
      const shown = run(['compile', '--in', dir, '-o', 'json', '--show-data']);
      assert.equal(shown.status, 0, shown.stderr);
      assert.deepEqual((JSON.parse(shown.stdout) as { table: { scripts: Record<string, { data: unknown }> } }).table.scripts['default/keys']?.data, { keys: { [secret]: 'alice' } });
      assert.ok(!shown.stdout.includes(keyLine), 'never a private key, even with --show-data');
    } finally {
      await removeDir(dir);
    }
  });

  it('rejects a bad flag with a one-line message and exit code 2', () => {
    const r = run(['serve', '--manifests', root, '--http-port', 'eighty']);
    assert.equal(r.status, 2);
    assert.equal(r.stderr.trim(), 'signalbox: --http-port: "eighty" is not a port number (0-65535)');
  });

  it('rejects an unknown --log-level with the list of levels, not a stack trace', () => {
    for (const args of [['serve', '--manifests', root], ['controller']]) {
      const r = run([...args, '--log-level', 'verbose']);
      assert.equal(r.status, 2, r.stderr);
      assert.equal(r.stderr.trim(), 'signalbox: --log-level: "verbose" is not a log level (one of trace, debug, info, warn, error, fatal, silent)');
    }
  });

  it('serves from a directory, writes JSON access logs, and exits cleanly on SIGTERM', async () => {
    const up = await startUpstream('cli');
    const dir = await tempManifestDir();
    await writeManifests(dir, 'a.yaml', [ingressClass(), ...serviceWithEndpoints('cli', [{ port: up.port }]), ingress('cli', 'cli.test', [{ path: '/', service: 'cli' }])]);
    const child = spawn(process.execPath, [bin, 'serve', '--manifests', dir, '--bind', '127.0.0.1', '--http-port', '0', '--https-port', 'off', '--admin-port', '0', '--admin-bind', '127.0.0.1', '--debug-port', '0', '--workers', '1'], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      let stderr = '';
      let stdout = '';
      child.stdout.on('data', (c: Buffer) => (stdout += c));
      const http = await new Promise<string>((resolve, reject) => {
        child.stderr.on('data', (c: Buffer) => {
          stderr += c;
          const m = /signalbox: serving (http:\/\/[\d.]+:\d+)/.exec(stderr);
          if (m) resolve(m[1]!);
        });
        child.once('exit', () => reject(new Error(`exited early: ${stderr}`)));
      });
      const miss = await request(`${http}/hello`, { headers: { host: 'elsewhere.test' } });
      assert.equal(miss.statusCode, 404);
      await miss.body.text();
      const routed = await request(`${http}/routed`, { headers: { host: 'cli.test' }, reset: true });
      assert.equal(await routed.body.text(), 'cli GET /routed');
      child.kill('SIGTERM');
      const [code] = (await once(child, 'exit')) as [number | null];
      assert.equal(code, 0);
      const lines = stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
      const missLine = lines.find((l) => l.path === '/hello');
      assert.equal(missLine?.status, 404);
      assert.equal(missLine?.error, 'no-route');
      for (const key of ['method', 'host', 'path', 'status', 'bytes', 'duration_ms', 'route', 'upstream', 'time']) assert.ok(key in missLine!, `access log has ${key}`);
      const hit = lines.find((l) => l.path === '/routed');
      assert.equal(hit?.status, 200);
      assert.equal(hit?.host, 'cli.test');
      assert.equal(hit?.route, 'Ingress/default/cli/rule/0/path/0');
      assert.equal(hit?.upstream, `127.0.0.1:${up.port}`);
    } finally {
      child.kill('SIGKILL');
      await up.close();
      await removeDir(dir);
    }
  });

  it('stops cleanly (exit 0) on a Ctrl-C that arrives twice, from the terminal and from a parent passing it on', async () => {
    const dir = await tempManifestDir();
    await writeManifests(dir, 'a.yaml', [ingressClass()]);
    const running = await startSignalboxProcess(['serve', '--manifests', dir, '--bind', '127.0.0.1', '--http-port', '0', '--https-port', 'off', '--admin-port', '0', '--admin-bind', '127.0.0.1', '--debug-port', 'off', '--workers', '1', '--access-log', 'off']);
    try {
      // At once: whoever waits for the line saying it serves may stop it the next moment.
      const exited = once(running.child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
      running.child.kill('SIGINT');
      running.child.kill('SIGINT');
      const [code, signal] = await exited;
      assert.deepEqual({ code, signal }, { code: 0, signal: null }, running.stderr());
    } finally {
      await running.kill();
      await removeDir(dir);
    }
  });
});
