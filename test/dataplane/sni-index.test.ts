/** Which passthrough route an SNI name takes: exact first, then the longest wildcard suffix. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SniIndex, type PreparedStreamRoute } from '../../src/dataplane/streams/prepared-streams.ts';

const route = (name: string): PreparedStreamRoute => ({ listener: name }) as unknown as PreparedStreamRoute;

test('an SNI name takes its exact route, else the longest wildcard suffix that covers it (one or more labels), else none', () => {
  const index = new SniIndex();
  const [exact, com, example, deep] = [route('exact'), route('*.com'), route('*.example.com'), route('*.b.example.com')];
  index.add('abc.example.com', exact);
  index.add('*.com', com);
  index.add('*.example.com', example);
  index.add('*.b.example.com', deep);
  const name = (sni: string): string | null => (index.find(sni) as { listener: string } | null)?.listener ?? null;
  assert.equal(name('abc.example.com'), 'exact');
  assert.equal(name('other.example.com'), '*.example.com');
  assert.equal(name('a.b.example.com'), '*.b.example.com');
  assert.equal(name('x.y.b.example.com'), '*.b.example.com');
  assert.equal(name('other.com'), '*.com');
  assert.equal(name('deep.other.com'), '*.com');
  assert.equal(name('com'), null);
  assert.equal(name('example.org'), null);
});

test('without wildcards only exact names match', () => {
  const index = new SniIndex();
  index.add('a.example.com', route('a'));
  assert.equal(index.find('b.example.com'), null);
  assert.notEqual(index.find('a.example.com'), null);
});
