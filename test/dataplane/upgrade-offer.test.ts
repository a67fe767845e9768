/** The rules that decide what an upgrade request may become, on request heads built by hand. */
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { describe, it } from 'node:test';
import { allowedOffer, plainReason, plainRequestHead, switchedToOffered } from '../../src/dataplane/lifecycle/upgrade-offer.ts';

/** A parsed request head as Node gives it: raw fields in order, and the joined lower-cased map. */
function head(rawHeaders: string[], { method = 'GET', url = '/chat', version = '1.1' } = {}): IncomingMessage {
  const headers: Record<string, string> = {};
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!.toLowerCase();
    headers[name] = headers[name] === undefined ? rawHeaders[i + 1]! : `${headers[name]}, ${rawHeaders[i + 1]!}`;
  }
  const [major, minor] = version.split('.').map(Number);
  return { method, url, httpVersion: version, httpVersionMajor: major, httpVersionMinor: minor, rawHeaders, headers } as unknown as IncomingMessage;
}

describe('upgrade offers', () => {
  it('keeps only the offered protocols the Service allows, as the client wrote them, never h2c', () => {
    const allowed = ['my-proto', 'websocket'];
    const cases: [string, string | null][] = [
      ['websocket', 'websocket'],
      ['WebSocket', 'WebSocket'],
      ['h2c, websocket', 'websocket'],
      ['my-proto/2, other, websocket', 'my-proto/2, websocket'],
      ['h2c', null],
      ['other', null],
      [' , ', null],
    ];
    for (const [upgrade, offered] of cases) {
      assert.equal(allowedOffer(head(['Host', 'a', 'Connection', 'Upgrade', 'Upgrade', upgrade]), allowed), offered, upgrade);
    }
    assert.equal(allowedOffer(head(['Host', 'a', 'Connection', 'Upgrade', 'Upgrade', 'h2c']), ['h2c']), null, 'h2c whatever the list says');
    assert.equal(allowedOffer(head(['Host', 'a', 'Connection', 'keep-alive', 'Upgrade', 'websocket']), allowed), null, 'no upgrade option in Connection');
    assert.equal(allowedOffer(head(['Host', 'a', 'Connection', 'keep-alive', 'Connection', 'upgrade', 'Upgrade', 'websocket']), allowed), 'websocket');
  });

  it('a 101 must switch to protocols that were offered', () => {
    assert.ok(switchedToOffered('websocket', 'websocket'));
    assert.ok(switchedToOffered('WebSocket', 'websocket'));
    assert.ok(switchedToOffered('my-proto/2', 'my-proto/2, websocket'));
    assert.ok(!switchedToOffered('h2c', 'websocket'));
    assert.ok(!switchedToOffered(undefined, 'websocket'));
    assert.ok(!switchedToOffered('websocket, h2c', 'websocket'));
  });

  it('HTTP/1.0 and requests with a body are never tunnelled', () => {
    assert.equal(plainReason(head(['Host', 'a'])), null);
    assert.equal(plainReason(head(['Host', 'a', 'Content-Length', '0'])), null);
    assert.equal(plainReason(head(['Host', 'a', 'Content-Length', '5'])), 'with-body');
    assert.equal(plainReason(head(['Host', 'a', 'Transfer-Encoding', 'chunked'])), 'with-body');
    assert.equal(plainReason(head(['Host', 'a'], { version: '1.0' })), 'not-allowed');
  });

  it('the plain request keeps every other field, in order and as received, without the upgrade', () => {
    const req = head(
      ['Host', 'a.test', 'Connection', 'Upgrade, HTTP2-Settings, keep-alive', 'Upgrade', 'h2c', 'HTTP2-Settings', 'AAMAAABkAARAAAAAAAIAAAAA', 'X-Mixed-Case', 'Value  with  spaces', 'Content-Length', '5'],
      { method: 'POST', url: '/a%20b?q=1' },
    );
    assert.equal(plainRequestHead(req), 'POST /a%20b?q=1 HTTP/1.1\r\nHost: a.test\r\nConnection: keep-alive\r\nX-Mixed-Case: Value  with  spaces\r\nContent-Length: 5\r\n\r\n');
    // A Connection header with nothing left is dropped.
    assert.equal(plainRequestHead(head(['Host', 'a', 'Connection', 'upgrade', 'Upgrade', 'x'])), 'GET /chat HTTP/1.1\r\nHost: a\r\n\r\n');
  });
});
