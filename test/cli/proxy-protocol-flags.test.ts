import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Command } from 'commander';
import { addDataplaneOptions, runtimeOptions, type DataplaneFlags } from '../../src/cli/dataplane-flags.ts';
import { ConfigError } from '../../src/errors.ts';
import { createLogger } from '../../src/log.ts';

/** The data-plane config the flags `args` give. */
function configOf(args: string[]): ReturnType<typeof runtimeOptions>['dataplane'] {
  const command = addDataplaneOptions(new Command()).exitOverride();
  command.parse(args, { from: 'user' });
  return runtimeOptions(command.opts<DataplaneFlags>(), createLogger({ level: 'silent' })).dataplane;
}

describe('--proxy-protocol', () => {
  it('is off by default', () => {
    assert.equal(configOf([]).proxyProtocol, false);
  });

  it('turns on with the trusted proxies that send the header', () => {
    const config = configOf(['--proxy-protocol', '--trusted-proxies', '10.0.0.0/8']);
    assert.equal(config.proxyProtocol, true);
    assert.deepEqual(config.trustedProxies, ['10.0.0.0/8']);
  });

  it('is refused without --trusted-proxies: no peer could send a header that is believed', () => {
    assert.throws(() => configOf(['--proxy-protocol']), (err: Error) => err instanceof ConfigError && /^--proxy-protocol needs --trusted-proxies/.test(err.message));
  });
});
