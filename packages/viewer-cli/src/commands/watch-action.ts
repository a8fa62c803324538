/**
 * What `stall-why watch <dir>` does once its arguments are parsed: the refresh loop, the screen
 * and the metrics. Loaded by the command's action, so that `stall-why --version` and `--help` do
 * not load the classifier (the CLI's start-up, issue 14).
 */
import { stat } from 'node:fs/promises';
import { TraceInputError, type Report } from '@stall-why/classifier';
import { isClickHouseAddress } from '@stall-why/clickhouse/address';
import { thresholdsFrom, type AnalysisOptionValues } from '../analysis-options.js';
import { EXIT_OK, EXIT_USAGE } from '../exit-codes.js';
import { toJsonReport } from '../json-report.js';
import { writeError } from '../error-line.js';
import { formatClock } from '../judged-moment.js';
import { createPalette } from '../render/palette.js';
import { shouldColour } from '../render/colour-choice.js';
import { renderWatchView, watchSignature } from '../render/watch-view.js';
import { TerminalScreen } from '../terminal-screen.js';
import { startMetrics, type MetricsOptionValues } from '../metrics-options.js';
import { TraceJudge } from '../trace-judge.js';
import type { ClickHouseJudge } from '../clickhouse-judge.js';
import { DEFAULT_CLICKHOUSE_WATCH_INTERVAL_MS, DEFAULT_WATCH_INTERVAL_MS } from './watch.js';

export interface WatchOptions extends AnalysisOptionValues, MetricsOptionValues {
  interval?: number;
  window: number;
  json?: boolean;
}

export async function watch(dir: string, options: WatchOptions): Promise<number> {
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
