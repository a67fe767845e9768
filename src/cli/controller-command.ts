import { hostname } from 'node:os';
import { Gauge } from 'prom-client';
import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import { nginxConfigMapOf } from '../compile/ingress-nginx/profile.ts';
import { ConfigError } from '../errors.ts';
import { parseDuration } from '../config/dataplane-config.ts';
import { GatewayBundleVersion } from '../controller/gateway-bundle-version.ts';
import { StatusWriter } from '../controller/status-writer.ts';
import { DEFAULT_GATEWAY_CONTROLLER_NAME } from '../model/snapshot.ts';
import { KubeApi } from '../k8s/kube-api.ts';
import { KubeSource } from '../k8s/kube-source.ts';
import { WATCHED } from '../k8s/resources.ts';
import { LeaderElector } from '../k8s/leader-election.ts';
import { withHeaderConfigMaps } from '../k8s/nginx-secret-refs.ts';
import { createControlMetrics } from '../metrics/metrics.ts';
import { addDataplaneOptions, flagsLogger, announce, runtimeOptions, untilSignalled, type DataplaneFlags } from './dataplane-flags.ts';
import { startRuntime } from './runtime.ts';

/** How often the leader compares the API's statuses with its own, besides after every build. */
const RESYNC_MS = 10_000;

interface ControllerFlags extends DataplaneFlags {
  kubeconfig?: string;
  watchNamespace?: string;
  publishService?: string;
  publishAddress?: string;
  leaderElect: boolean;
  electionNamespace?: string;
  electionId: string;
  gatewayApiRecheck: string;
}

/**
 * `signalbox controller`: the data plane fed by the Kubernetes API (in-cluster configuration, or
 * `--kubeconfig`), with status written back by the elected leader.
 */
