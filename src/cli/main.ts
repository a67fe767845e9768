import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { ConfigError, SignalboxError } from '../errors.ts';
import { registerCompileCommand } from './compile-command.ts';
import { registerControllerCommand } from './controller-command.ts';
import { registerMigrateCommand } from './migrate-command.ts';
import { registerScriptCommand } from './script-test-command.ts';
import { registerServeCommand } from './serve-command.ts';

/** Builds the `signalbox` command tree. */
export function buildProgram(): Command {
  const program = new Command('signalbox')
    .description('Kubernetes ingress controller whose data plane is programmable with sandboxed JavaScript')
    .version(packageVersion())
    .showHelpAfterError()
    .exitOverride();
  registerServeCommand(program);
  registerControllerCommand(program);
  registerCompileCommand(program);
  registerMigrateCommand(program);
  registerScriptCommand(program);
  return program;
}

/** The version in package.json. */
function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/** Runs the CLI with `argv` (as in `process.argv`). Exits non-zero with a one-line message on bad input. */
export async function main(argv: readonly string[]): Promise<void> {
  try {
    await buildProgram().parseAsync([...argv]);
  } catch (err) {
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode;
      return;
    }
    if (err instanceof SignalboxError) {
      // Bad flags exit 2, anything else that stops start-up (a port in use) exits 1; worker
      // threads that did start must not keep the process alive.
      process.stderr.write(`signalbox: ${err.message}\n`);
      process.exit(err instanceof ConfigError ? 2 : 1);
    }
    throw err;
  }
}
