/**
 * nginx configs of bench/protocols.ts beside lib/nginx.ts's: a TLS upstream, and the reverse proxies
 * that terminate TLS (HTTP/1.1 and HTTP/2 by ALPN, like signalbox's HTTPS listener), proxy to a TLS
 * upstream with verification, and pass gRPC. Each proxy block sets the forwarding headers of
 * lib/nginx.ts's proxyConfig, so the work compared stays the same.
 */
import { HOST } from './net.ts';
import type { BenchPki } from './tls-setup.ts';
import { HELLO_BODY, httpPreamble, preamble } from './nginx.ts';
import { TLS_NAME } from './tls-setup.ts';

/** The shared preamble, then the http block's common settings. */
function protocolPreamble(prefix: string): string {
  return `${preamble(prefix)}http {
${httpPreamble(prefix)}`;
}

// TLS 1.2 and 1.3 with the library's default ciphers, as Node's server offers them.
function serverTls(pki: BenchPki): string {
  return `    ssl_certificate ${pki.certFile};
    ssl_certificate_key ${pki.keyFile};
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_session_cache shared:bench:1m;
`;
}

// Not ingress-nginx's 1000 requests per client connection: h2load does not reconnect after nginx's
// GOAWAY, and signalbox closes no connection after a count, so neither proxy ends a connection here.
const CLIENT_KEEPALIVE = `  keepalive_requests 1000000;
  keepalive_timeout 75s;
`;

const FORWARDING = `      proxy_set_header Host $host;
      proxy_set_header X-Real-IP $remote_addr;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_set_header X-Forwarded-Host $host;
      proxy_set_header X-Forwarded-Port $server_port;
`;

/** The upstream over TLS: `GET /` answers {@link HELLO_BODY}, long keep-alive. */
export function tlsUpstreamConfig(prefix: string, port: number, pki: BenchPki): string {
  return `${protocolPreamble(prefix)}  keepalive_requests 1000000;
  keepalive_timeout 300s;
  server {
    listen ${HOST}:${port} ssl backlog=4096;
${serverTls(pki)}    location = / { return 200 ${JSON.stringify(HELLO_BODY)}; }
  }
}
`;
}

/**
 * The proxy terminating TLS on `port` (ALPN h2 and http/1.1, as signalbox's HTTPS listener) to the
 * cleartext HTTP/1.1 upstream; ingress-nginx's defaults otherwise (see lib/nginx.ts's proxyConfig).
 */
export function tlsProxyConfig(prefix: string, port: number, upstreamPort: number, pki: BenchPki): string {
  return `${protocolPreamble(prefix)}${CLIENT_KEEPALIVE}
  upstream bench_upstream { server ${HOST}:${upstreamPort}; keepalive 64; keepalive_requests 10000; }
  server {
    listen ${HOST}:${port} ssl http2 backlog=4096;
    server_name bench.local;
${serverTls(pki)}    location / {
      proxy_pass http://bench_upstream;
      proxy_http_version 1.1;
      proxy_buffering off;
      proxy_set_header Connection "";
${FORWARDING}    }
  }
}
`;
}

/** The cleartext proxy to the TLS upstream, verifying it against the bench CA, sessions reused. */
export function tlsUpstreamProxyConfig(prefix: string, port: number, upstreamPort: number, pki: BenchPki): string {
  return `${protocolPreamble(prefix)}${CLIENT_KEEPALIVE}
  upstream bench_upstream { server ${HOST}:${upstreamPort}; keepalive 64; keepalive_requests 10000; }
  server {
    listen ${HOST}:${port} backlog=4096;
    server_name bench.local;
    location / {
      proxy_pass https://bench_upstream;
      proxy_http_version 1.1;
      proxy_buffering off;
      proxy_set_header Connection "";
      proxy_ssl_verify on;
      proxy_ssl_trusted_certificate ${pki.caFile};
      proxy_ssl_name ${TLS_NAME};
      proxy_ssl_server_name on;
      proxy_ssl_session_reuse on;
${FORWARDING}    }
  }
}
`;
}

/** The gRPC proxy: TLS with ALPN h2 on `port`, `grpc_pass` over h2c to the gRPC upstream. */
export function grpcProxyConfig(prefix: string, port: number, upstreamPort: number, pki: BenchPki): string {
  return `${protocolPreamble(prefix)}${CLIENT_KEEPALIVE}
  upstream grpc_upstream { server ${HOST}:${upstreamPort}; keepalive 64; keepalive_requests 10000; }
  server {
    listen ${HOST}:${port} ssl http2 backlog=4096;
    server_name bench.local;
${serverTls(pki)}    location / {
      grpc_pass grpc://grpc_upstream;
      grpc_set_header X-Real-IP $remote_addr;
      grpc_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      grpc_set_header X-Forwarded-Proto $scheme;
    }
  }
}
`;
}
