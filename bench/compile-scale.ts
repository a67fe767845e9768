/**
 * How compile time and memory grow with the size of a cluster: N Ingresses (two paths each, in
 * N/20 namespaces), N/2 Services with an EndpointSlice of three endpoints each, and a RouteScript
 * on every tenth Ingress. Prints, per N, the median compile time (snapshot building included), the
 * heap the result holds, and the table's size as JSON. Run with `node --expose-gc`.
 *
 *     node --expose-gc bench/compile-scale.ts [--sizes 1000,10000] [--rounds 3]
 */
import { parseArgs } from 'node:util';
import { compile } from '../src/compile/compile.ts';
import { snapshotFromObjects } from '../src/compile/snapshot-from-objects.ts';
import { DEFAULT_COMPILE_OPTIONS } from '../src/model/snapshot.ts';
import { intOption } from './lib/options.ts';

const { values } = parseArgs({ options: { sizes: { type: 'string', default: '1000,10000' }, rounds: { type: 'string', default: '3' } } });
const sizes = values.sizes!.split(',').map((s) => intOption('sizes', s.trim(), 1));
const rounds = intOption('rounds', values.rounds!, 1);
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with node --expose-gc, so that heap figures mean something');

/** The objects of a cluster with `n` Ingresses. */
function cluster(n: number): object[] {
  const objects: object[] = [{ apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: 'signalbox', annotations: { 'ingressclass.kubernetes.io/is-default-class': 'true' } }, spec: { controller: 'signalbox.dev/ingress-controller' } }];
  const namespaces = Math.max(1, Math.floor(n / 20));
  const services = Math.max(1, Math.floor(n / 2));
  for (let s = 0; s < services; s++) {
    const namespace = `ns-${s % namespaces}`;
    objects.push({ apiVersion: 'v1', kind: 'Service', metadata: { name: `svc-${s}`, namespace }, spec: { ports: [{ name: 'http', port: 80 }] } });
    objects.push({
      apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
      metadata: { name: `svc-${s}-abc`, namespace, labels: { 'kubernetes.io/service-name': `svc-${s}` } },
      addressType: 'IPv4', ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
      endpoints: [1, 2, 3].map((e) => ({ addresses: [`10.${(s >> 8) & 255}.${s & 255}.${e}`], conditions: { ready: true } })),
    });
  }
  for (let i = 0; i < n; i++) {
    // Each Ingress points at Services of its own namespace.
    const ns = i % namespaces;
    const a = ns + namespaces * (i % Math.max(1, Math.floor(services / namespaces)));
    const b = ns + namespaces * ((i + 1) % Math.max(1, Math.floor(services / namespaces)));
    const namespace = `ns-${ns}`;
    objects.push({
      apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: `ing-${i}`, namespace },
      spec: { rules: [{ host: `host-${i}.example.com`, http: { paths: [
        { path: '/', pathType: 'Prefix', backend: { service: { name: `svc-${a}`, port: { number: 80 } } } },
        { path: '/api', pathType: 'Prefix', backend: { service: { name: `svc-${b}`, port: { number: 80 } } } },
      ] } }] },
    });
    if (i % 10 === 0) {
      objects.push({ apiVersion: 'signalbox.dev/v1alpha1', kind: 'RouteScript', metadata: { name: `rs-${i}`, namespace }, spec: { targetRefs: [{ kind: 'Ingress', name: `ing-${i}` }], code: 'export function onRequest(req) { return req.headers["x-block"] ? { respond: { status: 403 } } : null; }' } });
    }
  }
  return objects;
}

console.log('ingresses  objects  compile ms (median)  min–max      heap held MB  table JSON MB  diagnostics');
for (const n of sizes) {
  const objects = cluster(n);
  const times: number[] = [];
  let held = 0;
  let jsonBytes = 0;
  let diagnostics = 0;
  // What a controller holds: the last result (the table, statuses, diagnostics) stays referenced.
  let kept: unknown = null;
  for (let r = 0; r < rounds; r++) {
    kept = null;
    gc();
    const before = process.memoryUsage().heapUsed;
    const started = performance.now();
    const { snapshot } = snapshotFromObjects(objects);
    const result = compile(snapshot, DEFAULT_COMPILE_OPTIONS);
    times.push(performance.now() - started);
    kept = result;
    gc();
    held = (process.memoryUsage().heapUsed - before) / 1e6;
    jsonBytes = JSON.stringify(result.table).length;
    diagnostics = result.diagnostics.length;
  }
  if (kept === null) throw new Error('no result');
  times.sort((x, y) => x - y);
  const median = times[Math.floor(times.length / 2)]!;
  console.log(`${String(n).padStart(9)}  ${String(objects.length).padStart(7)}  ${median.toFixed(0).padStart(19)}  ${`${times[0]!.toFixed(0)}–${times.at(-1)!.toFixed(0)}`.padEnd(11)}  ${held.toFixed(1).padStart(12)}  ${(jsonBytes / 1e6).toFixed(1).padStart(13)}  ${diagnostics}`);
}
