import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Command } from 'commander';
import { addDataplaneOptions, runtimeOptions, type DataplaneFlags } from '../../src/cli/dataplane-flags.ts';
import { defaultMaxConnections } from '../../src/config/dataplane-config.ts';
import { ConfigError } from '../../src/errors.ts';
import { createLogger } from '../../src/log.ts';

const log = createLogger({ level: 'silent' });

/** The data-plane config the flags `args` give. */
function configOf(args: string[]): ReturnType<typeof runtimeOptions>['dataplane'] {
  const command = addDataplaneOptions(new Command()).exitOverride();
  command.parse(args, { from: 'user' });
  return runtimeOptions(command.opts<DataplaneFlags>(), log).dataplane;
}

describe('the flags for slow and greedy clients', () => {
  it('default to a 60 s body idle limit, a 5 min body limit, and as many connections per worker as half the memory holds', () => {
    const config = configOf(['--workers', '2']);
    assert.equal(config.timeouts.requestBodyIdleMs, 60_000);
    assert.equal(config.timeouts.requestBodyMs, 300_000);
    assert.ok(config.limits.maxConnections >= 256 && config.limits.maxConnections <= 16_384, String(config.limits.maxConnections));
  });

  it('derive the connection cap from memory and workers, between 256 and 16384', () => {
    const GiB = 1024 ** 3;
    assert.equal(defaultMaxConnections(1 * GiB, 1), 6_553, 'the chart\'s 1 GiB limit, one worker');
    assert.equal(defaultMaxConnections(1 * GiB, 2), 3_276);
    assert.equal(defaultMaxConnections(64 * GiB, 4), 16_384, 'at most ingress-nginx\'s 16384');
    assert.equal(defaultMaxConnections(256 * 1024 ** 2, 8), 256, 'never fewer than 256');
  });

  it('take durations and a count, 0 turning each off', () => {
    const config = configOf(['--request-body-idle-timeout', '10s', '--request-body-timeout', '0', '--max-connections', '0']);
    assert.equal(config.timeouts.requestBodyIdleMs, 10_000);
    assert.equal(config.timeouts.requestBodyMs, 0);
    assert.equal(config.limits.maxConnections, 0);
  });

  it('refuse a count that is not one, naming the flag', () => {
    assert.throws(() => configOf(['--max-connections', 'lots']), (err: Error) => err instanceof ConfigError && /^--max-connections: "lots"/.test(err.message));
    assert.throws(() => configOf(['--request-body-timeout', 'soon']), (err: Error) => err instanceof ConfigError && /^--request-body-timeout: "soon"/.test(err.message));
  });
});
