/** Real upstream HTTP servers on port 0 for data-plane tests. */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
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

/** A port on 127.0.0.1 with nothing listening: bind port 0, note the port, close. */
export async function deadPort(): Promise<number> {
  const server = createTcpServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
