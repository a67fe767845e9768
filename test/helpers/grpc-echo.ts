/**
 * A real gRPC server (grpc-js) implementing testdata/grpc/echo.proto, for the data-plane tests of
 * gRPC through the proxy, and a client constructor for the same service. Every call the server
 * receives is logged, with its metadata and deadline, so that a test asserts what reached it.
 */
import { fileURLToPath } from 'node:url';
import grpc from '@grpc/grpc-js';
import protoLoader from '@grpc/proto-loader';

const PROTO = fileURLToPath(new URL('../../testdata/grpc/echo.proto', import.meta.url));

/** A message of the Echo service. */
export interface Note {
  text?: string;
  times?: number;
  delayMs?: number;
  failCode?: number;
  servedBy?: string;
}

/** One call as the server logged it. */
export interface LoggedCall {
  readonly server: string;
  readonly method: 'Say' | 'Count' | 'Join' | 'Chat';
  /** The first note's text (client streaming: every text, joined). */
  readonly text: string;
  readonly metadata: Record<string, unknown>;
  /** Whether the call carried a deadline (`grpc-timeout`). */
  readonly deadline: boolean;
  /** Milliseconds the call's deadline left it when it arrived; Infinity without one. */
  readonly deadlineLeftMs: number;
  /** Whether the client (or the proxy) cancelled the call before it was answered. */
  cancelled: boolean;
}

/** How a test server behaves besides echoing. */
export interface EchoBehaviour {
  /** Every call but a server-streaming one is answered with this status (trailers-only) instead. */
  readonly failWith?: grpc.status;
}

/** A running Echo server. */
export interface EchoServer {
  readonly name: string;
  readonly port: number;
  readonly log: LoggedCall[];
  readonly server: grpc.Server;
  /** Resolves with the next call whose log entry says it was cancelled. */
  nextCancel(): Promise<LoggedCall>;
  /** Resolves when the next call starts (a client-streaming one is logged only at its end). */
  nextStart(): Promise<void>;
  close(): void;
}

/** What every kind of server call has: its metadata, deadline and `cancelled` event. */
interface ServerCall {
  readonly metadata: grpc.Metadata;
  getDeadline(): grpc.Deadline;
  on(event: 'cancelled', listener: () => void): unknown;
}

/** The package definition, loaded once. */
let loaded: grpc.GrpcObject | null = null;

function echoPackage(): grpc.GrpcObject {
  loaded ??= grpc.loadPackageDefinition(protoLoader.loadSync(PROTO, { keepCase: false, defaults: true }));
  return loaded;
}

/** The generated client constructor of `signalbox.test.Echo`. */
export function echoClientConstructor(): grpc.ServiceClientConstructor {
  const ns = (echoPackage().signalbox as grpc.GrpcObject).test as grpc.GrpcObject;
  return ns.Echo as grpc.ServiceClientConstructor;
}

/** Echo's client, as the tests call it (the generated methods are untyped). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type EchoClient = grpc.Client & Record<string, any>;

/** A client of Echo at `address`, asking for `authority` (the virtual host). */
export function echoClient(address: string, credentials: grpc.ChannelCredentials, authority: string, options: grpc.ChannelOptions = {}): EchoClient {
  const Echo = echoClientConstructor();
  // No retries of grpc-js's own: what is retried here is the proxy's doing.
  return new Echo(address, credentials, { 'grpc.default_authority': authority, 'grpc.enable_retries': 0, ...options }) as EchoClient;
}

/** Metadata's plain content, for the log and the assertions. */
function plain(md: grpc.Metadata): Record<string, unknown> {
  return md.getMap();
}

/** Answers with `md`'s `x-echo` entry copied back, as headers and as trailers. */
function echoed(md: grpc.Metadata, where: 'header' | 'trailer'): grpc.Metadata {
  const out = new grpc.Metadata();
  const value = md.get('x-echo')[0];
  if (value !== undefined) out.set(`x-echo-${where}`, String(value));
  return out;
}

/**
 * Starts an Echo server on 127.0.0.1:0 called `name`; `tls` makes it serve TLS with that key
 * pair, else h2c.
 */
