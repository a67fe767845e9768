import type { RequestOptions } from 'node:https';
import { KubeConfig } from '@kubernetes/client-node';
import { Agent, request, type Dispatcher } from 'undici';
import { ConfigError } from '../errors.ts';

/** A Kubernetes API error: the HTTP status and, when the server sent one, its `Status` reason and message. */
export class KubeApiError extends Error {
  readonly status: number;
  /** `NotFound`, `Conflict`, `Expired`, `Forbidden`…, or '' when the body was not a Status. */
  readonly reason: string;

  constructor(status: number, reason: string, message: string) {
    super(message);
    this.name = 'KubeApiError';
    this.status = status;
    this.reason = reason;
  }
}

/** One event of a watch: `ADDED`, `MODIFIED`, `DELETED`, `BOOKMARK` or `ERROR` (object is then a Status). */
export interface WatchEvent {
  readonly type: string;
  readonly object: Record<string, unknown>;
}

/** Longest a watch request stays open, asked of the server; it then ends and is restarted from its last version. */
const WATCH_TIMEOUT_SECONDS = 300;
/** Largest line of a watch stream accepted (one object). */
const MAX_WATCH_LINE = 16 * 1024 * 1024;

/**
 * The few things the controller asks of the Kubernetes API — get, list, watch, create, patch — over
 * undici, with the connection and credentials of a kubeconfig (or the in-cluster service account)
 * as `@kubernetes/client-node` loads them. Credentials are applied again for every request, so a
 * projected service-account token that rotates on disk is picked up.
 */
export class KubeApi {
  /** The API server's URL, without a trailing slash. */
  readonly server: string;
  readonly #config: KubeConfig;
  #dispatcher: Agent | null = null;
  #dispatcherKey = '';

  constructor(config: KubeConfig) {
    const cluster = config.getCurrentCluster();
    if (cluster === null) throw new ConfigError('the kubeconfig has no current cluster');
    this.#config = config;
    this.server = cluster.server.replace(/\/+$/, '');
  }

  /**
   * The API of `kubeconfigPath`, or in a pod the in-cluster configuration, or else the default
   * kubeconfig (`$KUBECONFIG`, `~/.kube/config`).
   */
  static load(kubeconfigPath?: string): KubeApi {
    const config = new KubeConfig();
    try {
      if (kubeconfigPath !== undefined) config.loadFromFile(kubeconfigPath);
      else if (process.env.KUBERNETES_SERVICE_HOST !== undefined) config.loadFromCluster();
      else config.loadFromDefault();
    } catch (error) {
      throw new ConfigError(`cannot load the Kubernetes configuration${kubeconfigPath === undefined ? '' : ` from ${kubeconfigPath}`}: ${(error as Error).message}`);
    }
    return new KubeApi(config);
  }

  /** GET `path`; the decoded JSON body. Throws {@link KubeApiError} for any status but 2xx. */
  get<T = Record<string, unknown>>(path: string, query?: Record<string, string | number | boolean | undefined>, signal?: AbortSignal): Promise<T> {
    return this.#call<T>('GET', path, query, undefined, undefined, signal);
  }

  /** POST `body` (JSON) to `path`. */
  create<T = Record<string, unknown>>(path: string, body: unknown): Promise<T> {
    return this.#call<T>('POST', path, undefined, body, 'application/json');
  }

  /** PUT `body` (JSON) at `path` (an update with optimistic concurrency on its resourceVersion). */
  replace<T = Record<string, unknown>>(path: string, body: unknown): Promise<T> {
    return this.#call<T>('PUT', path, undefined, body, 'application/json');
  }

  /** PATCH `path` with a JSON merge patch. */
  mergePatch<T = Record<string, unknown>>(path: string, patch: unknown): Promise<T> {
    return this.#call<T>('PATCH', path, undefined, patch, 'application/merge-patch+json');
  }

