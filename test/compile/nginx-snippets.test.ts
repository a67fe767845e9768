/**
 * ingress-nginx snippets read as a closed subset of nginx directives (src/compile/ingress-nginx/
 * snippets.ts): what each directive of the subset becomes, nginx's quoting, escapes and comments,
 * every refusal with the message a user reads, and hostile input that must never get through.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compilePattern } from '../../src/regex/compile-pattern.ts';
import { lexSnippet, MAX_SNIPPET_LENGTH } from '../../src/compile/ingress-nginx/snippet-lexer.ts';
import { accessLists, parseSnippets, wholePathPattern, type ParsedSnippets } from '../../src/compile/ingress-nginx/snippets.ts';

function parsed(text: string, annotation: 'configuration-snippet' | 'server-snippet' = 'configuration-snippet'): ParsedSnippets {
  const result = parseSnippets([{ annotation, text }]);
  assert.ok(result.ok, result.ok ? '' : result.message);
  return result.value;
}

function refused(text: string): string {
  const result = parseSnippets([{ annotation: 'configuration-snippet', text }]);
  assert.ok(!result.ok, `accepted: ${JSON.stringify(text)}`);
  return result.message;
}

/** The Location a RequestRedirect's ReplaceRegexMatch gives `path`, or null when it does not answer. */
function regexRedirect(pattern: string, substitution: string, path: string): string | null {
  const compiled = compilePattern(pattern);
  assert.ok(compiled.ok);
  const m = compiled.regex.exec(path);
  return m === null ? null : substitution.replace(/\$([1-9])/g, (_, n: string) => m[Number(n)] ?? '');
}

