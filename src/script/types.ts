/**
 * The types of the RouteScript engine's API: what a script is given (its source and limits, the
 * request), what it may answer (a {@link Decision}) and how a run ends (an {@link Outcome}).
 * Everything here is plain data so the proxy can log, count and serialise it.
 */

/** Hard limits of one script, from `spec.limits` of its RouteScript. */
export interface ScriptLimits {
  /**
   * Wall-clock budget of one request in milliseconds: the script's own CPU time plus any time spent
   * awaiting `ctx.lookup`. Module top-level code gets a larger one-off budget (see script-isolate.ts).
   */
  readonly timeoutMs: number;
  /** Heap limit of the script's isolate in MiB (isolated-vm's minimum, 8, is applied below that). */
  readonly memoryMiB: number;
}

/** One RouteScript as the engine sees it. */
export interface ScriptSource {
  /** `namespace/name`: names logs, statuses and the script's `ctx.lookup` configuration. */
  readonly id: string;
  /**
   * An ES module exporting `onRequest(req, ctx)`, `onResponse(res, ctx)` or both; `checkScript`
   * has accepted it.
   */
  readonly code: string;
  /** The script's data (JSON), seen inside the isolate as the deep-frozen `ctx.data`. */
  readonly data: unknown;
  readonly limits: ScriptLimits;
  /** The backend names a decision may choose; anything else is an invalid decision. */
  readonly backends: readonly string[];
}

/**
 * The read-only view of a request a script receives (a frozen copy). Header names are lower case;
 * a repeated header arrives joined the way the proxy forwards it.
 */
export interface ScriptRequest {
  readonly method: string;
  /** The Host (or `:authority`) without the port, lower case. */
  readonly host: string;
  /** The path without the query string. */
  readonly path: string;
  /** Decoded query parameters; a repeated one becomes an array. */
  readonly query: Readonly<Record<string, string | string[]>>;
  readonly headers: Readonly<Record<string, string>>;
  readonly cookies: Readonly<Record<string, string>>;
  /**
   * The request's Cookie header as received, when there is one: the script's `cookies` are then
   * parsed from it inside the isolate, only if the script reads them, and `cookies` is not looked at.
   */
  readonly cookieHeader?: string;
  readonly clientIp: string;
  /** TLS server name of the connection, null on plain HTTP. */
  readonly sni: string | null;
}

/** A direct answer from the proxy, without going upstream (auth failures, redirects, blocks). */
export interface RespondDecision {
  /** 200–599. */
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
  /** At most 64 KiB of UTF-8. */
  readonly body?: string;
}

/**
 * Changes what the upstream receives (the client sees nothing of it): the path (the request's
 * query is kept) and/or the Host. At least one is given.
 */
export interface RewriteDecision {
  /** `/` then printable ASCII without space, `?` or `#` (percent-encoded), at most 8 KiB. */
  readonly path?: string;
  /** A host name, IPv4 or bracketed IPv6 address with an optional `:port`, lower case. */
  readonly host?: string;
}

/** Answers the request with a redirect to `location`, without going upstream. */
export interface RedirectDecision {
  readonly status: 301 | 302 | 303 | 307 | 308;
  /** Sent as the Location header as written: absolute or relative, no control characters, at most 8 KiB. */
  readonly location: string;
}

/** Hold the request at the proxy (see the request-pausing issue and src/pause/). */
export interface PauseDecision {
  /**
   * A condition name the pause gate understands (opaque to the engine, at most 256 characters);
   * without it the request is held for `maxWaitMs` only.
   */
  readonly until?: string;
  /** Upper bound on the wait in milliseconds; the gate's own maximum applies too. */
  readonly maxWaitMs?: number;
}

/**
 * What a script's `onRequest` decided. Every field is optional; `{}` and `null` both mean "route
 * as usual". `respond` and `redirect` stand alone; the others combine (a backend with headers, a
 * rewrite, a hash key and a pause). Header names are lower case once validated.
 */
