/**
 * The gRPC upstream of bench/protocols.ts: the Go program in bench/grpc-upstream (grpc-go, echoing
 * every unary call), built from the Go module proxy into a cache dir outside the repository, keyed by
 * the hash of its sources so a change rebuilds it. Also the check that a target answers a unary call
 * with grpc-status 0 and the message echoed.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { connect, constants } from 'node:http2';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect as tcpConnect } from 'node:net';
import { HOST } from './net.ts';
import type { Scope, Service } from './processes.ts';

/** The method every call names; the upstream answers any. */
export const GRPC_PATH = '/bench.Echo/Call';

/** One length-prefixed gRPC message (uncompressed): protobuf field 1, the string "hello from client". */
export const GRPC_FRAME = ((): Buffer => {
  const payload = Buffer.concat([Buffer.from([0x0a, 17]), Buffer.from('hello from client')]);
  const prefix = Buffer.alloc(5);
  prefix.writeUInt32BE(payload.length, 1);
  return Buffer.concat([prefix, payload]);
})();

/** The request headers of a unary call besides the pseudo-headers. */
export const GRPC_HEADERS = ['content-type: application/grpc', 'te: trailers'];

function goBinary(): string {
  for (const candidate of [process.env.GO, '/usr/local/go/bin/go']) if (candidate && existsSync(candidate)) return candidate;
  return 'go';
}

/** Builds the upstream unless the cache already has this version of it; returns the binary's path. */
export function buildGrpcUpstream(benchDir: string): string {
  const src = join(benchDir, 'grpc-upstream');
  const hash = createHash('sha256');
  for (const file of ['main.go', 'go.mod', 'go.sum']) hash.update(readFileSync(join(src, file)));
  const cache = process.env.SIGNALBOX_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'signalbox');
  const dir = join(cache, 'bench');
  const bin = join(dir, `grpc-upstream-${hash.digest('hex').slice(0, 16)}`);
  if (existsSync(bin)) return bin;
  mkdirSync(dir, { recursive: true });
  console.log(`building the gRPC upstream into ${bin} (once; needs Go and the module proxy)`);
  const tmp = `${bin}.tmp-${process.pid}`;
  execFileSync(goBinary(), ['build', '-o', tmp, '.'], { cwd: src, stdio: 'inherit', env: { ...process.env, GOFLAGS: '-mod=mod -buildvcs=false' } });
  renameSync(tmp, bin);
  return bin;
}

/** Starts the upstream on `port` (h2c) and waits until it accepts connections. */
export async function startGrpcUpstream(scope: Scope, bin: string, port: number): Promise<Service> {
  const service = scope.start('grpc-upstream', bin, ['-listen', `${HOST}:${port}`]);
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (service.hasExited()) throw new Error(`grpc-upstream exited: ${service.output().trim()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const socket = tcpConnect(port, HOST, () => (socket.destroy(), resolve(true)));
      socket.once('error', () => resolve(false));
    });
    if (ok) return service;
    await sleep(50);
  }
  throw new Error(`grpc-upstream not listening on ${port} after 10 s: ${service.output().trim()}`);
}

/**
 * One unary call to `port` (h2 over TLS, certificate not checked, or h2c) with `:authority`
 * `authority`; fails unless the answer is 200 with grpc-status 0 and the message echoed.
 */
export async function checkGrpc(port: number, tls: boolean, authority: string): Promise<void> {
  const session = connect(`${tls ? 'https' : 'http'}://${HOST}:${port}`, { rejectUnauthorized: false });
  try {
    const answer = await new Promise<{ status: number; grpcStatus: string; body: Buffer }>((resolve, reject) => {
      session.once('error', reject);
      const stream = session.request({ ':method': 'POST', ':path': GRPC_PATH, ':authority': authority, ...Object.fromEntries(GRPC_HEADERS.map((h) => h.split(': '))) });
      let status = 0;
      let grpcStatus = 'none';
      const chunks: Buffer[] = [];
      stream.once('response', (headers) => {
        status = Number(headers[constants.HTTP2_HEADER_STATUS]);
        if (headers['grpc-status'] !== undefined) grpcStatus = String(headers['grpc-status']);
      });
      stream.once('trailers', (trailers) => {
        if (trailers['grpc-status'] !== undefined) grpcStatus = String(trailers['grpc-status']);
      });
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.once('end', () => resolve({ status, grpcStatus, body: Buffer.concat(chunks) }));
      stream.once('error', reject);
      stream.setTimeout(5_000, () => stream.destroy(new Error('no answer within 5 s')));
      stream.end(GRPC_FRAME);
    });
    if (answer.status !== 200 || answer.grpcStatus !== '0' || !answer.body.equals(GRPC_FRAME)) {
      throw new Error(`gRPC call to port ${port}: status ${answer.status}, grpc-status ${answer.grpcStatus}, body ${answer.body.toString('hex')} (sent ${GRPC_FRAME.toString('hex')})`);
    }
  } finally {
    session.close();
  }
}
