/**
 * The pure halves of declared ports: which sockets a table needs beyond the own two (and which of its
 * listeners an own port cannot serve), and which certificates a TLS socket offers with which
 * fallback — the rules the data plane applies on every swap.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { declaredPorts, onBindAddress } from '../../src/dataplane/server/declared-ports.ts';
import { certificateOffer } from '../../src/dataplane/server/tls/certificate-offer.ts';
import type { Certificate, Listener, RoutingTable } from '../../src/model/table.ts';

function listener(name: string, protocol: Listener['protocol'], port: number | null, hostname: string | null = null, certificates: string[] | null = null): Listener {
  return { name, protocol, port, hostname, tls: protocol === 'HTTPS' ? { certificates } : null, defaultRoute: false, provenance: `Gateway/infra/edge/listener/${name}` };
}

function table(...listeners: Listener[]): RoutingTable {
  return { listeners, virtualHosts: [], defaultRoute: null, clusters: {}, certificates: [], scripts: {}, streamRoutes: [] };
}

const OWN = { http: 8080, https: 8443 };

/** The sockets found, as [key, kind] (with the address's port-null flag when it is set). */
const ports = (found: ReturnType<typeof declaredPorts>): [string, string][] => [...found.sockets].map(([key, s]) => [key, s.portNull ? `${s.kind}+null` : s.kind]);

describe('declaredPorts', () => {
  test('a table with listeners on the own ports only needs no socket', () => {
    const found = declaredPorts(table(listener('http', 'HTTP', null), listener('https', 'HTTPS', null), listener('gw', 'HTTP', 8080), listener('gws', 'HTTPS', 8443), listener('tls', 'TLS', 8443), listener('tcp-9000', 'TCP', 9000)), OWN);
    assert.deepEqual(ports(found), []);
    assert.deepEqual([...found.misplaced], []);
  });

  test('HTTP ports serve plain HTTP; HTTPS and TLS listeners share one TLS socket', () => {
    const found = declaredPorts(table(listener('a', 'HTTP', 80), listener('b', 'HTTP', 80), listener('c', 'TLS', 443), listener('d', 'HTTPS', 443), listener('e', 'HTTPS', 9443)), OWN);
    assert.deepEqual(ports(found), [['80', 'http'], ['443', 'https'], ['9443', 'https']]);
  });

  test('a listener on the own port of the other protocol is misplaced, not opened', () => {
    const found = declaredPorts(table(listener('a', 'HTTPS', 8080), listener('b', 'HTTP', 8443), listener('c', 'TLS', 8080)), OWN);
    assert.deepEqual(ports(found), []);
    assert.deepEqual([...found.misplaced], [[8080, ['a', 'c']], [8443, ['b']]]);
  });

  test('a listener with an address gets a socket of its address and port, port null meaning the own number', () => {
    const at = (l: Listener, address: string): Listener => ({ ...l, address });
    const found = declaredPorts(table(
      at(listener('a', 'HTTP', null), '127.0.0.2'),
      at(listener('b', 'HTTP', 8080), '127.0.0.2'),
      at(listener('c', 'HTTP', 8080), '127.0.0.3'),
      at(listener('d', 'HTTPS', 8080), 'fd00::5'),
      at(listener('e', 'TLS', null), 'fd00::5'),
      at(listener('f', 'HTTP', 9000), '127.0.0.2'),
      listener('g', 'HTTP', 9000),
    ), OWN);
    // An HTTPS listener on the own HTTP number at an address is not misplaced: the address has its own socket.
    assert.deepEqual(ports(found), [['127.0.0.2:8080', 'http+null'], ['127.0.0.3:8080', 'http+null'], ['[fd00::5]:8080', 'https'], ['[fd00::5]:8443', 'https+null'], ['127.0.0.2:9000', 'http'], ['9000', 'http']]);
    assert.deepEqual([...found.misplaced], []);
  });

  test("a listener on --bind's own address is the bind address's: no socket of its own", () => {
    const bound = onBindAddress(table({ ...listener('a', 'HTTP', null), address: '10.0.0.5' }, { ...listener('b', 'HTTP', 9000), address: '10.0.0.6' }), '10.0.0.5');
    assert.deepEqual(bound.listeners.map((l) => [l.name, l.address ?? null]), [['a', null], ['b', '10.0.0.6']]);
    assert.deepEqual(ports(declaredPorts(bound, OWN)), [['10.0.0.6:9000', 'http']]);
    const none = table(listener('c', 'HTTP', 80));
    assert.equal(onBindAddress(none, '0.0.0.0'), none);
  });

  test('with the HTTPS port off, an address listener of TLS with port null has no socket', () => {
    const found = declaredPorts(table({ ...listener('a', 'TLS', null), address: '127.0.0.2' }), { http: 8080, https: null });
    assert.deepEqual(ports(found), []);
  });
});

