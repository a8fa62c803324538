import { mkdirSync } from 'node:fs';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { durationArgument } from '../analysis-options.js';
import { EXIT_USAGE } from '../exit-codes.js';
import { writeError } from '../error-line.js';
import { addMetricsOptions, startMetrics, type MetricsOptionValues } from '../metrics-options.js';
import { httpUrlArgument, portArgument } from '../network-arguments.js';
import type { PeriodicJudgement } from '../periodic-judgement.js';
import type { VerdictMetrics } from '../verdict-metrics.js';

const otlpUrl = httpUrlArgument('http://127.0.0.1:4318/v1/traces');

/** Default time between two judgements of the directory for the verdict metrics. */
const DEFAULT_JUDGE_EVERY_MS = 5_000;

interface CollectOptions extends MetricsOptionValues {
  judgeEvery: number;
  stuckAfter?: number;
  out?: string;
  clickhouse?: string;
  createSchema?: boolean;
  port: number;
  host: string;
  maxBytes?: number;
  forward?: string;
  forwardLogs?: string;
  recordContent?: boolean;
}

const EXAMPLES = `
Examples:
  $ stall-why collect --out ~/.stall-why/flight
  $ OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318 my-agent-server
  $ stall-why buffer ~/.stall-why/flight
  $ stall-why collect --out ~/.stall-why/flight --port 4319 --forward http://collector:4318/v1/traces
  $ stall-why collect --out ~/.stall-why/flight --forward https://example.com/otlp/spans --forward-logs https://example.com/otlp/logs
  $ stall-why collect --out ~/.stall-why/flight --metrics-port 9464 --metrics-otlp http://collector:4318/v1/metrics
  $ stall-why collect --clickhouse chdb:./store --create-schema      (then, once it has stopped: stall-why chdb:./store)
  $ CLICKHOUSE_PASSWORD=… stall-why collect --clickhouse clickhouse://stall@ch.internal:8123/otel

Any OpenTelemetry SDK (or Codex's [otel] exporter and trace_exporter) that exports OTLP/HTTP can feed
it with no code change: traces to /v1/traces, logs to /v1/logs. A batch is answered 200 only once
its records are in the file; when the directory cannot be written the answer is 503 with
Retry-After, so the sender keeps the batch. Log records keep their time, severity, body, attributes,
event name, trace and span ids, resource and scope; the values of content attributes (prompt,
arguments, output, gen_ai.prompt*, gen_ai.completion*, gen_ai.input.messages, ...) are dropped and
only their length is kept as <key>_length, unless --record-content. With --forward, what is received
is forwarded from the directory with retry and replay (nothing is lost while the next hop is down),
and spans still open travel as pending-span markers; log records go to the same origin's /v1/logs
when the URL ends in /v1/traces, else to --forward-logs, else they are not forwarded. With
--metrics-port or --metrics-otlp, the directory is judged every --judge-every (5s) and the verdicts
are published as metrics: stall_why.turns by state, verdict and service, and
stall_why.turn.stuck_duration (docs/cli.md#verdict-metrics).

With --clickhouse instead of --out, what is received (spans, pending-span markers, log records) is
inserted into the OpenTelemetry Collector clickhouseexporter's tables (otel_traces, otel_logs), laid
out as the exporter lays them out, and answered 200 once ClickHouse acknowledged the insert (503 with
Retry-After while it cannot). --create-schema creates the exporter's tables first; without it they
must exist. chdb:<dir> is embedded ClickHouse (npm install chdb); one process owns a directory.`;

