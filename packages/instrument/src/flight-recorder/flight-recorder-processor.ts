import type { Context } from '@opentelemetry/api';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { randomBytes } from 'node:crypto';
import {
  ATTR_PHASE_KIND,
  ATTR_PROCESS_PID,
  ATTR_WRITER_STOP_REASON,
  PHASE_KIND_POINT,
  PHASE_WRITER_STOPPED,
  WRITER_STOP_REASON_SHUTDOWN,
} from '@stall-why/conventions';
import { RECORD_TYPE_END, RECORD_TYPE_START, writeRecordedSpanBody, type Attributes, type RecordBodyWriter, type RecordedSpan } from '@stall-why/flight-record';
import { FlightRecorderUploader, type FlightRecorderUploaderOptions, type FlightRecorderUploaderStats } from './flight-recorder-uploader.js';
import { RingBufferWriter, type RingBufferFileSystem, type RingBufferWriterStats } from './ring-buffer-writer.js';
import { writeSpanRecordBody } from './span-record-encoding.js';

/** Upload settings: everything of FlightRecorderUploaderOptions except the directory. */
export type FlightRecorderOtlpOptions = Omit<FlightRecorderUploaderOptions, 'directory'>;

export interface FlightRecorderOptions {
  /** The recorder directory (created 0700 when missing; segments are 0600). */
  readonly directory: string;
  /** Hard byte budget of the directory; oldest segment evicted first. Default 64 MiB. */
  readonly maxBytes?: number;
  /** Segment size. Default maxBytes / 8 within [64 KiB, 8 MiB]. */
  readonly segmentBytes?: number;
  /** Pending records reach the file at least this often. Default 1000 ms. */
  readonly flushIntervalMs?: number;
  /** fdatasync at most this often (0: every write). Default 5000 ms; always at forceFlush and shutdown. */
  readonly fsyncIntervalMs?: number;
  /** Records waiting for the next write beyond which new ones are dropped (counted). Default 65536. */
  readonly maxPendingRecords?: number;
  /** A write is scheduled at once (setImmediate) when this many records wait. Default 4096. */
  readonly flushBatchRecords?: number;
  /**
   * Upload ended spans to an OTLP/HTTP endpoint, replaying from disk after outages. `{}` uses the
   * exporter's environment (`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, `OTEL_EXPORTER_OTLP_ENDPOINT`).
   * Default: no upload.
   */
  readonly otlp?: FlightRecorderOtlpOptions;
  /** Fault injection for tests; default node:fs. */
  readonly fileSystem?: RingBufferFileSystem;
}

export interface FlightRecorderStats extends RingBufferWriterStats {
  /** Records dropped because too many were waiting for a write (the host outran the disk). */
  pendingDropped: number;
  upload?: FlightRecorderUploaderStats;
}

/** Every live recorder, flushed synchronously when the process exits normally. */
const liveRecorders = new Set<FlightRecorderProcessor>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // 'exit' runs synchronously: the last interval's records reach the file even if nobody calls shutdown().
  process.on('exit', () => {
    for (const recorder of liveRecorders) recorder.flushSync(true);
  });
}

/**
 * A SpanProcessor that records every span at start and at end into an on-disk ring buffer (a
 * flight recorder), so that a span of a stuck turn is on disk while it is stuck, and optionally
 * uploads ended spans over OTLP/HTTP, replaying from disk after an outage.
 *
 * onStart/onEnd only queue the span; a timer (unref'ed, every `flushIntervalMs`) encodes and
 * appends the batch. A start record whose span has ended by then is skipped: its end record, in the
 * same batch, carries everything.
 *
 * Between writes, at the end of each turn of the event loop that queued records, the head of the
 * queue is encoded into the batch (no I/O) up to the first start record of a span still open: what
 * is encoded then is exactly what the write would encode, in the same order, but ended spans are let
 * go at once instead of being held until the write. Held for up to a second, thousands of them
 * survived every young-generation collection, each of which then took milliseconds to copy them:
 * the tail latency of every request the host served meanwhile.
 */
export class FlightRecorderProcessor implements SpanProcessor {
  private readonly writer: RingBufferWriter;
  private readonly uploader: FlightRecorderUploader | undefined;
  private readonly maxPending: number;
  private readonly flushBatch: number;
  private spans: ReadableSpan[] = [];
  private types: number[] = [];
  private headerResource: ReadableSpan['resource'] | undefined;
  private headerAttributes: Attributes | undefined;
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private encodeScheduled = false;
  private pendingDropped = 0;
  private isShutdown = false;
  /** Spans started and not ended: at shutdown, more than none means a turn may be left open. */
  private openSpans = 0;
  /** One function per processor, not a closure per record. */
  private readonly writeBody: RecordBodyWriter<ReadableSpan> = (encoder, span, type) =>
    writeSpanRecordBody(encoder, span, type === RECORD_TYPE_END, this.headerResource);

