/**
 * GatewayClasses (apis/v1/gatewayclass_types.go): the classes whose `spec.controllerName` is ours
 * are accepted — unless they name `parametersRef`, which signalbox has no kind for — and their
 * Gateways are ours. Classes of other controllers are ignored without a trace.
 */
import type { ObjectStatus } from '../../model/table.ts';
import type { DiagnosticSink } from '../shared/diagnostics.ts';
import { field, isUnset } from '../shared/guards.ts';
import { indexObjects } from '../shared/objects.ts';
import { isFalse, isTrue } from './conditions.ts';
import { SUPPORTED_FEATURES } from './features.ts';

/** Our GatewayClasses: accepted ones by name, and every one's status. */
export interface OurClasses {
  /** Names of the accepted classes: their Gateways are served. */
  readonly accepted: ReadonlySet<string>;
  /** Names of our classes that are not accepted: their Gateways are ours, and not served. */
  readonly refused: ReadonlySet<string>;
  readonly statuses: readonly ObjectStatus[];
}

/** Reads the GatewayClasses of a snapshot (any shape). */
export function ourGatewayClasses(list: unknown, controllerName: string, sink: DiagnosticSink): OurClasses {
  const accepted = new Set<string>();
  const refused = new Set<string>();
  const statuses: ObjectStatus[] = [];
  // Other controllers' classes are not ours to report on, even when broken.
  const mine = (Array.isArray(list) ? (list as unknown[]) : []).filter((obj) => field(field(obj, 'spec'), 'controllerName') === controllerName);
  for (const { id, obj } of indexObjects(mine, 'GatewayClass', false, sink).values()) {
    const spec = field(obj, 'spec');
    const generation = id.generation === undefined ? {} : { generation: id.generation };
    if (!isUnset(field(spec, 'parametersRef'))) {
      refused.add(id.name);
      sink.report(id, 'GatewayClassParametersUnsupported', 'error', 'spec.parametersRef is set, and signalbox reads no parameters: the class is not accepted and its Gateways are not served');
      statuses.push({ kind: 'GatewayClass', namespace: '', name: id.name, ...generation, conditions: [isFalse('Accepted', 'InvalidParameters', 'signalbox reads no parametersRef; remove it to have the class accepted.')] });
      continue;
    }
    accepted.add(id.name);
    statuses.push({ kind: 'GatewayClass', namespace: '', name: id.name, ...generation, conditions: [isTrue('Accepted', 'Accepted', 'The GatewayClass is accepted by signalbox.')], supportedFeatures: SUPPORTED_FEATURES });
  }
  return { accepted, refused, statuses };
}