describe('nginx snippets: the directive subset', () => {
  test('proxy_set_header sets an upstream request header, lower-case, value literal; "" removes it', () => {
    const s = parsed('proxy_set_header X-Forwarded-Host shop.example.com;\nproxy_set_header X-Debug "";');
    assert.deepEqual(s.filters, [{ type: 'RequestHeaderModifier', set: [{ name: 'x-forwarded-host', value: 'shop.example.com' }], remove: ['x-debug'] }]);
  });

  test('more_set_input_headers and more_clear_input_headers edit the request', () => {
    const s = parsed('more_set_input_headers "X-Tenant: blue" \'X-Empty:\';\nmore_clear_input_headers X-Internal "X-Other";');
    assert.deepEqual(s.filters, [{ type: 'RequestHeaderModifier', set: [{ name: 'x-tenant', value: 'blue' }], remove: ['x-empty', 'x-internal', 'x-other'] }]);
  });

  test('more_set_headers sets response headers (security headers), the later of a name winning', () => {
    const s = parsed([
      'more_set_headers "X-Frame-Options: DENY";',
      'more_set_headers "X-Content-Type-Options: nosniff" "Referrer-Policy: strict-origin-when-cross-origin";',
      'more_set_headers "X-Frame-Options: SAMEORIGIN";',
    ].join('\n'));
    assert.deepEqual(s.filters, [{ type: 'ResponseHeaderModifier', set: [
      { name: 'x-frame-options', value: 'SAMEORIGIN' },
      { name: 'x-content-type-options', value: 'nosniff' },
      { name: 'referrer-policy', value: 'strict-origin-when-cross-origin' },
    ] }]);
    assert.deepEqual(s.notes, []);
  });

  test('more_clear_headers and proxy_hide_header remove response headers; an empty more_set_headers value too', () => {
    const s = parsed('more_clear_headers Server X-Powered-By;\nproxy_hide_header X-AspNet-Version;\nmore_set_headers "Via:";');
    assert.deepEqual(s.filters, [{ type: 'ResponseHeaderModifier', remove: ['server', 'x-powered-by', 'x-aspnet-version', 'via'] }]);
  });

  test('add_header adds; without always the difference is noted', () => {
    const s = parsed('add_header Cache-Control "no-store" always;\nadd_header X-Served-By edge;');
    assert.deepEqual(s.filters, [{ type: 'ResponseHeaderModifier', add: [{ name: 'cache-control', value: 'no-store' }, { name: 'x-served-by', value: 'edge' }] }]);
    assert.equal(s.notes.length, 1);
    assert.match(s.notes[0]!.message, /^configuration-snippet: line 2: add_header x-served-by applies to every answer, as with "always"/);
  });

  test('return 301 to an absolute URL answers with that URL', () => {
    const s = parsed('return 301 https://new.example.com/landing?from=old;');
    assert.deepEqual(s.filters, [{ type: 'RequestRedirect', scheme: 'https', statusCode: 301, hostname: 'new.example.com', port: 443, path: { type: 'ReplaceFullPath', value: '/landing' }, query: '?from=old' }]);
  });

  test('return … $request_uri keeps the path and query; $host keeps the host', () => {
    assert.deepEqual(parsed('return 301 https://www.example.com$request_uri;').filters, [{ type: 'RequestRedirect', scheme: 'https', statusCode: 301, hostname: 'www.example.com', port: 443 }]);
    assert.deepEqual(parsed('return 308 https://$host$request_uri;').filters, [{ type: 'RequestRedirect', scheme: 'https', statusCode: 308 }]);
    assert.deepEqual(parsed('return 302 http://old.example:8080/v1$request_uri;').filters, [{ type: 'RequestRedirect', scheme: 'http', statusCode: 302, hostname: 'old.example', port: 8080, path: { type: 'ReplaceRegexMatch', pattern: '(.*)', substitution: '/v1$1' } }]);
    assert.deepEqual(parsed('return https://example.org/;').filters, [{ type: 'RequestRedirect', scheme: 'https', statusCode: 302, hostname: 'example.org', port: 443, path: { type: 'ReplaceFullPath', value: '/' }, query: '' }]);
  });

  test('rewrite … redirect|permanent redirects only the paths its pattern finds', () => {
    const s = parsed('rewrite ^/old/(.*)$ /new/$1 permanent;\nrewrite /blog/ /articles/ redirect;');
    assert.deepEqual(s.filters, [
      { type: 'RequestRedirect', statusCode: 301, path: { type: 'ReplaceRegexMatch', pattern: '^/old/(.*)$', substitution: '/new/$1' } },
      { type: 'RequestRedirect', statusCode: 302, path: { type: 'ReplaceRegexMatch', pattern: '[\\s\\S]*?(?:/blog/)[\\s\\S]*', substitution: '/articles/' } },
    ]);
    assert.equal(regexRedirect('^/old/(.*)$', '/new/$1', '/old/a/b'), '/new/a/b');
    assert.equal(regexRedirect('^/old/(.*)$', '/new/$1', '/x/old/a'), null);
    // Unanchored, as nginx searches: found anywhere, and the whole path is replaced.
    assert.equal(regexRedirect(wholePathPattern('/blog/'), '/articles/', '/en/blog/post'), '/articles/');
    assert.equal(regexRedirect(wholePathPattern('/blog/'), '/articles/', '/en/news'), null);
  });

  test('rewrite to an absolute URL redirects there, the path from the pattern; a final ? drops the query', () => {
    const s = parsed('rewrite ^/(.*)$ https://docs.example.com/$1? permanent;');
    assert.deepEqual(s.filters, [{ type: 'RequestRedirect', statusCode: 301, scheme: 'https', hostname: 'docs.example.com', port: 443, path: { type: 'ReplaceRegexMatch', pattern: '^/(.*)$', substitution: '/$1' }, query: '' }]);
  });

  test('rewrite … break rewrites the upstream path; last is applied as break, with a note', () => {
    assert.deepEqual(parsed('rewrite ^/api/v1/(.*) /v1/$1 break;').filters, [{ type: 'URLRewrite', path: { type: 'ReplaceRegexMatch', pattern: '(?:^/api/v1/(.*))[\\s\\S]*', substitution: '/v1/$1' } }]);
    const last = parsed('rewrite (?i)^/Shop(/.*)$ /store$1 last;');
    assert.deepEqual(last.filters, [{ type: 'URLRewrite', path: { type: 'ReplaceRegexMatch', pattern: '(?i)^/Shop(/.*)$', substitution: '/store$1' } }]);
    assert.match(last.notes[0]!.message, /rewrite last: the request keeps the route it matched/);
  });

  test('nginx rewrite patterns are translated faithfully (leftmost match, alternation, flags)', () => {
    const cases: [string, string, string, string | null][] = [
      ['/old/(.*)', '/n/$1', '/x/old/y', '/n/y'],
      ['^/a|/b', '/z', '/x/b', '/z'],
      ['^/a|/b', '/z', '/xa', null],
      ['(?i)/DOCS/(.+)', '/d/$1', '/en/docs/intro', '/d/intro'],
      ['\\.php$', '/index', '/x/y.php', '/index'],
      ['\\.php\\$', '/index', '/x.php', null],
      ['(a)(b)?', '/$1-$2', '/zab', '/a-b'],
    ];
    for (const [regex, replacement, path, expected] of cases) assert.equal(regexRedirect(wholePathPattern(regex), replacement, path), expected, `${regex} on ${path}`);
  });

  test('allow and deny become the ordered rules; accessLists reads them as a deny list then an allow list', () => {
    const allowList = parsed('allow 10.0.0.0/8;\nallow 192.168.1.7;\ndeny all;');
    assert.deepEqual(allowList.access, [
      { rule: 'allow', cidr: '10.0.0.0/8' }, { rule: 'allow', cidr: '192.168.1.7' },
      { rule: 'deny', cidr: '0.0.0.0/0' }, { rule: 'deny', cidr: '::/0' },
    ]);
    assert.deepEqual(allowList.filters, []);
    assert.deepEqual(accessLists(allowList.access), { allow: ['10.0.0.0/8', '192.168.1.7'], deny: [] });
    assert.deepEqual(accessLists(parsed('deny 1.2.3.4;\ndeny 2001:db8::/32;\nallow all;').access), { allow: [], deny: ['1.2.3.4', '2001:db8::/32'] });
    assert.deepEqual(accessLists(parsed('deny 10.1.0.0/16; allow 10.0.0.0/8; deny all;').access), { allow: ['10.0.0.0/8'], deny: ['10.1.0.0/16'] });
    assert.deepEqual(accessLists(parsed('deny all;').access), { allow: [], deny: ['0.0.0.0/0', '::/0'] });
    assert.deepEqual(accessLists(parsed('allow 10.0.0.0/8;').access), { allow: [], deny: [] });
  });

  test('allow/deny of the configuration snippet replace the server snippet\'s, as nginx inherits them', () => {
    const both = parseSnippets([
      { annotation: 'server-snippet', text: 'allow 10.0.0.0/8;\ndeny all;' },
      { annotation: 'configuration-snippet', text: 'deny 192.0.2.1;' },
    ]);
    assert.ok(both.ok);
    assert.deepEqual([both.value.accessFrom, both.value.access], ['configuration-snippet', [{ rule: 'deny', cidr: '192.0.2.1' }]]);
    const server = parseSnippets([{ annotation: 'server-snippet', text: 'allow 10.0.0.0/8;\ndeny all;' }, { annotation: 'configuration-snippet', text: 'add_header X-A b always;' }]);
    assert.ok(server.ok);
    assert.equal(server.value.accessFrom, 'server-snippet');
    assert.deepEqual(accessLists(server.value.access), { allow: ['10.0.0.0/8'], deny: [] });
  });

  test('server and configuration snippets together: the server one first, the later edit of a header winning', () => {
    const result = parseSnippets([
      { annotation: 'server-snippet', text: 'return 301 https://$host$request_uri;\nmore_set_headers "X-Frame-Options: DENY";' },
      { annotation: 'configuration-snippet', text: 'rewrite ^/old$ /new redirect;\nmore_set_headers "X-Frame-Options: SAMEORIGIN";' },
    ]);
    assert.ok(result.ok);
    assert.deepEqual(result.value.filters.map((f) => f.type), ['RequestRedirect', 'RequestRedirect', 'ResponseHeaderModifier']);
    assert.equal((result.value.filters[0] as { statusCode: number }).statusCode, 301);
    assert.deepEqual(result.value.filters[2], { type: 'ResponseHeaderModifier', set: [{ name: 'x-frame-options', value: 'SAMEORIGIN' }] });
  });
});

