/**
 * Loopback helpers: free ports, plain HTTP GETs and readiness polling.
 */
import { request } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Service } from './processes.ts';

/** The loopback address every benchmark process binds to and every request goes to. */
export const HOST = '127.0.0.1';

/** A port that was free a moment ago: bind port 0, read the port, release it. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, HOST, resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A response reduced to what the harness checks. */
export interface SimpleResponse {
  status: number;
  body: string;
}

/** `GET http://127.0.0.1:port/path` with an optional Host header and others, failing after `timeoutMs`. */
export function get(port: number, path: string, host?: string, timeoutMs = 2_000, extraHeaders: Record<string, string> = {}): Promise<SimpleResponse> {
  return new Promise((resolve, reject) => {
    const headers = host === undefined ? extraHeaders : { ...extraHeaders, host };
    const req = request({ host: HOST, port, path, headers, agent: false, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${path} on port ${port} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

/**
 * Polls `GET path` until it answers `status`, failing early (with the child's output) if the service
 * exits, and after `timeoutMs` otherwise.
 */
export async function waitForHttp(service: Service, port: number, path: string, timeoutMs: number, status = 200): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer yet';
  while (Date.now() < deadline) {
    if (service.hasExited()) {
      throw new Error(`${service.name} exited before it was ready (${await service.exited}):\n${service.output().trim()}`);
    }
    try {
      const res = await get(port, path, undefined, 1_000);
      if (res.status === status) return;
      last = `HTTP ${res.status}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await sleep(100);
  }
  throw new Error(`${service.name} not ready after ${timeoutMs} ms (GET ${path} on port ${port}: ${last}); its output:\n${service.output().trim()}`);
}
