/**
 * `stall-why watch <dir>`: a live view of a flight-recorder directory (or of a ClickHouse source,
 * searched again over the window ending at each refresh). On a TTY it redraws an
 * alternate screen every interval, stuck turns on top, and restores the terminal on Ctrl-C or
 * SIGTERM. When stdout is not a TTY it prints the report each time it changes (a turn appears,
 * changes status or verdict, or shows new activity), with `--json` as one JSON line per change.
 */
import { stat } from 'node:fs/promises';
import { Option, type Command } from 'commander';
import { TraceInputError, type Report } from '@stall-why/classifier';
import { isClickHouseAddress } from '@stall-why/clickhouse/address';
import { addAnalysisOptions, durationArgument, thresholdsFrom, type AnalysisOptionValues } from '../analysis-options.js';
import { EXIT_OK, EXIT_USAGE } from '../exit-codes.js';
import { toJsonReport } from '../json-report.js';
import { writeError } from '../error-line.js';
import { formatClock } from '../judged-moment.js';
import { createPalette } from '../render/palette.js';
import { shouldColour } from '../render/colour-choice.js';
import { renderWatchView, watchSignature } from '../render/watch-view.js';
import { TerminalScreen } from '../terminal-screen.js';
import { DEFAULT_LIVE_WINDOW_MS } from '../live-recording.js';
import { addMetricsOptions, startMetrics, type MetricsOptionValues } from '../metrics-options.js';
import { TraceJudge } from '../trace-judge.js';
import type { ClickHouseJudge } from '../clickhouse-judge.js';

interface WatchOptions extends AnalysisOptionValues, MetricsOptionValues {
  interval?: number;
  window: number;
  json?: boolean;
}

/** Default refresh interval. */
export const DEFAULT_WATCH_INTERVAL_MS = 1_000;
/** Default refresh interval of a ClickHouse source: each refresh is a search (a few queries) in the store. */
export const DEFAULT_CLICKHOUSE_WATCH_INTERVAL_MS = 5_000;

const EXAMPLES = `
Examples:
  $ stall-why watch ./flight-recorder
      live view, refreshed every second; Ctrl-C leaves the terminal as it was
  $ stall-why watch ./flight-recorder --interval 5s --stuck-after 2m
      refresh every 5 seconds; call a turn stuck after 2 minutes of quiet
  $ stall-why watch ./flight-recorder --json > changes.ndjson
      not a terminal: one JSON report per change, one per line
  $ stall-why watch ./flight-recorder --window 1h
      keep turns that ended in the last hour in view (default 15 minutes; open turns always)
  $ stall-why watch clickhouse://ch.internal:8123/otel --metrics-port 9464
      a fleet: searched every 5 seconds over the last --window (15m); the verdicts served to Prometheus

A flight recorder is read incrementally: each refresh decodes only the records written since the last.
A ClickHouse source (clickhouse://…, clickhouses://…, chdb:<dir>) is searched again at each refresh:
open turns through their pending-span markers, ended turns that failed or waited longer than
--slow-phase within --window. One process owns a chdb directory: watch one that nothing writes.`;

export function registerWatchCommand(program: Command): void {
  addMetricsOptions(addAnalysisOptions(
    program
      .command('watch')
      .description('live view of a flight-recorder directory or a ClickHouse source: stuck turns on top, refreshed every second')
      .argument('<dir>', 'the flight-recorder directory (or any trace path, or a ClickHouse URL) to watch')
      .addOption(new Option('--interval <duration>', 'time between refreshes (default 1s; a ClickHouse source 5s)').argParser(durationArgument))
      .addOption(new Option('--window <duration>', 'keep ended turns this long after their last activity (a ClickHouse source: search those that started within it); open turns always').argParser(durationArgument).default(DEFAULT_LIVE_WINDOW_MS, '15m'))
      .option('--json', 'when stdout is not a terminal: one JSON report per line, per change'),
  ))
    .addHelpText('after', EXAMPLES)
    .action(async (dir: string, options: WatchOptions) => {
      process.exitCode = await watch(dir, options);
    });
}

