import { performance } from 'node:perf_hooks';
import type { Readable, Writable } from 'node:stream';
import { LineScanner, type LineScannerOptions, type LineScannerStats } from './line-scanner.js';

export interface StdioRelayOptions extends LineScannerOptions {
  /**
   * Each complete line, after its chunk has been written on, with the time its chunk arrived
   * (epoch ms). Must not throw (the observer never does).
   */
  readonly onLine: (line: Buffer, timeMs: number) => void;
  /** Clock, epoch ms. Read once per chunk, not per line. Default `performance.timeOrigin + performance.now()`. */
  readonly now?: () => number;
  /** The source ended (EOF) or failed. */
  readonly onSourceEnd?: () => void;
  /** The sink failed (e.g. EPIPE: the reader went away); bytes are discarded from then on. */
  readonly onSinkError?: (error: Error) => void;
}

/**
 * Passes one direction of a stdio pair through byte for byte and shows each complete line to an
 * observer. The chunk is written on first, unchanged, and only then scanned, so the observer can
 * never delay or alter what the peer receives. Backpressure is kept: a slow reader pauses the
 * source. When the sink breaks, the source is still drained (into nothing) so the writer on the
 * other side never blocks on a full pipe: a server whose client left keeps running.
 *
 * The sink is never ended here: whether and when to close it is the caller's decision (see
 * `--linger`).
 */
export class StdioRelay {
  readonly scanner: LineScanner;
  private sinkBroken = false;
  private sourceEnded = false;
  private chunkTimeMs = 0;
  private readonly now: () => number;

  constructor(
    private readonly source: Readable,
    private readonly sink: Writable,
    private readonly options: StdioRelayOptions,
  ) {
    this.now = options.now ?? (() => performance.timeOrigin + performance.now());
    this.scanner = new LineScanner((line) => options.onLine(line, this.chunkTimeMs), options);
    source.on('data', this.onData);
    source.once('end', this.onEnd);
    source.once('error', this.onEnd);
    sink.on('error', this.onSinkError);
    sink.on('drain', this.onDrain);
  }

  get stats(): LineScannerStats {
    return this.scanner.stats;
  }

  get isSourceEnded(): boolean {
    return this.sourceEnded;
  }

  get isSinkBroken(): boolean {
    return this.sinkBroken;
  }

  private readonly onData = (chunk: Buffer): void => {
    if (!this.sinkBroken && !this.sink.write(chunk)) this.source.pause();
    // Every line of a chunk arrived at the same moment: one clock read per chunk.
    this.chunkTimeMs = this.now();
    this.scanner.push(chunk);
  };

  private readonly onDrain = (): void => {
    this.source.resume();
  };

  private readonly onEnd = (): void => {
    if (this.sourceEnded) return;
    this.sourceEnded = true;
    this.scanner.end();
    this.options.onSourceEnd?.();
  };

  private readonly onSinkError = (error: Error): void => {
    if (this.sinkBroken) return;
    this.sinkBroken = true;
    this.source.resume();
    this.options.onSinkError?.(error);
  };
}
