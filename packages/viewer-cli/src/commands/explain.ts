/**
 * The default command, `stall-why <trace...>`: reads the traces, judges every turn, and prints for
 * each one that needs attention its verdict, evidence, waterfall and next step (or `--json`), and
 * optionally writes a Chrome trace.
 */
import { writeFile } from 'node:fs/promises';
import { InvalidArgumentError, type Command } from 'commander';
import { analyzeTraces, DEFAULT_HEAP_LIMIT_MB, DEFAULT_ISOLATE_ABOVE_BYTES, TraceInputError, type Analysis, type Report } from '@stall-why/classifier';
import { isClickHouseAddress } from '@stall-why/clickhouse/address';
import type { FleetSummary } from '@stall-why/clickhouse';
import { writeError } from '../error-line.js';
import { SpoolError, spoolInputs, type SpooledInputs } from '../spooled-inputs.js';
import { addAnalysisOptions, durationArgument, momentArgument, thresholdsFrom, type AnalysisOptionValues } from '../analysis-options.js';
import { renderFleet } from '../render/fleet-view.js';
import { buildChromeTrace } from '../chrome/chrome-export.js';
import { EXIT_USAGE, exitCodeFor } from '../exit-codes.js';
import { formatJsonReport } from '../json-report.js';
import { ProgressLine } from '../progress-line.js';
import { createPalette } from '../render/palette.js';
import { shouldColour } from '../render/colour-choice.js';
import { renderReport } from '../render/report-view.js';
import { AmbiguousIdError, filterReport, noMatchMessage } from '../report-filter.js';
import { VERSION } from '../version.js';

interface ExplainOptions extends AnalysisOptionValues {
  json?: boolean;
  since?: number;
  service?: string;
  all?: boolean;
  now?: number;
  turn?: string;
  thread?: string;
  chrome?: string;
  maxHeap?: number;
}

const EXAMPLES = `
Examples:
  $ stall-why ~/.codex/sessions/2026/11/24/rollout-2026-11-24T14-52-42-019a.jsonl
      explain a Codex rollout: what each turn waited on
  $ stall-why ./flight-recorder --now 2026-11-24T15:00:00Z
      judge a flight-recorder directory at the moment the freeze was noticed
  $ stall-why trace.otlp.json --json | jq '.turns[] | select(.status == "stuck")'
      the machine-readable report
  $ stall-why ./flight-recorder --turn 019a7e2f-3 --chrome turn.json
      export one turn's timeline; open turn.json in https://ui.perfetto.dev
  $ stall-why ./recordings --stuck-after 2m --all
      call a turn stuck only after 2 minutes of quiet, and show healthy turns too
  $ zcat old-rollout.jsonl.gz | stall-why -     (or: stall-why old-rollout.jsonl.gz)
      read standard input, a pipe or a gzip file
  $ stall-why clickhouse://stall@ch.internal:8123/otel --since 2h --service checkout
      the fleet: the turns ClickHouse finds stuck, failed or slow (the exporter's schema), per service and host
  $ stall-why chdb:./store --json
      the same on embedded ClickHouse filled by \`stall-why collect --clickhouse chdb:./store\` (once it stopped)

Exit codes: 0 no turn stuck or failed, 1 at least one stuck or failed, 2 usage or input error.
Formats: flight-recorder (a directory), otlp-json, codex-rollout, chrome-trace; detected from content.
A trace may also be - (standard input), a pipe, or gzip-compressed: it is copied to a private
temporary file first (at most 8 GiB) and removed after.
A ClickHouse source (clickhouse://[user[:password]@]host:8123/<db>, clickhouses://… or ?secure=1 for
TLS, chdb:<dir>) is searched in SQL: open turns through pending-span markers, ended turns that failed
or waited longer than --slow-phase, within --since; --service, --thread and --turn are pushed down
(a whole id through the index; else it is taken as the start of one). The password may come from CLICKHOUSE_USER / CLICKHOUSE_PASSWORD; it is never printed.`;

export function registerExplainCommand(program: Command): void {
  addAnalysisOptions(
    program
      .argument('[trace...]', 'trace files or directories (flight recorder, OTLP JSON, Codex rollout, Chrome trace); - for standard input')
      .option('--json', 'print the report as JSON on stdout, and nothing else')
      .option('--all', 'show healthy turns in full instead of one summary line')
      .option('--now <moment>', 'judge the trace at this moment: ISO-8601 or epoch ms (default: now)', momentArgument)
      .option('--turn <id>', 'only this turn (its id, or a unique start of it)')
      .option('--thread <id>', "only this thread's turns (its id, or a unique start of it)")
      .option('--chrome <file>', 'also write a Chrome trace event file (Perfetto UI, chrome://tracing)')
      .option('--max-heap <MB>', `heap cap of the worker that reads inputs over ${DEFAULT_ISOLATE_ABOVE_BYTES / 1024 / 1024} MiB (default ${DEFAULT_HEAP_LIMIT_MB}); an input that needs more is an error, never read uncapped`, megabytesArgument)
      .option('--since <duration>', 'ClickHouse sources: search turns that started this long before the judged moment (default 1h; open turns: at least --abandoned-after)', durationArgument)
      .option('--service <name>', 'ClickHouse sources: only this service.name'),
  )
    .addHelpText('after', EXAMPLES)
    .action(async (traces: string[], options: ExplainOptions) => {
      if (traces.length === 0) program.error('no trace given: pass a file or directory (stall-why --help shows examples)', { exitCode: EXIT_USAGE });
      const clickhouse = traces.filter(isClickHouseAddress);
      if (clickhouse.length > 0 && traces.length > 1) program.error('a ClickHouse source is judged on its own: pass it alone', { exitCode: EXIT_USAGE });
      process.exitCode = clickhouse.length > 0 ? await explainClickHouse(clickhouse[0]!, options) : await explain(traces, options);
    });
}

