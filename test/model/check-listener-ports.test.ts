/**
 * checkTable on the ports listeners declare: one port is one socket, so plain HTTP and TLS (or a
 * TCP service) on one port is refused with a message that names both listeners; HTTPS and TLS
 * listeners share a port, as do several listeners of one protocol.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkTable } from '../../src/model/check-table.ts';
import type { Listener, RoutingTable } from '../../src/model/table.ts';

function listener(name: string, protocol: Listener['protocol'], port: number | null): Listener {
  return { name, protocol, port, hostname: null, tls: protocol === 'HTTPS' ? { certificates: null } : null, defaultRoute: false, provenance: `Gateway/infra/edge/listener/${name}` };
}

function table(listeners: Listener[]): RoutingTable {
  return { listeners: [...listeners].sort((a, b) => (a.name < b.name ? -1 : 1)), virtualHosts: [], defaultRoute: null, clusters: {}, certificates: [], scripts: {}, streamRoutes: [] };
}

const messages = (t: RoutingTable): string[] => checkTable(t).map((v) => `${v.at} ${v.provenance}: ${v.message}`);

describe('listener ports', () => {
  test('HTTP listeners on one port, and HTTPS with TLS on another, are sound', () => {
    assert.deepEqual(messages(table([listener('a-http', 'HTTP', 8080), listener('b-http', 'HTTP', 8080), listener('c-https', 'HTTPS', 8443), listener('d-tls', 'TLS', 8443)])), []);
  });

  test('the own ports (port null) are one per protocol: HTTP and HTTPS both null is sound', () => {
    assert.deepEqual(messages(table([listener('http', 'HTTP', null), listener('https', 'HTTPS', null)])), []);
  });

  test('HTTP and HTTPS listeners on one port are refused, naming both', () => {
    assert.deepEqual(messages(table([listener('a-http', 'HTTP', 8080), listener('b-https', 'HTTPS', 8080)])), [
      'listeners[1] Gateway/infra/edge/listener/b-https: HTTPS listener b-https is on port 8080, where HTTP listener a-http is: one port serves plain HTTP or TLS, not both',
    ]);
  });

  test('HTTP and TLS passthrough on one port are refused', () => {
    assert.match(messages(table([listener('a-tls', 'TLS', 443), listener('b-http', 'HTTP', 443)])).join('\n'), /HTTP listener b-http is on port 443, where TLS listener a-tls is/);
  });

  test('a TCP service on the port of an HTTP listener is refused; UDP on that number is not', () => {
    const found = messages(table([listener('a-http', 'HTTP', 9000), listener('tcp-9000', 'TCP', 9000), listener('udp-9000', 'UDP', 9000)]));
    assert.ok(found.some((m) => /TCP listener tcp-9000 is on port 9000, where HTTP listener a-http is/.test(m)), found.join('\n'));
    assert.ok(!found.some((m) => /udp-9000 is on port/.test(m)), found.join('\n'));
  });
});

describe('listener addresses', () => {
  const at = (l: Listener, address: string): Listener => ({ ...l, address });

  test('HTTP on one address and HTTPS on another share a port number', () => {
    assert.deepEqual(messages(table([at(listener('a-http', 'HTTP', 8080), '10.0.0.5'), at(listener('b-https', 'HTTPS', 8080), '10.0.0.6'), listener('c-tls', 'TLS', 8080)])), []);
  });

  test('HTTP and HTTPS on one address and port are refused, naming the address', () => {
    assert.deepEqual(messages(table([at(listener('a-http', 'HTTP', 8080), 'fd00::5'), at(listener('b-https', 'HTTPS', 8080), 'fd00::5')])), [
      'listeners[1] Gateway/infra/edge/listener/b-https: HTTPS listener b-https is on fd00::5 port 8080, where HTTP listener a-http is: one port serves plain HTTP or TLS, not both',
    ]);
  });

  test('an address must be an IP literal', () => {
    assert.deepEqual(messages(table([at(listener('a-http', 'HTTP', 8080), 'gw.example'), at(listener('b-http', 'HTTP', null), '127.0.0.2'), at(listener('c-http', 'HTTP', null), '::1')])), [
      'listeners[0] Gateway/infra/edge/listener/a-http: address "gw.example" is not an IP address',
    ]);
  });
});
