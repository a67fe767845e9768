/**
 * The chart's generated files and how to render it, shared by the chart tests, the e2e test and the
 * Makefile (`node test/chart/chart-tools.ts chart-crds|deploy-manifest`), so that what the tests
 * compare against is produced by the very code that writes it.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import YAML from 'yaml';

export const REPO = resolve(import.meta.dirname, '../..');
export const CHART_DIR = join(REPO, 'charts/signalbox');
export const SOURCE_CRD = join(REPO, 'crds/routescript.yaml');
export const CHART_CRD = join(CHART_DIR, 'crds/routescript.yaml');
export const DEPLOY_MANIFEST = join(REPO, 'deploy/signalbox.yaml');
export const DASHBOARD = join(CHART_DIR, 'dashboards/signalbox.json');

/** Release and namespace of deploy/signalbox.yaml. */
export const DEPLOY_RELEASE = 'signalbox';
export const DEPLOY_NAMESPACE = 'signalbox';

/** Kubernetes object as rendered. */
export type K8sObject = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> } } & Record<string, unknown>;

const CRD_HEADER =
  '# Generated from crds/routescript.yaml by `make chart-crds`: a copy rather than a symlink, so the\n' +
  '# chart directory stands on its own. Edit that file, not this one.\n';

/** What charts/signalbox/crds/routescript.yaml must hold. */
export function chartCrdText(): string {
  return CRD_HEADER + readFileSync(SOURCE_CRD, 'utf8');
}

/**
 * The Gateway API files the chart installs with `gatewayAPI.installCRDs` (a template reads them
 * from files/gateway-api/), each from crds/gateway-api/ of the repository.
 */
export const GATEWAY_API_FILES: readonly { readonly source: string; readonly chart: string }[] = ['standard-v1.6.3.yaml', 'safe-upgrades-v1.6.3.yaml'].map((name) => ({
  source: join(REPO, 'crds/gateway-api', name),
  chart: join(CHART_DIR, 'files/gateway-api', name),
}));

/**
 * What the chart's copy of a Gateway API file must hold: the source with
 * `helm.sh/resource-policy: keep` added to every object's annotations, so that `helm uninstall`
 * leaves the CRDs (and every Gateway and route) in place. Every object of these files has
 * annotations (the bundle version), right under `metadata:`.
 */
export function chartGatewayApiText(source: string): string {
  const text = readFileSync(source, 'utf8');
  const kept = text.replace(/^metadata:\n  annotations:\n/gm, 'metadata:\n  annotations:\n    helm.sh/resource-policy: keep\n');
  const header = `# Generated from crds/gateway-api/${source.split('/').pop()} by \`make chart-crds\`, with helm.sh/resource-policy: keep\n# added to every object. Edit that file, not this one.\n`;
  return header + kept;
}

const K8S_SCRIPT = join(REPO, 'scripts/k8s-binaries.sh');

/**
 * The directory `scripts/k8s-binaries.sh` builds helm into, computed from the versions in the script
 * without running it (it would build what is missing, which takes minutes). e2e/chart.e2e.ts checks
 * that this agrees with the script's own answer.
 */
export function expectedHelmPath(): { path: string; version: string } {
  const script = readFileSync(K8S_SCRIPT, 'utf8');
  const version = (name: string): string => {
    const match = new RegExp(`^${name}=([0-9][^\\s]*)$`, 'm').exec(script);
    if (match?.[1] === undefined) throw new Error(`${K8S_SCRIPT} no longer sets ${name}=`);
    return match[1];
  };
  const cache = process.env.SIGNALBOX_CACHE || join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'signalbox');
  const dir = `v${version('k8s_version')}-etcd${version('etcd_version')}-helm${version('helm_version')}`;
  return { path: join(cache, 'k8s', dir, 'bin', 'helm'), version: version('helm_version') };
}

/**
 * The pinned helm when it is already built (`SIGNALBOX_HELM` overrides), else null. A different
 * helm could render the chart differently and make deploy/signalbox.yaml look stale.
 */
export function findHelm(): string | null {
  const wanted = expectedHelmPath();
  const path = process.env.SIGNALBOX_HELM || wanted.path;
  if (!existsSync(path)) return null;
  const said = spawnSync(path, ['version'], { encoding: 'utf8' });
  return said.status === 0 && said.stdout.includes(`Version:"v${wanted.version}"`) ? path : null;
}

