import type { KubeApi } from '../k8s/kube-api.ts';
import { ANCESTORS, routeParentsStatus, type CurrentObject } from './gateway-status-merge.ts';
import { objectPath, WATCHED, type ResourceType } from '../k8s/resources.ts';
import type { Logger } from '../log.ts';
import type { CompileResult, Condition, Diagnostic, GatewayStatusAddress, ObjectStatus, PublishedTable, Route } from '../model/table.ts';
import { routesByScript } from '../router/routes-by-script.ts';
import type { ScriptStatus } from '../script/index.ts';
import { conditionTime, stampConditions } from './written-conditions.ts';
import { GatewayStatusWriter, type GatewayStatusOptions } from './gateway-status-writer.ts';

/** A load-balancer address as Ingress status carries it. */
export type LoadBalancerAddress = { readonly ip: string } | { readonly hostname: string };

/** Where the address written into Ingress status comes from. */
export interface PublishOptions {
  /** `namespace/name` of the Service in front of signalbox (its load-balancer address is used). */
  readonly publishService?: { readonly namespace: string; readonly name: string };
  /** Explicit addresses (IPs or host names), which win over the Service. */
  readonly publishAddresses?: readonly string[];
  /** The pod's own address, the last resort (from the downward API's POD_IP). */
  readonly podIp?: string;
}

/** What the writer reads of the world. */
export interface StatusSources {
  /** An object from the informers' cache (to compare with, and for its uid). */
  get(kind: string, namespace: string, name: string): Record<string, unknown> | undefined;
  /** Every cached object of `kind` (to find Ingresses that are no longer ours). */
  list(kind: string): readonly Record<string, unknown>[];
  /** RouteScript health per worker, as the data plane reported it. */
  scriptStatuses(): ReadonlyMap<string, ReadonlyMap<number, ScriptStatus>>;
}

/** Kinds whose diagnostics become Kubernetes Events on the object. */
const EVENT_KINDS: ReadonlySet<string> = new Set([
  'Ingress', 'Service', 'RouteScript',
  'GatewayClass', 'Gateway', 'ListenerSet', 'HTTPRoute', 'GRPCRoute', 'TLSRoute', 'TCPRoute', 'UDPRoute', 'ReferenceGrant', 'BackendTLSPolicy',
]);

const TYPE_OF = new Map<string, ResourceType>(WATCHED.map((t) => [t.kind, t]));

/**
 * Writes what the controller concluded back to the API, only while this replica leads:
 * - every Ingress we serve gets the published load-balancer address in `status.loadBalancer`, and
 *   an Ingress that is no longer ours (its class changed) loses it again — only when it still holds
 *   exactly our address, so another controller's is never touched;
 * - every RouteScript gets `status.conditions` (Accepted and ResolvedRefs from the compile,
 *   Programmed from the data plane) and `status.observedGeneration`, keeping a condition's
 *   `lastTransitionTime` while its status stays the same;
 * - with the Gateway API on, GatewayClasses, Gateways, ListenerSets and routes get their status
 *   subresource (gateway-status-writer.ts): conditions, listeners, addresses (the compile's, else
 *   the published ones) and routes' `status.parents` entries of our controller;
 * - every diagnostic on an Ingress, Service, RouteScript or Gateway API object becomes one Warning
 *   Event on it (once per leadership, and again only if it goes away and comes back).
 * Each object is compared with the informers' copy and written only when it differs, so a steady
 * state writes nothing. Writes are serialised; a failed write is retried at the next sync.
 */
export class StatusWriter {
  readonly #api: KubeApi;
  readonly #sources: StatusSources;
  readonly #publish: PublishOptions;
  readonly #log: Logger;
  readonly #gateway: GatewayStatusWriter | null;
  /** The Gateway API controllerName: it marks our entries in a RouteScript's `status.ancestors`. */
  readonly #gatewayController: string | null;
  #leading = false;
  #latest: { result: CompileResult; table: PublishedTable | null } | null = null;
  #evented = new Set<string>();
  #running: Promise<void> | null = null;
  #again = false;
  /** Writes done, for tests and logs. */
  writes = 0;

