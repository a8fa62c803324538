/**
 * `stall-why watch <dir>`: a live view of a flight-recorder directory (or of a ClickHouse source,
 * searched again over the window ending at each refresh). On a TTY it redraws an
 * alternate screen every interval, stuck turns on top, and restores the terminal on Ctrl-C or
 * SIGTERM. When stdout is not a TTY it prints the report each time it changes (a turn appears,
 * changes status or verdict, or shows new activity), with `--json` as one JSON line per change. The
 * loop is in watch-action.ts, loaded when the command runs.
 */
import { Option, type Command } from 'commander';
import { addAnalysisOptions, durationArgument } from '../analysis-options.js';
import { DEFAULT_LIVE_WINDOW_MS } from '../live-window.js';
import { addMetricsOptions } from '../metrics-options.js';
import type { WatchOptions } from './watch-action.js';

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
      const { watch } = await import('./watch-action.js');
      process.exitCode = await watch(dir, options);
    });
}