export interface HelmRun {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs helm; never throws for a failing status. */
export function runHelm(helm: string, args: readonly string[], input?: string): HelmRun {
  // The user's repositories, plugins and registry logins must not change what the tests see.
  const env = { ...process.env, HELM_CACHE_HOME: '/nonexistent', HELM_CONFIG_HOME: '/nonexistent', HELM_DATA_HOME: '/nonexistent' };
  const run = spawnSync(helm, args, { encoding: 'utf8', input: input ?? '', env, maxBuffer: 64 * 1024 * 1024 });
  if (run.error) throw run.error;
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

export interface TemplateOptions {
  readonly release?: string;
  readonly namespace?: string;
  /** Values (as a values file would give them). */
  readonly values?: Record<string, unknown>;
  readonly includeCrds?: boolean;
}

/** `helm template` of the chart; the raw result, for tests that expect a failure. */
export function helmTemplateRun(helm: string, options: TemplateOptions = {}): HelmRun {
  const args = ['template', options.release ?? DEPLOY_RELEASE, CHART_DIR, '--namespace', options.namespace ?? DEPLOY_NAMESPACE];
  if (options.includeCrds) args.push('--include-crds');
  // JSON is YAML, and stdin keeps the values out of temp files.
  if (options.values !== undefined) args.push('--values', '-');
  return runHelm(helm, args, options.values === undefined ? undefined : JSON.stringify(options.values));
}

/** `helm template` of the chart: its YAML, or an error with helm's message. */
export function helmTemplate(helm: string, options: TemplateOptions = {}): string {
  const run = helmTemplateRun(helm, options);
  if (run.status !== 0) throw new Error(`helm template failed (${run.status}): ${run.stderr.trim()}`);
  return run.stdout;
}

/** The objects of a multi-document YAML stream (empty documents dropped). */
export function parseObjects(text: string): K8sObject[] {
  return YAML.parseAllDocuments(text).map((doc) => {
    if (doc.errors.length > 0) throw doc.errors[0];
    return doc.toJS() as K8sObject | null;
  }).filter((o): o is K8sObject => o !== null);
}

const DEPLOY_HEADER = `# signalbox installed with kubectl: the chart in charts/signalbox rendered with its default values
# (release ${DEPLOY_RELEASE}, namespace ${DEPLOY_NAMESPACE}, CRDs included), after the namespace itself.
# Generated by \`make deploy-manifest\`; change the chart, not this file.
#
#   kubectl apply -f deploy/signalbox.yaml
`;

/** The namespace comes first, so that a single `kubectl apply -f` can create everything in order. */
const NAMESPACE = {
  apiVersion: 'v1',
  kind: 'Namespace',
  metadata: {
    name: DEPLOY_NAMESPACE,
    labels: {
      'app.kubernetes.io/part-of': 'signalbox',
      // The pods meet the restricted Pod Security Standard; saying so makes the API server refuse
      // any that stop meeting it.
      'pod-security.kubernetes.io/enforce': 'restricted',
      'pod-security.kubernetes.io/warn': 'restricted',
    },
  },
};

/** What deploy/signalbox.yaml must hold. */
export function deployManifestText(helm: string): string {
  const rendered = helmTemplate(helm, { includeCrds: true });
  return `${DEPLOY_HEADER}---\n${YAML.stringify(NAMESPACE)}${rendered.startsWith('---') ? '' : '---\n'}${rendered}`;
}

function writeAtomically(path: string, text: string): void {
  writeFileSync(`${path}.tmp`, text);
  renameSync(`${path}.tmp`, path);
}

if (import.meta.main) {
  const what = process.argv[2];
  if (what === 'chart-crds') {
    writeAtomically(CHART_CRD, chartCrdText());
    process.stderr.write(`wrote ${CHART_CRD}\n`);
    for (const { source, chart } of GATEWAY_API_FILES) {
      mkdirSync(dirname(chart), { recursive: true });
      writeAtomically(chart, chartGatewayApiText(source));
      process.stderr.write(`wrote ${chart}\n`);
    }
  } else if (what === 'deploy-manifest') {
    const helm = findHelm();
    if (helm === null) {
      process.stderr.write(`helm ${expectedHelmPath().version} is not built: run scripts/k8s-binaries.sh first\n`);
      process.exit(1);
    }
    writeAtomically(DEPLOY_MANIFEST, deployManifestText(helm));
    process.stderr.write(`wrote ${DEPLOY_MANIFEST}\n`);
  } else {
    process.stderr.write('usage: node test/chart/chart-tools.ts chart-crds|deploy-manifest\n');
    process.exit(2);
  }
}