  /** `gateway`: how to write the Gateway API's statuses (null: the Gateway API is off). */
  constructor(api: KubeApi, sources: StatusSources, publish: PublishOptions, log: Logger, gateway: GatewayStatusOptions | null = null) {
    this.#api = api;
    this.#sources = sources;
    this.#publish = publish;
    this.#log = log;
    this.#gateway = gateway === null ? null : new GatewayStatusWriter(api, sources, gateway, log);
    this.#gatewayController = gateway?.controllerName ?? null;
  }

  /** Leadership changed: a new leader writes everything that differs; a former one stops. */
  setLeading(leading: boolean): void {
    this.#leading = leading;
    if (leading) {
      this.#evented = new Set();
      this.sync();
    }
  }

  /** A new compile result (and the table it published, if any). */
  update(result: CompileResult, table: PublishedTable | null): void {
    this.#latest = { result, table: table ?? this.#latest?.table ?? null };
    this.sync();
  }

  /** Brings the API in line with the latest result (coalesced; a no-op unless leading). */
  sync(): Promise<void> {
    if (!this.#leading || this.#latest === null) return Promise.resolve();
    if (this.#running !== null) {
      this.#again = true;
      return this.#running;
    }
    this.#running = (async () => {
      do {
        this.#again = false;
        await this.#syncOnce().catch((err: Error) => this.#log.warn({ err: err.message }, 'status write failed; retrying at the next change'));
      } while (this.#again && this.#leading);
      this.#running = null;
    })();
    return this.#running;
  }

  async #syncOnce(): Promise<void> {
    const latest = this.#latest!;
    const addresses = this.#addresses();
    const routes = latest.table === null ? new Map<string, Route[]>() : routesByScript(latest.table.table);
    const ours = new Set<string>();
    for (const status of latest.result.statuses) {
      if (!this.#leading) return;
      if (status.kind === 'Ingress') {
        ours.add(`${status.namespace}/${status.name}`);
        if (addresses !== null) await this.#writeIngress(status, addresses);
      } else if (status.kind === 'RouteScript') await this.#writeRouteScript(status, latest.table, routes);
    }
    if (addresses !== null) await this.#clearFormerIngresses(ours, addresses);
    if (this.#gateway !== null) this.writes += await this.#gateway.write(latest.result.statuses, addresses === null ? null : addresses.map(gatewayAddress), () => this.#leading);
    await this.#emitEvents(latest.result.diagnostics);
  }

  /** The addresses to publish, or null when none is known (then Ingress status is left alone). */
  #addresses(): LoadBalancerAddress[] | null {
    const explicit = this.#publish.publishAddresses;
    if (explicit !== undefined && explicit.length > 0) return explicit.map(toAddress);
    const service = this.#publish.publishService;
    if (service !== undefined) {
      const svc = this.#sources.get('Service', service.namespace, service.name) as ServiceShape | undefined;
      if (svc === undefined) return null;
      const lb = (svc.status?.loadBalancer?.ingress ?? []).flatMap((i): LoadBalancerAddress[] => (i.ip ? [{ ip: i.ip }] : i.hostname ? [{ hostname: i.hostname }] : []));
      if (lb.length > 0) return lb;
      if ((svc.spec?.externalIPs ?? []).length > 0) return svc.spec!.externalIPs!.map((ip) => ({ ip }));
      // Not the cluster IP: tools such as external-dns would publish a private address. Until the
      // load balancer has an address, status is left as it is (set --publish-address for NodePort).
      return null;
    }
    return this.#publish.podIp ? [{ ip: this.#publish.podIp }] : null;
  }

