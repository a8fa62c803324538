import { InvalidArgumentError, type Command } from 'commander';
import type { FlightRecorderStats } from '@stall-why/flight-record';
import type { FlightRecorderUploaderStats } from '@stall-why/instrument';
import { durationArgument } from '../analysis-options.js';
import { formatDuration } from '../duration.js';
import { EXIT_USAGE } from '../exit-codes.js';
import { writeError } from '../error-line.js';

interface BufferOptions {
  json?: boolean;
  replay?: string;
  replayLogs?: string;
  header?: string[];
  timeout?: number;
  exportTimeout?: number;
  maxRetries?: number;
}

/** How long `--replay` keeps trying when nothing gets through, unless `--timeout` says otherwise. */
const DEFAULT_REPLAY_TIMEOUT_MS = 30_000;

const EXAMPLES = `
Examples:
  $ stall-why buffer ~/.stall-why/flight
  $ stall-why buffer ~/.stall-why/flight --json
  $ stall-why buffer ~/.stall-why/flight --replay http://127.0.0.1:4318/v1/traces

--replay sends log records (from stall-why collect's /v1/logs) to the same origin's /v1/logs when
the URL ends in /v1/traces, else to --replay-logs; with neither, they are passed over and stay on disk.
An endpoint that refuses or does not answer is retried with backoff, each retry said on stderr, until
--timeout passes without an upload or --max-retries failures in a row; then exit 2, the backlog kept.

--json prints one object: spans (distinct), openSpans, bytes, segments, corruptRecords,
uploadBacklog (ended spans not yet uploaded), logRecords, logUploadBacklog (log records not yet
uploaded), oldestMs, newestMs (epoch ms or null), startRecords, endRecords, writerPids, directory;
with --replay also replay.{uploadedSpans, uploadedLogRecords, uploadedBatches, retryableFailures,
permanentFailures, droppedSpans, droppedLogRecords, caughtUp}.`;

/** `stall-why buffer <dir>`: what a flight-recorder directory holds; `--replay <url>` uploads its backlog. */
export function registerBufferCommand(program: Command): void {
  program
    .command('buffer')
    .description('show what a flight-recorder directory holds; --replay uploads its backlog over OTLP/HTTP')
    .argument('<dir>', 'flight-recorder directory')
    .option('--json', 'print one JSON object (stable keys, see below)')
    .option('--replay <otlp-url>', 'upload the ended spans and log records not yet uploaded to this OTLP/HTTP traces endpoint (logs: see below)')
    .option('--replay-logs <otlp-url>', 'with --replay: the OTLP/HTTP logs endpoint (default: --replay\'s origin with /v1/logs, when it ends in /v1/traces)')
    .option('--header <name=value>', 'HTTP header for --replay (repeatable)', collectHeader, [])
    .option('--timeout <duration>', `--replay gives up when nothing could be uploaded for this long (default ${formatDuration(DEFAULT_REPLAY_TIMEOUT_MS)})`, durationArgument)
    .option('--export-timeout <ms>', 'time budget of one export, retries on 429/503 included (default 10000, at most --timeout)', positiveInt)
    .option('--max-retries <n>', 'retryable failures in a row before --replay gives up (default 5)', nonNegativeInt)
    .addHelpText('after', EXAMPLES)
    .action(async (dir: string, options: BufferOptions) => {
      // Loaded here, not at start-up: only this subcommand reads segments this way (issue 14).
      const { inspectFlightRecorder, isFlightRecorderDir } = await import('@stall-why/flight-record');
      if (!(await isFlightRecorderDir(dir))) {
        await inspectFlightRecorder(dir); // throws the precise reason for a missing or unreadable path
        throw new Error(`${dir}: not a flight-recorder directory (no segment files in it)`);
      }
      const replay = options.replay ? await replayBacklog(dir, options) : undefined;
      const stats = await inspectFlightRecorder(dir);
      if (options.json) process.stdout.write(`${JSON.stringify(replay ? { ...stats, replay } : stats)}\n`);
      else process.stdout.write(renderStats(stats, replay));
      if (replay && (!replay.caughtUp || replay.permanentFailures > 0)) {
        writeError(replayProblem(replay, options.replay!));
        process.exitCode = EXIT_USAGE;
      }
    });
}

