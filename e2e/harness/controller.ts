/** `signalbox controller` as a child process, started the way a user (or the Deployment) would. */
import { startSignalboxProcess, type SignalboxProcess } from '../../test/helpers/signalbox-process.ts';

/** A running controller and where to reach it (it always serves HTTPS here). */
export type RunningController = SignalboxProcess & { readonly https: string };

/** Starts `signalbox controller --kubeconfig KUBECONFIG` with free ports and `extraArgs`. */
export async function startController(kubeconfig: string, extraArgs: readonly string[] = [], env: Record<string, string> = {}): Promise<RunningController> {
  const running = await startSignalboxProcess([
    'controller', '--kubeconfig', kubeconfig,
    '--bind', '127.0.0.1', '--http-port', '0', '--https-port', '0', '--admin-bind', '127.0.0.1', '--admin-port', '0',
    '--debug-port', '0',
    '--workers', '1', '--access-log', 'off', '--log-level', 'info', '--drain', '0s', '--grace', '3s', ...extraArgs,
  ], env);
  if (running.https === null) throw new Error('the controller printed no HTTPS address');
  return running as RunningController;
}