export async function startEchoServer(name: string, behaviour: EchoBehaviour = {}, tls?: { certPem: string; keyPem: string }): Promise<EchoServer> {
  const log: LoggedCall[] = [];
  const cancelWaiters: ((call: LoggedCall) => void)[] = [];
  const startWaiters: (() => void)[] = [];
  const started = (): void => {
    for (const waiter of startWaiters.splice(0)) waiter();
  };
  const server = new grpc.Server();
  const record = (method: LoggedCall['method'], text: string, call: ServerCall): LoggedCall => {
    const deadline = Number(call.getDeadline());
    const entry: LoggedCall = { server: name, method, text, metadata: plain(call.metadata), deadline: Number.isFinite(deadline), deadlineLeftMs: deadline - Date.now(), cancelled: false };
    log.push(entry);
    call.on('cancelled', () => {
      entry.cancelled = true;
      for (const waiter of cancelWaiters.splice(0)) waiter(entry);
    });
    return entry;
  };
  const failure = (md: grpc.Metadata, code: grpc.status): grpc.ServiceError => {
    const metadata = echoed(md, 'trailer');
    return Object.assign(new Error(`${name} says ${grpc.status[code]}`), { code, details: `${name} says ${grpc.status[code]}`, metadata });
  };
  const service = (echoClientConstructor() as unknown as { service: grpc.ServiceDefinition }).service;
  server.addService(service, {
    Say: (call: grpc.ServerUnaryCall<Note, Note>, callback: grpc.sendUnaryData<Note>) => {
      const entry = record('Say', call.request.text ?? '', call);
      const md = call.metadata;
      const answer = (): void => {
        if (entry.cancelled) return;
        const code = behaviour.failWith ?? call.request.failCode ?? 0;
        if (code !== 0) return callback(failure(md, code));
        call.sendMetadata(echoed(md, 'header'));
        callback(null, { text: call.request.text ?? '', servedBy: name }, echoed(md, 'trailer'));
      };
      const delay = call.request.delayMs ?? 0;
      if (delay > 0) setTimeout(answer, delay);
      else answer();
    },
    Count: (call: grpc.ServerWritableStream<Note, Note>) => {
      record('Count', call.request.text ?? '', call);
      call.sendMetadata(echoed(call.metadata, 'header'));
      for (let i = 1; i <= (call.request.times ?? 0); i++) call.write({ text: `${call.request.text} ${i}`, servedBy: name });
      call.end(echoed(call.metadata, 'trailer'));
    },
    Join: (call: grpc.ServerReadableStream<Note, Note>, callback: grpc.sendUnaryData<Note>) => {
      started();
      const texts: string[] = [];
      let entry: LoggedCall | null = null;
      call.on('data', (note: Note) => texts.push(note.text ?? ''));
      call.on('end', () => {
        entry = record('Join', texts.join(' '), call);
        if (behaviour.failWith !== undefined) return callback(failure(call.metadata, behaviour.failWith));
        callback(null, { text: texts.join(' '), servedBy: name }, echoed(call.metadata, 'trailer'));
      });
      call.on('error', () => {
        if (entry === null) record('Join', texts.join(' '), call).cancelled = true;
      });
    },
    Chat: (call: grpc.ServerDuplexStream<Note, Note>) => {
      const entry = record('Chat', '', call);
      if (behaviour.failWith !== undefined) {
        // At once, before reading anything: the client is still sending.
        call.emit('error', failure(call.metadata, behaviour.failWith));
        return;
      }
      call.on('data', (note: Note) => {
        (entry as { text: string }).text ||= note.text ?? '';
        call.write({ text: `echo ${note.text}`, servedBy: name });
      });
      call.on('end', () => call.end(echoed(call.metadata, 'trailer')));
    },
  });
  const credentials = tls === undefined
    ? grpc.ServerCredentials.createInsecure()
    : grpc.ServerCredentials.createSsl(null, [{ private_key: Buffer.from(tls.keyPem), cert_chain: Buffer.from(tls.certPem) }], false);
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', credentials, (err, p) => (err ? reject(err) : resolve(p))));
  return {
    name,
    port,
    log,
    server,
    nextCancel: () => new Promise((resolve) => cancelWaiters.push(resolve)),
    nextStart: () => new Promise((resolve) => startWaiters.push(resolve)),
    close: () => server.forceShutdown(),
  };
}

/** Calls a unary method and resolves with its reply, headers and status (an error status too). */
export function unary(client: EchoClient, method: string, note: Note, metadata = new grpc.Metadata(), options: grpc.CallOptions = {}): Promise<{ reply: Note | null; headers: grpc.Metadata | null; status: grpc.StatusObject }> {
  return new Promise((resolve) => {
    let reply: Note | null = null;
    let headers: grpc.Metadata | null = null;
    const call = client[method](note, metadata, options, (_err: grpc.ServiceError | null, value?: Note) => {
      reply = value ?? null;
    }) as grpc.ClientUnaryCall;
    call.on('metadata', (md: grpc.Metadata) => (headers = md));
    // 'status' comes before the callback has run: the reply is read a tick later.
    call.on('status', (status: grpc.StatusObject) => setImmediate(() => resolve({ reply, headers, status })));
  });
}
