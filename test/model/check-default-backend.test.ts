/**
 * `checkTable` on the DefaultBackend filter, and the ingress-nginx front end's reading of
 * `custom-http-errors`: what the front end writes passes; statuses that are no errors, out of
 * order or repeated, a filter that does nothing, bad field names and a cluster of another
 * namespace (unless it is the operator's global one) are refused.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseErrorCodes } from '../../src/compile/ingress-nginx/default-backend-annotations.ts';
import { checkTable } from '../../src/model/check-table.ts';
import { DEFAULT_CLUSTER_POLICY } from '../../src/model/policy.ts';
import type { DefaultBackendFilter } from '../../src/model/table.ts';
import { filterMessages, oneRouteTable, ROUTE } from '../helpers/filter-table.ts';

const SOUND: DefaultBackendFilter = {
  type: 'DefaultBackend',
  cluster: 'shop/api:80',
  codes: [404, 503],
  whenNoEndpoints: true,
  headers: [{ name: 'x-namespace', value: 'shop' }, { name: 'x-service-port', value: 'http' }],
};

function messages(change: Partial<DefaultBackendFilter>): string {
  return filterMessages({ ...SOUND, ...change } as DefaultBackendFilter).join('\n');
}

/** The one-route table with a second cluster, `errors/pages:80`, of another namespace (keys sorted, as tables keep them). */
function withForeignCluster(filter: DefaultBackendFilter): ReturnType<typeof oneRouteTable> {
  const table = oneRouteTable([filter]);
  const pages = { name: 'errors/pages:80', namespace: 'errors', service: 'pages', servicePort: 80, portName: 'http', endpoints: [], policy: DEFAULT_CLUSTER_POLICY, provenance: [ROUTE] };
  return { ...table, clusters: { 'errors/pages:80': pages, ...table.clusters } };
}

describe('checkTable: DefaultBackend', () => {
  test('what the ingress-nginx front end writes passes: codes, the fallback alone, or both', () => {
    assert.deepEqual(checkTable(oneRouteTable([SOUND])), []);
    assert.equal(messages({ codes: [], headers: [] }), '');
    assert.equal(messages({ whenNoEndpoints: false }), '');
  });

  test('refuses statuses that are not errors, out of order or repeated, and a filter that does nothing', () => {
    assert.match(messages({ codes: [302] }), /status 302 is not a whole number from 400 to 599/);
    assert.match(messages({ codes: [600] }), /status 600/);
    assert.match(messages({ codes: [404.5] }), /status 404.5/);
    assert.match(messages({ codes: [503, 404] }), /ascending and each given once \(404 after 503\)/);
    assert.match(messages({ codes: [404, 404] }), /ascending and each given once/);
    assert.match(messages({ codes: [], whenNoEndpoints: false }), /no codes that never takes requests/);
  });

  test('refuses field names that are no lower-case tokens, and values with control characters', () => {
    assert.match(messages({ headers: [{ name: 'X-Code', value: '1' }] }), /"X-Code" is not a lower-case token/);
    assert.match(messages({ headers: [{ name: 'x-ingress-name', value: 'a\r\nb' }] }), /control characters/);
  });

  test('refuses a cluster that is not in the table, or of another namespace unless it is the global one', () => {
    assert.match(messages({ cluster: 'shop/nowhere:80' }), /default backend cluster "shop\/nowhere:80" is not in clusters/);
    const foreign = checkTable(withForeignCluster({ ...SOUND, cluster: 'errors/pages:80' })).map((v) => v.message).join('\n');
    assert.match(foreign, /errors\/pages:80 is in namespace errors, not shop/);
    assert.deepEqual(checkTable(withForeignCluster({ ...SOUND, cluster: 'errors/pages:80', global: true })), []);
  });
});

describe('custom-http-errors values', () => {
  test('a comma-separated list, spaces allowed, duplicates dropped, ascending', () => {
    assert.deepEqual(parseErrorCodes('503, 404,404 ,415'), { ok: true, value: [404, 415, 503] });
    assert.deepEqual(parseErrorCodes('400,599'), { ok: true, value: [400, 599] });
  });

  test('refuses anything but statuses from 400 to 599, and an empty list', () => {
    for (const bad of ['302', '600', '404,abc', '4040', '404;503', '-404']) {
      const parsed = parseErrorCodes(bad);
      assert.equal(parsed.ok, false, bad);
    }
    assert.deepEqual(parseErrorCodes(' , '), { ok: false, message: 'the list holds no status' });
  });
});