  /**
   * Watches `path` from `resourceVersion`, calling `onEvent` for each event in order, until the
   * server ends the watch (resolves), the connection fails or `signal` aborts (rejects).
   */
  async watch(path: string, resourceVersion: string, onEvent: (event: WatchEvent) => void, signal: AbortSignal, fieldSelector?: string): Promise<void> {
    const { dispatcher, headers } = await this.#prepare();
    const url = `${this.server}${path}${queryString({ watch: true, resourceVersion, allowWatchBookmarks: true, timeoutSeconds: WATCH_TIMEOUT_SECONDS, fieldSelector })}`;
    const res = await request(url, { method: 'GET', headers, dispatcher, signal, headersTimeout: 30_000, bodyTimeout: (WATCH_TIMEOUT_SECONDS + 60) * 1000 });
    if (res.statusCode < 200 || res.statusCode > 299) throw await errorOf(res);
    let buffered = '';
    // A character of several bytes may be split between two chunks: decoded as a stream, it is
    // kept whole (a chunk decoded alone would turn both halves into U+FFFD).
    const decoder = new TextDecoder('utf-8');
    for await (const chunk of res.body) {
      buffered += decoder.decode(chunk as Buffer, { stream: true });
      if (buffered.length > MAX_WATCH_LINE) throw new Error(`a watch event of ${path} is larger than ${MAX_WATCH_LINE} bytes`);
      let newline = buffered.indexOf('\n');
      while (newline !== -1) {
        const line = buffered.slice(0, newline).trim();
        buffered = buffered.slice(newline + 1);
        if (line !== '') onEvent(JSON.parse(line) as WatchEvent);
        newline = buffered.indexOf('\n');
      }
    }
  }

  /** Closes the connections. */
  async close(): Promise<void> {
    await this.#dispatcher?.close();
    this.#dispatcher = null;
  }

  async #call<T>(method: Dispatcher.HttpMethod, path: string, query: Record<string, string | number | boolean | undefined> | undefined, body: unknown, contentType: string | undefined, signal?: AbortSignal): Promise<T> {
    const { dispatcher, headers } = await this.#prepare();
    const res = await request(`${this.server}${path}${queryString(query ?? {})}`, {
      method,
      headers: contentType === undefined ? headers : { ...headers, 'content-type': contentType },
      body: body === undefined ? null : JSON.stringify(body),
      dispatcher,
      signal,
      headersTimeout: 30_000,
      bodyTimeout: 60_000,
    });
    if (res.statusCode < 200 || res.statusCode > 299) throw await errorOf(res);
    return (await res.body.json()) as T;
  }

  /** Credentials and the dispatcher for them; a new dispatcher only when the TLS material changes. */
  async #prepare(): Promise<{ dispatcher: Agent; headers: Record<string, string> }> {
    const options: RequestOptions = { headers: {} };
    await this.#config.applyToHTTPSOptions(options);
    const tls = { ca: options.ca, cert: options.cert, key: options.key, rejectUnauthorized: options.rejectUnauthorized !== false };
    const key = JSON.stringify([String(tls.ca ?? ''), String(tls.cert ?? ''), String(tls.key ?? ''), tls.rejectUnauthorized]);
    if (this.#dispatcher === null || key !== this.#dispatcherKey) {
      const previous = this.#dispatcher;
      this.#dispatcher = new Agent({ connect: tls as Record<string, unknown>, keepAliveTimeout: 30_000 });
      this.#dispatcherKey = key;
      void previous?.close();
    }
    const headers: Record<string, string> = { accept: 'application/json' };
    for (const [name, value] of Object.entries(options.headers ?? {})) if (value !== undefined) headers[name.toLowerCase()] = String(value);
    return { dispatcher: this.#dispatcher, headers };
  }
}

function queryString(query: Record<string, string | number | boolean | undefined>): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) if (value !== undefined && value !== '') params.set(name, String(value));
  const text = params.toString();
  return text === '' ? '' : `?${text}`;
}

async function errorOf(res: Dispatcher.ResponseData): Promise<KubeApiError> {
  const text = await res.body.text().catch(() => '');
  try {
    const status = JSON.parse(text) as { reason?: string; message?: string };
    return new KubeApiError(res.statusCode, status.reason ?? '', status.message ?? text);
  } catch {
    return new KubeApiError(res.statusCode, '', text.slice(0, 500) || `HTTP ${res.statusCode}`);
  }
}
