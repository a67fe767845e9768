import type { Command } from 'commander';
import { addDataplaneOptions, flagsLogger, announce, runtimeOptions, untilSignalled, type DataplaneFlags } from './dataplane-flags.ts';
import { startServe } from './serve-runtime.ts';

interface ServeFlags extends DataplaneFlags {
  manifests: string;
}

/** `signalbox serve --manifests DIR`: the data plane fed from files, watched for changes. */
export function registerServeCommand(program: Command): void {
  const command = program
    .command('serve')
    .description('serve traffic from Kubernetes manifests in a directory (watched: edits go live within a second)')
    .requiredOption('--manifests <dir>', 'directory of *.yaml, *.yml, *.json manifests (searched recursively)');
  addDataplaneOptions(command).action(async (flags: ServeFlags) => {
    const log = flagsLogger(flags);
    const running = await startServe({ ...runtimeOptions(flags, log), manifests: flags.manifests, log });
    // Listening for signals before saying it serves: whoever waits for that line may stop it at once.
    const signalled = untilSignalled(log, () => running.stop());
    announce(flags, log, running.ports);
    await signalled;
  });
}
