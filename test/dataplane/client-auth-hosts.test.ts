/**
 * Which SNI names ask for a client certificate (client-auth-hosts.ts) — the host the router would
 * take for that name decides, so a name with an exact host that checks nothing is never asked
 * because a wildcard checks — and the subject DN as nginx writes it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ClientCertificateAuth, RoutingTable, VirtualHost } from '../../src/model/table.ts';
import { ClientAuthHosts, sameCheck } from '../../src/dataplane/server/tls/client-auth-hosts.ts';
import { rfc2253 } from '../../src/dataplane/server/tls/client-auth-handshakes.ts';

const auth = (caPem: string): ClientCertificateAuth => ({ secret: 'ns/ca', caPem, crlPem: null, verify: 'on', depth: 1, errorPage: null, passCertificate: false, matchCN: null, provenance: 'Ingress/ns/a/annotations/x' });

function vhost(host: string, match: VirtualHost['match'], clientAuth?: ClientCertificateAuth, listeners = ['https']): VirtualHost {
  return { host, match, routes: [], listeners, provenance: [], ...(clientAuth === undefined ? {} : { clientAuth }) };
}

function table(...virtualHosts: VirtualHost[]): RoutingTable {
  return { listeners: [], virtualHosts, streamRoutes: [], defaultRoute: null, clusters: {}, certificates: [], scripts: {} };
}

describe('ClientAuthHosts', () => {
  const hosts = new ClientAuthHosts(table(
    vhost('open.example.com', 'exact'),
    vhost('secure.example.com', 'exact', auth('A')),
    vhost('*.example.com', 'wildcard', auth('B')),
    vhost('plain.example.org', 'exact', auth('C'), ['http']),
  ), new Set(['https']));

  it('an exact host decides for its name, whatever a wildcard asks', () => {
    assert.equal(hosts.lookup('open.example.com'), null);
    assert.equal(hosts.lookup('SECURE.example.com')?.auth.caPem, 'A');
  });

  it('a one-label wildcard covers the other names under it, not deeper ones', () => {
    assert.equal(hosts.lookup('x.example.com')?.key, 'wildcard *.example.com');
    assert.equal(hosts.lookup('a.b.example.com'), null);
  });

  it('only the hosts of the socket\'s HTTPS listeners count', () => {
    assert.equal(hosts.lookup('plain.example.org'), null);
    assert.equal(hosts.active, true);
    assert.equal(new ClientAuthHosts(table(vhost('open.example.com', 'exact')), new Set(['https'])).active, false);
  });

  it('the host of rules without one answers names no other host takes', () => {
    const any = new ClientAuthHosts(table(vhost('open.example.com', 'exact'), vhost('*', 'any', auth('D'))), new Set(['https']));
    assert.equal(any.lookup('open.example.com'), null);
    assert.equal(any.lookup('elsewhere.example.net')?.auth.caPem, 'D');
  });

  it('a suffix host (the Gateway API\'s) covers names one or more labels under it, the longest suffix first, after exact hosts and one-label wildcards', () => {
    const suffixes = new ClientAuthHosts(table(
      vhost('*.shop.example.com', 'suffix', auth('S')),
      vhost('*.example.com', 'suffix', auth('E')),
      vhost('open.shop.example.com', 'exact'),
      vhost('*.eu.shop.example.com', 'wildcard'),
    ), new Set(['https']));
    assert.equal(suffixes.lookup('a.b.shop.example.com')?.auth.caPem, 'S');
    assert.equal(suffixes.lookup('a.b.example.com')?.auth.caPem, 'E');
    assert.equal(suffixes.lookup('open.shop.example.com'), null);
    assert.equal(suffixes.lookup('x.eu.shop.example.com'), null);
    assert.equal(suffixes.lookup('example.com'), null);
    assert.equal(suffixes.active, true);
  });

  it('a connection stays verified for a host only while its CA, CRL, mode, depth and strictness are the same', () => {
    const a = hosts.lookup('secure.example.com')!;
    assert.equal(sameCheck(a, { key: a.key, auth: { ...a.auth } }), true);
    assert.equal(sameCheck(a, { key: a.key, auth: { ...a.auth, caPem: 'other' } }), false);
    assert.equal(sameCheck(a, { key: a.key, auth: { ...a.auth, verify: 'optional_no_ca' } }), false);
    assert.equal(sameCheck(a, { key: 'exact other.example.com', auth: a.auth }), false);
    assert.equal(sameCheck(a, { key: a.key, auth: { ...a.auth, rejectUnverified: true } }), false);
    assert.equal(sameCheck(a, { key: a.key, auth: { ...a.auth, rejectUnverified: false } }), true);
  });
});

describe('rfc2253', () => {
  it('writes the last RDN first, comma-separated, as openssl -nameopt RFC2253 does', () => {
    // What X509Certificate.subject gives for -subj '/C=DE/O=Example, Inc./CN=client;1 "x"'.
    assert.equal(rfc2253('C=DE\nO=Example\\, Inc.\nCN=client\\;1 \\"x\\"'), 'CN=client\\;1 \\"x\\",O=Example\\, Inc.,C=DE');
    assert.equal(rfc2253(''), '');
  });
});
