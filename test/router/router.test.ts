import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buildRouter } from '../../src/router/router.ts';
import { exactRoute, nameOf, prefixRoute, table, vhost } from './builders.ts';

/** Runs `cases` of [host, path, expected cluster or null] against a router. */
function expectMatches(router: ReturnType<typeof buildRouter>, cases: readonly (readonly [string, string, string | null])[]): void {
  for (const [host, path, expected] of cases) {
    assert.equal(nameOf(router.match(host, path)), expected, `${host} ${path}`);
  }
}

describe('host selection', () => {
  const router = buildRouter(
    table(
      [
        vhost('shop.example.com', prefixRoute('/', 'shop')),
        vhost('*.example.com', prefixRoute('/', 'wildcard')),
        vhost('*.b.example.com', prefixRoute('/', 'deep wildcard')),
        vhost('*', prefixRoute('/', 'any')),
      ],
      prefixRoute('/', 'default'),
    ),
  );

  test('exact host, any case, with or without port or trailing dot', () => {
    expectMatches(router, [
      ['shop.example.com', '/', 'shop'],
      ['SHOP.Example.Com', '/', 'shop'],
      ['shop.example.com:8443', '/', 'shop'],
      ['Shop.Example.com:80', '/', 'shop'],
      ['shop.example.com.', '/', 'shop'],
      ['shop.example.com.:443', '/', 'shop'],
    ]);
  });

  test('a wildcard matches exactly one label', () => {
    expectMatches(router, [
      ['a.example.com', '/', 'wildcard'],
      ['A.EXAMPLE.COM:1234', '/', 'wildcard'],
      ['a.b.example.com', '/', 'deep wildcard'],
      ['a.c.example.com', '/', 'any'],
      ['example.com', '/', 'any'],
      ['.example.com', '/', 'any'],
    ]);
  });

  test('a suffix host (the Gateway API wildcard) takes one or more labels, the longest suffix first, after exact hosts and one-label wildcards', () => {
    const suffix = (host: string, name: string) => ({ ...vhost(host, prefixRoute('/', name)), match: 'suffix' as const });
    const gateway = buildRouter(table([vhost('very.specific.com', prefixRoute('/', 'exact')), vhost('*.one.io', prefixRoute('/', 'one label')), suffix('*.wildcard.io', 'suffix'), suffix('*.bar.wildcard.io', 'longer suffix'), suffix('*.one.io', 'suffix of one.io')]));
    expectMatches(gateway, [
      ['very.specific.com', '/', 'exact'],
      ['foo.wildcard.io', '/', 'suffix'],
      ['foo.baz.wildcard.io:8080', '/', 'suffix'],
      ['FOO.BAZ.WILDCARD.IO', '/', 'suffix'],
      ['foo.bar.wildcard.io', '/', 'longer suffix'],
      ['a.b.bar.wildcard.io', '/', 'longer suffix'],
      ['wildcard.io', '/', null],
      ['.wildcard.io', '/', null],
      ['a.one.io', '/', 'one label'],
      ['a.b.one.io', '/', 'suffix of one.io'],
    ]);
  });

  test('virtual hosts of one name on several listeners of one socket (Gateways sharing a port) are tried one after the other', () => {
    const onListener = (host: string, listener: string, ...routes: ReturnType<typeof prefixRoute>[]) => ({ ...vhost(host, ...routes), listeners: [listener] });
    const t = {
      ...table([onListener('*', 'gateway/a/one/http', prefixRoute('/one', 'first gateway')), onListener('*', 'gateway/a/two/http', prefixRoute('/two', 'second gateway'), prefixRoute('/one/deeper', 'shadowed'))]),
      listeners: ['gateway/a/one/http', 'gateway/a/two/http'].map((name) => ({ name, protocol: 'HTTP' as const, port: 80, hostname: null, tls: null, defaultRoute: false, provenance: `Gateway/a/${name.split('/')[2]}/listener/0` })),
    };
    expectMatches(buildRouter(t, ['gateway/a/one/http', 'gateway/a/two/http']), [
      ['any.test', '/one/x', 'first gateway'],
      ['any.test', '/two/x', 'second gateway'],
      ['any.test', '/one/deeper', 'first gateway'],
      ['any.test', '/three', null],
    ]);
    expectMatches(buildRouter(t, ['gateway/a/two/http']), [['any.test', '/one/x', null], ['any.test', '/one/deeper', 'shadowed']]);
  });

  test('IP literals, empty and unknown hosts go to the catch-all host', () => {
    expectMatches(router, [
      ['[::1]:8080', '/', 'any'],
      ['[2001:db8::1]', '/', 'any'],
      ['10.0.0.1:80', '/', 'any'],
      ['', '/', 'any'],
      ['other.test', '/', 'any'],
    ]);
  });

  test('without a catch-all host, unknown hosts get the default route, or null', () => {
    expectMatches(buildRouter(table([vhost('a.test', prefixRoute('/'))], prefixRoute('/', 'default'))), [['b.test', '/', 'default']]);
    expectMatches(buildRouter(table([vhost('a.test', prefixRoute('/'))])), [['b.test', '/', null]]);
  });
});

