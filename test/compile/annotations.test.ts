/**
 * The annotation table and its parsers: the documented defaults and examples are what the compiler
 * does, values are parsed strictly, and every annotation has golden cases. The goldens
 * (annotations-*.in.yaml, endpoint-weights.in.yaml) show whole compiles; these tests pin the rules.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { parseAnnotationValue, parseDuration } from '../../src/compile/shared/annotation-values.ts';
import { ANNOTATION_PREFIX, ANNOTATIONS, annotationSpec, formatDuration, type AnnotationName, type AnnotationSpec, type DurationAnnotation } from '../../src/compile/shared/annotations.ts';
import { compile } from '../../src/compile/compile.ts';
import { DiagnosticSink } from '../../src/compile/shared/diagnostics.ts';
import { parseServicePolicy, type ServicePolicy } from '../../src/compile/shared/service-policy.ts';
import { DEFAULT_CLUSTER_POLICY } from '../../src/model/policy.ts';
import { DEFAULT_COMPILE_OPTIONS, type Snapshot } from '../../src/model/snapshot.ts';
import type { Diagnostic } from '../../src/model/table.ts';

const TESTDATA = join(import.meta.dirname, '../../testdata/compile');

/** Compiles the policy of a Service with `annotations`. */
function policyOf(annotations: Record<string, unknown>): { result: ServicePolicy; diagnostics: readonly Diagnostic[] } {
  const sink = new DiagnosticSink();
  const id = { kind: 'Service', namespace: 'ns', name: 'svc', key: 'ns/svc', provenance: 'Service/ns/svc', generation: undefined };
  const result = parseServicePolicy({ id, obj: { metadata: { name: 'svc', namespace: 'ns', annotations } } }, sink);
  return { result, diagnostics: sink.items };
}

/** The annotations an annotation needs beside it to take effect. */
function contextOf(name: string): Record<string, string> {
  // The kind's example (tcp) turns checks on by itself, and a path beside it would be ignored.
  if (name.startsWith('signalbox.dev/health-check-') && name !== 'signalbox.dev/health-check-path' && name !== 'signalbox.dev/health-check-kind') return { 'signalbox.dev/health-check-path': '/healthz' };
  if (name.startsWith('signalbox.dev/affinity-cookie-')) return { 'signalbox.dev/affinity': 'cookie' };
  if (name === 'signalbox.dev/hash-on') return { 'signalbox.dev/lb-policy': 'ring-hash' };
  return {};
}

/** A compile of one Service port with one EndpointSlice of one endpoint, with the given annotations. */
function compileWeights(serviceAnnotations: Record<string, string>, sliceAnnotations: Record<string, string>): { weight: number | undefined; diagnostics: readonly Diagnostic[] } {
  const snapshot = {
    ingressClasses: [{ apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: 'signalbox' }, spec: { controller: 'signalbox.dev/ingress-controller' } }],
    ingresses: [
      {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'Ingress',
        metadata: { name: 'i', namespace: 'ns' },
        spec: { ingressClassName: 'signalbox', defaultBackend: { service: { name: 'svc', port: { number: 80 } } } },
      },
    ],
    services: [{ apiVersion: 'v1', kind: 'Service', metadata: { name: 'svc', namespace: 'ns', annotations: serviceAnnotations }, spec: { ports: [{ port: 80 }] } }],
    endpointSlices: [
      {
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: { name: 'svc-a', namespace: 'ns', labels: { 'kubernetes.io/service-name': 'svc' }, annotations: sliceAnnotations },
        addressType: 'IPv4',
        ports: [{ port: 8080 }],
        endpoints: [{ addresses: ['10.0.0.1'] }],
      },
    ],
    secrets: [],
  } as unknown as Snapshot;
  const result = compile(snapshot, DEFAULT_COMPILE_OPTIONS);
  return { weight: result.table.clusters['ns/svc:80']?.endpoints[0]?.weight, diagnostics: result.diagnostics };
}

function parse(name: AnnotationName | string, text: string): unknown {
  const parsed = parseAnnotationValue(annotationSpec(name)!, text);
  return parsed.ok ? parsed.value : `invalid: ${parsed.problem}`;
}

