import { request, type ClientRequest } from 'node:http';
import type { HealthCheckPolicy } from '../model/policy.ts';

/** The User-Agent of every probe, so that upstream access logs can tell probes from traffic. */
export const PROBE_USER_AGENT = 'signalbox-health-check';

/**
 * How much of a response body a probe reads before it stops and closes the connection. The verdict
 * comes from the status; the body is read only so that a well-behaved upstream sees a complete
 * exchange, and the cap keeps an endless body from holding the probe until its timeout.
 */
export const PROBE_BODY_LIMIT = 64 * 1024;

/** Where and how to probe. */
export interface ProbeTarget {
  /** IPv4 or IPv6 address, without brackets. */
  readonly address: string;
  readonly port: number;
  readonly check: Pick<HealthCheckPolicy, 'path' | 'timeoutMs' | 'expectedStatuses'>;
}

/** The result of one probe. */
export interface ProbeOutcome {
  readonly pass: boolean;
  /** The response status, or null when no response arrived. */
  readonly status: number | null;
  /**
   * Why, as a short stable token for logs: `status 503`, `timeout`, or the error's code
   * (`ECONNREFUSED`, `ECONNRESET`, `HPE_INVALID_CONSTANT`…).
   */
  readonly reason: string;
}

/** `address:port`, with an IPv6 address in brackets: the Host header and the `endpoint` label. */
export function hostPort(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

/** True when `status` lies in one of the inclusive `ranges`. */
export function statusExpected(status: number, ranges: HealthCheckPolicy['expectedStatuses']): boolean {
  for (const [low, high] of ranges) if (status >= low && status <= high) return true;
  return false;
}

/**
 * One HTTP/1.1 `GET path` to the target on a connection of its own, closed afterwards
 * (`Connection: close`). The whole exchange — connect, headers and body up to
 * {@link PROBE_BODY_LIMIT} — must finish within `timeoutMs`. Never rejects: every failure is an
 * outcome. Aborting `signal` ends the probe at once (its outcome is then meaningless).
 *
 * The socket is unref'd: a probe never keeps the process alive.
 */
export function probe(target: ProbeTarget, signal?: AbortSignal): Promise<ProbeOutcome> {
  const { address, port, check } = target;
  return new Promise((resolve) => {
    let settled = false;
    let req: ClientRequest;
    try {
      req = request({
        host: address,
        port,
        path: check.path,
        method: 'GET',
        // A one-shot agent: no pooling, the socket is closed when the exchange ends.
        agent: false,
        headers: { Host: hostPort(address, port), 'User-Agent': PROBE_USER_AGENT, Accept: '*/*', Connection: 'close' },
        signal,
      });
    } catch (err) {
      // A path the compiler should have refused (ERR_UNESCAPED_CHARACTERS): a failure, not a crash.
      resolve({ pass: false, status: null, reason: (err as NodeJS.ErrnoException).code ?? 'ERR_INVALID_REQUEST' });
      return;
    }
    const finish = (outcome: ProbeOutcome): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      resolve(outcome);
    };
    const fail = (reason: string, status: number | null = null): void => finish({ pass: false, status, reason });
    const timer = setTimeout(() => fail('timeout'), check.timeoutMs);
    timer.unref();

    req.on('socket', (socket) => socket.unref());
    req.on('error', (err: NodeJS.ErrnoException) => fail(err.code ?? err.name));
    req.on('response', (res) => {
      const status = res.statusCode ?? 0;
      const verdict: ProbeOutcome = { pass: statusExpected(status, check.expectedStatuses), status, reason: `status ${status}` };
      let read = 0;
      res.on('data', (chunk: Buffer) => {
        read += chunk.length;
        if (read >= PROBE_BODY_LIMIT) finish(verdict);
      });
      res.on('end', () => finish(verdict));
      // The connection broke in the middle of the body: traffic would have failed too.
      res.on('error', (err: NodeJS.ErrnoException) => fail(err.code ?? err.name, status));
      res.on('close', () => {
        if (!res.complete) fail('ECONNRESET', status);
      });
    });
    req.end();
  });
}
