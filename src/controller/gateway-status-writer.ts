/**
 * The Gateway API half of the status writer: the status subresource of GatewayClasses, Gateways,
 * ListenerSets and routes, from the compile's statuses (merge rules in gateway-status-merge.ts).
 */
import { KubeApiError, type KubeApi } from '../k8s/kube-api.ts';
import { GATEWAY_API_ROUTE_KINDS, GATEWAY_API_WATCHED, objectPath, type ResourceType } from '../k8s/resources.ts';
import type { Logger } from '../log.ts';
import type { Condition, GatewayStatusAddress, ObjectStatus } from '../model/table.ts';
import { gatewayClassStatus, gatewayStatus, generationOf, routeParentsStatus, ANCESTORS, type CurrentObject, type StatusPatch } from './gateway-status-merge.ts';
import { conditionTime } from './written-conditions.ts';

const TYPE_OF = new Map<string, ResourceType>(GATEWAY_API_WATCHED.map((t) => [t.kind, t]));

/** What the Gateway API writer reads of the world (the informers' cache). */
export interface GatewayStatusSources {
  get(kind: string, namespace: string, name: string): Record<string, unknown> | undefined;
  list(kind: string): readonly Record<string, unknown>[];
}

/** How the Gateway API writer is set up. */
export interface GatewayStatusOptions {
  /** Our `controllerName`: it marks our entries in routes' `status.parents`. */
  readonly controllerName: string;
  /**
   * The `SupportedVersion` condition every GatewayClass of ours gets besides the compile's; null
   * while it is not known yet (the CRD being read), when GatewayClasses wait for the next sync.
   */
  readonly supportedVersion: () => Condition | null;
}

/** Whether `kind` is one whose status this writer handles. */
export function isGatewayApiKind(kind: string): boolean {
  return TYPE_OF.has(kind);
}

/**
 * Writes the Gateway API statuses of one compile. Each object is compared with the cached copy and
 * patched only when it differs; the patch carries the cached `resourceVersion`, so a status that
 * changed meanwhile (another controller's parents entry) is never overwritten blindly: the API
 * server answers 409, and the next sync (the next build, or the periodic one) merges again from
 * the newer copy the watch brings.
 */
export class GatewayStatusWriter {
  readonly #api: KubeApi;
  readonly #sources: GatewayStatusSources;
  readonly #options: GatewayStatusOptions;
  readonly #log: Logger;

  constructor(api: KubeApi, sources: GatewayStatusSources, options: GatewayStatusOptions, log: Logger) {
    this.#api = api;
    this.#sources = sources;
    this.#options = options;
    this.#log = log;
  }

  /**
   * Writes every Gateway API status of `statuses`, and removes our parents entries from routes the
   * compile no longer lists. `published`: the data plane's addresses, for Gateways whose compile
   * status has none (null: unknown, their addresses are left alone). `leading()` is asked before
   * each write. Resolves to the number of writes done.
   */
  async write(statuses: readonly ObjectStatus[], published: readonly GatewayStatusAddress[] | null, leading: () => boolean): Promise<number> {
    let writes = 0;
    const now = conditionTime();
    const listed = new Set<string>();
    for (const status of statuses) {
      if (!isGatewayApiKind(status.kind)) continue;
      if (!leading()) return writes;
      listed.add(`${status.kind}/${status.namespace}/${status.name}`);
      const current = this.#sources.get(status.kind, status.namespace, status.name) as CurrentObject | undefined;
      if (current === undefined) continue;
      const patch = this.#wanted(status, current, published, now);
      if (patch !== null && (await this.#patch(status.kind, status.namespace, status.name, current, patch))) writes++;
    }
    for (const kind of GATEWAY_API_ROUTE_KINDS) {
      for (const object of this.#sources.list(kind)) {
        if (!leading()) return writes;
        const { namespace = '', name = '' } = (object as { metadata?: { namespace?: string; name?: string } }).metadata ?? {};
        if (name === '' || listed.has(`${kind}/${namespace}/${name}`)) continue;
        const current = object as CurrentObject;
        const generation = typeof current.metadata?.generation === 'number' ? current.metadata.generation : 0;
        const patch = routeParentsStatus(current, generation, null, this.#options.controllerName, now);
        if (patch !== null && (await this.#patch(kind, namespace, name, current, patch))) {
          writes++;
          this.#log.info({ kind, route: `${namespace}/${name}` }, 'no parent of the route is ours any more; removed our entries from its status');
        }
      }
    }
    return writes;
  }

  #wanted(status: ObjectStatus, current: CurrentObject, published: readonly GatewayStatusAddress[] | null, now: string): StatusPatch {
    if (status.kind === 'GatewayClass') {
      const supported = this.#options.supportedVersion();
      return supported === null ? null : gatewayClassStatus(current, status, [supported], now);
    }
    if (status.kind === 'Gateway' || status.kind === 'ListenerSet') return gatewayStatus(current, status, published, now);
    if (GATEWAY_API_ROUTE_KINDS.has(status.kind)) return routeParentsStatus(current, generationOf(current, status), status.parents ?? [], this.#options.controllerName, now);
    if (status.kind === 'BackendTLSPolicy') return routeParentsStatus(current, generationOf(current, status), status.parents ?? [], this.#options.controllerName, now, ANCESTORS);
    // BackendTLSPolicy and the like: their statuses are per ancestor; written once the compile reports them.
    return null;
  }

  /** Patches the status subresource; false when the API refused it for a reason the next sync settles. */
  async #patch(kind: string, namespace: string, name: string, current: CurrentObject, status: Record<string, unknown>): Promise<boolean> {
    const resourceVersion = current.metadata?.resourceVersion;
    const body = { ...(typeof resourceVersion === 'string' ? { metadata: { resourceVersion } } : {}), status };
    try {
      await this.#api.mergePatch(`${objectPath(TYPE_OF.get(kind)!, namespace, name)}/status`, body);
      return true;
    } catch (error) {
      // 409: the object changed since our copy; 404: it is gone. Either way the watch brings news.
      if (error instanceof KubeApiError && (error.status === 409 || error.status === 404)) {
        this.#log.debug({ kind, object: namespace === '' ? name : `${namespace}/${name}`, status: error.status }, 'status write skipped; the next sync merges again');
        return false;
      }
      throw error;
    }
  }
}
