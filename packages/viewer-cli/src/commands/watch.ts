/**
 * `stall-why watch <dir>`: a live view of a flight-recorder directory. On a TTY it redraws an
 * alternate screen every interval, stuck turns on top, and restores the terminal on Ctrl-C or
 * SIGTERM. When stdout is not a TTY it prints the report each time it changes (a turn appears,
 * changes status or verdict, or shows new activity), with `--json` as one JSON line per change. The loop is in watch-action.ts, loaded when the command runs.
 */
import { Option, type Command } from 'commander';
import { addAnalysisOptions, durationArgument } from '../analysis-options.js';
import { DEFAULT_LIVE_WINDOW_MS } from '../live-window.js';
import { addMetricsOptions } from '../metrics-options.js';
import type { WatchOptions } from './watch-action.js';

/** Default refresh interval. */
export const DEFAULT_WATCH_INTERVAL_MS = 1_000;

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

A flight recorder is read incrementally: each refresh decodes only the records written since the last.`;

export function registerWatchCommand(program: Command): void {
  addMetricsOptions(addAnalysisOptions(
    program
      .command('watch')
      .description('live view of a flight-recorder directory: stuck turns on top, refreshed every second')
      .argument('<dir>', 'the flight-recorder directory (or any trace path) to watch')
      .addOption(new Option('--interval <duration>', 'time between refreshes').argParser(durationArgument).default(DEFAULT_WATCH_INTERVAL_MS, '1s'))
      .addOption(new Option('--window <duration>', 'a flight recorder: keep ended turns this long after their last activity (open turns always)').argParser(durationArgument).default(DEFAULT_LIVE_WINDOW_MS, '15m'))
      .option('--json', 'when stdout is not a terminal: one JSON report per line, per change'),
  ))
    .addHelpText('after', EXAMPLES)
    .action(async (dir: string, options: WatchOptions) => {
      const { watch } = await import('./watch-action.js');
      process.exitCode = await watch(dir, options);
    });
}

