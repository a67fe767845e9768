import type { Logger } from '../log.ts';
import { KubeApiError, type KubeApi } from './kube-api.ts';

/** Timings of a {@link LeaderElector}, as client-go names them. */
export interface ElectionTimings {
  /** How long a lease is valid without renewal; others take over only after it. */
  readonly leaseDurationMs: number;
  /** A leader that could not renew for this long steps down (before its lease runs out elsewhere). */
  readonly renewDeadlineMs: number;
  /** How often to try to acquire or renew. */
  readonly retryPeriodMs: number;
}

/** The usual client-go timings: 15 s lease, 10 s renew deadline, 2 s retry. */
export const DEFAULT_ELECTION: ElectionTimings = Object.freeze({ leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 });

interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

interface Lease {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace: string; resourceVersion?: string };
  spec?: LeaseSpec;
}

/**
 * Leader election on a `coordination.k8s.io/v1` Lease, the way client-go does it: the holder
 * renews the lease every retry period; another candidate takes it over only after it has seen the
 * same lease record unchanged for a whole lease duration (judged on its own clock, so clocks need
 * not agree); updates use the lease's resourceVersion, so two candidates cannot both win. A leader
 * that cannot renew within the renew deadline steps down. Stopping releases the lease so that a
 * successor takes over at once instead of after the lease duration.
 *
 * Only the status writer follows leadership; every replica serves traffic regardless.
 */
export class LeaderElector {
  readonly identity: string;
  readonly #api: KubeApi;
  readonly #path: string;
  readonly #namespace: string;
  readonly #name: string;
  readonly #timings: ElectionTimings;
  readonly #log: Logger;
  readonly #onChange: (leading: boolean) => void;
  #leading = false;
  #lastRenew = 0;
  /** The last lease record seen (holder + renew time) and when this process first saw it. */
  #observed = '';
  #observedAt = 0;
  #timer: NodeJS.Timeout | null = null;
  #stopped = false;
  #busy: Promise<void> = Promise.resolve();

  constructor(api: KubeApi, namespace: string, name: string, identity: string, log: Logger, onChange: (leading: boolean) => void, timings: ElectionTimings = DEFAULT_ELECTION) {
    this.#api = api;
    this.#namespace = namespace;
    this.#name = name;
    this.#path = `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(namespace)}/leases/${encodeURIComponent(name)}`;
    this.identity = identity;
    this.#timings = timings;
    this.#log = log;
    this.#onChange = onChange;
  }

  /** Whether this process holds the lease now. */
  get leading(): boolean {
    return this.#leading;
  }

  /** Starts trying; the first attempt runs now. */
  start(): void {
    this.#tick();
  }

  /** Stops trying and, when leading, releases the lease. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== null) clearTimeout(this.#timer);
    await this.#busy;
    if (!this.#leading) return;
    try {
      const lease = await this.#api.get<Lease>(this.#path);
      if (lease.spec?.holderIdentity === this.identity) {
        await this.#api.replace(this.#path, { ...lease, spec: { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: microTime(Date.now()) } });
      }
    } catch (error) {
      this.#log.warn({ err: (error as Error).message }, 'could not release the leader lease; a successor takes over when it expires');
    }
    this.#set(false);
  }

  #tick(): void {
    if (this.#stopped) return;
    this.#busy = this.#attempt().finally(() => {
      if (!this.#stopped) this.#timer = setTimeout(() => this.#tick(), this.#jittered());
    });
  }

  async #attempt(): Promise<void> {
    const now = Date.now();
    try {
      const won = await this.#tryAcquireOrRenew(now);
      // Another holder (or a lost update race) means someone else leads now.
      if (won) this.#lastRenew = now;
      this.#set(won);
    } catch (error) {
      if (this.#leading && now - this.#lastRenew >= this.#timings.renewDeadlineMs) {
        this.#log.warn({ err: (error as Error).message }, 'could not renew the leader lease in time; stepping down');
        this.#set(false);
      } else {
        this.#log.debug({ err: (error as Error).message }, 'leader election attempt failed');
      }
    }
  }

  /** One round: true when this process holds the lease afterwards. */
  async #tryAcquireOrRenew(now: number): Promise<boolean> {
    let lease: Lease;
    try {
      lease = await this.#api.get<Lease>(this.#path);
    } catch (error) {
      if (!(error instanceof KubeApiError) || error.status !== 404) throw error;
      await this.#api.create(`/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(this.#namespace)}/leases`, {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name: this.#name, namespace: this.#namespace },
        spec: this.#spec(now, now, 0),
      });
      this.#log.info({ identity: this.identity }, 'acquired the leader lease (created it)');
      return true;
    }
    const spec = lease.spec ?? {};
    const record = `${spec.holderIdentity ?? ''}|${spec.renewTime ?? ''}`;
    if (record !== this.#observed) {
      this.#observed = record;
      this.#observedAt = now;
    }
    const holder = spec.holderIdentity ?? '';
    const durationMs = (spec.leaseDurationSeconds ?? this.#timings.leaseDurationMs / 1000) * 1000;
    if (holder !== '' && holder !== this.identity && now - this.#observedAt < durationMs) return false;
    const mine = holder === this.identity;
    const acquired = mine ? (Date.parse(spec.acquireTime ?? '') || now) : now;
    const transitions = (spec.leaseTransitions ?? 0) + (mine ? 0 : 1);
    try {
      const updated = await this.#api.replace<Lease>(this.#path, { ...lease, spec: this.#spec(acquired, now, transitions) });
      this.#observed = `${updated.spec?.holderIdentity ?? ''}|${updated.spec?.renewTime ?? ''}`;
      this.#observedAt = now;
    } catch (error) {
      // Someone else updated it first: they hold it now.
      if (error instanceof KubeApiError && error.status === 409) return false;
      throw error;
    }
    if (!mine) this.#log.info({ identity: this.identity, previous: holder || null }, 'acquired the leader lease');
    return true;
  }

  #spec(acquiredAt: number, renewedAt: number, transitions: number): LeaseSpec {
    return {
      holderIdentity: this.identity,
      leaseDurationSeconds: Math.ceil(this.#timings.leaseDurationMs / 1000),
      acquireTime: microTime(acquiredAt),
      renewTime: microTime(renewedAt),
      leaseTransitions: transitions,
    };
  }

  #set(leading: boolean): void {
    if (leading === this.#leading) return;
    this.#leading = leading;
    this.#log.info({ identity: this.identity, leading }, leading ? 'leading: writing status' : 'no longer leading');
    this.#onChange(leading);
  }

  #jittered(): number {
    return Math.round(this.#timings.retryPeriodMs * (1 + Math.random() * 0.2));
  }
}

/** A Kubernetes MicroTime: RFC 3339 with microseconds. */
function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}