export interface Decision {
  /** One of the script's declared backends. */
  readonly backend?: string;
  /** Request headers to set (replacing any present) before going upstream. */
  readonly setHeaders?: Readonly<Record<string, string>>;
  /** Request headers to remove before going upstream. */
  readonly removeHeaders?: readonly string[];
  /** The key for the backend's consistent-hash policy (ring hash, Maglev). */
  readonly hashKey?: string;
  readonly rewrite?: RewriteDecision;
  readonly respond?: RespondDecision;
  readonly redirect?: RedirectDecision;
  readonly pause?: PauseDecision;
}

/**
 * What a script's `onResponse` decided about the response on its way to the client; `{}` and
 * `null` both mean "send it as it is". `respond` stands alone, and only replaces an error response
 * (status 400 or more, from the upstream or from the proxy); on any other response it is an
 * invalid decision.
 */
export interface ResponseDecision {
  /** Response headers to set, replacing any present. */
  readonly setHeaders?: Readonly<Record<string, string>>;
  /** Response headers to remove. */
  readonly removeHeaders?: readonly string[];
  /** A response of the proxy's own instead of the error response. */
  readonly respond?: RespondDecision;
}

/**
 * The read-only view of a response a script's `onResponse` receives (a frozen copy): the status
 * and headers as they are about to be sent to the client, and the request they answer as this
 * script's `onRequest` saw it (in a chain: with the earlier scripts' edits, without its own).
 */
export interface ScriptResponse {
  /** 100..599: the upstream's status, or the proxy's own when it answered (502, 503, 504…). */
  readonly status: number;
  /** Lower-case names; a repeated header (`set-cookie` too) arrives as its values joined with `, `. */
  readonly headers: Readonly<Record<string, string>>;
  readonly request: ScriptRequest;
}

/** Why a run failed. Stable strings: metrics label on them. */
export type FailureCause =
  /** The script threw (or its promise rejected); the message is the error's. */
  | 'throw'
  /** The request's budget ran out: a busy loop, or a lookup that did not answer in time. */
  | 'timeout'
  /** The isolate hit its heap limit and was disposed; the next request gets a fresh one. */
  | 'memory'
  /** The script returned something that is not a valid {@link Decision}. */
  | 'invalid-decision'
  /** The script was not run: it does not load, or it is failing and backing off. */
  | 'unavailable';

/**
 * How one run of a script ended. A failure affects only the request it belongs to. `D` is
 * {@link Decision} for `onRequest`, {@link ResponseDecision} for `onResponse`.
 */
export type Outcome<D = Decision> =
  | { readonly ok: true; readonly decision: D | null; readonly cpuMs: number }
  | { readonly ok: false; readonly cause: FailureCause; readonly message: string };

/** How one run of a script's `onResponse` ended. */
export type ResponseOutcome = Outcome<ResponseDecision>;

/**
 * Resolves `ctx.lookup(key)` for a script: the value for `key`, or null when there is none. It may
 * reject (the script's `await` throws). {@link createHttpLookup} is the real one.
 */
export type LookupFetcher = (scriptId: string, key: string) => Promise<string | null>;

/** Health of one loaded script, for statuses and metrics. */
export interface ScriptStatus {
  readonly id: string;
  /** `failing` while the script is backing off after consecutive failures. */
  readonly state: 'ok' | 'failing';
  readonly consecutiveFailures: number;
  /** The last failure, if any since the script was loaded. */
  readonly lastFailure: { readonly cause: FailureCause; readonly message: string } | null;
  /** While failing: when (engine clock, ms) the next request may run the script again. */
  readonly retryAt: number | null;
  /** `ctx.log` lines dropped by the rate limit since the script was loaded. */
  readonly logLinesDropped: number;
  /**
   * True while the script keeps using most of its budget: at least 10% of its last 50 runs took
   * half its `timeoutMs` or more (see budget-watch.ts). It still runs; it is a warning.
   */
  readonly slow: boolean;
  /** The 90th percentile of the share of `timeoutMs` its last 50 runs used (1 = all of it); null before any run. */
  readonly budgetUsedP90: number | null;
  /** True while this version is loading or failed to load and the previous version of the RouteScript still serves. */
  readonly previousVersionServing: boolean;
}
