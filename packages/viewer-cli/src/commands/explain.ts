/**
 * The default command, `stall-why <trace...>`: reads the traces, judges every turn, and prints for
 * each one that needs attention its verdict, evidence, waterfall and next step (or `--json`), and
 * optionally writes a Chrome trace. The work is in explain-action.ts, loaded when the command runs.
 */
import { InvalidArgumentError, type Command } from 'commander';
// The subpath, not the package: defining the options must not load the classifier (start-up, issue 14).
import { DEFAULT_HEAP_LIMIT_MB, DEFAULT_ISOLATE_ABOVE_BYTES } from '@stall-why/classifier/trace-format';
import { isClickHouseAddress } from '@stall-why/clickhouse/address';
import { addAnalysisOptions, durationArgument, momentArgument } from '../analysis-options.js';
import { EXIT_USAGE } from '../exit-codes.js';
import type { ExplainOptions } from './explain-action.js';

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
      const { explain, explainClickHouse } = await import('./explain-action.js');
      process.exitCode = clickhouse.length > 0 ? await explainClickHouse(clickhouse[0]!, options) : await explain(traces, options);
    });
}

function megabytesArgument(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 16 || n > 65536) throw new InvalidArgumentError('expected whole megabytes from 16 to 65536');
  return n;
}