/** A ClickHouse source: the search runs there, the fleet summary leads the report. */
async function explainClickHouse(url: string, options: ExplainOptions): Promise<number> {
  const { analyzeClickHouse, ClickHouseAddressError, ClickHouseError } = await import('@stall-why/clickhouse');
  let analysis: Awaited<ReturnType<typeof analyzeClickHouse>>;
  try {
    analysis = await analyzeClickHouse(url, {
      now: options.now ?? Date.now(),
      thresholds: thresholdsFrom(options),
      sinceMs: options.since,
      service: options.service,
      thread: options.thread,
      turn: options.turn,
    });
  } catch (err) {
    if (err instanceof ClickHouseError || err instanceof ClickHouseAddressError) return fail(err.message);
    throw err;
  }
  return present(analysis.report, analysis.spans, options, analysis.fleet);
}

async function explain(traces: string[], options: ExplainOptions): Promise<number> {
  let inputs: SpooledInputs;
  try {
    inputs = await spoolInputs(traces);
  } catch (err) {
    if (err instanceof SpoolError) return fail(err.message);
    throw err;
  }
  const progress = new ProgressLine({ stream: process.stderr });
  let report: Report;
  let spans: Analysis['spans'];
  try {
    const analysis = await analyzeTraces([...inputs.paths], {
      now: options.now ?? Date.now(),
      // Whether a recording's writer still runs says something only about now, not about a --now in the past.
      checkWriters: options.now === undefined,
      format: options.format,
      maxLineBytes: options.maxLineBytes,
      thresholds: thresholdsFrom(options),
      heapLimitMb: options.maxHeap,
      onProgress: (p) => progress.update({ ...p, path: inputs.displayName(p.path) }),
    });
    report = withInputNames(analysis.report, inputs.displayName);
    spans = analysis.spans;
  } catch (err) {
    if (err instanceof TraceInputError) {
      return fail(`${inputs.displayName(err.file)}${err.position === undefined ? '' : `:${err.position}`}: ${err.reason}`);
    }
    throw err;
  } finally {
    progress.done();
    await inputs.cleanup();
  }
  return present(report, spans, options);
}

/** Filters, exports and prints a judged report (and a ClickHouse source's fleet summary); the exit code. */
async function present(report: Report, spans: Analysis['spans'], options: ExplainOptions, fleet?: FleetSummary): Promise<number> {
  const filter = { turnId: options.turn, threadId: options.thread };
  let filtered: Report;
  try {
    filtered = filterReport(report, filter);
  } catch (err) {
    if (err instanceof AmbiguousIdError) return fail(err.message);
    throw err;
  }
  if (filtered.turns.length === 0 && (filter.turnId !== undefined || filter.threadId !== undefined)) return fail(noMatchMessage(report, filter));

  if (options.chrome !== undefined) {
    const trace = buildChromeTrace(filtered, spans, { onlyReportedTurns: filtered !== report, otherData: { version: VERSION } });
    try {
      await writeFile(options.chrome, JSON.stringify(trace));
    } catch (err) {
      return fail(`${options.chrome}: cannot write the Chrome trace: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    process.stderr.write(`stall-why: wrote ${options.chrome} (${trace.traceEvents.length} events); open it in https://ui.perfetto.dev or chrome://tracing\n`);
  }

  if (options.json) {
    process.stdout.write(fleet ? formatJsonReport(filtered, { fleet }) : formatJsonReport(filtered));
  } else {
    const palette = createPalette(shouldColour({ flag: options.color, env: process.env, isTTY: process.stdout.isTTY === true }));
    if (fleet) process.stdout.write(renderFleet(fleet, palette));
    // A pseudo-terminal may report 0 columns: then the default width.
    const columns = process.stdout.isTTY && process.stdout.columns > 0 ? process.stdout.columns : undefined;
    for (const chunk of renderReport(filtered, { palette, all: options.all, columns })) process.stdout.write(chunk);
  }
  return exitCodeFor(filtered);
}

/** The report with the inputs named as the user gave them (`-`, `trace.json.gz`), not by their spooled copies. */
function withInputNames(report: Report, name: (path: string) => string): Report {
  return {
    ...report,
    sources: report.sources.map((s) => ({ ...s, path: name(s.path) })),
    turns: report.turns.map((t) => ({ ...t, sources: t.sources.map(name) })),
  };
}

function fail(message: string): number {
  writeError(message);
  return EXIT_USAGE;
}

function megabytesArgument(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 16 || n > 65536) throw new InvalidArgumentError('expected whole megabytes from 16 to 65536');
  return n;
}