describe('annotation table', () => {
  test('names are unique, carry the prefix, and descriptions are one line', () => {
    const names = ANNOTATIONS.map((a) => a.name);
    assert.equal(new Set(names).size, names.length);
    for (const spec of ANNOTATIONS as readonly AnnotationSpec[]) {
      assert.ok(spec.name.startsWith(ANNOTATION_PREFIX), spec.name);
      assert.match(spec.name.slice(ANNOTATION_PREFIX.length), /^[a-z0-9]+(-[a-z0-9]+)*$/, spec.name);
      assert.ok(!spec.description.includes('\n') && spec.description.endsWith('.'), spec.name);
    }
  });

  test('a documented default that is a value is the compiled default', () => {
    for (const spec of ANNOTATIONS as readonly AnnotationSpec[]) {
      if (!parseAnnotationValue(spec, spec.default).ok) continue;
      if (spec.on === 'EndpointSlice') {
        assert.deepEqual(compileWeights({}, { [spec.name]: spec.default }), compileWeights({}, {}), spec.name);
        continue;
      }
      const context = contextOf(spec.name);
      const explicit = policyOf({ ...context, [spec.name]: spec.default });
      assert.deepEqual(explicit.diagnostics, [], spec.name);
      assert.deepEqual(explicit.result, policyOf(context).result, `${spec.name}: the documented default ${spec.default} is not what the compiler uses`);
    }
  });

  test('a documented default that is not a value means the feature is off or decided elsewhere', () => {
    for (const spec of ANNOTATIONS as readonly AnnotationSpec[]) {
      if (parseAnnotationValue(spec, spec.default).ok) continue;
      assert.match(spec.default, /^(none|the |0 \(no limit\))/, spec.name);
    }
  });

  test('every example is valid, changes something, and warns about nothing', () => {
    for (const spec of ANNOTATIONS as readonly AnnotationSpec[]) {
      if (spec.on === 'EndpointSlice') {
        const { weight, diagnostics } = compileWeights({}, { [spec.name]: spec.example });
        assert.deepEqual(diagnostics, [], spec.name);
        assert.notEqual(weight, 1, spec.name);
        continue;
      }
      const context = contextOf(spec.name);
      const { result, diagnostics } = policyOf({ ...context, [spec.name]: spec.example });
      assert.deepEqual(diagnostics, [], spec.name);
      assert.notDeepEqual(result, policyOf(context).result, `${spec.name}: the example ${spec.example} changes nothing`);
    }
  });

  test('every annotation has a golden case with a valid value and one with a bad value', () => {
    const valid = readFileSync(join(TESTDATA, 'annotations-valid.in.yaml'), 'utf8');
    const invalid = readFileSync(join(TESTDATA, 'annotations-invalid.in.yaml'), 'utf8');
    for (const { name } of ANNOTATIONS) {
      assert.ok(valid.includes(`${name}:`), `${name} is missing from annotations-valid.in.yaml`);
      assert.ok(invalid.includes(`${name}:`), `${name} is missing from annotations-invalid.in.yaml`);
    }
  });
});

