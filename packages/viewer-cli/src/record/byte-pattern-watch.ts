/**
 * Tells whether any of a few byte patterns occurs anywhere in a stream seen chunk by chunk, without
 * keeping the stream: only the last `longest pattern - 1` bytes are carried over, so a match split
 * across two chunks is still found. Used to notice a tool result in a model request body that is
 * forwarded, never stored, and a completion event in a response stream.
 *
 * The carried bytes live in one small buffer per watch, with room for as many of the next chunk's
 * first bytes: a chunk costs the pattern searches and a copy of its tail, no allocation (a copy of
 * the tail into a new buffer per chunk, and a concatenation per chunk after the first, were garbage
 * made on the proxy's hot path).
 */
export class BytePatternWatch {
  private found = false;
  private readonly patterns: readonly Buffer[];
  private readonly keep: number;
  /** `[0, carried)`: the stream's last bytes so far; then room for the next chunk's first `keep`. */
  private window: Buffer | undefined;
  private carried = 0;

  constructor(patterns: Buffer | readonly Buffer[]) {
    this.patterns = Buffer.isBuffer(patterns) ? [patterns] : patterns;
    this.keep = Math.max(...this.patterns.map((p) => p.length)) - 1;
  }

  get seen(): boolean {
    return this.found;
  }

  push(chunk: Buffer): void {
    if (this.found || chunk.length === 0) return;
    if (this.matches(chunk)) {
      this.found = true;
      return;
    }
    const keep = this.keep;
    const window = (this.window ??= Buffer.allocUnsafe(2 * keep));
    // The carried bytes, then the chunk's first ones: a match across the boundary.
    const head = Math.min(keep, chunk.length);
    const joined = this.carried + head;
    if (this.carried > 0) {
      chunk.copy(window, this.carried, 0, head);
      if (this.matches(window.subarray(0, joined))) {
        this.found = true;
        return;
      }
    }
    if (chunk.length >= keep) {
      chunk.copy(window, 0, chunk.length - keep);
      this.carried = keep;
    } else if (this.carried > 0) {
      // A short chunk: the last bytes of the carried ones and it, already side by side in the window.
      const from = Math.max(0, joined - keep);
      window.copyWithin(0, from, joined);
      this.carried = joined - from;
    } else {
      chunk.copy(window, 0);
      this.carried = chunk.length;
    }
  }

  private matches(bytes: Buffer): boolean {
    for (const pattern of this.patterns) if (bytes.indexOf(pattern) !== -1) return true;
    return false;
  }
}