async function watch(dir: string, options: WatchOptions): Promise<number> {
  const clickhouse = isClickHouseAddress(dir);
  const judge = clickhouse ? await openClickHouse(dir, options) : await openTrace(dir, options);
  if (!judge) return EXIT_USAGE;
  const interval = Math.max(50, options.interval ?? (clickhouse ? DEFAULT_CLICKHOUSE_WATCH_INTERVAL_MS : DEFAULT_WATCH_INTERVAL_MS));
  const tty = process.stdout.isTTY === true;
  const palette = createPalette(shouldColour({ flag: options.color, env: process.env, isTTY: tty }));
  const screen = tty ? new TerminalScreen(process.stdout) : undefined;
  const title = `stall-why watch ${judge.shown} · every ${interval / 1000}s · Ctrl-C to quit`;
  let lastSignature: string | undefined;
  let lastProblem: string | undefined;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  const metrics = await startMetrics(options);

  const refresh = async (): Promise<void> => {
    let report: Report | undefined;
    let problem: string | undefined;
    try {
      report = await judge.judge(Date.now());
      metrics?.update(report);
    } catch (err) {
      // A segment caught mid-write reads as corrupt for one refresh: say so and keep watching.
      problem = err instanceof TraceInputError ? err.message : `cannot read: ${(err as Error).message.split('\n')[0]}`;
    }
    if (stopped) return;
    if (screen) {
      const empty: Report = { judgedAt: new Date().toISOString(), turns: [], sources: [] };
      screen.draw(renderWatchView(report ?? empty, { palette, title, columns: process.stdout.columns || undefined, rows: process.stdout.rows || undefined, problem }));
    } else if (problem !== undefined) {
      if (problem !== lastProblem) writeError(problem);
    } else if (report) {
      const signature = watchSignature(report);
      if (signature !== lastSignature) {
        lastSignature = signature;
        process.stdout.write(options.json ? `${JSON.stringify(toJsonReport(report))}\n` : nonTtyBlock(report, title, palette));
      }
    }
    lastProblem = problem;
  };

  const code = await new Promise<number>((resolve) => {
    const stop = (): void => {
      if (stopped) return;
      stopped = true;
      clearTimeout(timer);
      screen?.leave();
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve(EXIT_OK);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    screen?.enter();
    const loop = async (): Promise<void> => {
      await refresh();
      if (!stopped) timer = setTimeout(loop, interval);
    };
    void loop();
  });
  await metrics?.shutdown();
  await judge.close?.();
  return code;
}

/** What watch judges at each refresh. */
interface WatchedSource {
  /** The source as messages print it (a URL without credentials). */
  readonly shown: string;
  judge(now: number): Promise<Report>;
  close?(): Promise<void>;
}

async function openTrace(dir: string, options: WatchOptions): Promise<WatchedSource | undefined> {
  try {
    await stat(dir);
  } catch (err) {
    writeError(`${dir}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : 'cannot read'}`);
    return undefined;
  }
  const judge = await TraceJudge.open(dir, { format: options.format, thresholds: thresholdsFrom(options), windowMs: options.window, maxLineBytes: options.maxLineBytes });
  return { shown: dir, judge: (now) => judge.judge(now) };
}

/** The ClickHouse source, opened once; undefined (said in one line) when it cannot be. */
async function openClickHouse(url: string, options: WatchOptions): Promise<ClickHouseJudge | undefined> {
  const [{ ClickHouseJudge }, { ClickHouseAddressError, ClickHouseError }] = await Promise.all([import('../clickhouse-judge.js'), import('@stall-why/clickhouse')]);
  try {
    return await ClickHouseJudge.open(url, { thresholds: thresholdsFrom(options), windowMs: options.window });
  } catch (err) {
    if (!(err instanceof ClickHouseError || err instanceof ClickHouseAddressError)) throw err;
    writeError(err.message);
    return undefined;
  }
}

function nonTtyBlock(report: Report, title: string, palette: ReturnType<typeof createPalette>): string {
  const lines = renderWatchView(report, { palette, title });
  return `── ${report.judgedAt.slice(0, 10)} ${formatClock(Date.parse(report.judgedAt))} ──\n${lines.slice(1).join('\n')}\n\n`;
}
