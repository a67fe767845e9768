/**
 * The Helm chart, checked without an API server. The helm-based checks (test/chart/chart-checks.ts)
 * run here when the pinned helm is already built, which takes a few seconds; on a machine without
 * it they are skipped rather than built (about 11 minutes cold), and `make e2e`, which builds the
 * binaries anyway, runs them in e2e/chart.e2e.ts.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { chartTests } from './chart-checks.ts';
import { takeOverChartTests } from './takeover-checks.ts';
import { CHART_CRD, CHART_DIR, chartCrdText, chartGatewayApiText, DASHBOARD, expectedHelmPath, findHelm, GATEWAY_API_FILES, REPO, SOURCE_CRD } from './chart-tools.ts';

const helm = findHelm();
if (helm !== null) {
  chartTests(() => helm);
  takeOverChartTests(() => helm);
} else {
  const { path, version } = expectedHelmPath();
  test('helm chart charts/signalbox', {
    skip: `helm ${version} is not built at ${path}: run scripts/k8s-binaries.sh (about 11 minutes the first time) or make e2e, which runs these checks too`,
  }, () => {});
}

describe('files generated for the chart', () => {
  test('the chart\'s CRD is crds/routescript.yaml (run make chart-crds after changing it)', () => {
    assert.ok(readFileSync(CHART_CRD, 'utf8') === chartCrdText(), `${CHART_CRD} differs from ${SOURCE_CRD}: run \`make chart-crds\``);
    // Every CRD of the repository ships with the chart, not only the one there is today.
    const source = readdirSync(join(REPO, 'crds')).filter((f) => f.endsWith('.yaml')).sort();
    assert.deepEqual(readdirSync(join(CHART_DIR, 'crds')).sort(), source);
  });

  test('the chart\'s Gateway API files are crds/gateway-api/ with helm.sh/resource-policy: keep on every object (run make chart-crds)', () => {
    assert.deepEqual(readdirSync(join(CHART_DIR, 'files/gateway-api')).sort(), readdirSync(join(REPO, 'crds/gateway-api')).filter((f) => f.endsWith('.yaml')).sort());
    for (const { source, chart } of GATEWAY_API_FILES) {
      const text = readFileSync(chart, 'utf8');
      assert.ok(text === chartGatewayApiText(source), `${chart} differs from ${source}: run \`make chart-crds\``);
      assert.equal(text.match(/^    helm\.sh\/resource-policy: keep$/gm)?.length, readFileSync(source, 'utf8').match(/^metadata:$/gm)?.length, `every object of ${chart} is kept`);
    }
  });
});

/** Every metric name the product defines, from its source (prom-client objects and the hot-path ones). */
function definedMetrics(): Set<string> {
  const names = new Set<string>();
  const dirs = ['src/metrics', 'src/health', 'src/dataplane', 'src/pause', 'src/script'];
  for (const dir of dirs) {
    for (const file of readdirSync(join(REPO, dir), { recursive: true, encoding: 'utf8' })) {
      if (!file.endsWith('.ts')) continue;
      for (const m of readFileSync(join(REPO, dir, file), 'utf8').matchAll(/['"](signalbox_[a-z0-9_]+)['"]/g)) names.add(m[1]!);
    }
  }
  return names;
}

describe('the Grafana dashboard', () => {
  const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as {
    uid: string;
    title: string;
    panels: { id: number; type: string; title: string; targets?: { expr: string }[] }[];
    templating: { list: { name: string }[] };
  };
  const exprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })));

  test('queries only metrics signalbox exports', () => {
    const defined = definedMetrics();
    assert.ok(defined.has('signalbox_http_requests_total') && defined.has('signalbox_leader'), 'found the metric definitions');
    for (const { panel, expr } of exprs) {
      for (const m of expr.matchAll(/\b(signalbox_[a-z0-9_]+)/g)) {
        const name = m[1]!.replace(/_(bucket|sum|count)$/, '');
        assert.ok(defined.has(name), `panel "${panel}" queries ${m[1]}, which signalbox does not export`);
      }
    }
  });

  test('covers traffic, errors, upstreams, scripts, pauses, retries, the breaker, the table, diagnostics, watches, leadership and workers', () => {
    const queried = new Set(exprs.flatMap(({ expr }) => [...expr.matchAll(/\b(signalbox_[a-z0-9_]+)/g)].map((m) => m[1]!.replace(/_(bucket|sum|count)$/, ''))));
    for (const name of [
      'signalbox_http_requests_total', 'signalbox_http_request_duration_seconds', 'signalbox_proxy_errors_total',
      'signalbox_upstream_connect_duration_seconds', 'signalbox_upstream_response_header_duration_seconds',
      'signalbox_script_invocations_total', 'signalbox_script_errors_total', 'signalbox_script_duration_seconds', 'signalbox_script_failing',
      'signalbox_pause_held_requests', 'signalbox_pause_hold_duration_seconds', 'signalbox_pause_expired_total', 'signalbox_pause_rejected_total',
      'signalbox_retries_total', 'signalbox_circuit_breaker_rejections_total', 'signalbox_table_version', 'signalbox_diagnostics',
      'signalbox_kube_watch_errors_total', 'signalbox_leader', 'signalbox_workers',
    ]) {
      assert.ok(queried.has(name), `no panel shows ${name}`);
    }
  });

  test('is one importable dashboard: a fixed uid, unique panel ids, the data source as a variable', () => {
    assert.equal(dashboard.uid, 'signalbox');
    const ids = dashboard.panels.map((p) => p.id);
    assert.equal(new Set(ids).size, ids.length, 'panel ids are unique');
    assert.deepEqual(dashboard.templating.list.map((v) => v.name), ['datasource', 'namespace', 'pod']);
    const text = readFileSync(DASHBOARD, 'utf8');
    // A data source uid of the machine the dashboard was exported from would break it everywhere else.
    for (const m of text.matchAll(/"uid":\s*"([^"]*)"/g)) assert.ok(m[1] === 'signalbox' || m[1] === '${datasource}', `fixed uid ${m[1]}`);
    for (const { panel, expr } of exprs) assert.ok(!/\[\d+[smh]\]/.test(expr), `panel "${panel}" hard-codes a range instead of $__rate_interval`);
  });
});
