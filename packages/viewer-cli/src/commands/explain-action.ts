/**
 * What `stall-why <trace...>` does once its arguments are parsed: reads and judges the traces (or
 * searches a ClickHouse source) and prints the report. Loaded by the command's action, so that
 * `stall-why --version` and `--help` do not load the classifier (the CLI's start-up, issue 14).
 */
import { writeFile } from 'node:fs/promises';
import { analyzeTraces, TraceInputError, type Analysis, type Report } from '@stall-why/classifier';
import type { FleetSummary } from '@stall-why/clickhouse';
import { writeError } from '../error-line.js';
import { SpoolError, spoolInputs, type SpooledInputs } from '../spooled-inputs.js';
import { thresholdsFrom, type AnalysisOptionValues } from '../analysis-options.js';
import { EXIT_USAGE, exitCodeFor } from '../exit-codes.js';
import { formatJsonReport } from '../json-report.js';
import { ProgressLine } from '../progress-line.js';
import { AmbiguousIdError, filterReport, noMatchMessage } from '../report-filter.js';
import { VERSION } from '../version.js';

export interface ExplainOptions extends AnalysisOptionValues {
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

/** A ClickHouse source: the search runs there, the fleet summary leads the report. */
export async function explainClickHouse(url: string, options: ExplainOptions): Promise<number> {
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

export async function explain(traces: string[], options: ExplainOptions): Promise<number> {
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

  // The Chrome export and the terminal view are loaded only when asked for: `--json` on a small trace
  // is mostly start-up (issue 14).
  if (options.chrome !== undefined) {
    const { buildChromeTrace } = await import('../chrome/chrome-export.js');
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
    const [{ createPalette }, { shouldColour }, { renderFleet }, { renderReport }] = await Promise.all([
      import('../render/palette.js'),
      import('../render/colour-choice.js'),
      import('../render/fleet-view.js'),
      import('../render/report-view.js'),
    ]);
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
