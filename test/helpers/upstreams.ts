/** Real upstream HTTP servers on port 0 for data-plane tests. */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { readFileSync } from 'node:fs';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';

/** A running upstream and what it has seen. */
export interface TestUpstream {
  readonly name: string;
  readonly port: number;
  readonly server: Server;
  /** Requests received so far (method, url, headers). */
  readonly seen: { method: string; url: string; headers: IncomingMessage['headers']; rawHeaders: string[] }[];
  close(): Promise<void>;
}

/** Handler type for custom upstream behaviour. */
export type UpstreamHandler = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * Starts an upstream on 127.0.0.1:0. By default it answers `200 <name> <method> <url>` with header
 * `x-upstream: <name>`; pass `handler` to do something else.
 */
export async function startUpstream(name: string, handler?: UpstreamHandler): Promise<TestUpstream> {
  const seen: TestUpstream['seen'] = [];
  const server = createServer((req, res) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, rawHeaders: req.rawHeaders });
    if (handler) return handler(req, res);
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/plain', 'x-upstream': name });
      res.end(`${name} ${req.method} ${req.url}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    name,
    port: (server.address() as AddressInfo).port,
    server,
    seen,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * A port on 127.0.0.1 with nothing listening: one below the kernel's ephemeral range (where
 * `listen(0)` and outgoing connections take theirs), so that no other test running alongside is
 * handed it meanwhile; checked free by binding it once.
 */
export async function deadPort(): Promise<number> {
  const [low] = ephemeralRange();
  for (let tries = 0; tries < 50; tries++) {
    const port = 10_000 + Math.floor(Math.random() * Math.max(1, low - 10_000));
    const server = createTcpServer();
    const bound = await new Promise<boolean>((resolve) => {
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => resolve(true));
    });
    if (!bound) continue;
    await new Promise((resolve) => server.close(resolve));
    return port;
  }
  throw new Error('no free port below the ephemeral range');
}

/** The kernel's ephemeral port range (Linux); 32768–60999 where it cannot be read. */
function ephemeralRange(): [number, number] {
  try {
    const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (Number.isInteger(low) && Number.isInteger(high) && low! > 10_001) return [low!, high!];
  } catch {
    // not Linux
  }
  return [32_768, 60_999];
}
