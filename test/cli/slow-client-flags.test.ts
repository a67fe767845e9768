import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Command } from 'commander';
import { addDataplaneOptions, runtimeOptions, type DataplaneFlags } from '../../src/cli/dataplane-flags.ts';
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
  it('default to a 60 s body idle limit, a 5 min body limit and 16384 connections per worker', () => {
    const config = configOf([]);
    assert.equal(config.timeouts.requestBodyIdleMs, 60_000);
    assert.equal(config.timeouts.requestBodyMs, 300_000);
    assert.equal(config.limits.maxConnections, 16_384);
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
