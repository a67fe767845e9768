/**
 * `checkTable` on a virtual host's client-certificate check: what the compile writes passes; a CA
 * bundle without a certificate, a CRL that is no CRL, a mode or depth the data plane does not know,
 * and a refused handshake in a mode that lets clients through are refused, at the check, with its
 * provenance.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkTable } from '../../src/model/check-table.ts';
import type { ClientCertificateAuth, RoutingTable, VirtualHost } from '../../src/model/table.ts';
import { oneRouteTable } from '../helpers/filter-table.ts';

const AT = 'Ingress/shop/api/annotations/nginx.ingress.kubernetes.io/auth-tls-secret';
const SOUND: ClientCertificateAuth = {
  secret: 'shop/client-ca',
  caPem: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n',
  crlPem: '-----BEGIN X509 CRL-----\nMIIB\n-----END X509 CRL-----\n',
  verify: 'optional_no_ca',
  depth: 2,
  errorPage: 'https://errors.example.com/cert',
  passCertificate: true,
  matchCN: 'CN=client1',
  provenance: AT,
};

function messages(change: Partial<ClientCertificateAuth>, vhost: Partial<VirtualHost> = {}): string[] {
  const table = oneRouteTable([]);
  const withAuth: RoutingTable = { ...table, virtualHosts: [{ ...table.virtualHosts[0]!, ...vhost, clientAuth: { ...SOUND, ...change } as ClientCertificateAuth }] };
  const violations = checkTable(withAuth);
  for (const v of violations) {
    assert.equal(v.at, 'virtualHosts[0].clientAuth');
    assert.equal(v.provenance, AT);
  }
  return violations.map((v) => v.message);
}

describe('checkTable: clientAuth', () => {
  test('what the compile writes passes', () => {
    assert.deepEqual(messages({}), []);
    assert.deepEqual(messages({ crlPem: null, verify: 'on', depth: 1, errorPage: null, matchCN: null, passCertificate: false }), []);
    // The Gateway API's: refused handshakes, on a suffix host (chosen by SNI as the router takes it).
    assert.deepEqual(messages({ verify: 'on', depth: 100, rejectUnverified: true }, { host: '*.example.com', match: 'suffix' }), []);
  });

  test('a check the data plane could not make is refused', () => {
    assert.match(messages({ caPem: 'not pem' }).join(), /CA bundle holds no PEM certificate/);
    assert.match(messages({ crlPem: 'nope' }).join(), /CRL is not a PEM CRL/);
    assert.match(messages({ verify: 'off' as 'on' }).join(), /mode "off"/);
    assert.match(messages({ depth: 0 }).join(), /depth 0/);
    assert.match(messages({ depth: 1.5 }).join(), /depth 1.5/);
    assert.match(messages({ verify: 'optional', rejectUnverified: true }).join(), /refused only in mode on, not optional/);
    assert.match(messages({ verify: 'on', rejectUnverified: 'yes' as unknown as boolean }).join(), /rejectUnverified is not a boolean/);
  });
});
