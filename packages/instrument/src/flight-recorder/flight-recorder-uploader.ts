import { closeSync, existsSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { context, diag } from '@opentelemetry/api';
import { ExportResultCode, suppressTracing, type ExportResult } from '@opentelemetry/core';
import { OTLPLogExporter as OtlpJsonLogExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPLogExporter as OtlpProtobufLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { OTLPTraceExporter as OtlpJsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OtlpProtobufTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import type { LogRecordExporter } from '@opentelemetry/sdk-logs';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import {
  listSegments, pendingSpanMarker, readSegment, readUploadCursor, writeUploadCursor, type RecordedLog, type RecordedSpan, type UploadCursor,
} from '@stall-why/flight-record';
import { RecordedLogConverter } from './recorded-to-readable-log.js';
import { RecordedSpanConverter } from './recorded-to-readable-span.js';
import { RetryAfterObserver } from './retry-after-agent.js';

export interface FlightRecorderUploaderOptions {
  /** The recorder directory to upload from. */
  readonly directory: string;
  /**
   * OTLP/HTTP traces endpoint, e.g. `http://127.0.0.1:4318/v1/traces`. Default: the exporter's
   * environment (`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, else `OTEL_EXPORTER_OTLP_ENDPOINT` + `/v1/traces`).
   */
  readonly url?: string;
  /**
   * OTLP/HTTP logs endpoint for the directory's log records. Default: `url` with its path's
   * `/v1/traces` made `/v1/logs`; when `url` does not end in `/v1/traces`, no log records are sent
   * (they are skipped, see `forwardsLogs`); with no `url`, the exporter's environment
   * (`OTEL_EXPORTER_OTLP_LOGS_ENDPOINT`, else `OTEL_EXPORTER_OTLP_ENDPOINT` + `/v1/logs`).
   */
  readonly logsUrl?: string;
  readonly headers?: Record<string, string>;
  /**
   * Time budget of one export, including the OTLP exporter's own retries, which honour Retry-After
   * within it. Default 10000 ms.
   */
  readonly timeoutMillis?: number;
  /** Ended spans, or log records, per export. Default 512. */
  readonly batchSize?: number;
  /** How often to look for new records once caught up. Default 1000 ms. */
  readonly intervalMs?: number;
  /** First wait after a retryable failure; doubled each time, with jitter. Default 1000 ms. */
  readonly initialBackoffMs?: number;
  /** Longest wait between attempts. Default 300000 ms (5 minutes). */
  readonly maxBackoffMs?: number;
  /**
   * OTLP/HTTP encoding. Default: `OTEL_EXPORTER_OTLP_TRACES_PROTOCOL`, else `OTEL_EXPORTER_OTLP_PROTOCOL`,
   * else `http/protobuf` (the OpenTelemetry default). `grpc` is not supported: it falls back to the default.
   */
  readonly protocol?: OtlpHttpProtocol;
  /** Exporter to send with; default an OTLP/HTTP trace exporter for `url` in `protocol`. */
  readonly exporter?: SpanExporter;
  /** Exporter for log records; default an OTLP/HTTP log exporter for `logsUrl` in `protocol`. */
  readonly logExporter?: LogRecordExporter;
  /**
   * How often spans still open are sent as pending-span markers (a zero-duration span standing for
   * each: standard OTLP sends a span only once it ended), once the ended spans are caught up.
   * 0 turns markers off. Default 5000 ms.
   */
  readonly pendingIntervalMs?: number;
  /** Most open spans sent as markers (the most recently started win). Default 1000. */
  readonly maxPendingSpans?: number;
  /** A span open longer than this is no longer sent as a marker (its writer is presumably gone). Default 6 h. */
  readonly maxPendingAgeMs?: number;
}

export type OtlpHttpProtocol = 'http/protobuf' | 'http/json';

/** The OTLP/HTTP encoding asked for by the option or the standard environment variables. */
export function otlpHttpProtocol(option?: OtlpHttpProtocol, env: NodeJS.ProcessEnv = process.env): OtlpHttpProtocol {
  const asked = option ?? env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL?.trim() ?? env.OTEL_EXPORTER_OTLP_PROTOCOL?.trim();
  return asked === 'http/json' ? 'http/json' : 'http/protobuf';
}

export interface FlightRecorderUploaderStats {
  uploadedSpans: number;
  uploadedLogRecords: number;
  uploadedBatches: number;
  /** Exports that failed in a way worth retrying (network, timeout, 429, 502, 503, 504). */
  retryableFailures: number;
  /** Exports refused for good (400, 401, 403, 413, ...): the batch leaves the upload queue, stays on disk. */
  permanentFailures: number;
  /** Spans in batches dropped after a permanent failure. */
  droppedSpans: number;
  /** Log records in batches dropped after a permanent failure. */
  droppedLogRecords: number;
  /** Epoch ms before which no attempt is made (0: none pending); at least what Retry-After asked. */
  backoffUntilMs: number;
  lastError?: string;
  /** Pid of another process that holds the directory's upload lock, if any. */
  lockedByPid?: number;
  /** Pending-span markers sent (one per open span per interval), and exports of them that failed. */
  pendingMarkersSent: number;
  pendingMarkerFailures: number;
}

export interface UploadBacklogOptions {
  /** Retryable failures in a row before giving up. Default 5. */
  readonly maxRetries?: number;
  /** Give up when nothing could be uploaded for this long (a wait that would end later is not begun). Default: no limit. */
  readonly giveUpAfterMs?: number;
  /** Called after each retryable failure that will be retried, before the wait, e.g. to say what is going on. */
  readonly onRetry?: (retry: UploadRetry) => void;
}

/** A retryable failure of `uploadBacklog` and what comes next. */
export interface UploadRetry {
  readonly error: string;
  /** Retryable failures in a row so far. */
  readonly failures: number;
  /** Wait before the next attempt (backoff, or what Retry-After asked). */
  readonly waitMs: number;
}

export interface UploadBacklogResult {
  /** True when everything on disk was delivered (or dropped after a permanent failure). */
  readonly caughtUp: boolean;
  readonly stats: FlightRecorderUploaderStats;
}

/** File holding the pid of the one process uploading a directory. */
export const UPLOAD_LOCK_FILE = 'upload.lock';
const RETRYABLE_STATUS = new Set([408, 429, 502, 503, 504]);
/** Uploaders of this process by directory, so two in one process do not both upload. */
const lockHolders = new Map<string, FlightRecorderUploader>();

/** A run of records of one segment; it carries spans or log records, never both, so each batch is one export. */
type Batch = { segment: string; end: number; spans: RecordedSpan[]; logs: RecordedLog[]; liveSegments: Set<string> };
type Attempt = 'sent' | 'empty' | 'retryable' | 'permanent' | 'locked';

/**
 * Replays a recorder directory to an OTLP/HTTP endpoint, from disk, in order, from a persisted
 * cursor (`upload-cursor.json`). At-least-once: the cursor moves only after the endpoint accepted a
 * batch, so a crash between the two re-sends that one batch. Memory holds one batch, however long
 * the endpoint is down. Never throws into the host: failures are counted and reported once.
 */
export class FlightRecorderUploader {
  readonly directory: string;
  private readonly exporter: SpanExporter;
  /** Undefined when log records are not forwarded: they are passed over like start records. */
  private readonly logExporter: LogRecordExporter | undefined;
  private readonly batchSize: number;
  private readonly intervalMs: number;
  private readonly initialBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly converter = new RecordedSpanConverter();
  private readonly logConverter = new RecordedLogConverter();
  private readonly retryAfter = new RetryAfterObserver();
  private cursor: UploadCursor | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private failuresInARow = 0;
  private warnedRetryable = false;
  private stopped = false;
  private readonly counters: FlightRecorderUploaderStats = {
    uploadedSpans: 0, uploadedLogRecords: 0, uploadedBatches: 0, retryableFailures: 0, permanentFailures: 0, droppedSpans: 0,
    droppedLogRecords: 0, backoffUntilMs: 0,
    pendingMarkersSent: 0, pendingMarkerFailures: 0,
  };
  private readonly pendingIntervalMs: number;
  private readonly maxPendingSpans: number;
  private readonly maxPendingAgeMs: number;
  /** Spans whose start record was read and whose end record was not (yet), by trace/span id; in start order. */
  private readonly openSpans = new Map<string, RecordedSpan>();
  /** The directory was read from its start once, so spans opened before the cursor are known. */
  private primed = false;
  private lastMarkersAt = 0;

  constructor(options: FlightRecorderUploaderOptions) {
    this.directory = resolve(options.directory);
    this.batchSize = Math.max(1, options.batchSize ?? 512);
    this.intervalMs = options.intervalMs ?? 1000;
    this.initialBackoffMs = options.initialBackoffMs ?? 1000;
    this.maxBackoffMs = options.maxBackoffMs ?? 300_000;
    this.pendingIntervalMs = options.pendingIntervalMs ?? 5_000;
    this.maxPendingSpans = Math.max(0, options.maxPendingSpans ?? 1_000);
    this.maxPendingAgeMs = options.maxPendingAgeMs ?? 6 * 3_600_000;
    const exporterOptions = {
      url: options.url,
      headers: options.headers,
      timeoutMillis: options.timeoutMillis ?? 10_000,
      httpAgentOptions: this.retryAfter.agentFactory(),
    };
    const json = otlpHttpProtocol(options.protocol) === 'http/json';
    this.exporter = options.exporter ?? (json ? new OtlpJsonTraceExporter(exporterOptions) : new OtlpProtobufTraceExporter(exporterOptions));
    const logsUrl = options.logsUrl ?? logsUrlBeside(options.url);
    this.logExporter = options.logExporter ?? (logsUrl === null ? undefined : json
      ? new OtlpJsonLogExporter({ ...exporterOptions, url: logsUrl })
      : new OtlpProtobufLogExporter({ ...exporterOptions, url: logsUrl }));
  }

  /** Whether log records are sent; when not, they stay on disk and the upload passes over them. */
  get forwardsLogs(): boolean {
    return this.logExporter !== undefined;
  }

  /** Uploads in the background on an unref'ed timer until `shutdown()`. */
  start(): void {
    if (this.timer || this.stopped) return;
    this.timer = setInterval(() => { void this.tick(); }, this.intervalMs);
    this.timer.unref();
  }

  stats(): FlightRecorderUploaderStats {
    return { ...this.counters };
  }

  /** One background pass, unless one is running or a backoff is pending. */
  tick(): Promise<void> {
    if (this.running || this.stopped || Date.now() < this.counters.backoffUntilMs) return this.running ?? Promise.resolve();
    this.running = this.drain().finally(() => { this.running = undefined; });
    return this.running;
  }

  /**
   * Uploads the backlog now: batches until caught up, waiting out backoffs, giving up after
   * `maxRetries` retryable failures in a row or `giveUpAfterMs` without an upload. For
   * `stall-why buffer --replay`.
   */
  async uploadBacklog(options: UploadBacklogOptions = {}): Promise<UploadBacklogResult> {
    const maxRetries = options.maxRetries ?? 5;
    const giveUpAt = () => progressAt + (options.giveUpAfterMs ?? Infinity);
    let progressAt = Date.now();
    let retries = 0;
    for (;;) {
      if (this.running) await this.running;
      const wait = this.counters.backoffUntilMs - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const outcome = await this.drainOnce();
      if (outcome === 'empty') {
        await this.sendPendingMarkers(true);
        return { caughtUp: true, stats: this.stats() };
      }
      if (outcome === 'locked') return { caughtUp: false, stats: this.stats() };
      if (outcome === 'sent') {
        retries = 0;
        progressAt = Date.now();
      }
      if (outcome !== 'retryable') continue;
      if (++retries > maxRetries || this.counters.backoffUntilMs > giveUpAt()) return { caughtUp: false, stats: this.stats() };
      options.onRetry?.({ error: this.counters.lastError ?? 'unknown error', failures: retries, waitMs: Math.max(0, this.counters.backoffUntilMs - Date.now()) });
    }
  }

  /** Stops the timer, makes one last attempt if no backoff is pending, releases the lock. */
  async shutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (this.running) await this.running;
    if (!this.stopped && Date.now() >= this.counters.backoffUntilMs) await this.drain();
    this.stopped = true;
    this.releaseLock();
    await this.exporter.shutdown();
    await this.logExporter?.shutdown();
  }

  private async drain(): Promise<void> {
    for (;;) {
      const outcome = await this.drainOnce();
      if (outcome === 'empty') await this.sendPendingMarkers(false);
      if (outcome !== 'sent' || this.stopped) return;
    }
  }

  /**
   * Sends a pending-span marker for each span still open (at most `maxPendingSpans`, none older than
   * `maxPendingAgeMs`), every `pendingIntervalMs`, once the ended spans are caught up. Best effort: a
   * failed export is counted and tried again at the next interval; the upload queue is not held up.
   */
  private async sendPendingMarkers(now: boolean): Promise<void> {
    if (this.pendingIntervalMs <= 0 || this.maxPendingSpans === 0 || this.openSpans.size === 0) return;
    const at = Date.now();
    if (!now && at - this.lastMarkersAt < this.pendingIntervalMs) return;
    this.lastMarkersAt = at;
    const open = [...this.openSpans.values()].filter((s) => at - s.startTimeMs <= this.maxPendingAgeMs).slice(-this.maxPendingSpans);
    for (let i = 0; i < open.length; i += this.batchSize) {
      const markers = open.slice(i, i + this.batchSize).map((s) => this.converter.toReadableSpan(pendingSpanMarker(s, at)));
      const result = await this.export(markers);
      if (result.code !== ExportResultCode.SUCCESS) {
        this.counters.pendingMarkerFailures++;
        return;
      }
      this.counters.pendingMarkersSent += markers.length;
    }
  }

  /** Notes a record read: a start opens its span, an end closes it (bounded: the oldest open are forgotten). */
  private noteOpen(type: string, span: RecordedSpan): void {
    const key = `${span.traceId}/${span.spanId}`;
    if (type === 'end') {
      this.openSpans.delete(key);
      return;
    }
    if (span.endTimeMs !== undefined) return;
    this.openSpans.set(key, span);
    if (this.openSpans.size > this.maxPendingSpans * 2) this.openSpans.delete(this.openSpans.keys().next().value!);
  }

  /** Reads every record once, so spans opened before the upload cursor (a restart, `buffer --replay`) are known. */
  private async primeOpenSpans(segments: Awaited<ReturnType<typeof listSegments>>['segments']): Promise<void> {
    if (this.primed || this.pendingIntervalMs <= 0) return;
    this.primed = true;
    for (const segment of segments) {
      for await (const record of readSegment(segment)) if (record.type !== 'log') this.noteOpen(record.type, record.span);
    }
  }

  /** Sends the next batch (or advances over records with nothing to send). */
  private async drainOnce(): Promise<Attempt> {
    try {
      if (!existsSync(this.directory)) return 'empty'; // nothing recorded yet
      if (!this.acquireLock()) return 'locked';
      const batch = await this.nextBatch();
      if (!batch) return 'empty';
      if (batch.spans.length === 0 && batch.logs.length === 0) {
        this.advance(batch);
        return 'sent';
      }
      const result = batch.logs.length > 0
        ? await this.exportLogs(batch.logs)
        : await this.export(batch.spans.map((s) => this.converter.toReadableSpan(s)));
      return this.settle(batch, result);
    } catch (err) {
      // A bug or an unreadable directory: back off rather than spin, and say so once.
      this.onRetryable(err);
      return 'retryable';
    }
  }

  private settle(batch: Batch, result: ExportResult): Attempt {
    if (result.code === ExportResultCode.SUCCESS) {
      this.counters.uploadedSpans += batch.spans.length;
      this.counters.uploadedLogRecords += batch.logs.length;
      this.counters.uploadedBatches++;
      this.failuresInARow = 0;
      this.counters.backoffUntilMs = 0;
      if (this.warnedRetryable) diag.info(`stall-why flight recorder: uploading from ${this.directory} again`);
      this.warnedRetryable = false;
      this.advance(batch);
      return 'sent';
    }
    if (isPermanent(result.error)) {
      this.counters.permanentFailures++;
      this.counters.droppedSpans += batch.spans.length;
      this.counters.droppedLogRecords += batch.logs.length;
      this.counters.lastError = describe(result.error);
      const what = batch.logs.length > 0 ? `${batch.logs.length} log records` : `${batch.spans.length} spans`;
      diag.warn(`stall-why flight recorder: the OTLP endpoint refused ${what} for good (${this.counters.lastError}); they stay on disk and leave the upload queue`);
      this.advance(batch);
      return 'permanent';
    }
    this.onRetryable(result.error);
    return 'retryable';
  }

  private onRetryable(error: unknown): void {
    this.counters.retryableFailures++;
    this.counters.lastError = describe(error);
    this.failuresInARow++;
    // Exponential backoff with "equal jitter": half fixed, half random, so many hosts do not retry in step.
    const ceiling = Math.min(this.maxBackoffMs, this.initialBackoffMs * 2 ** Math.min(this.failuresInARow - 1, 30));
    // An endpoint's Retry-After wins when it asks for longer.
    this.counters.backoffUntilMs = Math.max(Date.now() + ceiling / 2 + Math.random() * (ceiling / 2), this.retryAfter.retryNotBeforeMs());
    if (!this.warnedRetryable) {
      this.warnedRetryable = true;
      diag.warn(`stall-why flight recorder: upload from ${this.directory} failed (${this.counters.lastError}); spans stay on disk and are replayed when the endpoint answers`);
    }
  }

  private export(spans: ReadableSpan[]): Promise<ExportResult> {
    return new Promise((done) => {
      context.with(suppressTracing(context.active()), () => this.exporter.export(spans, done));
    });
  }

  private exportLogs(logs: RecordedLog[]): Promise<ExportResult> {
    const records = logs.map((l) => this.logConverter.toReadableLogRecord(l));
    return new Promise((done) => {
      context.with(suppressTracing(context.active()), () => this.logExporter!.export(records, done));
    });
  }

  /** The next run of unsent ended spans or log records: up to `batchSize` of one kind, from one segment, in write order. */
  private async nextBatch(): Promise<Batch | undefined> {
    this.cursor ??= readUploadCursor(this.directory);
    const { segments } = await listSegments(this.directory);
    await this.primeOpenSpans(segments);
    const liveSegments = new Set(segments.map((s) => s.name));
    for (const segment of segments) {
      const from = this.cursor.get(segment.name) ?? segment.recordsOffset;
      if (from >= segment.size) continue;
      const spans: RecordedSpan[] = [];
      const logs: RecordedLog[] = [];
      let end = from;
      for await (const record of readSegment(segment, { fromOffset: from })) {
        if (record.type === 'log') {
          // The other kind ends the batch; the record is read again as the next batch's first.
          if (this.logExporter && spans.length > 0) break;
          if (this.logExporter) logs.push(record.log);
        } else {
          if (record.type === 'end' && logs.length > 0) break;
          this.noteOpen(record.type, record.span);
          if (record.type === 'end') spans.push(record.span);
        }
        end = record.end;
        if (spans.length + logs.length >= this.batchSize) break;
      }
      if (end > from) return { segment: segment.name, end, spans, logs, liveSegments };
    }
    return undefined;
  }

  private advance(batch: Batch): void {
    this.cursor!.set(batch.segment, batch.end);
    writeUploadCursor(this.directory, this.cursor!, batch.liveSegments);
  }

  /** One uploader per directory across processes (a pid lock file) and within this process. */
  private acquireLock(): boolean {
    const holder = lockHolders.get(this.directory);
    if (holder === this) return true;
    if (holder && !holder.stopped) return false;
    const path = join(this.directory, UPLOAD_LOCK_FILE);
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fd = openSync(path, 'wx', 0o600);
        writeSync(fd, String(process.pid));
        closeSync(fd);
        lockHolders.set(this.directory, this);
        this.counters.lockedByPid = undefined;
        return true;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const pid = Number.parseInt(readFileSafe(path), 10);
      if (Number.isInteger(pid) && pid !== process.pid && isAlive(pid)) {
        this.counters.lockedByPid = pid;
        return false;
      }
      // Left by a process that died (or by this process's earlier uploader): take it over.
      try { unlinkSync(path); } catch { /* raced with another taker */ }
    }
    return false;
  }

  private releaseLock(): void {
    if (lockHolders.get(this.directory) !== this) return;
    lockHolders.delete(this.directory);
    try { unlinkSync(join(this.directory, UPLOAD_LOCK_FILE)); } catch { /* gone */ }
  }
}

/**
 * The logs endpoint beside a traces endpoint: `…/v1/traces` → `…/v1/logs` (query kept); null when
 * `tracesUrl` does not end so (no guess at where logs go); undefined without one (the environment's).
 */
export function logsUrlBeside(tracesUrl: string | undefined): string | undefined | null {
  if (tracesUrl === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(tracesUrl);
  } catch {
    return null;
  }
  if (!url.pathname.endsWith('/v1/traces')) return null;
  url.pathname = `${url.pathname.slice(0, -'/v1/traces'.length)}/v1/logs`;
  return url.href;
}

/** OTLP/HTTP: 429, 502, 503, 504 (and 408) are worth retrying; any other HTTP status is final. */
function isPermanent(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'number' && code >= 400 && !RETRYABLE_STATUS.has(code);
}

function describe(error: unknown): string {
  if (!error) return 'unknown error';
  const e = error as { code?: unknown; message?: string };
  const message = e.message || String(error);
  return typeof e.code === 'number' ? `HTTP ${e.code} ${message}`.trim() : e.code ? `${String(e.code)} ${message}` : message;
}

function readFileSafe(path: string): string {
  try { return readFileSync(path, 'utf8'); } catch { return ''; }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