describe('annotation values', () => {
  test('durations need a unit and whole milliseconds', () => {
    const cases: [string, number | null][] = [
      ['500ms', 500], ['5s', 5_000], ['2m', 120_000], ['1h', 3_600_000], ['1.5m', 90_000], ['0.25s', 250], ['1.1s', 1_100], ['0', 0],
      ['5', null], ['5 s', null], ['-1s', null], ['1d', null], ['1m30s', null], ['0.5ms', null], ['1.0001s', null], ['5S', null], ['.5s', null],
    ];
    for (const [text, ms] of cases) {
      const parsed = parseDuration(text);
      assert.deepEqual(parsed.ok ? parsed.value : null, ms, text);
    }
  });

  test('durations are bounded per annotation, and 0 only where it means something', () => {
    assert.equal(parse('signalbox.dev/health-check-interval', '1s'), 1_000);
    assert.match(String(parse('signalbox.dev/health-check-interval', '999ms')), /out of range; expected a duration from 1s to 5m$/);
    assert.match(String(parse('signalbox.dev/connect-timeout', '0')), /0 is not allowed/);
    assert.equal(parse('signalbox.dev/idle-timeout', '0'), 0);
    assert.equal(parse('signalbox.dev/affinity-cookie-ttl', '90s'), 90_000);
    assert.match(String(parse('signalbox.dev/affinity-cookie-ttl', '1500ms')), /whole number of seconds/);
  });

  test('every duration annotation takes its bounds and refuses one step past either', () => {
    const durations = (ANNOTATIONS as readonly AnnotationSpec[]).filter((spec): spec is DurationAnnotation => spec.kind === 'duration');
    assert.ok(durations.length >= 9, `found ${durations.length}`);
    for (const spec of durations) {
      // The smallest step the annotation can express: a second where only whole seconds are kept.
      const step = spec.wholeSeconds === true ? 1_000 : 1;
      const text = (ms: number): string => (step === 1_000 ? `${ms / 1_000}s` : `${ms}ms`);
      const expected = `expected a duration from ${formatDuration(spec.minMs)} to ${formatDuration(spec.maxMs)}`;
      assert.equal(parse(spec.name, text(spec.maxMs)), spec.maxMs, `${spec.name}: its maximum`);
      assert.equal(parse(spec.name, formatDuration(spec.maxMs)), spec.maxMs, `${spec.name}: its maximum as documented`);
      assert.match(String(parse(spec.name, text(spec.maxMs + step))), new RegExp(`out of range; ${expected}`), `${spec.name}: past its maximum`);
      assert.equal(parse(spec.name, text(spec.minMs)), spec.minMs, `${spec.name}: its minimum`);
      if (spec.minMs - step > 0) assert.match(String(parse(spec.name, text(spec.minMs - step))), /out of range/, `${spec.name}: below its minimum`);
    }
  });

  test('the longest durations are the documented ones', () => {
    const longest = Object.fromEntries((ANNOTATIONS as readonly AnnotationSpec[]).flatMap((spec) => (spec.kind === 'duration' ? [[spec.name, formatDuration(spec.maxMs)]] : [])));
    assert.deepEqual(longest, {
      'signalbox.dev/affinity-cookie-ttl': '8760h',
      'signalbox.dev/health-check-interval': '5m',
      'signalbox.dev/health-check-timeout': '1m',
      'signalbox.dev/outlier-base-ejection-time': '5m',
      'signalbox.dev/outlier-max-ejection-time': '1h',
      'signalbox.dev/connect-timeout': '1m',
      'signalbox.dev/response-header-timeout': '1h',
      'signalbox.dev/idle-timeout': '1h',
      'signalbox.dev/pause-max-wait': '1h',
    });
    assert.match(String(parse('signalbox.dev/affinity-cookie-ttl', '8761h')), /out of range/);
    assert.match(String(parse('signalbox.dev/connect-timeout', '61s')), /out of range/);
    assert.match(String(parse('signalbox.dev/pause-max-wait', '2h')), /out of range/);
  });

  test('integers and percentages are plain decimal numbers in range', () => {
    assert.equal(parse('signalbox.dev/retries', ' 10 '), 10);
    for (const bad of ['11', '-1', '+1', '1.0', '1e1', '0x1', 'one', '']) assert.match(String(parse('signalbox.dev/retries', bad)), /^invalid/, bad);
    assert.equal(parse('signalbox.dev/retry-budget-percent', '35%'), 35);
    assert.equal(parse('signalbox.dev/retry-budget-percent', '100'), 100);
    assert.match(String(parse('signalbox.dev/retry-budget-percent', '101%')), /^invalid/);
  });

  test('status lists are sorted and merged, and stay in their range', () => {
    assert.deepEqual(parse('signalbox.dev/health-check-expected-status', '300-399, 200,201-204 ,250-310'), [[200, 204], [250, 399]]);
    assert.deepEqual(parse('signalbox.dev/retry-on', '503,502,503'), [[502, 503]]);
    for (const bad of ['499', '500-', '504-502', '502,,503', '5xx', '600']) assert.match(String(parse('signalbox.dev/retry-on', bad)), /^invalid/, bad);
    assert.match(String(parse('signalbox.dev/health-check-expected-status', '99')), /^invalid/);
  });

  test('hash-on: header names are lower-cased, cookie and query names kept as written', () => {
    assert.deepEqual(parse('signalbox.dev/hash-on', 'header:X-Tenant'), { source: 'header', name: 'x-tenant' });
    assert.deepEqual(parse('signalbox.dev/hash-on', 'cookie:SID'), { source: 'cookie', name: 'SID' });
    assert.deepEqual(parse('signalbox.dev/hash-on', 'query:userId'), { source: 'query', name: 'userId' });
    assert.deepEqual(parse('signalbox.dev/hash-on', 'client-ip'), { source: 'client-ip' });
    assert.deepEqual(parse('signalbox.dev/hash-on', 'uri'), { source: 'uri' });
    for (const bad of ['header:', 'header:a b', 'header:a:b', 'cookie:a;b', 'query:a&b', 'query:a=b', 'Header:x', 'client-ip:x', 'path', 'uri:x']) {
      assert.match(String(parse('signalbox.dev/hash-on', bad)), /^invalid/, bad);
    }
  });

  test('paths start with / and hold no spaces, fragments or cookie separators', () => {
    assert.equal(parse('signalbox.dev/health-check-path', '/healthz?full=1'), '/healthz?full=1');
    for (const bad of ['healthz', '/a b', '/a#b', '/a;b', '/é', '//\u0000']) assert.match(String(parse('signalbox.dev/health-check-path', bad)), /^invalid/, bad);
  });

  test('endpoint weights: addresses match by value; any bad entry refuses the whole list', () => {
    const weights = parse('signalbox.dev/endpoint-weights', '10.0.0.1=3, 2001:DB8:0::1 = 7') as ReadonlyMap<string, number>;
    assert.equal(weights.size, 2);
    const again = parse('signalbox.dev/endpoint-weights', '2001:db8::1=7,10.0.0.1=3') as ReadonlyMap<string, number>;
    assert.deepEqual([...again].sort(), [...weights].sort());
    for (const bad of ['10.0.0.1', '10.0.0.1=0', '10.0.0.1=1001', 'host=1', '10.0.0.1=1,,10.0.0.2=1', '10.0.0.1=1,10.0.0.1=2', '2001:db8::1=1,2001:DB8::1=2']) {
      assert.match(String(parse('signalbox.dev/endpoint-weights', bad)), /^invalid/, bad);
    }
  });
});

