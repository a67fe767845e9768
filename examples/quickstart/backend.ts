import { createServer, type Server } from 'node:http';

/**
 * A tiny example backend: answers every request with a JSON description of what it received, so a
 * user can see which backend a request reached and what signalbox added (X-Forwarded-*, X-Real-IP).
 */
export function startExampleBackend(name: string, port: number, host = '127.0.0.1'): Promise<Server> {
  const server = createServer((req, res) => {
    const body = JSON.stringify({
      backend: name,
      method: req.method,
      url: req.url,
      host: req.headers.host,
      forwarded: {
        for: req.headers['x-forwarded-for'],
        proto: req.headers['x-forwarded-proto'],
        host: req.headers['x-forwarded-host'],
        port: req.headers['x-forwarded-port'],
        realIp: req.headers['x-real-ip'],
      },
    }, null, 2);
    res.writeHead(200, { 'content-type': 'application/json', 'x-backend': name });
    res.end(`${body}\n`);
  });
  return new Promise((resolve, reject) => {
    server.once('error', (err) => reject(new Error(`example backend ${name} cannot listen on ${host}:${port}: ${err.message}`)));
    server.listen(port, host, () => resolve(server));
  });
}
