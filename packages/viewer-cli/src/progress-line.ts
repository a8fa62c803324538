/**
 * Progress on stderr while traces are read: silent for the first second (most inputs are done by
 * then) and whenever stderr is not a TTY, so pipes and logs never see it. One line, redrawn in place
 * at most every 100 ms, erased when reading ends.
 */

export interface ProgressLineOptions {
  readonly stream: NodeJS.WriteStream;
  /** Quiet this long before the first draw. Default 1 000 ms. */
  readonly delayMs?: number;
  /** Least time between two draws. Default 100 ms. */
  readonly redrawMs?: number;
  /** Clock, for tests. Default `Date.now`. */
  readonly clock?: () => number;
}

export interface ProgressUpdate {
  readonly path: string;
  readonly bytesRead: number;
  readonly totalBytes: number;
}

export class ProgressLine {
  private readonly stream: NodeJS.WriteStream;
  private readonly clock: () => number;
  private readonly showFrom: number;
  private readonly redrawMs: number;
  private lastDraw = -Infinity;
  private drawn = false;

  constructor(options: ProgressLineOptions) {
    this.stream = options.stream;
    this.clock = options.clock ?? Date.now;
    this.showFrom = this.clock() + (options.delayMs ?? 1_000);
    this.redrawMs = options.redrawMs ?? 100;
  }

  /** Takes a classifier progress report; draws it when due. */
  update(progress: ProgressUpdate): void {
    if (!this.stream.isTTY) return;
    const now = this.clock();
    if (now < this.showFrom || now - this.lastDraw < this.redrawMs) return;
    this.lastDraw = now;
    const share = progress.totalBytes > 0 ? Math.min(100, Math.floor((progress.bytesRead / progress.totalBytes) * 100)) : 0;
    const line = `reading ${progress.path}: ${share}% of ${megabytes(progress.totalBytes)}`;
    const columns = this.stream.columns ?? 80;
    this.stream.write(`\r\x1b[K${line.length < columns ? line : `…${line.slice(line.length - columns + 2)}`}`);
    this.drawn = true;
  }

  /** Erases the line if it was drawn. */
  done(): void {
    if (this.drawn) this.stream.write('\r\x1b[K');
    this.drawn = false;
  }
}

function megabytes(bytes: number): string {
  return bytes >= 1_048_576 ? `${(bytes / 1_048_576).toFixed(1)} MB` : `${Math.ceil(bytes / 1024)} KB`;
}
