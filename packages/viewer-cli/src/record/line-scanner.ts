/**
 * Default longest line handed to the observer whole: 1 MiB. A longer line passes through untouched
 * and is counted; the observer gets only its first `maxLineBytes + 1` bytes (enough for it to see
 * the line is oversized and read its head, e.g. the id of a huge `thread/resume` answer).
 */
export const DEFAULT_MAX_LINE_BYTES = 1024 * 1024;

const NEWLINE = 0x0a;

export interface LineScannerOptions {
  /** Longest line (without its newline) handed to `onLine` whole. Default `DEFAULT_MAX_LINE_BYTES` (1 MiB). */
  readonly maxLineBytes?: number;
  /** The stream ended inside a line (a half line at EOF). */
  readonly onPartialLine?: () => void;
}

/** What a scanner has seen so far. */
export interface LineScannerStats {
  /** Complete lines handed to `onLine`. */
  lines: number;
  /** Lines longer than `maxLineBytes`: handed over cut at `maxLineBytes + 1` bytes, and counted. */
  oversizedLines: number;
  /** A last line without its newline when the stream ended: not handed over, only counted. */
  partialLines: number;
  /** Every byte pushed. */
  bytes: number;
}

/**
 * Cuts a byte stream into newline-delimited lines for an observer, beside the byte path: it never
 * changes, delays or copies the chunks that pass through; it only looks at them. A line inside one
 * chunk is handed over as a view of that chunk (no copy); only a line split across chunks is
 * joined. Of a line that grows past the cap only the first `maxLineBytes + 1` bytes are kept, so
 * memory stays bounded by the cap whatever the peer sends.
 */
export class LineScanner {
  readonly stats: LineScannerStats = { lines: 0, oversizedLines: 0, partialLines: 0, bytes: 0 };
  private readonly maxLineBytes: number;
  private readonly onPartialLine: (() => void) | undefined;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Inside a line that already passed the cap: skip to its newline. */
  private skipping = false;

  constructor(
    private readonly onLine: (line: Buffer) => void,
    options: LineScannerOptions = {},
  ) {
    this.maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
    this.onPartialLine = options.onPartialLine;
  }

  push(chunk: Buffer): void {
    this.stats.bytes += chunk.length;
    let start = 0;
    let nl = chunk.indexOf(NEWLINE, start);
    while (nl !== -1) {
      this.completeLine(chunk, start, nl);
      start = nl + 1;
      nl = chunk.indexOf(NEWLINE, start);
    }
    if (start < chunk.length) this.keep(chunk.subarray(start));
  }

  /** The stream ended: a line left without its newline is counted, not handed over. */
  end(): void {
    const partial = this.pendingBytes > 0 || this.skipping;
    this.reset();
    if (partial) {
      this.stats.partialLines++;
      this.onPartialLine?.();
    }
  }

  private completeLine(chunk: Buffer, start: number, nl: number): void {
    const cap = this.maxLineBytes + 1;
    const length = this.pendingBytes + (nl - start);
    let line: Buffer;
    if (this.pendingBytes === 0) {
      line = chunk.subarray(start, Math.min(nl, start + cap));
    } else if (this.skipping) {
      line = Buffer.concat(this.pending, this.pendingBytes);
    } else {
      line = Buffer.concat([...this.pending, chunk.subarray(start, Math.min(nl, start + cap - this.pendingBytes))]);
    }
    if (this.skipping || length > this.maxLineBytes) this.stats.oversizedLines++;
    else this.stats.lines++;
    this.reset();
    this.onLine(line);
  }

  private keep(rest: Buffer): void {
    if (this.skipping) return;
    const room = this.maxLineBytes + 1 - this.pendingBytes;
    // Copy: a small tail must not pin the whole chunk it came from.
    this.pending.push(Buffer.from(rest.subarray(0, room)));
    this.pendingBytes += Math.min(rest.length, room);
    if (rest.length >= room) this.skipping = true;
  }

  private reset(): void {
    this.pending = [];
    this.pendingBytes = 0;
    this.skipping = false;
  }
}
