import { readFile } from 'node:fs/promises';
import { CommanderError, type Command } from 'commander';
import { ConfigError } from '../errors.ts';
import { createLogger } from '../log.ts';
import { RouteState, ScriptEngine, type Outcome, type ScriptSource } from '../script/index.ts';
import { lookupTable, tableLookup } from './script-test-lookups.ts';
import { loadScriptUnderTest } from './script-test-manifest.ts';
import { describeDiagnostic, failureHandling, humanLine, humanResponseLine, jsonLine, type FailureHandling } from './script-test-output.ts';
import { completeRequest, completeResponse, rawRequests, REQUEST_DEFAULTS, RESPONSE_DEFAULTS, type SampleResponse } from './script-test-requests.ts';

interface ScriptTestOptions {
  readonly name?: string;
  readonly request?: string[];
  readonly requests?: string;
  readonly lookup?: string[];
  readonly lookups?: string;
  readonly json?: boolean;
}

const HELP_AFTER = `
Runs the RouteScript in FILE against sample requests, offline, with the proxy's script engine
(isolated-vm, the script's own limits) after the compiler's checks of RouteScripts, so what it
accepts is what the proxy accepts. FILE may hold other documents too, such as the ConfigMap that
spec.dataFrom names, or be a directory of manifests (read as serve --manifests reads it), where
the Services and ConfigMaps the RouteScript names are found in their own files. Backends naming
Services that are not there are reported as notes only. A compile error gives the line and column
in the code and, for code written as a literal block (code: |), in the file.

A request is a JSON object with any of these fields (default in brackets):
  method [${REQUEST_DEFAULTS.method}], host [${REQUEST_DEFAULTS.host}; lower-cased, port dropped], path [${REQUEST_DEFAULTS.path}; "?..." becomes the query],
  query {}, headers {} (names lower-cased), cookies [from the cookie header],
  clientIp [${REQUEST_DEFAULTS.clientIp}], sni [null],
  response [{"status": ${RESPONSE_DEFAULTS.status}, "headers": {}}]: what the upstream answers, for onResponse
The --request flags run first, in order, then the --requests file (a JSON array, JSON lines or a
YAML list). Without any request, one default request runs.

When the script exports onResponse, it runs after each request on the response the client would
get: the request's own response field, or the script's respond or redirect answer, or its
rejectStatus when onRequest failed under failurePolicy reject. It is shown on a line of its own
("#N response STATUS -> ..."), or in the JSON line as response and responseOutcome.

ctx.state is one fresh store for the whole invocation, shared by its requests in order, so
counters and throttles can be tried across requests. ctx.log lines go to standard error. Unlike
the proxy, a script failing again and again is not backed off: every request runs it.

Exit status: 0 when every request got a decision (default routing and respond included), 1 when
any run failed, 2 on bad input (usage, an unreadable file, an invalid RouteScript or request).

Example:
  signalbox script test shards.yaml --request '{"headers": {"x-shop-id": "1"}}' --json
`;

/** `signalbox script test FILE|DIR`: runs a RouteScript against sample requests and prints its decisions. */
export function registerScriptCommand(program: Command): void {
  const script = program.command('script').description('work with RouteScripts offline').exitOverride(usageExitCode);
  script
    .command('test')
    .description('run a RouteScript against sample requests, offline, and print its decisions')
    .argument('<file>', 'manifest file holding the RouteScript (YAML or JSON, several documents and kind: List allowed), or a directory of manifests')
    .option('--name <name>', 'the RouteScript to run (name or namespace/name), when FILE (or the directory) holds several')
    .option('--request <json>', 'a sample request as JSON (repeatable)', collect)
    .option('--requests <file>', 'sample requests: a JSON array, JSON lines or a YAML list')
    .option('--lookup <key=value>', 'what ctx.lookup(key) answers (repeatable); other keys are not found', collect)
    .option('--lookups <file>', 'ctx.lookup answers as a JSON object of key to string, or null for not found')
    .option('--json', 'one JSON line {request, outcome} per request instead of text')
    .addHelpText('after', HELP_AFTER)
    .exitOverride(usageExitCode)
    .action((file: string, opts: ScriptTestOptions) => runScriptTest(file, opts));
}

/** Commander's usage errors exit 1 by default; bad input exits 2 across this command. */
function usageExitCode(err: CommanderError): never {
  throw err.exitCode === 0 ? err : new CommanderError(2, err.code, err.message);
}

// No default list: commander would print "(default: [])" in the help.
function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