export function registerControllerCommand(program: Command): void {
  const command = program
    .command('controller')
    .description('run as the ingress controller of a Kubernetes cluster: watch the API, serve traffic, write status')
    .option('--kubeconfig <file>', 'kubeconfig to use (default: in-cluster configuration, else $KUBECONFIG or ~/.kube/config)')
    .option('--watch-namespace <namespace>', 'watch only this namespace (default: all)')
    .option('--publish-service <namespace/name>', 'Service in front of signalbox whose address goes into Ingress status')
    .option('--publish-address <addresses>', 'comma-separated IPs or host names for Ingress status (wins over --publish-service)')
    .option('--no-leader-elect', 'do not take part in leader election (never write status)')
    .option('--election-namespace <namespace>', 'namespace of the leader-election Lease (default: $POD_NAMESPACE, else default)')
    .option('--election-id <name>', 'name of the leader-election Lease', 'signalbox-leader')
    .option('--gateway-api-recheck <duration>', 'how often to look for Gateway API CRDs not installed yet', '30s');
  addDataplaneOptions(command).action(async (flags: ControllerFlags) => {
    const log = flagsLogger(flags);
    const api = KubeApi.load(flags.kubeconfig);
    const metrics = createControlMetrics();
    const options = runtimeOptions(flags, log);
    // The TCP and UDP services ConfigMaps are named by flags, not by any object: cached whatever happens.
    // So is the ingress-nginx controller ConfigMap (the flag's, or the chart's name in that profile).
    const pinned = [options.compile.tcpServicesConfigMap, options.compile.udpServicesConfigMap, nginxConfigMapOf(options.compile)].filter((n): n is string => typeof n === 'string');
    // The Gateway API is watched unless --gateway-controller-name off; its CRDs may come later.
    const gatewayControllerName = options.compile.gatewayControllerName === undefined ? DEFAULT_GATEWAY_CONTROLLER_NAME : options.compile.gatewayControllerName;
    const bundle = new GatewayBundleVersion(api, log.child({ component: 'gateway-api' }));
    let writer: StatusWriter | null = null;
    const gatewayApi = gatewayControllerName === null ? null : {
      // A floor, so that a 0 never turns discovery into a busy loop.
      discoveryMs: Math.max(100, parseDuration('--gateway-api-recheck', flags.gatewayApiRecheck)),
      onServed: (kinds: ReadonlySet<string>) => {
        // A GatewayClass's SupportedVersion names the CRDs' release: read it whenever they change.
        if (kinds.size > 0) void bundle.refresh().then(() => writer?.sync());
      },
    };
    // ingress-nginx's annotations name Secrets (proxy-ssl-secret, auth-secret) the built-in finders do not read.
    const source = new KubeSource(api, flags.watchNamespace ?? null, log.child({ component: 'kube' }), {
      error: (kind) => metrics.watchErrors.labels(kind).inc(),
      listed: (kind) => metrics.kubeLists.labels(kind).inc(),
    }, WATCHED, pinned, withHeaderConfigMaps(nginxConfigMapOf(options.compile)), gatewayApi);
    metrics.registry.registerMetric(new Gauge({
      name: 'signalbox_kube_cached_objects',
      help: 'Objects cached from the Kubernetes API, by kind (Secrets and ConfigMaps: only those referenced).',
      labelNames: ['kind'] as const,
      registers: [],
      collect() {
        for (const [kind, n] of Object.entries(source.counts())) this.labels(kind).set(n);
      },
    }));
    let elector: LeaderElector | null = null;
    log.info({ server: api.server, namespace: flags.watchNamespace ?? '(all)' }, 'listing and watching the Kubernetes API');
    // A burst of API changes (a deploy touching many objects) compiles a handful of times, not once per event.
    const running = await startRuntime({ ...options, debounce: { holdoffMs: 100, maxDelayMs: 1_000 } }, source, metrics, {
      built: (result, published) => writer?.update(result, published),
      stopping: async () => {
        await elector?.stop();
      },
    });
    writer = new StatusWriter(api, { get: (kind, ns, name) => source.get(kind, ns, name), list: (kind) => source.list(kind), scriptStatuses: () => running.scriptStatuses() }, publishOptions(flags), log.child({ component: 'status' }),
      gatewayControllerName === null ? null : { controllerName: gatewayControllerName, supportedVersion: () => bundle.condition() });
    const last = running.lastResult();
    if (last !== null) writer.update(last, running.current());
    if (flags.leaderElect) {
      const identity = `${process.env.POD_NAME ?? hostname()}_${randomBytes(4).toString('hex')}`;
      elector = new LeaderElector(api, flags.electionNamespace ?? process.env.POD_NAMESPACE ?? 'default', flags.electionId, identity, log.child({ component: 'election' }), (leading) => {
        metrics.leader.set(leading ? 1 : 0);
        writer?.setLeading(leading);
      });
      elector.start();
    }
    // Runtime health (a script that starts failing) and drift (someone edited a status) show up
    // without a build: look again now and then.
    const resync = setInterval(() => void writer?.sync(), RESYNC_MS);
    resync.unref();
    // Listening for signals before saying it serves: whoever waits for that line may stop it at once.
    const signalled = untilSignalled(log, async () => {
      clearInterval(resync);
      await running.stop();
      await api.close();
    });
    announce(flags, log, running.ports);
    await signalled;
  });
}

function publishOptions(flags: ControllerFlags): ConstructorParameters<typeof StatusWriter>[2] {
  let publishService: { namespace: string; name: string } | undefined;
  if (flags.publishService !== undefined) {
    const [namespace, name, extra] = flags.publishService.split('/');
    if (!namespace || !name || extra !== undefined) throw new ConfigError(`--publish-service: "${flags.publishService}" is not namespace/name`);
    publishService = { namespace, name };
  }
  const publishAddresses = flags.publishAddress?.split(',').map((a) => a.trim()).filter((a) => a !== '');
  return {
    ...(publishService ? { publishService } : {}),
    ...(publishAddresses ? { publishAddresses } : {}),
    ...(process.env.POD_IP ? { podIp: process.env.POD_IP } : {}),
  };
}