describe('nginx snippets: the syntax, as nginx reads it', () => {
  test('comments, blank lines, CRLF line ends and several directives on a line', () => {
    const s = parsed('# security headers\r\n\r\nmore_set_headers "X-A: 1"; more_set_headers "X-B: 2"; # trailing\r\n  add_header X-C 3 always;');
    assert.deepEqual(s.filters, [{ type: 'ResponseHeaderModifier', set: [{ name: 'x-a', value: '1' }, { name: 'x-b', value: '2' }], add: [{ name: 'x-c', value: '3' }] }]);
  });

  test('quotes: ; { } # and blanks inside them are plain characters; escapes are nginx\'s', () => {
    const s = parsed('more_set_headers "X-A: a;b {c} #d" \'X-B: it\\\'s\' "X-C: say \\"hi\\"" "X-D: back\\\\slash" "X-E: \\d stays";');
    assert.deepEqual(s.filters, [{ type: 'ResponseHeaderModifier', set: [
      { name: 'x-a', value: 'a;b {c} #d' }, { name: 'x-b', value: "it's" }, { name: 'x-c', value: 'say "hi"' },
      { name: 'x-d', value: 'back\\slash' }, { name: 'x-e', value: '\\d stays' },
    ] }]);
  });

  test('quotes and } inside a word are plain characters, as nginx reads them', () => {
    assert.deepEqual(parsed('add_header X-Q it"s} always;').filters, [{ type: 'ResponseHeaderModifier', add: [{ name: 'x-q', value: 'it"s}' }] }]);
  });

  test('# inside a word is not a comment; an escaped ; does not end the directive', () => {
    assert.deepEqual(parsed('add_header X-Anchor a#b always;').filters, [{ type: 'ResponseHeaderModifier', add: [{ name: 'x-anchor', value: 'a#b' }] }]);
    assert.deepEqual(parsed('add_header X-Semi a\\;b always;').filters, [{ type: 'ResponseHeaderModifier', add: [{ name: 'x-semi', value: 'a\\;b' }] }]);
  });

  test('the lexer names lines', () => {
    const lexed = lexSnippet('\n\nproxy_set_header\n  X-A\n  b;\nadd_header X-B c;');
    assert.ok(lexed.ok);
    assert.deepEqual(lexed.directives.map((d) => [d.name, d.line, d.args.map((a) => a.text)]), [['proxy_set_header', 3, ['X-A', 'b']], ['add_header', 6, ['X-B', 'c']]]);
  });

  test('an empty snippet or one of comments only asks for nothing', () => {
    assert.deepEqual(parsed(''), { filters: [], access: [], accessFrom: null, notes: [], rewriteStops: null });
    assert.deepEqual(parsed('# nothing here\n   \n'), { filters: [], access: [], accessFrom: null, notes: [], rewriteStops: null });
  });
});

