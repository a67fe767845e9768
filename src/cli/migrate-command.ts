/**
 * `signalbox migrate --in FILE_OR_DIR` (or `--cluster`: the objects the controller would read from
 * the API, listed once): what taking over ingress-nginx would do with them, Ingress by Ingress. It
 * compiles them as `signalbox compile` does, in the ingress-nginx profile unless the flags say
 * otherwise, and reports from the result (migrate-report.ts); nothing is decided here that the
 * controller would not decide.
 */
import type { Command } from 'commander';
import { compile } from '../compile/compile.ts';
import { INGRESS_NGINX_CONTROLLER } from '../compile/ingress-nginx/profile.ts';
import { snapshotFromObjects } from '../compile/snapshot-from-objects.ts';
import { ClusterReadError, ConfigError } from '../errors.ts';
import { KubeApi, KubeApiError } from '../k8s/kube-api.ts';
import { KubeSource } from '../k8s/kube-source.ts';
import { withHeaderConfigMaps } from '../k8s/nginx-secret-refs.ts';
import { WATCHED } from '../k8s/resources.ts';
import { createLogger } from '../log.ts';
import { nginxConfigMapOf } from '../compile/ingress-nginx/profile.ts';
import type { CompileOptions } from '../model/snapshot.ts';
import { withDefaultNamespace } from '../source/namespace-defaults.ts';
import { readObjects } from './compile-command.ts';
import { nginxCompileFlags } from './dataplane-flags.ts';
import { renderMigrateJson, renderMigrateTable } from './migrate-output.ts';
import { assumedIngressClass, hasUnsupported, migrateReport, type MigrateSource } from './migrate-report.ts';

interface MigrateFlags {
  in?: string;
  cluster?: boolean;
  kubeconfig?: string;
  watchNamespace?: string;
  output: string;
  ingressClass: string;
  controllerName: string;
  nginxConfigmap?: string;
  defaultBackendService?: string;
  watchIngressWithoutClass?: boolean;
  failOnUnsupported?: boolean;
}

/** Registers `signalbox migrate`. */
export function registerMigrateCommand(program: Command): void {
  program
    .command('migrate')
    .description('report, Ingress by Ingress, how signalbox would serve manifests (or a cluster\'s objects) written for ingress-nginx; changes nothing')
    .option('--in <path>', 'manifest file or directory (YAML or JSON, several documents and kind: List allowed)')
    .option('--cluster', 'read the objects from the Kubernetes API instead (the current kubeconfig context, or in-cluster)')
    .option('--kubeconfig <path>', 'with --cluster: the kubeconfig to use')
    .option('--watch-namespace <namespace>', 'with --cluster: one namespace only (default: all)')
    .option('-o, --output <format>', 'table or json', 'table')
    .option('--ingress-class <name>', 'the IngressClass taken over (also the kubernetes.io/ingress.class annotation)', 'nginx')
    .option('--controller-name <name>', 'spec.controller of the IngressClasses taken over (k8s.io/ingress-nginx: the ingress-nginx profile)', INGRESS_NGINX_CONTROLLER)
    .option('--nginx-configmap <namespace/name>', 'the ingress-nginx controller ConfigMap among the manifests ("off": none; default ingress-nginx/ingress-nginx-controller)')
    .option('--default-backend-service <namespace/name>', 'the global default backend of ingress-nginx Ingresses (serves custom-http-errors pages)')
    .option('--watch-ingress-without-class', 'also take Ingresses that name no class')
    .option('--fail-on-unsupported', 'exit 1 when any Ingress is refused or carries an annotation signalbox does not honour')
    .action(async (opts: MigrateFlags) => {
      if (opts.output !== 'table' && opts.output !== 'json') throw new ConfigError(`--output: "${opts.output}" is not table or json`);
      const options: CompileOptions = { ingressClass: opts.ingressClass, controllerName: opts.controllerName, ...nginxCompileFlags(opts) };
      if ((opts.in === undefined) === (opts.cluster !== true)) throw new ConfigError('give either --in FILE_OR_DIR or --cluster');
      const { objects: read, fileDiagnostics } = opts.in !== undefined ? await readObjects(opts.in) : { objects: await clusterObjects(opts, options), fileDiagnostics: [] };
      const objects = withDefaultNamespace(read);
      const where: MigrateSource = opts.in !== undefined ? 'manifests' : 'cluster';
      const { objects: all, notes } = withIngressClass(objects, options, where);
      const { snapshot, diagnostics: shapeDiagnostics } = snapshotFromObjects(all);
      const result = compile(snapshot, options);
      const report = migrateReport(all, result, [...fileDiagnostics, ...shapeDiagnostics], options, notes, where);
      process.stdout.write(opts.output === 'json' ? renderMigrateJson(report) : renderMigrateTable(report));
      if (opts.failOnUnsupported === true && hasUnsupported(report)) process.exitCode = 1;
    });
}