describe('no fall-through to a less specific host', () => {
  const router = buildRouter(
    table(
      [
        vhost('shop.example.com', prefixRoute('/cart')),
        vhost('*.example.com', prefixRoute('/assets')),
        vhost('*', prefixRoute('/', 'any')),
      ],
      exactRoute('/', 'default'),
    ),
  );

  test('the chosen host answers, or the default route does', () => {
    expectMatches(router, [
      ['shop.example.com', '/cart/1', 'Prefix /cart'],
      ['shop.example.com', '/assets/x.css', 'default'],
      ['shop.example.com', '/', 'default'],
      ['www.example.com', '/assets/x.css', 'Prefix /assets'],
      ['www.example.com', '/cart', 'default'],
      ['other.test', '/cart', 'any'],
    ]);
  });

  test('without a default route, a miss in the chosen host is null', () => {
    const noDefault = buildRouter(table([vhost('a.test', exactRoute('/x')), vhost('*', prefixRoute('/'))]));
    expectMatches(noDefault, [
      ['a.test', '/y', null],
      ['b.test', '/y', 'Prefix /'],
    ]);
  });
});

// The examples table of https://kubernetes.io/docs/concepts/services-networking/ingress/#examples,
// with the routes of each in the precedence order the Ingress front end sorts them into (longest
// path first, Exact before Prefix): the router takes the first route that matches.
describe('path matching: the Kubernetes documentation examples', () => {
  const examples: readonly { routes: ReturnType<typeof prefixRoute>[]; path: string; expected: string | null }[] = [
    { routes: [prefixRoute('/')], path: '/', expected: 'Prefix /' },
    { routes: [prefixRoute('/')], path: '/anything/at/all', expected: 'Prefix /' },
    { routes: [exactRoute('/foo')], path: '/foo', expected: 'Exact /foo' },
    { routes: [exactRoute('/foo')], path: '/bar', expected: null },
    { routes: [exactRoute('/foo')], path: '/foo/', expected: null },
    { routes: [exactRoute('/foo/')], path: '/foo', expected: null },
    { routes: [prefixRoute('/foo')], path: '/foo', expected: 'Prefix /foo' },
    { routes: [prefixRoute('/foo')], path: '/foo/', expected: 'Prefix /foo' },
    { routes: [prefixRoute('/foo/')], path: '/foo', expected: 'Prefix /foo/' },
    { routes: [prefixRoute('/foo/')], path: '/foo/', expected: 'Prefix /foo/' },
    { routes: [prefixRoute('/aaa/bb')], path: '/aaa/bbb', expected: null },
    { routes: [prefixRoute('/aaa/bbb')], path: '/aaa/bbb', expected: 'Prefix /aaa/bbb' },
    { routes: [prefixRoute('/aaa/bbb/')], path: '/aaa/bbb', expected: 'Prefix /aaa/bbb/' },
    { routes: [prefixRoute('/aaa/bbb')], path: '/aaa/bbb/', expected: 'Prefix /aaa/bbb' },
    { routes: [prefixRoute('/aaa/bbb')], path: '/aaa/bbb/ccc', expected: 'Prefix /aaa/bbb' },
    { routes: [prefixRoute('/aaa/bbb')], path: '/aaa/bbbxyz', expected: null },
    { routes: [prefixRoute('/aaa'), prefixRoute('/')], path: '/aaa/ccc', expected: 'Prefix /aaa' },
    { routes: [prefixRoute('/aaa/bbb'), prefixRoute('/aaa')], path: '/aaa/bbb', expected: 'Prefix /aaa/bbb' },
    { routes: [prefixRoute('/aaa/bbb'), prefixRoute('/aaa')], path: '/aaa/bbb/ccc', expected: 'Prefix /aaa/bbb' },
    { routes: [prefixRoute('/aaa'), prefixRoute('/')], path: '/ccc', expected: 'Prefix /' },
    { routes: [prefixRoute('/aaa')], path: '/ccc', expected: null },
    { routes: [exactRoute('/foo'), prefixRoute('/foo')], path: '/foo', expected: 'Exact /foo' },
    { routes: [exactRoute('/foo'), prefixRoute('/foo')], path: '/foo/', expected: 'Prefix /foo' },
  ];
  for (const { routes, path, expected } of examples) {
    test(`${routes.map((r) => `${r.match.path.type} ${r.match.path.value}`).join(' + ')}: ${path} → ${expected ?? 'no match'}`, () => {
      assert.equal(nameOf(buildRouter(table([vhost('a.test', ...routes)])).match('a.test', path)), expected);
    });
  }
});