async function runScriptTest(file: string, opts: ScriptTestOptions): Promise<void> {
  const note = (text: string): void => {
    process.stderr.write(`signalbox: note: ${text}\n`);
  };
  // Every input is checked before any script runs, so bad input never leaves half the output.
  const requestsFile = opts.requests === undefined ? null : { name: opts.requests, text: await readText(opts.requests, '--requests') };
  const raw = rawRequests(opts.request ?? [], requestsFile);
  const given = raw.length === 0 ? [{ value: {}, origin: null }] : raw;
  const requests = given.map((r, i) => completeRequest(r, i + 1));
  const responses = given.map((r, i) => completeResponse(r, i + 1));
  const lookupsFile = opts.lookups === undefined ? null : { name: opts.lookups, text: await readText(opts.lookups, '--lookups') };
  const table = lookupTable(opts.lookup ?? [], lookupsFile);

  const { script, notes } = await loadScriptUnderTest(file, opts.name, (d, severity) => {
    process.stderr.write(`signalbox: ${severity}: ${describeDiagnostic(d)}\n`);
  });
  for (const d of notes) note(describeDiagnostic(d));
  if (script.pause !== null) {
    note(`spec.pause.enabled is true: in the proxy every request of its routes is held (up to ${script.pause.maxWaitMs / 1000} s) before the script runs; the runs below are what happens once the pause is lifted`);
  }
  const declared = script.lookup !== null;
  if (declared && table === null) note('spec.lookup is declared but neither --lookup nor --lookups was given: ctx.lookup answers null (not found) for every key');
  if (!declared && table !== null) note('the RouteScript declares no spec.lookup, so ctx.lookup fails as it would in the proxy; --lookup and --lookups are not used');

  let current = 0;
  const engine = new ScriptEngine({
    log: createLogger({ destination: { write: (line: string) => writeEngineLine(line, current) } }),
    maxIsolates: 1,
    lookup: tableLookup(table, declared),
    // Offline every request should show what the script does, not that the proxy stopped asking it.
    failurePolicy: { threshold: Number.MAX_SAFE_INTEGER },
    // The proxy keeps 10 lines/s; a run of many requests would otherwise lose most of its lines.
    logLinesPerSecond: 10_000,
  });
  const source: ScriptSource = { id: script.name, code: script.code, data: script.data, limits: script.limits, backends: Object.keys(script.backends) };
  const handling = failureHandling(script);
  let failed = false;
  try {
    const loaded = engine.load(source);
    const status = engine.status(source.id);
    if (status?.state === 'failing') note(`the script does not load (${status.lastFailure?.message ?? 'unknown error'}); every request fails as unavailable`);
    const state = new RouteState();
    for (const [i, req] of requests.entries()) {
      current = i + 1;
      const outcome = await engine.run(loaded, req, state);
      if (!outcome.ok) failed = true;
      if (loaded.hooks?.onResponse !== true) {
        process.stdout.write(`${opts.json === true ? jsonLine(req, outcome, handling) : humanLine(current, req, outcome, handling)}\n`);
        continue;
      }
      const res = responseAfter(outcome, responses[i]!, handling);
      const resOutcome = await engine.runResponse(loaded, { ...res, request: req }, state);
      if (!resOutcome.ok) failed = true;
      if (opts.json === true) process.stdout.write(`${jsonLine(req, outcome, handling, { res, outcome: resOutcome })}\n`);
      else process.stdout.write(`${humanLine(current, req, outcome, handling)}\n${humanResponseLine(current, res, resOutcome, handling)}\n`);
    }
  } finally {
    engine.dispose();
  }
  if (failed) process.exitCode = 1;
}

/** The response the client would get for a request, which the script's onResponse sees. */
function responseAfter(outcome: Outcome, upstream: SampleResponse, handling: FailureHandling): SampleResponse {
  if (!outcome.ok) return handling.failurePolicy === 'reject' ? { status: handling.rejectStatus, headers: {} } : upstream;
  const decision = outcome.decision;
  if (decision?.respond !== undefined) return { status: decision.respond.status, headers: decision.respond.headers ?? {} };
  if (decision?.redirect !== undefined) return { status: decision.redirect.status, headers: { location: decision.redirect.location } };
  return upstream;
}

/**
 * The engine's log: `ctx.log` lines (info, naming the script) as `#N log: …` for the request that
 * wrote them, anything else it says as a `signalbox:` line — except that a script is failing,
 * which the note about a script that does not load already says in this command's terms.
 */
function writeEngineLine(line: string, request: number): void {
  let entry: { level?: number; msg?: string; script?: string; droppedBefore?: number; lastFailure?: unknown };
  try {
    entry = JSON.parse(line) as typeof entry;
  } catch {
    process.stderr.write(line);
    return;
  }
  const dropped = entry.droppedBefore === undefined ? '' : ` (${entry.droppedBefore} earlier lines dropped by the rate limit)`;
  if (entry.lastFailure !== undefined) return;
  if (entry.level === 30 && entry.script !== undefined) process.stderr.write(`#${request} log: ${entry.msg ?? ''}${dropped}\n`);
  else process.stderr.write(`signalbox: ${entry.msg ?? line.trim()}\n`);
}

async function readText(path: string, flag: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`${flag}: cannot read "${path}" (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
}
