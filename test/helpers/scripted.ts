/** Data-plane test setups with RouteScripts: named upstreams, a manifest directory and a proxy. */
import { request, type Dispatcher } from 'undici';
import { ingressClass, removeDir, serviceWithEndpoints, tempManifestDir, writeManifests, type TestEndpoint } from './manifests.ts';
import { startProxy, type TestProxy, type TestProxyOptions } from './proxy.ts';
import { startUpstream, type TestUpstream, type UpstreamHandler } from './upstreams.ts';

/** A running setup: `ups[name]` is the upstream behind Service `name`. */
export interface ScriptedEnv {
  readonly dir: string;
  readonly proxy: TestProxy;
  readonly ups: Readonly<Record<string, TestUpstream>>;
  /** The objects served now (without the IngressClass and Services), as last written. */
  readonly objects: readonly object[];
  /**
   * Rewrites the manifests as `objects` (with the IngressClass and the upstreams' Services added)
   * and resolves once the workers serve the new table.
   */
  rewrite(objects: readonly object[]): Promise<void>;
  close(): Promise<void>;
}

/** What {@link startScripted} builds. */
export interface ScriptedOptions {
  /** Upstream names, each behind a Service of that name in `namespace`; a handler replaces the default answer. */
  readonly upstreams: Readonly<Record<string, UpstreamHandler | null>>;
  /** The Ingresses, RouteScripts and anything else, given the upstreams. */
  readonly objects: (ups: Readonly<Record<string, TestUpstream>>) => readonly object[];
  readonly namespace?: string;
  /** Service annotations by upstream name. */
  readonly annotations?: Readonly<Record<string, Record<string, string>>>;
  /** More endpoints for some Services, beyond their own upstream, given the upstreams. */
  readonly extraEndpoints?: (ups: Readonly<Record<string, TestUpstream>>) => Readonly<Record<string, readonly TestEndpoint[]>>;
  readonly proxy?: TestProxyOptions;
}

/** Starts the upstreams, writes the manifests and starts a proxy on them. */
export async function startScripted(options: ScriptedOptions): Promise<ScriptedEnv> {
  const namespace = options.namespace ?? 'default';
  const ups: Record<string, TestUpstream> = {};
  for (const [name, handler] of Object.entries(options.upstreams)) ups[name] = await startUpstream(name, handler ?? undefined);
  const dir = await tempManifestDir();
  const extra = options.extraEndpoints?.(ups) ?? {};
  const services = (): object[] => Object.entries(ups).flatMap(([name, up]) =>
    serviceWithEndpoints(name, [{ port: up.port }, ...(extra[name] ?? [])], namespace, options.annotations?.[name] ?? {}));
  let current = options.objects(ups);
  await writeManifests(dir, 'all.yaml', [ingressClass(), ...services(), ...current]);
  const proxy = await startProxy(dir, options.proxy);
  return {
    dir,
    proxy,
    ups,
    get objects() {
      return current;
    },
    async rewrite(objects) {
      const next = proxy.nextTable();
      current = objects;
      await writeManifests(dir, 'all.yaml', [ingressClass(), ...services(), ...objects]);
      await next;
    },
    async close() {
      await proxy.stop();
      await Promise.all(Object.values(ups).map((u) => u.close()));
      await removeDir(dir);
    },
  };
}

/** A response read whole. */
export interface TextResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

/** A GET (or `options.method`) through the proxy's HTTP port with `host` and `headers`, read whole. */
export async function send(proxy: TestProxy, host: string, path: string, headers: Record<string, string> = {}, options: { method?: Dispatcher.HttpMethod; body?: string; dispatcher?: Dispatcher } = {}): Promise<TextResponse> {
  const res = await request(`${proxy.http}${path}`, { method: options.method ?? 'GET', headers: { host, ...headers }, body: options.body, ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}) });
  return { status: res.statusCode, headers: res.headers, body: await res.body.text() };
}
