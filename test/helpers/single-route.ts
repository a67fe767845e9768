/** The most common data-plane test setup: one upstream behind one catch-all route. */
import { ingress, ingressClass, removeDir, serviceWithEndpoints, tempManifestDir, writeManifests } from './manifests.ts';
import { startProxy, type TestProxy, type TestProxyOptions } from './proxy.ts';
import { startUpstream, type TestUpstream, type UpstreamHandler } from './upstreams.ts';

/** A running single-route setup. */
export interface SingleRoute {
  readonly up: TestUpstream;
  readonly proxy: TestProxy;
  readonly dir: string;
  /** The proxy's plain HTTP port. */
  readonly port: number;
  /** Stops the proxy and the upstream and removes the manifests. */
  close(): Promise<void>;
}

/**
 * Starts an upstream named `name` (default behaviour, or `handler`), a manifest directory routing
 * every host's `/` to it, and a proxy on that directory.
 */
export async function startSingleRoute(name: string, handler?: UpstreamHandler, options: TestProxyOptions = {}): Promise<SingleRoute> {
  const up = await startUpstream(name, handler);
  const dir = await tempManifestDir();
  await writeManifests(dir, 'a.yaml', [ingressClass(), ...serviceWithEndpoints(name, [{ port: up.port }]), ingress(name, null, [{ path: '/', service: name }])]);
  const proxy = await startProxy(dir, options);
  return {
    up,
    proxy,
    dir,
    port: Number(new URL(proxy.http).port),
    async close() {
      await proxy.stop();
      await up.close();
      await removeDir(dir);
    },
  };
}