  async #writeIngress(status: ObjectStatus, addresses: LoadBalancerAddress[]): Promise<void> {
    const current = this.#sources.get('Ingress', status.namespace, status.name) as { status?: { loadBalancer?: { ingress?: unknown[] } } } | undefined;
    if (current === undefined) return;
    if (addressesIn(current) === JSON.stringify(addresses)) return;
    await this.#api.mergePatch(`${objectPath(TYPE_OF.get('Ingress')!, status.namespace, status.name)}/status`, { status: { loadBalancer: { ingress: addresses } } });
    this.writes++;
  }

  /** Removes our address from the Ingresses not in `ours` that carry exactly it. */
  async #clearFormerIngresses(ours: ReadonlySet<string>, addresses: LoadBalancerAddress[]): Promise<void> {
    const published = JSON.stringify(addresses);
    for (const object of this.#sources.list('Ingress')) {
      if (!this.#leading) return;
      const metadata = (object as { metadata?: { namespace?: string; name?: string } }).metadata;
      const namespace = metadata?.namespace ?? '';
      const name = metadata?.name ?? '';
      if (name === '' || ours.has(`${namespace}/${name}`) || addressesIn(object) !== published) continue;
      await this.#api.mergePatch(`${objectPath(TYPE_OF.get('Ingress')!, namespace, name)}/status`, { status: { loadBalancer: { ingress: null } } });
      this.writes++;
      this.#log.info({ ingress: `${namespace}/${name}` }, 'Ingress is no longer ours; removed our address from its status');
    }
  }

  async #writeRouteScript(status: ObjectStatus, table: PublishedTable | null, routes: ReadonlyMap<string, readonly Route[]>): Promise<void> {
    const current = this.#sources.get('RouteScript', status.namespace, status.name) as RouteScriptShape | undefined;
    if (current === undefined) return;
    const generation = current.metadata?.generation ?? status.generation ?? 0;
    const own = [...status.conditions, this.#programmed(status, table, routes.get(`${status.namespace}/${status.name}`)?.length ?? 0)];
    const now = conditionTime();
    const conditions = stampConditions(own, current.status?.conditions, generation, now);
    // Policy attachment (the Gateway API's ancestors): the Gateways whose routes the script runs on.
    const ancestors = this.#gatewayController === null ? null : routeParentsStatus(current as CurrentObject, generation, status.parents ?? [], this.#gatewayController, now, ANCESTORS);
    const same = current.status?.observedGeneration === generation && sameConditions(current.status?.conditions ?? [], conditions) && ancestors === null;
    if (same) return;
    await this.#api.mergePatch(`${objectPath(TYPE_OF.get('RouteScript')!, status.namespace, status.name)}/status`, { status: { observedGeneration: generation, conditions, ...(ancestors ?? {}) } });
    this.writes++;
  }

  /** `Programmed`: whether the data plane runs the script now, and if not, why. */
  #programmed(status: ObjectStatus, table: PublishedTable | null, routes: number): Condition {
    const key = `${status.namespace}/${status.name}`;
    const accepted = status.conditions.find((c) => c.type === 'Accepted');
    const script = table?.table.scripts[key];
    if (accepted?.status !== 'True' || script === undefined || script.invalid) {
      const rejecting = script?.invalid === true ? ` Its routes answer ${script.rejectStatus} (failurePolicy reject).` : '';
      return { type: 'Programmed', status: 'False', reason: 'Invalid', message: `The RouteScript is not accepted; see the Accepted condition.${rejecting}` };
    }
    const workers = [...(this.#sources.scriptStatuses().get(key)?.values() ?? [])];
    const failing = workers.filter((s) => s.state === 'failing');
    if (failing.length > 0) {
      const last = failing[0]!.lastFailure;
      // A version that cannot load never replaced the one before it: say that the old one still serves.
      const previous = failing.some((s) => s.previousVersionServing) ? ' Its previous version keeps serving its routes.' : '';
      return { type: 'Programmed', status: 'False', reason: 'Failing', message: `The script keeps failing in ${failing.length} worker(s) and is backing off${last ? `: ${last.cause}: ${last.message}` : ''}.${previous}` };
    }
    if (routes === 0) return { type: 'Programmed', status: 'False', reason: 'NoRoutes', message: 'The script runs on no route.' };
    // Still running, so still Programmed; but its owner hears of it before its requests time out.
    const slow = workers.filter((s) => s.slow);
    if (slow.length > 0) {
      const p90 = Math.max(...slow.map((s) => s.budgetUsedP90 ?? 0));
      return { type: 'Programmed', status: 'True', reason: 'Slow', message: `The script runs on ${routes} route(s), but keeps using most of its time budget in ${slow.length} worker(s): its recent runs took up to ${Math.round(p90 * 100)}% of timeoutMs at p90.` };
    }
    return { type: 'Programmed', status: 'True', reason: 'Programmed', message: `The script runs on ${routes} route(s).` };
  }

  async #emitEvents(diagnostics: readonly Diagnostic[]): Promise<void> {
    const now = new Set<string>();
    for (const d of diagnostics) {
      if (!EVENT_KINDS.has(d.kind)) continue;
      const key = `${d.kind}/${d.namespace}/${d.name}/${d.code}/${d.message}`;
      now.add(key);
      if (this.#evented.has(key) || !this.#leading) continue;
      const object = this.#sources.get(d.kind, d.namespace, d.name) as { apiVersion?: string; metadata?: { uid?: string } } | undefined;
      if (object === undefined) continue;
      const time = new Date().toISOString();
      // Events on cluster-scoped objects (GatewayClasses) live in the default namespace, as kubectl looks for them.
      const eventNamespace = d.namespace === '' ? 'default' : d.namespace;
      await this.#api.create(`/api/v1/namespaces/${encodeURIComponent(eventNamespace)}/events`, {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { generateName: `${d.name}.`, namespace: eventNamespace },
        involvedObject: { kind: d.kind, namespace: d.namespace, name: d.name, apiVersion: object.apiVersion, uid: object.metadata?.uid },
        reason: d.code,
        message: d.message.slice(0, 1024),
        type: 'Warning',
        source: { component: 'signalbox' },
        reportingComponent: 'signalbox.dev/ingress-controller',
        firstTimestamp: time,
        lastTimestamp: time,
        count: 1,
      });
      this.#evented.add(key);
      this.writes++;
    }
    // A problem that went away and comes back is worth a new Event.
    for (const key of this.#evented) if (!now.has(key)) this.#evented.delete(key);
  }
}