describe('certificateOffer', () => {
  test('the union of the lists of the HTTPS listeners on the port, the first catch-all listed first as fallback', () => {
    const t = table(listener('a', 'HTTPS', 443, 'a.example', ['ns/a']), listener('any', 'HTTPS', 443, null, ['ns/c', 'ns/a']), listener('b', 'HTTPS', 443, 'b.example', ['ns/b']), listener('other', 'HTTPS', 9443, null, ['ns/z']));
    assert.deepEqual(certificateOffer(t, { port: 443, own: false }), { certificates: ['ns/a', 'ns/c', 'ns/b'], fallback: 'ns/c' });
  });

  test('a listener that offers every certificate makes the port offer them all, and names no fallback', () => {
    const t = table(listener('a', 'HTTPS', 443, 'a.example', ['ns/a']), listener('any', 'HTTPS', 443, null, null));
    assert.deepEqual(certificateOffer(t, { port: 443, own: false }), { certificates: null, fallback: null });
  });

  test('with hostnames only, no fallback: the default certificate answers unknown names', () => {
    assert.deepEqual(certificateOffer(table(listener('a', 'HTTPS', 443, 'a.example', ['ns/a'])), { port: 443, own: false }), { certificates: ['ns/a'], fallback: null });
  });

  test('the own port counts the listeners with port null, and offers everything when it has none', () => {
    const t = table(listener('https', 'HTTPS', null, null, ['ns/b']), listener('gw', 'HTTPS', 8443, 'a.example', ['ns/a']));
    assert.deepEqual(certificateOffer(t, { port: 8443, own: true }), { certificates: ['ns/b', 'ns/a'], fallback: 'ns/b' });
    assert.deepEqual(certificateOffer(table(listener('http', 'HTTP', null)), { port: 8443, own: true }), { certificates: null, fallback: null });
  });

  test('a listener-bound certificate is offered only where a listener lists it, not by one that offers every certificate', () => {
    const cert = (name: string, listenerBound: boolean): Certificate => ({ name, hosts: [`${name.slice(3)}.example`], certPem: '', keyPem: '', provenance: [], ...(listenerBound ? { listenerBound: true as const } : {}) });
    const t = { ...table(listener('https', 'HTTPS', null, null, null), listener('gw', 'HTTPS', 443, 'a.example', ['ns/a']), { ...listener('db', 'TLS', 5432), tls: { certificates: ['ns/db'] } }), certificates: [cert('ns/a', true), cert('ns/db', true), cert('ns/shop', false)] };
    // The own port: the Ingress's certificate, not the Gateway listeners' of other ports.
    assert.deepEqual(certificateOffer(t, { port: 8443, own: true }), { certificates: ['ns/shop'], fallback: null });
    // Port 443, where the listener that lists ns/a is.
    assert.deepEqual(certificateOffer(t, { port: 443, own: false }), { certificates: ['ns/a'], fallback: null });
    // A listener with null beside one that lists a bound certificate: both.
    const both = { ...t, listeners: [...t.listeners, listener('gw-own', 'HTTPS', null, 'a.example', ['ns/a'])] };
    assert.deepEqual(certificateOffer(both, { port: 8443, own: true }), { certificates: ['ns/a', 'ns/shop'], fallback: null });
    // The own port with no HTTPS listener at all offers as null does.
    assert.deepEqual(certificateOffer({ ...t, listeners: [listener('http', 'HTTP', null)] }, { port: 8443, own: true }), { certificates: ['ns/shop'], fallback: null });
  });

  test('a TLS-only port offers nothing: it terminates nothing', () => {
    assert.deepEqual(certificateOffer(table(listener('p', 'TLS', 443)), { port: 443, own: false }), { certificates: [], fallback: null });
  });
});
