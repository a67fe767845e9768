import type { LifecycleRequest } from './request.ts';

/**
 * One request-side filter of a route, prepared once per table swap (its header edits, path
 * rewriter, redirect target, script binding), run in `route.filters` order before a backend is
 * picked.
 */
export interface RequestStep {
  /**
   * Acts on the request. True: go on with the next step now. False: the step answered the request,
   * or will call {@link LifecycleRequest.proceed} itself when it is done (a RouteScript).
   */
  run(r: LifecycleRequest): boolean;
}

/** An edit of the upstream request's header list (flat name/value pairs), applied in filter order. */
export interface UpstreamEdit {
  applyTo(headers: string[]): void;
}

/**
 * The head of the upstream's response as the response phase sees it, before anything reaches the
 * client: its status and its fields (flat name/value pairs, hop-by-hop fields already removed),
 * both editable in place.
 */
export interface ResponseHead {
  status: number;
  headers: string[];
  /**
   * A body of the proxy's own in place of the upstream's (a RouteScript's `respond`, its failure
   * answer, a DefaultBackend's error page), which is then dropped unread; null to send the upstream's.
   */
  body: string | Buffer | null;
  /** True for an answer of the proxy's own (answerHead); absent for the upstream's. */
  own?: true;
}

/**
 * One response-side filter of a route, run in the REVERSE of `route.filters` order on the
 * upstream's response head (like layers of middleware: the filter that saw the request first sees
 * the response last). A step that must wait (a RouteScript's `onResponse`) returns a promise: the exchange
 * pauses the upstream body and holds what already arrived until it settles.
 */
export interface ResponseStep {
  run(r: LifecycleRequest, head: ResponseHead): Promise<void> | null;
}
