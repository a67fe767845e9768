import { randomBytes } from 'node:crypto';
import type { RequestIdFilter } from '../../../model/table.ts';
import type { LifecycleRequest } from '../request.ts';
import type { RequestStep, UpstreamEdit } from '../request-step.ts';

/** Random bytes are drawn this many ids at a time: one system call per 256 requests, not per request. */
const BATCH = 256;

/**
 * RequestId: the upstream request keeps the client's id field when it has a non-empty one, else
 * gets a fresh one of 32 hexadecimal digits (the shape of nginx's `$request_id`).
 */
export class RequestIdStep implements RequestStep {
  readonly #header: string;

  constructor(filter: RequestIdFilter) {
    this.#header = filter.header;
  }

  run(r: LifecycleRequest): boolean {
    const own = r.req.headers[this.#header];
    // The id is the request's from here on: an error page asked for it carries the same one.
    const id = typeof own === 'string' && own !== '' ? own : nextRequestId();
    r.requestId = id;
    r.addEdit(new RequestIdEdit(this.#header, id));
    return true;
  }
}

/** Puts the request's id into the upstream fields, unless an earlier edit left a non-empty one there. */
class RequestIdEdit implements UpstreamEdit {
  readonly #header: string;
  readonly #id: string;

  constructor(header: string, id: string) {
    this.#header = header;
    this.#id = id;
  }

  applyTo(headers: string[]): void {
    const name = this.#header;
    for (let i = 0; i < headers.length; i += 2) {
      if (headers[i]!.toLowerCase() === name && headers[i + 1] !== '') return;
    }
    for (let i = headers.length - 2; i >= 0; i -= 2) if (headers[i]!.toLowerCase() === name) headers.splice(i, 2);
    headers.push(name, this.#id);
  }
}

let pool = Buffer.alloc(0);
let offset = 0;

/** A new request id: 16 random bytes as hexadecimal (nginx's `$request_id`). */
export function nextRequestId(): string {
  if (offset >= pool.length) {
    pool = randomBytes(16 * BATCH);
    offset = 0;
  }
  const id = pool.toString('hex', offset, offset + 16);
  offset += 16;
  return id;
}
