import type { Logger } from '../log.ts';
import { createControlMetrics } from '../metrics/metrics.ts';
import { ManifestSource } from '../source/manifest-source.ts';
import { startRuntime, type RunningRuntime, type RuntimeOptions } from './runtime.ts';

/** Everything `signalbox serve` needs. */
export interface ServeOptions extends RuntimeOptions {
  readonly manifests: string;
  readonly log: Logger;
}

/** A running standalone data plane. */
export type RunningServe = RunningRuntime;

/**
 * The standalone data plane: the manifest directory as source, the same compile and data plane as
 * in a cluster. Files → ManifestSource → the runtime (runtime.ts).
 */
export async function startServe(options: ServeOptions): Promise<RunningServe> {
  const metrics = createControlMetrics();
  const files = new ManifestSource(options.manifests, options.log.child({ component: 'source' }), (reason) => metrics.sourceErrors.labels(reason).inc());
  return startRuntime(options, {
    load: () => files.load(),
    objects: () => files.objects(),
    diagnostics: () => files.diagnostics(),
    locate: (diagnostics) => files.locate(diagnostics),
    watch: (onChange) => files.watch(onChange),
    close: () => files.close(),
  }, metrics);
}
