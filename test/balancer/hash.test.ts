import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { hashKey32 } from '../../src/balancer/balancer.ts';

describe('hashKey32 is MurmurHash3_x86_32 of the UTF-8 bytes', () => {
  // Published vectors (SMHasher-verified tables widely used by ports), as [input, seed, hash].
  const vectors: readonly (readonly [string, number, number])[] = [
    ['', 0, 0],
    ['', 1, 0x514e28b7],
    ['', 0xffffffff, 0x81f16f39],
    ['\0\0\0\0', 0, 0x2362f9de],
    ['a', 0x9747b28c, 0x7fa09ea6],
    ['aa', 0x9747b28c, 0x5d211726],
    ['aaa', 0x9747b28c, 0x283e0130],
    ['aaaa', 0x9747b28c, 0x5a97808a],
    ['ab', 0x9747b28c, 0x74875592],
    ['abc', 0x9747b28c, 0xc84a62dd],
    ['abcd', 0x9747b28c, 0xf0478627],
    ['abc', 0, 0xb3dd93fa],
    ['hello', 0, 0x248bfa47],
    ['test', 0, 0xba6bd213],
    ['test', 0x9747b28c, 0x704b81dc],
    ['testy123', 0, 0x47628ac4],
    ['testy123', 0xdeadbeef, 0xd633060d],
    ['', 0xdeadbeef, 0x0de5c6a9],
    ['Hello, world!', 0, 0xc0363e43],
    ['Hello, world!', 0x9747b28c, 0x24884cba],
    ['The quick brown fox jumps over the lazy dog', 0, 0x2e4ff723],
    ['The quick brown fox jumps over the lazy dog', 0x9747b28c, 0x2fa826cd],
    // Multi-byte UTF-8: two- and three-byte sequences, across block boundaries.
    ['ππππππππ', 0x9747b28c, 0xd58063c1],
    ['special characters açb↓c', 0, 0xbe83b140],
    ['Rýchla hnedá líška preskočila lenivého psa', 0, 0x678b9be9],
  ];
  for (const [input, seed, expected] of vectors) {
    test(`${JSON.stringify(input)} seed 0x${seed.toString(16)}`, () => {
      assert.equal(hashKey32(input, seed), expected);
    });
  }

  test('seed 0 is the default, and results are unsigned 32-bit', () => {
    assert.equal(hashKey32('hello'), 0x248bfa47);
    assert.ok(hashKey32('Hello, world!') > 2 ** 31);
  });

  test('hashes exactly the bytes Buffer.from encodes, whatever the characters', () => {
    const tricky = ['é', 'ab€', 'abc😀', 'a😀b𝄞c', '中文キー', '\u0080\u07ff\u0800\uffff', 'x\uD800y', 'x\uDC00', '\uD83D', 'k'.repeat(37) + 'ß'];
    for (const key of tricky) {
      for (const seed of [0, 42, 0x9747b28c]) assert.equal(hashKey32(key, seed), murmur3Bytes(Buffer.from(key), seed), JSON.stringify(key));
    }
  });

  test('a lone surrogate hashes like U+FFFD', () => {
    assert.equal(hashKey32('x\uD800y'), hashKey32('x\uFFFDy'));
    assert.notEqual(hashKey32('😀'), hashKey32('\uFFFD\uFFFD'));
  });
});

/** The textbook byte-at-a-time MurmurHash3_x86_32, as an independent reference. */
function murmur3Bytes(bytes: Uint8Array, seed: number): number {
  let h = seed | 0;
  const blocks = bytes.length >> 2;
  const mix = (k: number): number => {
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    return Math.imul(k, 0x1b873593);
  };
  for (let i = 0; i < blocks; i++) {
    h ^= mix(bytes[4 * i]! | (bytes[4 * i + 1]! << 8) | (bytes[4 * i + 2]! << 16) | (bytes[4 * i + 3]! << 24));
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  let tail = 0;
  for (let i = bytes.length - 1; i >= blocks * 4; i--) tail = (tail << 8) | bytes[i]!;
  if ((bytes.length & 3) !== 0) h ^= mix(tail);
  h ^= bytes.length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
