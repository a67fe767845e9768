/**
 * KubeApi.watch against a fake API server on a real socket that sends its events in pieces, as a
 * real one may under load: a line split between writes, and a character of several bytes split
 * between two of them, arrive as the API sent them.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { WatchEvent } from '../../src/k8s/kube-api.ts';
import { startFakeKubeApi, type FakeKubeApi } from '../helpers/fake-kube-api.ts';

/** A RouteScript whose source holds characters of 2, 3 and 4 bytes in UTF-8. */
const SOURCE = 'export default (ctx) => ctx.respond(200, "café — 東京 🚉")';
const EVENT = `${JSON.stringify({ type: 'ADDED', object: { metadata: { namespace: 'shop', name: 'greeting', resourceVersion: '12' }, spec: { source: SOURCE } } })}\n`;

function answer(req: IncomingMessage, res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'application/json' });
  const bytes = Buffer.from(EVENT, 'utf8');
  // Split inside the 4-byte 🚉 (and so inside the line), then inside the 3-byte 東.
  const emoji = bytes.indexOf(Buffer.from('🚉', 'utf8'));
  const kanji = bytes.indexOf(Buffer.from('東', 'utf8'));
  const cuts = [kanji + 1, emoji + 2].sort((a, b) => a - b);
  const pieces = [bytes.subarray(0, cuts[0]), bytes.subarray(cuts[0], cuts[1]), bytes.subarray(cuts[1])];
  let i = 0;
  const next = (): void => {
    if (i === pieces.length) return void res.end();
    res.write(pieces[i++]);
    setTimeout(next, 20);
  };
  next();
  void req;
}

describe('a watch whose events come in pieces', () => {
  let fake: FakeKubeApi;

  before(async () => {
    fake = await startFakeKubeApi(answer);
  });

  after(async () => {
    await fake.close();
  });

  test('a character split between two writes arrives whole', async () => {
    const events: WatchEvent[] = [];
    await fake.api.watch('/apis/signalbox.dev/v1alpha1/routescripts', '11', (e) => events.push(e), AbortSignal.timeout(10_000));
    assert.equal(events.length, 1);
    const object = events[0]!.object as { spec: { source: string } };
    assert.equal(object.spec.source, SOURCE);
  });
});
