/**
 * The two nginx processes of the benchmark: the upstream that answers fixed bodies, and the reverse
 * proxy that signalbox is compared with. Each runs from its own temp prefix so nothing touches /etc
 * or /var: pid file, lock file, logs and all temp paths (Debian's build points them at /var/lib/nginx).
 */
import { userInfo } from 'node:os';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HOST, waitForHttp } from './net.ts';
import type { Scope, Service } from './processes.ts';

/** The body of `GET /` on the upstream; the harness checks every target returns exactly this. */
export const HELLO_BODY = 'hello from upstream\n';

/** Path of the 1 KiB response on the upstream. */
export const ONE_KIB_PATH = '/1k';

/** Path where the upstream echoes the forwarding headers it received, to show what each proxy adds. */
export const HEADERS_PATH = '/headers';

/** Directives every benchmark nginx shares: foreground, one worker, everything under `prefix`. */
export function preamble(prefix: string): string {
  // As root, nginx would switch its worker to "nobody", which cannot use the 0700 temp dir.
  const user = process.getuid?.() === 0 ? `user ${userInfo().username};\n` : '';
  return `${user}daemon off;
master_process on;
worker_processes 1;
pid ${prefix}/nginx.pid;
lock_file ${prefix}/nginx.lock;
error_log ${prefix}/error.log warn;
events { worker_connections 4096; }
`;
}

/** The http block's settings every benchmark nginx shares: no access log, temp paths under `prefix`. */
export function httpPreamble(prefix: string): string {
  return `  access_log off;
  client_body_temp_path ${prefix}/client_body;
  proxy_temp_path ${prefix}/proxy;
  fastcgi_temp_path ${prefix}/fastcgi;
  uwsgi_temp_path ${prefix}/uwsgi;
  scgi_temp_path ${prefix}/scgi;
  default_type text/plain;
`;
}

/** Path where the upstream answers the port the request came in on (`$server_port`). */
export const PORT_PATH = '/port';

/**
 * nginx.conf of the upstream: fixed bodies, and keep-alive long enough never to churn the proxies'
 * pools. Given several ports, one server block listens on all of them (still one worker), so a
 * Service can have several endpoints that cost exactly the same; `GET /port` tells them apart.
 */
export function upstreamConfig(prefix: string, ports: number | readonly number[]): string {
  const listen = (typeof ports === 'number' ? [ports] : ports).map((port) => `    listen ${HOST}:${port} backlog=4096;\n`).join('');
  return `${preamble(prefix)}http {
${httpPreamble(prefix)}  keepalive_requests 1000000;
  keepalive_timeout 300s;
  server {
${listen}    location = ${PORT_PATH} { return 200 "$server_port\\n"; }
    location = / { return 200 ${JSON.stringify(HELLO_BODY)}; }
    location = ${ONE_KIB_PATH} { return 200 "${'x'.repeat(1023)}\\n"; }
    location = ${HEADERS_PATH} {
      return 200 "x-forwarded-for=$http_x_forwarded_for x-forwarded-proto=$http_x_forwarded_proto x-forwarded-host=$http_x_forwarded_host x-real-ip=$http_x_real_ip\\n";
    }
  }
}
`;
}

/**
 * nginx.conf of the reverse proxy, shaped like an ingress-nginx server block: a keep-alive upstream
 * pool, HTTP/1.1 to the upstream, the X-Forwarded-* headers, and ingress-nginx's defaults for client
 * keep-alive (1000 requests per connection) and response buffering (off).
 */
export function proxyConfig(prefix: string, port: number, upstreamPort: number): string {
  return `${preamble(prefix)}http {
${httpPreamble(prefix)}  keepalive_requests 1000;
  keepalive_timeout 75s;
  upstream bench_upstream {
    server ${HOST}:${upstreamPort};
    keepalive 64;
    keepalive_requests 10000;
  }
  server {
    listen ${HOST}:${port} backlog=4096;
    server_name bench.local;
    location / {
      proxy_pass http://bench_upstream;
      proxy_http_version 1.1;
      proxy_buffering off;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_set_header X-Real-IP $remote_addr;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_set_header X-Forwarded-Host $host;
      proxy_set_header X-Forwarded-Port $server_port;
    }
  }
}
`;
}

/**
 * Writes `config` into a fresh prefix, runs nginx on it and waits until a cleartext `GET /` answers
 * `readyStatus` (200; a TLS port answers plain HTTP with 400).
 */
export async function startNginx(scope: Scope, name: string, port: number, config: (prefix: string) => string, readyStatus = 200): Promise<Service> {
  const prefix = scope.tempDir(name);
  const conf = join(prefix, 'nginx.conf');
  writeFileSync(conf, config(prefix));
  const errorLog = join(prefix, 'error.log');
  const service = scope.start(name, 'nginx', ['-p', prefix, '-c', conf, '-e', errorLog]);
  try {
    await waitForHttp(service, port, '/', 10_000, readyStatus);
  } catch (err) {
    // The prefix is removed on exit, so quote the log rather than point at it.
    const log = existsSync(errorLog) ? readFileSync(errorLog, 'utf8').trim() : '(no error log)';
    throw new Error(`${(err as Error).message}\nerror.log:\n${log}`);
  }
  return service;
}
