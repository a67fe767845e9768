/** Which SNI names get TLS parameters of their own: looked up as the router takes a Host. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HostTlsHosts } from '../../src/dataplane/server/tls/host-tls-hosts.ts';
import { handshakeOptions } from '../../src/dataplane/server/tls/host-tls-handshakes.ts';
import type { RoutingTable, VirtualHost } from '../../src/model/table.ts';
import type { HostTlsParameters } from '../../src/model/tls-parameters.ts';

function vhost(host: string, match: VirtualHost['match'], tlsParameters?: HostTlsParameters, listeners = ['https']): VirtualHost {
  return { host, match, routes: [], listeners, provenance: [], ...(tlsParameters === undefined ? {} : { tlsParameters }) };
}

function table(...virtualHosts: VirtualHost[]): RoutingTable {
  return { listeners: [], virtualHosts, streamRoutes: [], defaultRoute: null, clusters: {}, certificates: [], scripts: {} };
}

describe('HostTlsHosts', () => {
  const strict = { ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256' };
  const hosts = new HostTlsHosts(table(
    vhost('open.example.com', 'exact'),
    vhost('strict.example.com', 'exact', strict),
    vhost('*.example.com', 'wildcard', { minVersion: 'TLSv1.3' }),
    vhost('plain.example.org', 'exact', strict, ['http']),
  ), new Set(['https']));

  it('an exact host decides for its name (any case), whatever a wildcard has', () => {
    assert.equal(hosts.lookup('open.example.com'), null);
    assert.deepEqual(hosts.lookup('STRICT.example.com'), strict);
  });

  it('a one-label wildcard covers the other names under it, not deeper ones', () => {
    assert.deepEqual(hosts.lookup('x.example.com'), { minVersion: 'TLSv1.3' });
    assert.equal(hosts.lookup('a.b.example.com'), null);
  });

  it('only the hosts of the socket\'s HTTPS listeners count; none with parameters is inactive', () => {
    assert.equal(hosts.lookup('plain.example.org'), null);
    assert.equal(hosts.active, true);
    assert.equal(new HostTlsHosts(table(vhost('open.example.com', 'exact'), vhost('plain.example.org', 'exact', strict, ['http'])), new Set(['https'])).active, false);
  });

  it('the host of rules without one answers names no other host takes', () => {
    const any = new HostTlsHosts(table(vhost('open.example.com', 'exact'), vhost('*', 'any', strict)), new Set(['https']));
    assert.equal(any.lookup('open.example.com'), null);
    assert.deepEqual(any.lookup('elsewhere.example.net'), strict);
  });
});

describe('handshakeOptions', () => {
  it('keeps the listener\'s oldest version unless the host asks for a newer one, and the server\'s order only when asked', () => {
    assert.deepEqual(handshakeOptions(null, 'TLSv1.2'), { minVersion: 'TLSv1.2' });
    assert.deepEqual(handshakeOptions({ minVersion: 'TLSv1.3' }, 'TLSv1.2'), { minVersion: 'TLSv1.3' });
    assert.deepEqual(handshakeOptions({ ciphers: 'HIGH', preferServerCiphers: true }, 'TLSv1.2'), { minVersion: 'TLSv1.2', ciphers: 'HIGH', honorCipherOrder: true });
    assert.deepEqual(handshakeOptions({ maxVersion: 'TLSv1.2', preferServerCiphers: false }, 'TLSv1.2'), { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' });
  });
});