describe('path matching', () => {
  test('the longest prefix wins among many in precedence order', () => {
    const routes = [prefixRoute('/a/b/c/d'), prefixRoute('/a/b/c'), prefixRoute('/a/b'), prefixRoute('/a'), prefixRoute('/')];
    const router = buildRouter(table([vhost('a.test', ...routes)]));
    expectMatches(router, [
      ['a.test', '/a/b/c/d/e', 'Prefix /a/b/c/d'],
      ['a.test', '/a/b/c/dd', 'Prefix /a/b/c'],
      ['a.test', '/a/b/x', 'Prefix /a/b'],
      ['a.test', '/ab', 'Prefix /'],
      ['a.test', '/a/', 'Prefix /a'],
    ]);
  });

  test('paths are case-sensitive', () => {
    const router = buildRouter(table([vhost('a.test', prefixRoute('/Foo'), exactRoute('/bar'))]));
    expectMatches(router, [
      ['a.test', '/Foo/x', 'Prefix /Foo'],
      ['a.test', '/foo/x', null],
      ['a.test', '/BAR', null],
    ]);
  });

  test('for the same path and type the first route in the table wins', () => {
    const router = buildRouter(table([vhost('a.test', prefixRoute('/x', 'first'), prefixRoute('/x/', 'second'), exactRoute('/y', 'one'), exactRoute('/y', 'two'))]));
    expectMatches(router, [
      ['a.test', '/x/1', 'first'],
      ['a.test', '/y', 'one'],
    ]);
  });

  test('route paths are normalised like request paths', () => {
    const router = buildRouter(table([vhost('a.test', prefixRoute('/%7Euser'), exactRoute('/caf%c3%a9'))]));
    expectMatches(router, [
      ['a.test', '/~user/x', 'Prefix /%7Euser'],
      ['a.test', '/caf%C3%A9', 'Exact /caf%c3%a9'],
    ]);
  });

  test('many routes on one host: every one is found', () => {
    const routes = Array.from({ length: 2000 }, (_, i) => prefixRoute(`/svc${i}/api`));
    const router = buildRouter(table([vhost('a.test', ...routes, prefixRoute('/'))]));
    for (let i = 0; i < 2000; i += 37) {
      assert.equal(nameOf(router.match('a.test', `/svc${i}/api/v1/items`)), `Prefix /svc${i}/api`);
      assert.equal(nameOf(router.match('a.test', `/svc${i}/apix`)), 'Prefix /');
    }
  });

  test('the Route returned is the table object itself', () => {
    const route = prefixRoute('/');
    assert.equal(buildRouter(table([vhost('a.test', route)])).match('a.test', '/x'), route);
  });
});
