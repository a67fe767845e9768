/**
 * The Ingress front end: IngressClass ownership, then each of our Ingresses read on its own
 * (ingress.ts), then everything they ask for as route candidates for the back half — oldest
 * Ingress first, so that the back half's "first claim wins" is the Ingress rule "the oldest wins".
 */
import type { CompileOptions } from '../../model/snapshot.ts';
import { compareAge, withAge } from '../shared/age.ts';
import type { DefaultRouteCandidate, FrontEndOutput, RankedOwner, RouteCandidate, TLSCandidate } from '../shared/candidates.ts';
import { guarded, type DiagnosticSink } from '../shared/diagnostics.ts';
import { field } from '../shared/guards.ts';
import { identify, indexByKey, indexObjects, subjectOf, type Identified } from '../shared/objects.ts';
import { ownership, ourClasses, type Ownership } from './ingress-class.ts';
import { ingressCandidateRoute } from './ingress-route.ts';
import { parseIngress, type IngressContribution } from './ingress.ts';
import { INGRESS_LISTENER_LIST, INGRESS_LISTENERS } from './listeners.ts';
import { ingressConflictKey, ingressPrecedence } from './precedence.ts';
import { passthroughCandidates } from '../streams/passthrough.ts';
import type { StreamCandidate } from '../streams/stream-candidates.ts';

const EMPTY: IngressContribution = Object.freeze({ paths: [], defaultBackend: null, tls: [] });

/** What the Ingress front end gives the back half, and the Ingresses it read (for their status). */
export interface IngressFrontEnd extends FrontEndOutput {
  /** Our Ingresses, oldest first. */
  readonly ingresses: readonly RankedOwner[];
  /** The TLS passthrough routes of Ingresses with `signalbox.dev/ssl-passthrough`, oldest first. */
  readonly streams: readonly StreamCandidate[];
}

/**
 * Reads the IngressClasses and Ingresses of a snapshot (any shape). Ingresses of other
 * controllers are ignored without a trace; every problem of ours is reported to `sink`.
 */
export function ingressFrontEnd(input: unknown, options: CompileOptions, sink: DiagnosticSink): IngressFrontEnd {
  const ours = ourClasses(indexObjects(field(input, 'ingressClasses'), 'IngressClass', false, sink), options, sink);
  const ingresses = ourIngresses(field(input, 'ingresses'), ours, options, sink);
  const routes: RouteCandidate[] = [];
  const defaultRoutes: DefaultRouteCandidate[] = [];
  const tls: TLSCandidate[] = [];
  const streams: StreamCandidate[] = [];
  const passedThrough = new Map<string, string>();
  for (const { owner, item } of ingresses) {
    const contribution = guarded(sink, owner.id, EMPTY, () => parseIngress(owner.id, item.obj, sink));
    const { namespace } = owner.id;
    for (const path of contribution.paths) {
      const route = ingressCandidateRoute(path.pathType, path.path, { namespace, ...path.ref }, path.provenance);
      routes.push({ owner, host: path.host, listeners: INGRESS_LISTENERS, route, conflictKey: ingressConflictKey(route.match.path), ruleProvenance: path.ruleProvenance });
    }
    const backend = contribution.defaultBackend;
    // The default route is a Prefix `/` so that it reads like any other route in the table.
    if (backend !== null) defaultRoutes.push({ owner, route: ingressCandidateRoute('Prefix', '/', { namespace, ...backend.ref }, backend.provenance) });
    for (const entry of contribution.tls) tls.push({ owner, ...entry });
    streams.push(...guarded(sink, owner.id, [], () => passthroughCandidates(owner, item.obj, contribution.paths, passedThrough, sink)));
  }
  return { listeners: INGRESS_LISTENER_LIST, routes, defaultRoutes, tls, precedence: ingressPrecedence, ingresses: ingresses.map((i) => i.owner), streams };
}

/**
 * Our Ingresses, identified, deduplicated and ranked oldest first. Ownership is decided before the
 * metadata is validated, so that broken Ingresses of other controllers stay silent.
 */
function ourIngresses(
  list: unknown,
  ours: ReturnType<typeof ourClasses>,
  options: CompileOptions,
  sink: DiagnosticSink,
): { owner: RankedOwner; item: Identified }[] {
  const owned = new Map<Identified, Ownership>();
  for (const obj of Array.isArray(list) ? (list as unknown[]) : []) {
    guarded(sink, subjectOf(obj, 'Ingress'), undefined, () => {
      const own = ownership(obj, ours, options);
      if (own === null) return;
      const item = identify(obj, 'Ingress', true, sink);
      if (item !== null) owned.set(item, own);
    });
  }
  const unique = [...indexByKey([...owned.keys()], sink).values()];
  for (const item of unique) {
    for (const warning of owned.get(item)!.warnings) sink.report(item.id, warning.code, 'warning', warning.message);
  }
  return unique
    .map((item) => guarded(sink, item.id, { ...item, created: null }, () => withAge(item, sink)))
    .sort(compareAge)
    .map((item, rank) => ({ owner: { id: item.id, rank, created: item.created }, item }));
}
