import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Command } from 'commander';
import { addDataplaneOptions, runtimeOptions, type DataplaneFlags } from '../../src/cli/dataplane-flags.ts';
import { createLogger } from '../../src/log.ts';

/** The path options that `serve` would run with, given these arguments. */
function pathsFor(args: string[]): unknown {
  const command = addDataplaneOptions(new Command('serve')).exitOverride();
  command.parse(args, { from: 'user' });
  return runtimeOptions(command.opts<DataplaneFlags>(), createLogger({ level: 'silent' })).dataplane.paths;
}

describe('request path flags', () => {
  it('default to merging slashes and refusing encoded slashes and path parameters', () => {
    assert.deepEqual(pathsFor([]), { mergeSlashes: true, allowEncodedSlashes: false, allowPathParameters: false });
  });

  it('--no-merge-slashes, --allow-encoded-slashes and --allow-path-parameters relax them one by one', () => {
    assert.deepEqual(pathsFor(['--no-merge-slashes']), { mergeSlashes: false, allowEncodedSlashes: false, allowPathParameters: false });
    assert.deepEqual(pathsFor(['--allow-encoded-slashes']), { mergeSlashes: true, allowEncodedSlashes: true, allowPathParameters: false });
    assert.deepEqual(pathsFor(['--allow-path-parameters']), { mergeSlashes: true, allowEncodedSlashes: false, allowPathParameters: true });
  });
});
