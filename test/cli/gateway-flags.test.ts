/**
 * `--gateway-controller-name`: the GatewayClasses' controllerName the commands serve, or `off` for
 * none; a name no GatewayClass could carry stops the command with a one-line message.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { gatewayCompileFlags } from '../../src/cli/dataplane-flags.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const bin = join(root, 'bin', 'signalbox.js');

describe('--gateway-controller-name', () => {
  it('is the compile option: a name, null for off, nothing when not given', () => {
    assert.deepEqual(gatewayCompileFlags({}), {});
    assert.deepEqual(gatewayCompileFlags({ gatewayControllerName: 'off' }), { gatewayControllerName: null });
    assert.deepEqual(gatewayCompileFlags({ gatewayControllerName: 'example.com/gateway-controller' }), { gatewayControllerName: 'example.com/gateway-controller' });
    for (const bad of ['no-path', 'Example.com/x', '/x', `a.io/${'x'.repeat(250)}`]) {
      assert.throws(() => gatewayCompileFlags({ gatewayControllerName: bad }), /is not DOMAIN\/PATH/, bad);
    }
  });

  it('a wrong name stops compile, serve and controller alike with exit code 2', () => {
    for (const args of [['compile', '--in', join(root, 'examples/quickstart')], ['serve', '--manifests', join(root, 'examples/quickstart')], ['controller']]) {
      const r = spawnSync(process.execPath, [bin, ...args, '--gateway-controller-name', 'gateway'], { encoding: 'utf8', timeout: 30_000 });
      assert.equal(r.status, 2, r.stderr);
      assert.equal(r.stderr.trim(), 'signalbox: --gateway-controller-name "gateway" is not DOMAIN/PATH (as example.com/gateway-controller), or "off"');
    }
  });
});
