import type { ServerResponse } from 'node:http';
import type { Http2ServerResponse } from 'node:http2';
import type { ClientRequest, ClientResponse } from '../lifecycle/proxy-state.ts';

/**
 * Writes a response head the upstream sent (`headers`: name, value, name, value…) to the client.
 *
 * A gRPC response whose head carries `grpc-status` is Trailers-Only (gRPC over HTTP/2: an error
 * before any message): it must reach an HTTP/2 client as one HEADERS frame with END_STREAM, the
 * only place gRPC clients (grpc-go, grpc-js) read its status from — as a head followed by an empty
 * end of stream, the call fails with INTERNAL "ended without gRPC status". Node's writeHead sends
 * the head at once, without END_STREAM; set on the response instead, it leaves with whatever
 * comes next: with end(), in one frame. Any other head is written at once, as it always was.
 */
export function writeResponseHead(req: ClientRequest, res: ClientResponse, status: number, headers: readonly string[]): void {
  if (req.httpVersionMajor !== 2 || !hasGrpcStatus(headers)) {
    (res as ServerResponse).writeHead(status, headers as string[]);
    return;
  }
  setResponseHead(res, status, headers);
}

/** Whether `headers` (name, value…) are a Trailers-Only head that `res`, an HTTP/2 response, must send with END_STREAM. */
export function isTrailersOnly(res: ClientResponse, headers: readonly string[]): boolean {
  return (res as Partial<Http2ServerResponse>).stream !== undefined && hasGrpcStatus(headers);
}

/**
 * Puts a head (name, value…) on the response without writing it: it leaves with the next write or
 * end(), in one frame with it.
 */
export function setResponseHead(res: ClientResponse, status: number, headers: readonly string[]): void {
  const fields = new Map<string, string[]>();
  for (let i = 0; i + 1 < headers.length; i += 2) {
    const name = headers[i]!.toLowerCase();
    const values = fields.get(name);
    if (values === undefined) fields.set(name, [headers[i + 1]!]);
    else values.push(headers[i + 1]!);
  }
  res.statusCode = status;
  for (const [name, values] of fields) res.setHeader(name, values.length === 1 ? values[0]! : values);
}

function hasGrpcStatus(headers: readonly string[]): boolean {
  for (let i = 0; i < headers.length; i += 2) if (headers[i]!.toLowerCase() === 'grpc-status') return true;
  return false;
}
