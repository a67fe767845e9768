/**
 * Which Gateway API release the cluster's CRDs come from, for the GatewayClass condition
 * `SupportedVersion`: the `gateway.networking.k8s.io/bundle-version` annotation of the gateways
 * CRD, read once at start and again whenever the group appears or grows (a `get` of one
 * CustomResourceDefinition, which the ClusterRole grants).
 */
import { KubeApiError, type KubeApi } from '../k8s/kube-api.ts';
import type { Logger } from '../log.ts';
import type { Condition } from '../model/table.ts';

/** The CRD whose annotation is read: every CRD of a bundle carries the same one. */
const GATEWAYS_CRD = '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/gateways.gateway.networking.k8s.io';
const ANNOTATION = 'gateway.networking.k8s.io/bundle-version';
/** The minor release signalbox implements: any v1.6 patch release. */
const SUPPORTED = /^v1\.6\.\d+$/;
const SUPPORTED_TEXT = 'v1.6.x';

/**
 * The `SupportedVersion` condition for a bundle version read from the CRDs (null: not known — the
 * CRD is missing, carries no annotation, or could not be read).
 */
export function supportedVersionCondition(version: string | null): Condition {
  if (version !== null && SUPPORTED.test(version)) {
    return { type: 'SupportedVersion', status: 'True', reason: 'SupportedVersion', message: `The Gateway API CRDs are ${version}; signalbox supports ${SUPPORTED_TEXT}.` };
  }
  const found = version === null ? 'of an unknown version (the gateways CRD has no readable bundle-version annotation)' : version;
  return { type: 'SupportedVersion', status: 'False', reason: 'UnsupportedVersion', message: `The Gateway API CRDs are ${found}; signalbox supports ${SUPPORTED_TEXT}, and serves them on a best-effort basis.` };
}

/** Reads and remembers the bundle version; {@link condition} is what the writer puts on GatewayClasses. */
export class GatewayBundleVersion {
  readonly #api: KubeApi;
  readonly #log: Logger;
  #version: string | null = null;
  /** Reads in flight: until they answer, the condition is not known (rather than wrong). */
  #reading = 0;
  #read = false;

  constructor(api: KubeApi, log: Logger) {
    this.#api = api;
    this.#log = log;
  }

  /** The version last read (null: unknown). */
  get version(): string | null {
    return this.#version;
  }

  /** Reads the annotation again; a failure leaves the version unknown and is logged. */
  async refresh(): Promise<void> {
    this.#reading++;
    try {
      const crd = await this.#api.get<{ metadata?: { annotations?: Record<string, string> } }>(GATEWAYS_CRD);
      const version = crd.metadata?.annotations?.[ANNOTATION];
      this.#version = typeof version === 'string' && version !== '' ? version : null;
      this.#read = true;
      this.#log.info({ bundleVersion: this.#version }, 'read the Gateway API CRDs\' bundle version');
    } catch (error) {
      this.#version = null;
      this.#read = true;
      if (!(error instanceof KubeApiError && error.status === 404)) this.#log.warn({ err: (error as Error).message }, 'cannot read the gateways CRD; the Gateway API version counts as unknown');
    } finally {
      this.#reading--;
    }
  }

  /**
   * `SupportedVersion` for the version last read, or null while a read is in flight (or none was
   * made yet): GatewayClasses are then written at the next sync, not with a guess that flips.
   */
  condition(): Condition | null {
    return this.#reading > 0 || !this.#read ? null : supportedVersionCondition(this.#version);
  }
}