/** `stall-why collect --out <dir>`: an OTLP/HTTP receiver writing into a flight-recorder directory. */
export function registerCollectCommand(program: Command): void {
  const command = program
    .command('collect')
    .description('receive OTLP/HTTP traces and logs (/v1/traces, /v1/logs; JSON or protobuf) into a flight-recorder directory')
    .option('--out <dir>', 'flight-recorder directory to write (created 0700 when missing)')
    .option('--clickhouse <url>', "instead of --out: insert into ClickHouse's exporter schema (clickhouse://[user[:password]@]host:8123/<db>, clickhouses://…, chdb:<dir>)")
    .option('--create-schema', "with --clickhouse: create the exporter's database and tables when missing (never done otherwise)")
    .option('--port <n>', 'port to listen on; 0 picks a free one', portArgument, 4318)
    .option('--host <host>', 'address to listen on (loopback unless told otherwise)', '127.0.0.1')
    .option('--max-bytes <n>', 'byte budget of the directory, oldest segment evicted first (default 64 MiB)', byteCount)
    .option('--forward <url>', 'also forward what is received to this OTLP/HTTP traces endpoint, from the directory (retry, replay, pending-span markers)', otlpUrl)
    .option('--forward-logs <url>', 'with --forward: the OTLP/HTTP logs endpoint (default: --forward\'s origin with /v1/logs, when it ends in /v1/traces)', otlpUrl)
    .option('--record-content', 'keep the values of content attributes of log records (prompts, tool arguments and output); dropped by default');
  addMetricsOptions(command)
    .addOption(new Option('--judge-every <duration>', 'with --metrics-*: time between two judgements of the directory').argParser(durationArgument).default(DEFAULT_JUDGE_EVERY_MS, '5s'))
    .option('--stuck-after <duration>', 'with --metrics-*: an open turn quiet this long is stuck (default 30s)', durationArgument)
    .addHelpText('after', EXAMPLES)
    .action(async (options: CollectOptions) => {
      // Loaded here, not at startup: the OpenTelemetry SDK and protobufjs cost every other command ~0.2 s.
      if (options.forwardLogs && !options.forward) throw new Error('--forward-logs needs --forward (the traces endpoint)');
      if ((options.out === undefined) === (options.clickhouse === undefined)) program.error('collect needs either --out <dir> or --clickhouse <url>', { exitCode: EXIT_USAGE });
      if (options.clickhouse !== undefined && options.forward) program.error('--forward reads from a directory: use it with --out, not --clickhouse', { exitCode: EXIT_USAGE });
      if (options.createSchema && options.clickhouse === undefined) program.error('--create-schema needs --clickhouse', { exitCode: EXIT_USAGE });
      if (options.clickhouse !== undefined && (options.metricsPort !== undefined || options.metricsOtlp !== undefined)) {
        program.error('the verdict metrics judge a directory: use --metrics-* with --out (a ClickHouse store publishes them through `stall-why watch <url> --metrics-port …`)', { exitCode: EXIT_USAGE });
      }
      const { FlightRecorderUploader, OtlpReceiver, logsUrlBeside } = await import('@stall-why/instrument');
      const store = options.clickhouse !== undefined ? await openClickHouseStore(options.clickhouse, options.createSchema === true) : undefined;
      if (store === null) return;
      // Made now, not at the first span: a directory being collected into can be judged from the first moment.
      if (options.out !== undefined) mkdirSync(options.out, { recursive: true, mode: 0o700 });
      const metrics = await startMetrics(options);
      const receiver = new OtlpReceiver({
        directory: options.out, sink: store?.sink, port: options.port, host: options.host, maxBytes: options.maxBytes, recordContent: options.recordContent,
      });
      let url: string;
      try {
        url = await receiver.listen();
      } catch (err) {
        await store?.sink.close();
        await metrics?.shutdown();
        const e = err as NodeJS.ErrnoException;
        throw new Error(`cannot listen on ${options.host}:${options.port} (${e.code ?? e.message})`);
      }
      // A sidecar in a pipeline: the next hop reads from the directory, so a hop that is down loses nothing.
      const logsUrl = options.forwardLogs ?? (options.forward ? logsUrlBeside(options.forward) ?? undefined : undefined);
      const forwarder = options.forward && options.out ? new FlightRecorderUploader({ directory: options.out, url: options.forward, logsUrl }) : undefined;
      forwarder?.start();
      const judging = metrics && options.out !== undefined ? await judgeIntoMetrics(options.out, options, metrics) : undefined;
      const target = store ? `inserting into ${store.shown}` : `writing to ${options.out}`;
      process.stdout.write(`stall-why collect: listening on ${url}, ${url.replace(/\/v1\/traces$/, '/v1/logs')}, ${target}${forwarding(options.forward, logsUrl)}\n`);
      await new Promise<void>((resolve) => {
        const stop = () => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          resolve();
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
      await receiver.close();
      await forwarder?.shutdown();
      await store?.sink.close();
      await judging?.stop();
      await metrics?.shutdown();
      const s = receiver.stats();
      const f = forwarder?.stats();
      const forwarded = f ? `; forwarded ${f.uploadedSpans} spans, ${f.uploadedLogRecords} log records and ${f.pendingMarkersSent} pending-span markers` : '';
      process.stderr.write(`stall-why collect: ${s.spans} spans and ${s.logRecords} log records in ${s.requests} requests; ${s.badRequests} bad, ${s.unavailable} answered 503${forwarded}\n`);
    });
}

/** Judges the directory being written every `--judge-every` into the metrics; the classifier is loaded only then. */
async function judgeIntoMetrics(directory: string, options: CollectOptions, metrics: VerdictMetrics): Promise<PeriodicJudgement> {
  const [{ TraceJudge }, { PeriodicJudgement }] = await Promise.all([import('../trace-judge.js'), import('../periodic-judgement.js')]);
  const thresholds = options.stuckAfter === undefined ? {} : { stuckAfterMs: options.stuckAfter };
  const judge = await TraceJudge.open(directory, { format: 'flight-recorder', thresholds });
  const judging = new PeriodicJudgement({
    judge: (now) => judge.judge(now),
    onReport: (report) => metrics.update(report),
    everyMs: Math.max(100, options.judgeEvery),
    onProblem: writeError,
  });
  judging.start();
  return judging;
}

/**
 * The ClickHouse sink of `--clickhouse`, its schema created first with `--create-schema`; null when
 * it cannot be opened (said in one line, exit code 2), so collect never listens without a store.
 */
async function openClickHouseStore(url: string, createSchema: boolean): Promise<{ sink: import('@stall-why/clickhouse').ClickHouseRecordSink; shown: string } | null> {
  const { ClickHouseAddressError, ClickHouseError, ClickHouseRecordSink, assertExporterSchema, connectClickHouse, createExporterSchema, parseClickHouseAddress } = await import('@stall-why/clickhouse');
  try {
    const address = parseClickHouseAddress(url);
    const connection = await connectClickHouse(address);
    try {
      if (createSchema) await createExporterSchema(connection);
      else await assertExporterSchema(connection);
    } catch (error) {
      await connection.close();
      throw error;
    }
    return { sink: new ClickHouseRecordSink(connection), shown: address.shown };
  } catch (error) {
    if (!(error instanceof ClickHouseError || error instanceof ClickHouseAddressError)) throw error;
    writeError(error.message);
    process.exitCode = EXIT_USAGE;
    return null;
  }
}

/** Where received records go on to, for the start line; it says so when log records are not forwarded. */
function forwarding(tracesUrl: string | undefined, logsUrl: string | undefined): string {
  if (!tracesUrl) return '';
  if (!logsUrl) return `, forwarding traces to ${tracesUrl} (traces only: the URL does not end in /v1/traces and --forward-logs is not given, so log records stay on disk)`;
  return `, forwarding traces to ${tracesUrl} and logs to ${logsUrl}`;
}

function byteCount(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 64 * 1024) throw new InvalidArgumentError('expected a byte count of at least 65536');
  return n;
}
