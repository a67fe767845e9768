/**
 * The fake Node's container logs, as `kubectl logs` and the suite's mirror tests see them: every
 * line carries the time it arrived, and sinceTime, tailLines, limitBytes, timestamps and follow
 * behave as a kubelet's. The pure rules, then the HTTPS endpoint on a real socket (port 0) with a
 * log written by a real stream. No root, no cluster.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { createCertificateAuthority, issueCertificate } from '../../e2e/harness/pki.ts';
import { ContainerLog } from '../../conformance/env/container-log.ts';
import { startKubeletServer } from '../../conformance/env/kubelet-server.ts';
import {
  ByteLimit, formatRecord, formatTimestamp, LineStamper, parseLogQuery, parseRecord, parseRecords, parseTimestamp,
  renderRecord, selectRecords, type LogQuery, type LogRecord,
} from '../../conformance/env/pod-logs.ts';

const at = (iso: string) => parseTimestamp(iso)!;
const query = (text: string, now = at('2026-12-03T13:00:10Z')): LogQuery => {
  const parsed = parseLogQuery(new URLSearchParams(text), now);
  if ('error' in parsed) assert.fail(parsed.error);
  return parsed.query;
};

describe('timestamps', () => {
  test('RFC3339 with nine fraction digits in UTC, as the kubelet writes them', () => {
    assert.equal(formatTimestamp(at('2026-12-03T13:00:00.000000005Z')), '2026-12-03T13:00:00.000000005Z');
    assert.equal(formatTimestamp(at('2026-12-03T13:00:00Z')), '2026-12-03T13:00:00.000000000Z');
  });

  test('parses seconds (what the API server sends as sinceTime), any fraction, and offsets', () => {
    assert.equal(at('2026-12-03T13:00:01Z') - at('2026-12-03T13:00:00Z'), 1_000_000_000n);
    assert.equal(at('2026-12-03T13:00:00.5Z') - at('2026-12-03T13:00:00Z'), 500_000_000n);
    assert.equal(at('2026-12-03T14:00:00+01:00'), at('2026-12-03T13:00:00Z'));
    assert.equal(parseTimestamp('yesterday'), null);
    assert.equal(parseTimestamp('2026-12-03 13:00:00'), null);
  });

  test('a stored record reads back as it was written, text with spaces included', () => {
    const record: LogRecord = { nanos: at('2026-12-03T13:00:00.123456789Z'), stream: 'stderr', text: 'Echoing back request made to /a b to client' };
    const line = formatRecord(record);
    assert.equal(line, '2026-12-03T13:00:00.123456789Z stderr F Echoing back request made to /a b to client\n');
    assert.deepEqual(parseRecord(line.slice(0, -1)), record);
  });

  test('a last line without its newline (a write in progress) is not read', () => {
    const text = formatRecord({ nanos: 1n, stream: 'stdout', text: 'done' }) + '2026-12-03T13:00:00.1';
    assert.deepEqual(parseRecords(text).map((r) => r.text), ['done']);
  });
});

describe('LineStamper', () => {
  test('stamps each line with the time its newline arrived, across chunks', () => {
    let clock = 100n;
    const stamper = new LineStamper('stdout', () => clock);
    assert.deepEqual(stamper.push('Starting ser'), []);
    clock = 200n;
    assert.deepEqual(stamper.push('ver\r\nEchoing /a\nEcho'), [
      { nanos: 200n, stream: 'stdout', text: 'Starting server' },
      { nanos: 200n, stream: 'stdout', text: 'Echoing /a' },
    ]);
    clock = 300n;
    assert.deepEqual(stamper.end(), [{ nanos: 300n, stream: 'stdout', text: 'Echo' }]);
    assert.deepEqual(stamper.end(), []);
  });
});

describe('selecting lines', () => {
  const records: LogRecord[] = [
    { nanos: at('2026-12-03T13:00:00.9Z'), stream: 'stderr', text: 'Starting server' },
    { nanos: at('2026-12-03T13:00:01Z'), stream: 'stdout', text: 'first' },
    { nanos: at('2026-12-03T13:00:01.5Z'), stream: 'stderr', text: 'second' },
    { nanos: at('2026-12-03T13:00:02Z'), stream: 'stdout', text: 'third' },
  ];
  const texts = (q: LogQuery) => selectRecords(q, records).map((r) => r.text);

  test('sinceTime keeps the lines stamped at or after it, to the nanosecond', () => {
    assert.deepEqual(texts(query('sinceTime=2026-12-03T13:00:01Z')), ['first', 'second', 'third']);
    assert.deepEqual(texts(query('sinceTime=2026-12-03T13:00:01.000000001Z')), ['second', 'third']);
    assert.deepEqual(texts(query('')), ['Starting server', 'first', 'second', 'third']);
  });

  test('sinceSeconds counts back from now', () => {
    assert.deepEqual(texts(query('sinceSeconds=9', at('2026-12-03T13:00:10.5Z'))), ['second', 'third']);
  });

  test('tailLines takes the last lines first, then sinceTime filters them (as the kubelet)', () => {
    assert.deepEqual(texts(query('tailLines=2')), ['second', 'third']);
    assert.deepEqual(texts(query('tailLines=3&sinceTime=2026-12-03T13:00:01.2Z')), ['second', 'third']);
    assert.deepEqual(texts(query('tailLines=0')), []);
  });

  test('stream picks stdout or stderr; All is both', () => {
    assert.deepEqual(texts(query('stream=Stdout')), ['first', 'third']);
    assert.deepEqual(texts(query('stream=Stderr&tailLines=1')), ['second']);
    assert.equal(texts(query('stream=All')).length, 4);
  });

  test('timestamps puts each line\'s time in front of it', () => {
    assert.equal(renderRecord(query('timestamps=true'), records[1]!), '2026-12-03T13:00:01.000000000Z first\n');
    assert.equal(renderRecord(query(''), records[1]!), 'first\n');
  });

  test('limitBytes cuts the answer through a line', () => {
    const limit = new ByteLimit(8);
    assert.equal(limit.take('first\n').toString(), 'first\n');
    assert.equal(limit.done, false);
    assert.equal(limit.take('second\n').toString(), 'se');
    assert.equal(limit.done, true);
    assert.equal(limit.take('third\n').length, 0);
    // Bytes, not characters: 'é' is two.
    assert.deepEqual(new ByteLimit(1).take('é'), Buffer.from([0xc3]));
  });

  test('a malformed query is refused with the reason', () => {
    for (const bad of ['sinceTime=noon', 'tailLines=-1', 'limitBytes=x', 'stream=Both', 'sinceSeconds=1&sinceTime=2026-12-03T13:00:00Z']) {
      assert.ok('error' in parseLogQuery(new URLSearchParams(bad), 0n), bad);
    }
  });
});

describe('the kubelet endpoint', () => {
  const ca = createCertificateAuthority('test-ca');
  const serving = issueCertificate(ca, { commonName: 'kwok-node-0', ipAddresses: ['127.0.0.1'], usage: 'server' });
  const client = issueCertificate(ca, { commonName: 'kube-apiserver-kubelet-client', usage: 'client' });
  let dir: string;
  let port: number;
  let close: () => void;
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let log: ContainerLog;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pod-logs-'));
    log = new ContainerLog(join(dir, 'echo.log'));
    log.attach('stdout', stdout);
    log.attach('stderr', stderr);
    const started = await startKubeletServer({
      host: '127.0.0.1', port: 0, cert: serving.certPem, key: serving.keyPem, clientCa: ca.certPem,
      lookup: (ns, pod, container) => (ns === 'infra' && pod === 'echo-1' && container === 'echo' ? log : `pod ${ns}/${pod} is not running`),
    });
    port = started.port;
    close = () => {
      started.server.close();
      started.server.closeAllConnections();
    };
  });
  after(async () => {
    close();
    await rm(dir, { recursive: true, force: true });
  });

  /** A GET as the API server makes it; `onData` sees the body as it comes (for follow). */
  function get(path: string, options: { cert?: boolean; onData?: (body: string) => void } = {}): Promise<{ status: number; body: string }> {
    return new Promise((done, fail) => {
      const req = request({
        host: '127.0.0.1', port, path, ca: ca.certPem, agent: false,
        ...(options.cert === false ? {} : { cert: client.certPem, key: client.keyPem }),
      }, (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (chunk: string) => {
          body += chunk;
          options.onData?.(body);
        });
        res.on('end', () => done({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', fail);
      req.end();
    });
  }

  test('answers with the lines written so far, each line stamped in order', async () => {
    stderr.write('Starting server, listening on port 3000 (http)\n');
    stdout.write('Echoing back request made to /mirror to client\n');
    // A PassThrough hands its data on within the tick: by the next turn of the loop both are stored.
    await new Promise((r) => setImmediate(r));
    const all = await get('/containerLogs/infra/echo-1/echo?timestamps=true');
    assert.equal(all.status, 200);
    const lines = all.body.trimEnd().split('\n');
    assert.deepEqual(lines.map((l) => l.replace(/^\S+ /, '')), ['Starting server, listening on port 3000 (http)', 'Echoing back request made to /mirror to client']);
    const times = lines.map((l) => parseTimestamp(l.split(' ')[0]!)!);
    assert.ok(times[0]! < times[1]!);
    // sinceTime just after the first line's stamp leaves it out.
    const since = formatTimestamp(times[0]! + 1n);
    assert.equal((await get(`/containerLogs/infra/echo-1/echo?sinceTime=${since}`)).body, 'Echoing back request made to /mirror to client\n');
    assert.equal((await get('/containerLogs/infra/echo-1/echo?tailLines=1')).body, 'Echoing back request made to /mirror to client\n');
    assert.equal((await get('/containerLogs/infra/echo-1/echo?limitBytes=8')).body, 'Starting');
    assert.equal((await get('/containerLogs/infra/echo-1/echo?stream=Stdout')).body, 'Echoing back request made to /mirror to client\n');
    assert.equal((await get('/containerLogs/infra/echo-1/echo?sinceTime=never')).status, 400);
  });

  test('follow sends the lines that come after, and ends when the container stops', async () => {
    let seenTail!: () => void;
    const tailSeen = new Promise<void>((r) => (seenTail = r));
    const following = get('/containerLogs/infra/echo-1/echo?follow=true&tailLines=1', { onData: (body) => body.includes('/mirror') && seenTail() });
    await tailSeen;
    stdout.write('Echoing back request made to /later to client\n');
    // Ending the streams closes them after what was written: the log ends, and so does the answer.
    stdout.end();
    stderr.end();
    const { status, body } = await following;
    assert.equal(status, 200);
    assert.equal(body, 'Echoing back request made to /mirror to client\nEchoing back request made to /later to client\n');
  });

  test('an unknown pod is 404, previous is 400, and a client without the CA\'s certificate is refused', async () => {
    const missing = await get('/containerLogs/infra/gone/echo');
    assert.equal(missing.status, 404);
    assert.match(missing.body, /infra\/gone is not running/);
    assert.equal((await get('/containerLogs/infra/echo-1/echo?previous=true')).status, 400);
    await assert.rejects(get('/containerLogs/infra/echo-1/echo', { cert: false }));
  });
});
