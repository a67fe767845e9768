import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Command } from 'commander';
import { addDataplaneOptions, runtimeOptions, type DataplaneFlags } from '../../src/cli/dataplane-flags.ts';
import { createLogger } from '../../src/log.ts';

/** Whether HTTP/2 with prior knowledge is served on the plain HTTP ports with the flags `args`. */
function cleartextWith(args: string[]): boolean {
  const command = addDataplaneOptions(new Command()).exitOverride();
  command.parse(args, { from: 'user' });
  return runtimeOptions(command.opts<DataplaneFlags>(), createLogger({ level: 'silent' })).dataplane.http2Cleartext;
}

describe('--http2-cleartext', () => {
  it('is on by default: gRPC clients without TLS reach the plain HTTP ports', () => {
    assert.equal(cleartextWith([]), true);
  });

  it('turns off with --no-http2-cleartext, and the last of the two given wins', () => {
    assert.equal(cleartextWith(['--no-http2-cleartext']), false);
    assert.equal(cleartextWith(['--http2-cleartext']), true);
    assert.equal(cleartextWith(['--http2-cleartext', '--no-http2-cleartext']), false);
    assert.equal(cleartextWith(['--no-http2-cleartext', '--http2-cleartext']), true);
  });
});