describe('service policy', () => {
  test('a Service without our annotations gets the default policy and no diagnostics', () => {
    const { result, diagnostics } = policyOf({ 'example.com/other': 'x', 'signalbox.dev.example/not-ours': 'y' });
    assert.deepEqual(result.policy, DEFAULT_CLUSTER_POLICY);
    assert.deepEqual(diagnostics, []);
  });

  test('a bad value leaves only its own field at the default', () => {
    const { result, diagnostics } = policyOf({ 'signalbox.dev/retries': 'many', 'signalbox.dev/retry-on': '503', 'signalbox.dev/lb-policy': 'random' });
    assert.deepEqual(result.policy, { ...DEFAULT_CLUSTER_POLICY, lbPolicy: 'random', retry: { ...DEFAULT_CLUSTER_POLICY.retry, onStatuses: [503] } });
    assert.deepEqual(
      diagnostics.map((d) => [d.code, d.severity, d.path]),
      [['AnnotationInvalid', 'error', 'Service/ns/svc/annotations/signalbox.dev/retries']],
    );
    assert.match(diagnostics[0]!.message, /^signalbox\.dev\/retries "many" is not valid: .*expected an integer from 0 to 10; the default applies: 1$/);
  });

  test('the health-check timeout must be shorter than the interval; its default stays below a short one', () => {
    const short = policyOf({ 'signalbox.dev/health-check-path': '/', 'signalbox.dev/health-check-interval': '1500ms' });
    assert.equal(short.result.policy.healthCheck?.timeoutMs, 750);
    const clash = policyOf({ 'signalbox.dev/health-check-path': '/', 'signalbox.dev/health-check-interval': '2s', 'signalbox.dev/health-check-timeout': '2s' });
    assert.equal(clash.result.policy.healthCheck?.timeoutMs, 1_000);
    assert.equal(clash.result.policy.healthCheck?.intervalMs, 2_000);
    assert.deepEqual(clash.diagnostics.map((d) => d.code), ['AnnotationInvalid']);
  });

  test('an unknown name is a warning that suggests the closest known name', () => {
    const { diagnostics } = policyOf({ 'signalbox.dev/max-conections': '5', 'signalbox.dev/zzz': '1' });
    assert.deepEqual(
      diagnostics.map((d) => [d.code, d.severity, d.message]),
      [
        ['AnnotationUnknown', 'warning', 'signalbox.dev/max-conections is not a signalbox annotation (did you mean signalbox.dev/max-connections?); it is ignored'],
        ['AnnotationUnknown', 'warning', 'signalbox.dev/zzz is not a signalbox annotation; it is ignored'],
      ],
    );
  });

  test('endpoint weights: the Service annotation wins over the slice annotation for the addresses it names', () => {
    assert.equal(compileWeights({ 'signalbox.dev/endpoint-weights': '10.0.0.1=7' }, { 'signalbox.dev/weight': '3' }).weight, 7);
    assert.equal(compileWeights({ 'signalbox.dev/endpoint-weights': '10.0.0.2=7' }, { 'signalbox.dev/weight': '3' }).weight, 3);
    assert.equal(compileWeights({}, {}).weight, 1);
    const bad = compileWeights({}, { 'signalbox.dev/weight': '0' });
    assert.equal(bad.weight, 1);
    assert.deepEqual(bad.diagnostics.map((d) => [d.kind, d.code]), [['EndpointSlice', 'AnnotationInvalid']]);
  });
});