describe('nginx snippets: refusals', () => {
  const cases: [string, string, RegExp][] = [
    ['a directive outside the subset', 'more_set_headers "X-A: b";\nproxy_pass http://evil.example;', /^configuration-snippet: line 2: the directive "proxy_pass" is not one signalbox applies \(only proxy_set_header, /],
    ['lua', 'access_by_lua_block {\n  ngx.exit(403)\n}', /^configuration-snippet: line 1: "access_by_lua_block" opens a block; no block directive is applied/],
    ['if', 'if ($http_user_agent ~* bot) {\n return 403;\n}', /line 1: "if" opens a block/],
    ['location', 'more_set_headers "X: y";\nlocation /admin { deny all; }', /line 2: "location" opens a block/],
    ['set', 'set $x 1;', /line 1: the directive "set" is not one signalbox applies/],
    ['include', 'include /etc/passwd;', /the directive "include" is not one/],
    ['root', 'root /var/www;', /the directive "root"/],
    ['a variable in a header value', 'proxy_set_header X-Forwarded-Host $host;', /line 1: the value "\$host" uses an nginx variable, which signalbox does not expand/],
    ['a variable in more_set_headers', 'more_set_headers "X-Upstream: $upstream_addr";', /uses an nginx variable/],
    ['a variable in a braced form', 'add_header X-A "${request_id}" always;', /uses an nginx variable/],
    ['a braced variable unquoted is a word, not a block', 'add_header X-Request-Id ${request_id} always;', /line 1: the value "\$\{request_id\}" uses an nginx variable/],
    ['a return URL with credentials', 'return 301 https://user:pw@example.com/;', /holds credentials/],
    ['the Host header', 'proxy_set_header Host internal.example;', /use the upstream-vhost annotation/],
    ['a framing header', 'more_set_input_headers "Content-Length: 0";', /the header content-length frames the message/],
    ['a response framing header', 'more_set_headers "Transfer-Encoding: chunked";', /transfer-encoding frames the message/],
    ['headers-more -s', 'more_set_headers -s 404 "X-A: b";', /the option -s \(status or content-type conditions\) cannot be applied/],
    ['headers-more -s, quoted', 'more_set_headers "-s" "404" "X-A: b";', /the option -s/],
    ['headers-more -t', 'more_clear_headers -t text/html X-A;', /the option -t/],
    ['a wildcard clear', 'more_clear_headers "X-Hidden-*";', /the wildcard in "X-Hidden-\*" cannot be applied/],
    ['not Name: value', 'more_set_headers "X-A";', /"X-A" is not "Name: value"/],
    ['a bad header name', 'add_header "X A" b always;', /"X A" is not a header name/],
    ['add_header with a bad flag', 'add_header X-A b sometimes;', /"sometimes" is not "always"/],
    ['add_header twice', 'add_header X-A b always; add_header X-A c always;', /the header is already set, added or removed by the snippets/],
    ['return 403', 'return 403;', /line 1: return 403: only redirects \(301, 302, 303, 307, 308\) can be applied; signalbox has no filter that answers with a status or a body/],
    ['return 200 text', 'return 200 "ok";', /return 200: only redirects/],
    ['return a relative URL', 'return 301 /elsewhere;', /is not an absolute http or https URL/],
    ['return with another variable', 'return 301 https://example.com$uri;', /uses an nginx variable other than \$host/],
    ['return with $host and a port', 'return 301 https://$host:8443$request_uri;', /is not an absolute http or https URL/],
    ['return with $hostname', 'return 301 https://$hostname$request_uri;', /uses an nginx variable other than \$host/],
    ['return with $request_uri in the middle', 'return 301 https://example.com$request_uri/x;', /uses an nginx variable other than \$host/],
    ['return with $scheme', 'return 301 $scheme://example.com$request_uri;', /uses an nginx variable other than \$host/],
    ['a return URL beyond ASCII', 'return 301 https://example.com/caf\u00e9;', /outside visible ASCII; percent-encode them/],
    ['a rewrite replacement beyond ASCII', 'rewrite ^/a$ /caf\u00e9 break;', /outside visible ASCII; percent-encode them/],
    ['rewrite with a variable', 'rewrite ^/(.*)$ /$host/$1 break;', /only \$1\.\.\$9 \(the pattern's groups\) are supported/],
    ['rewrite with a query', 'rewrite ^/a$ /b?x=1 break;', /sets a query, which signalbox cannot/],
    ['rewrite with a bad flag', 'rewrite ^/a$ /b forever;', /"forever" is not last, break, redirect or permanent/],
    ['rewrite with a backreference', 'rewrite ^/(a)\\1$ /b break;', /the pattern "\^\/\(a\)\\\\1\$" cannot be used: /],
    ['a second rewrite after break', 'rewrite ^/a$ /b break;\nrewrite ^/c$ /d break;', /line 2: rewrite after the "configuration-snippet: line 1" rewrite/],
    ['a redirect after a rewrite', 'rewrite ^/a$ /b;\nreturn 301 https://example.com/;', /line 2: a redirect after the rewrite at "configuration-snippet: line 1" cannot be applied in that order/],
    ['a rewrite redirect after a rewrite', 'rewrite ^/a$ /b;\nrewrite ^/b$ /c redirect;', /line 2: a redirect after the rewrite at/],
    ['allow with a bad address', 'allow 10.0.0.300;', /"10.0.0.300" is not an IP address, a CIDR or "all"/],
    ['allow with a list', 'allow 10.0.0.0/8,192.168.0.0/16;', /is not an IP address, a CIDR or "all"/],
    ['deny after allow', 'allow 10.0.0.0/8;\ndeny 10.1.0.0/16;', /^configuration-snippet: allow\/deny: "deny 10.1.0.0\/16" after an allow cannot be applied/],
    ['rules after all', 'deny all;\nallow 10.0.0.0/8;', /rules after "deny all" are never reached/],
    ['too few arguments', 'proxy_set_header X-A;', /proxy_set_header takes 2 arguments \(1 given\)/],
  ];
  for (const [what, text, message] of cases) {
    test(what, () => assert.match(refused(text), message));
  }

  test('server-snippet refusals name it', () => {
    const result = parseSnippets([{ annotation: 'configuration-snippet', text: 'add_header X-A b always;' }, { annotation: 'server-snippet', text: '\n\nlisten 8080;' }]);
    assert.ok(!result.ok);
    assert.match(result.message, /^server-snippet: line 3: the directive "listen"/);
  });
});

describe('nginx snippets: hostile input', () => {
  test('an unterminated quote', () => {
    assert.match(refused('more_set_headers "X-A: b;\n'), /^configuration-snippet: line 1: a " quote that is never closed/);
    assert.match(refused("add_header X-A 'b always;"), /a ' quote that is never closed/);
  });

  test('a directive without its ;', () => assert.match(refused('more_set_headers "X-A: b"\n'), /line 1: "more_set_headers" is not ended by ";"/));
  test('a } alone', () => assert.match(refused('more_set_headers "X-A: b";\n}\nproxy_pass http://x;'), /line 2: a "}" that closes no block/));
  test('a { alone', () => assert.match(refused('{ deny all; }'), /a block "\{" without a directive/));
  test('a ; alone', () => assert.match(refused(';'), /a ";" without a directive/));
  test('a quoted word glued to the next', () => assert.match(refused('add_header "X-A"b c;'), /unexpected "b" right after a quoted word/));

  test('; inside quotes cannot end a directive and smuggle another', () => {
    const s = parsed('more_set_headers "X-A: b; proxy_pass http://evil";');
    assert.deepEqual(s.filters, [{ type: 'ResponseHeaderModifier', set: [{ name: 'x-a', value: 'b; proxy_pass http://evil' }] }]);
  });

  test('a 1 MB snippet is refused unread', () => {
    const huge = 'more_set_headers "X-A: b";\n'.repeat(40_000);
    assert.ok(huge.length > 1_000_000);
    assert.match(refused(huge), new RegExp(`the snippet is ${huge.length} characters long; at most ${MAX_SNIPPET_LENGTH} are read`));
  });

  test('CR, LF and NUL in header values are refused, escaped or raw', () => {
    for (const text of [
      'more_set_headers "X-A: b\\r\\nSet-Cookie: stolen=1";',
      'add_header X-A "b\\nc" always;',
      'proxy_set_header X-A "b\r\nX-Evil: 1";',
      'more_set_input_headers "X-A: b\u0000c";',
      'add_header X-A "b\u0007" always;',
    ]) {
      assert.match(refused(text), /holds control characters \(CR, LF, NUL…\), which no header value may hold/, JSON.stringify(text));
    }
  });

  test('header values beyond visible ASCII are refused', () => {
    assert.match(refused('more_set_headers "X-A: caf\u00e9";'), /holds characters outside visible ASCII/);
    assert.match(refused('add_header X-A "\u{1f600}" always;'), /holds characters outside visible ASCII/);
  });

  test('messages show control characters escaped, never raw', () => {
    const message = refused('bad\u001b[31mname;');
    assert.ok(!/[\u0000-\u001f]/u.test(message), message);
    assert.match(message, /\\u001b/);
  });

  test('a thousand nested braces and quotes do not throw', () => {
    for (const text of ['{'.repeat(1000), '}'.repeat(1000), '"'.repeat(1001), '\\'.repeat(5000), "'\\'".repeat(1000), '#'.repeat(10000)]) {
      const result = parseSnippets([{ annotation: 'configuration-snippet', text }]);
      assert.equal(typeof result.ok, 'boolean');
    }
  });
});