type ReplaySummary = FlightRecorderUploaderStats & { caughtUp: boolean };

async function replayBacklog(dir: string, options: BufferOptions): Promise<ReplaySummary> {
  const url = httpUrl('--replay', options.replay!);
  const logsUrl = options.replayLogs === undefined ? undefined : httpUrl('--replay-logs', options.replayLogs).href;
  const headers = Object.fromEntries((options.header ?? []).map((h) => [h.slice(0, h.indexOf('=')), h.slice(h.indexOf('=') + 1)]));
  // Loaded here, not at startup: the OTLP exporters are needed by --replay only.
  const { FlightRecorderUploader } = await import('@stall-why/instrument');
  const giveUpAfterMs = options.timeout ?? DEFAULT_REPLAY_TIMEOUT_MS;
  const timeoutMillis = Math.min(options.exportTimeout ?? 10_000, giveUpAfterMs);
  const uploader = new FlightRecorderUploader({ directory: dir, url: url.href, logsUrl, headers, timeoutMillis, maxBackoffMs: 30_000 });
  try {
    const result = await uploader.uploadBacklog({
      maxRetries: options.maxRetries,
      giveUpAfterMs,
      // A refused or silent endpoint is retried for up to --timeout: say so, or the command looks hung.
      onRetry: (retry) => writeError(`could not upload to ${url.href} (${retry.error}); trying again in ${formatDuration(retry.waitMs)} ` +
        `(failure ${retry.failures}; giving up after ${formatDuration(giveUpAfterMs)} without an upload, --timeout)`),
    });
    return { ...result.stats, caughtUp: result.caughtUp };
  } finally {
    await uploader.shutdown();
  }
}

function httpUrl(option: string, value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`${option} ${value}: not a URL (e.g. http://127.0.0.1:4318/v1/traces)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`${option} ${value}: use an http:// or https:// URL`);
  return url;
}

function replayProblem(replay: ReplaySummary, url: string): string {
  if (replay.lockedByPid !== undefined) return `another process (pid ${replay.lockedByPid}) is uploading this directory; try again when it stops`;
  if (!replay.caughtUp) return `could not upload to ${url} (${replay.lastError ?? 'unknown error'}); the rest stays in the backlog`;
  return `${url} refused ${withLogs(replay.droppedSpans, 'spans', replay.droppedLogRecords)} for good (${replay.lastError}); they stay on disk, out of the upload queue`;
}

function renderStats(s: FlightRecorderStats, replay: ReplaySummary | undefined): string {
  const time = (ms: number | null) => (ms === null ? '-' : new Date(ms).toISOString());
  const lines = [
    s.directory,
    `  segments  ${s.segments} (${formatBytes(s.bytes)})`,
    `  spans     ${s.spans} (${s.openSpans} open)`,
    `  logs      ${s.logRecords} records`,
    `  oldest    ${time(s.oldestMs)}`,
    `  newest    ${time(s.newestMs)}`,
    `  backlog   ${withLogs(s.uploadBacklog, 'ended spans', s.logUploadBacklog)} not yet uploaded`,
    `  corrupt   ${s.corruptRecords} records skipped`,
  ];
  if (replay) {
    lines.push(`  replayed  ${withLogs(replay.uploadedSpans, 'spans', replay.uploadedLogRecords)} in ${replay.uploadedBatches} batches` +
      (replay.permanentFailures ? `, ${replay.droppedSpans + replay.droppedLogRecords} refused for good` : '') +
      (replay.retryableFailures ? `, ${replay.retryableFailures} retryable failures` : ''));
  }
  return `${lines.join('\n')}\n`;
}

/** `3 spans`, or `3 spans and 2 log records`: a directory of spans only reads as it did before logs. */
function withLogs(spans: number, spansNoun: string, logRecords: number): string {
  return logRecords > 0 ? `${spans} ${spansNoun} and ${logRecords} log records` : `${spans} ${spansNoun}`;
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

function collectHeader(value: string, previous: string[]): string[] {
  if (value.indexOf('=') <= 0) throw new InvalidArgumentError('expected name=value');
  return [...previous, value];
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('expected a positive integer');
  return n;
}

function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a non-negative integer');
  return n;
}
