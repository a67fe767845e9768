import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { encodeRequest } from '../../src/script/request-encoding.ts';
import { decisionOf, handler, request, testEngine } from './builders.ts';

const { engine, runOnce } = testEngine();
after(() => engine.dispose());

/** Runs `expression` against `req` and gives its value (JSON-encoded in the script). */
async function see(expression: string, req = request()): Promise<unknown> {
  const outcome = await runOnce(handler(`return { setHeaders: { v: JSON.stringify(${expression}) ?? 'undefined' } };`, { id: 'shop/view' }), req);
  const value = (decisionOf(outcome) as { setHeaders: { v: string } }).setHeaders.v;
  return value === 'undefined' ? undefined : JSON.parse(value);
}

describe('the request a script sees', () => {
  test('is the request, field for field', async () => {
    const req = request({ sni: 'shop.example', headers: { 'x-shop-id': '1', accept: 'a:b, c' }, query: { q: 'x y', list: ['1', '2'] }, cookies: { a: '1', b: '=2' } });
    assert.deepEqual(await see('req', req), req);
    assert.deepEqual(await see('req.sni', request({ sni: null })), null);
  });

  test('headers: one read, a missing one, a value with colons, prototype members', async () => {
    const req = request({ headers: { accept: 'text/html: yes', 'x-a': '', 'x-shop-id': '7' } });
    assert.deepEqual(await see("[req.headers['x-shop-id'], req.headers.accept, req.headers['x-a'], req.headers['x-missing'] ?? null, typeof req.headers.hasOwnProperty, req.headers['x-shop']  ?? null]", req), [
      '7',
      'text/html: yes',
      '',
      null,
      'function',
      null,
    ]);
  });

  test('headers behave as a frozen plain object: keys, in, entries, spread, hasOwn', async () => {
    const req = request({ headers: { a: '1', b: '2' } });
    assert.deepEqual(await see("[Object.keys(req.headers), 'a' in req.headers, 'z' in req.headers, Object.entries(req.headers), { ...req.headers }, Object.hasOwn(req.headers, 'b'), Object.isFrozen(req.headers), Object.getPrototypeOf(req.headers) === Object.prototype]", req), [
      ['a', 'b'],
      true,
      false,
      [['a', '1'], ['b', '2']],
      { a: '1', b: '2' },
      true,
      true,
      true,
    ]);
  });

  test('nothing in it can be changed', async () => {
    const attempts = [
      "req.method = 'POST'",
      "req.headers['x-shop-id'] = '2'",
      "req.headers.fresh = '1'",
      "delete req.headers['x-shop-id']",
      "Object.defineProperty(req.headers, 'x', { value: '1' })",
      "Object.setPrototypeOf(req.headers, null)",
      "req.query.page = '3'",
      "req.query.tag.push('c')",
      "req.cookies.session = 'stolen'",
    ];
    const results = await see(`[${attempts.map((attempt) => `(() => { try { ${attempt}; return 'changed'; } catch (e) { return e.constructor.name; } })()`).join(', ')}]`);
    assert.deepEqual(results, attempts.map(() => 'TypeError'));
    assert.deepEqual(await see("[req.headers['x-shop-id'], req.query.page, req.query.tag, req.cookies.session]"), ['1', '2', ['a', 'b'], 's1']);
  });

  test('a header that would break the encoding is left out, never forged', async () => {
    const req = request({ headers: { 'x-a': 'v\nx-admin:1', 'bad:name': 'x', 'x-ok': 'fine' } });
    assert.deepEqual(await see("[req.headers['x-admin'] ?? null, req.headers['x-a'] ?? null, Object.keys(req.headers)]", req), [null, null, ['x-ok']]);
    assert.ok(!encodeRequest(req).includes('x-admin'));
  });

  test('a separator inside a field cannot shift the others', async () => {
    const req = request({ method: 'GET\u0001evil', path: '/a\u0001b' });
    assert.deepEqual(await see("[req.method === 'GET\\ufffdevil', req.path === '/a\\ufffdb', req.clientIp]", req), [true, true, '10.1.2.3']);
  });
});