interface ServiceShape {
  spec?: { externalIPs?: string[] };
  status?: { loadBalancer?: { ingress?: { ip?: string; hostname?: string }[] } };
}

interface RouteScriptShape {
  metadata?: { generation?: number };
  status?: { observedGeneration?: number; conditions?: { type: string; status: string; reason?: string; message?: string; lastTransitionTime?: string; observedGeneration?: number }[] };
}

/** A published address as a Gateway's `status.addresses` carries it. */
function gatewayAddress(address: LoadBalancerAddress): GatewayStatusAddress {
  return 'ip' in address ? { type: 'IPAddress', value: address.ip } : { type: 'Hostname', value: address.hostname };
}

function toAddress(text: string): LoadBalancerAddress {
  return /^[\d.]+$|:/.test(text) ? { ip: text } : { hostname: text };
}

/** The addresses in an Ingress's `status.loadBalancer`, normalised, as JSON to compare. */
function addressesIn(ingress: { status?: unknown }): string {
  const listed = (ingress.status as { loadBalancer?: { ingress?: unknown[] } } | undefined)?.loadBalancer?.ingress ?? [];
  return JSON.stringify(listed.map((a) => normaliseAddress(a)));
}

function normaliseAddress(a: unknown): LoadBalancerAddress | null {
  const { ip, hostname } = (a ?? {}) as { ip?: string; hostname?: string };
  return ip ? { ip } : hostname ? { hostname } : null;
}

function sameConditions(a: readonly { type: string; status: string; reason?: string; message?: string; observedGeneration?: number }[], b: readonly { type: string; status: string; reason: string; message: string; observedGeneration: number }[]): boolean {
  if (a.length !== b.length) return false;
  return b.every((c) => {
    const o = a.find((x) => x.type === c.type);
    return o !== undefined && o.status === c.status && o.reason === c.reason && o.message === c.message && o.observedGeneration === c.observedGeneration;
  });
}