/** How long `migrate --cluster` waits out an API server's transient answers before it reports one. */
const TRANSIENT_GRACE_MS = 15_000;

/** An answer an API server gives while it settles, worth asking again: 429, 503, 504. */
export function isTransient(error: unknown): boolean {
  return error instanceof KubeApiError && (error.status === 429 || error.status === 503 || error.status === 504);
}

/**
 * The objects the controller would read, listed once from the API (read-only: nothing is watched
 * after the first list, nothing is written): Ingresses, IngressClasses, Services, EndpointSlices,
 * RouteScripts, and the Secrets and ConfigMaps they name, the ingress-nginx ConfigMap included.
 */
async function clusterObjects(opts: MigrateFlags, options: CompileOptions): Promise<unknown[]> {
  const api = KubeApi.load(opts.kubeconfig);
  const pinned = [nginxConfigMapOf(options)].filter((n): n is string => n !== null);
  // The controller retries a failed list for ever; a one-off report must say what went wrong
  // instead (a kubeconfig without the rights, an API server out of reach), and at once. Only the
  // answers an API server gives while it settles (429 "storage is (re)initializing" right after a
  // CRD is created, 503, 504) are retried by the source, for TRANSIENT_GRACE_MS at most.
  let fail: (error: ClusterReadError) => void = () => {};
  const failed = new Promise<never>((_, reject) => (fail = reject));
  const started = Date.now();
  const counters = {
    listed: () => {},
    error: (kind: string, error: unknown) => {
      // RouteScripts are optional: without their CRD the source counts none, as the controller does.
      if (kind === 'RouteScript' && error instanceof KubeApiError && error.status === 404) return;
      if (isTransient(error) && Date.now() - started < TRANSIENT_GRACE_MS) return;
      fail(new ClusterReadError(`--cluster: could not list ${kind} objects from ${api.server}: ${(error as Error).message}`));
    },
  };
  const source = new KubeSource(api, opts.watchNamespace ?? null, createLogger({ level: 'silent' }), counters, WATCHED, pinned, withHeaderConfigMaps(nginxConfigMapOf(options)));
  try {
    await Promise.race([source.load(), failed]);
    return source.objects();
  } finally {
    await source.close();
    await api.close();
  }
}

/**
 * The objects with the IngressClass taken over. An export of Ingresses often lacks it, and without
 * it none of them would be taken: it is assumed. A cluster without it is what the controller would
 * find, so there it is only noted.
 */
function withIngressClass(objects: unknown[], options: CompileOptions, where: MigrateSource): { objects: unknown[]; notes: string[] } {
  const assumed = assumedIngressClass(objects, options);
  if (assumed === null) return { objects, notes: [] };
  if (where === 'cluster') {
    return { objects, notes: [`IngressClass ${options.ingressClass} does not exist in the cluster: Ingresses whose spec.ingressClassName names it are not taken (those naming it in the kubernetes.io/ingress.class annotation are)`] };
  }
  return { objects: [assumed, ...objects], notes: [`IngressClass ${options.ingressClass} is not among the manifests: assumed, with spec.controller ${options.controllerName}`] };
}
