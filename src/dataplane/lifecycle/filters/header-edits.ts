import type { HeaderEdits } from '../../../model/table.ts';
import { dropFields } from '../../upstream/upstream-headers.ts';
import type { LifecycleRequest } from '../request.ts';
import type { RequestStep, ResponseHead, ResponseStep, UpstreamEdit } from '../request-step.ts';

/**
 * Applies a header filter to a flat `[name, value, …]` list in place, in the table's order: each
 * `set` field replaces every field of that name (whatever its case), each `add` appends one more
 * field, each `remove` drops every field of that name.
 */
export function applyHeaderEdits(headers: string[], edits: HeaderEdits): void {
  const set = edits.set;
  if (set !== undefined && set.length > 0) {
    dropFields(headers, new Set(set.map((f) => f.name)));
    for (const f of set) headers.push(f.name, f.value);
  }
  const add = edits.add;
  if (add !== undefined) for (const f of add) headers.push(f.name, f.value);
  const remove = edits.remove;
  if (remove !== undefined && remove.length > 0) dropFields(headers, new Set(remove));
}


/**
 * RequestHeaderModifier: edits the header list the upstream receives. The edit is queued here and
 * applied once that list is built — after hop-by-hop fields are dropped and the X-Forwarded-*
 * fields set — so a filter can replace a forwarding header, and edits keep the filters' order
 * among themselves and with RouteScripts' header decisions.
 */
export class RequestHeaderStep implements RequestStep, UpstreamEdit {
  readonly #edits: HeaderEdits;

  constructor(edits: HeaderEdits) {
    this.#edits = edits;
  }

  run(r: LifecycleRequest): boolean {
    r.addEdit(this);
    return true;
  }

  applyTo(headers: string[]): void {
    applyHeaderEdits(headers, this.#edits);
  }
}

/** ResponseHeaderModifier: edits the upstream response's fields before they reach the client. */
export class ResponseHeaderStep implements ResponseStep {
  readonly #edits: HeaderEdits;

  constructor(edits: HeaderEdits) {
    this.#edits = edits;
  }

  run(_r: LifecycleRequest, head: ResponseHead): null {
    applyHeaderEdits(head.headers, this.#edits);
    return null;
  }
}