  constructor(options: FlightRecorderOptions) {
    this.writer = new RingBufferWriter({
      directory: options.directory,
      maxBytes: options.maxBytes,
      segmentBytes: options.segmentBytes,
      fsyncIntervalMs: options.fsyncIntervalMs,
      writerName: '@stall-why/instrument FlightRecorderProcessor',
      fileSystem: options.fileSystem,
    });
    this.maxPending = options.maxPendingRecords ?? 65_536;
    this.flushBatch = options.flushBatchRecords ?? 4096;
    if (options.otlp) {
      this.uploader = new FlightRecorderUploader({ ...options.otlp, directory: options.directory });
      this.uploader.start();
    }
    this.timer = setInterval(() => this.flushSync(false), options.flushIntervalMs ?? 1000);
    this.timer.unref();
    liveRecorders.add(this);
    installExitHook();
  }

  onStart(span: Span, _parentContext: Context): void {
    this.openSpans++;
    this.enqueue(span, RECORD_TYPE_START);
  }

  onEnd(span: ReadableSpan): void {
    this.openSpans--;
    this.enqueue(span, RECORD_TYPE_END);
  }

  /** Writes what is queued to the file and syncs it; then uploads what is due (if configured). */
  async forceFlush(): Promise<void> {
    this.flushSync(true);
    if (this.uploader) await this.uploader.tick();
  }

  async shutdown(): Promise<void> {
    if (this.isShutdown) return;
    this.isShutdown = true;
    if (this.timer) clearInterval(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.flushSync(false);
    // Said in the recording itself when spans are still open: a turn left open now is abandoned, not
    // stuck for ever. A recorder that closes with nothing open adds nothing.
    if (this.openSpans > 0 && this.headerResource !== undefined) this.writer.append(RECORD_TYPE_END, shutdownRecord(), writeRecordedSpanBody);
    this.flushSync(true);
    this.writer.close();
    liveRecorders.delete(this);
    if (this.uploader) await this.uploader.shutdown();
  }

  stats(): FlightRecorderStats {
    return { ...this.writer.stats(), pendingDropped: this.pendingDropped, upload: this.uploader?.stats() };
  }

  /** Encodes and appends the queued records; with `sync`, also fdatasync. Never throws. */
  flushSync(sync: boolean): void {
    const spans = this.spans;
    const types = this.types;
    if (spans.length > 0) {
      this.spans = [];
      this.types = [];
      // A span that cannot be encoded is counted by the writer (recordsDropped) and does not stop the others.
      for (let i = 0; i < spans.length; i++) this.appendRecord(spans[i], types[i]);
    }
    this.writer.flush();
    if (sync) this.writer.syncNow();
  }

  private firstWriteScheduled = false;

  private enqueue(span: ReadableSpan, type: number): void {
    if (this.isShutdown) return;
    if (this.spans.length >= this.maxPending) {
      this.pendingDropped++;
      return;
    }
    this.spans.push(span);
    this.types.push(type);
    // The first records are written at once, not on the timer: a directory being recorded is
    // recognisable (and judged) from its first span, not only after `flushIntervalMs`.
    if ((this.spans.length + this.writer.pendingRecordCount() >= this.flushBatch || !this.firstWriteScheduled) && !this.immediate) {
      this.firstWriteScheduled = true;
      this.immediate = setImmediate(() => {
        this.immediate = undefined;
        this.flushSync(false);
      });
    } else if (!this.encodeScheduled) {
      this.encodeScheduled = true;
      setImmediate(this.encodeSettledNow);
    }
  }

  /** One function per processor, not a closure per turn of the event loop. */
  private readonly encodeSettledNow = (): void => this.encodeSettled();

  /**
   * Encodes the head of the queue into the writer's batch, up to the first start record of a span
   * still open: whether that one is written or skipped is decided when the batch is written, as
   * before, and what follows it waits behind it so that the records keep their order.
   */
  private encodeSettled(): void {
    this.encodeScheduled = false;
    const spans = this.spans;
    const types = this.types;
    let settled = 0;
    while (settled < spans.length && (types[settled] === RECORD_TYPE_END || spans[settled].ended)) settled++;
    if (settled === 0) return;
    if (settled === spans.length) {
      this.spans = [];
      this.types = [];
    } else {
      this.spans = spans.slice(settled);
      this.types = types.slice(settled);
    }
    for (let i = 0; i < settled; i++) this.appendRecord(spans[i], types[i]);
  }

  private appendRecord(span: ReadableSpan, type: number): void {
    if (type !== RECORD_TYPE_END && span.ended) return; // its end record follows in this batch
    if (this.headerResource === undefined) {
      this.headerResource = span.resource;
      this.headerAttributes = span.resource.attributes as Attributes;
      this.writer.setResource(this.headerAttributes);
    }
    this.writer.append(type, span, this.writeBody);
  }
}

/** The record a recorder writes last when it is shut down (`PHASE_WRITER_STOPPED`, reason shutdown). */
function shutdownRecord(): RecordedSpan {
  const now = Date.now();
  return {
    traceId: randomBytes(16).toString('hex'),
    spanId: randomBytes(8).toString('hex'),
    name: PHASE_WRITER_STOPPED,
    startTimeMs: now,
    endTimeMs: now,
    attributes: { [ATTR_PHASE_KIND]: PHASE_KIND_POINT, [ATTR_WRITER_STOP_REASON]: WRITER_STOP_REASON_SHUTDOWN, [ATTR_PROCESS_PID]: process.pid },
  };
}
