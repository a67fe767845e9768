import { gatewayCompileFlags, nginxCompileFlags } from './dataplane-flags.ts';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import YAML from 'yaml';
import { compile } from '../compile/compile.ts';
import { snapshotFromObjects } from '../compile/snapshot-from-objects.ts';
import { redactTable } from '../dataplane/server/table-redaction.ts';
import { ConfigError } from '../errors.ts';
import { DEFAULT_COMPILE_OPTIONS, DEFAULT_GATEWAY_CONTROLLER_NAME } from '../model/snapshot.ts';
import { createLogger } from '../log.ts';
import { parseManifest } from '../source/manifest-file.ts';
import { ManifestSource } from '../source/manifest-source.ts';
import { withDefaultNamespace } from '../source/namespace-defaults.ts';
import { scriptLocations, withFileLines, type ScriptLocation } from '../source/script-locations.ts';

/** `signalbox compile --in FILE_OR_DIR`: the table and diagnostics for manifests, offline. */
export function registerCompileCommand(program: Command): void {
  program
    .command('compile')
    .description('compile manifests into a routing table and print it with its diagnostics, offline')
    .requiredOption('--in <path>', 'manifest file or directory (YAML or JSON, several documents and kind: List allowed)')
    .option('-o, --output <format>', 'yaml or json', 'yaml')
    .option('--ingress-class <name>', 'IngressClass name for the kubernetes.io/ingress.class annotation', DEFAULT_COMPILE_OPTIONS.ingressClass)
    .option('--controller-name <name>', 'spec.controller of our IngressClasses (k8s.io/ingress-nginx: the ingress-nginx profile)', DEFAULT_COMPILE_OPTIONS.controllerName)
    .option('--nginx-configmap <namespace/name>', 'the ingress-nginx controller ConfigMap among the manifests ("off": none)')
    .option('--default-backend-service <namespace/name>', 'the global default backend of ingress-nginx Ingresses (serves custom-http-errors pages)')
    .option('--watch-ingress-without-class', 'also take Ingresses that name no class')
    .option('--gateway-controller-name <name>', `spec.controllerName of our GatewayClasses ("off": ignore the Gateway API; default ${DEFAULT_GATEWAY_CONTROLLER_NAME})`)
    .option('--gateway-own-ports <http,https>', 'the Gateway listener ports --http-port and --https-port serve', '80,443')
    .option('--gateway-addresses <list>', 'IP addresses (and IPv4 CIDRs) to give Gateways one each')
    .option('--fail-on-error', 'exit 1 when any diagnostic has severity error')
    .option('--show-data', 'print RouteScript data as it is, not only its shape (private keys are never printed)')
    .action(async (opts: { in: string; output: string; ingressClass: string; controllerName: string; nginxConfigmap?: string; defaultBackendService?: string; watchIngressWithoutClass?: boolean; gatewayControllerName?: string; gatewayOwnPorts?: string; gatewayAddresses?: string; failOnError?: boolean; showData?: boolean }) => {
      if (opts.output !== 'yaml' && opts.output !== 'json') throw new ConfigError(`--output: "${opts.output}" is not yaml or json`);
      const { objects, fileDiagnostics, scripts } = await readObjects(opts.in);
      const { snapshot, diagnostics: shapeDiagnostics } = snapshotFromObjects(withDefaultNamespace(objects));
      const result = compile(snapshot, { ingressClass: opts.ingressClass, controllerName: opts.controllerName, ...nginxCompileFlags(opts), ...gatewayCompileFlags(opts) });
      // The same view as /debug/table: this output ends up in CI logs, which more people read than
      // the manifests' Secrets and ConfigMaps. The data is the operator's own, so --show-data may print it.
      const out = {
        table: redactTable(result.table, { showData: opts.showData === true }),
        statuses: result.statuses,
        diagnostics: [...fileDiagnostics, ...shapeDiagnostics, ...withFileLines(result.diagnostics, scripts)],
      };
      process.stdout.write(opts.output === 'json' ? `${JSON.stringify(out, null, 2)}\n` : YAML.stringify(out, { lineWidth: 0 }));
      if (opts.failOnError && out.diagnostics.some((d) => d.severity === 'error')) process.exitCode = 1;
    });
}

/**
 * The objects of a manifest file or directory (as `serve --manifests` reads them), the diagnostics
 * of files that do not parse, and where each RouteScript's code is (for line numbers). Shared with
 * `signalbox migrate`.
 */
export async function readObjects(path: string): Promise<{ objects: unknown[]; fileDiagnostics: ReturnType<ManifestSource['diagnostics']>; scripts: ScriptLocation[] }> {
  let isDir: boolean;
  try {
    isDir = (await stat(path)).isDirectory();
  } catch {
    throw new ConfigError(`--in: cannot read "${path}"`);
  }
  if (isDir) {
    const source = new ManifestSource(path, createLogger({ level: 'silent' }));
    await source.load();
    return { objects: source.objects(), fileDiagnostics: source.diagnostics(), scripts: source.scriptLocations().map((l) => ({ ...l, file: join(path, l.file) })) };
  }
  const text = await readFile(path, 'utf8');
  const parsed = parseManifest(text, path);
  if (!parsed.ok) {
    return { objects: [], fileDiagnostics: [{ kind: 'File', namespace: '', name: path, code: 'ManifestParseError', message: parsed.error, severity: 'error' }], scripts: [] };
  }
  return { objects: [...parsed.objects], fileDiagnostics: [], scripts: scriptLocations(text, path) };
}
