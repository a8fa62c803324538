/**
 * Tells whether any of a few byte patterns occurs anywhere in a stream seen chunk by chunk, without
 * keeping the stream: only the last `longest pattern - 1` bytes are carried over, so a match split
 * across two chunks is still found. Used to notice a tool result in a model request body that is
 * forwarded, never stored, and a completion event in a response stream.
 */
export class BytePatternWatch {
  private found = false;
  private carry: Buffer = Buffer.alloc(0);
  private readonly patterns: readonly Buffer[];
  private readonly keep: number;

  constructor(patterns: Buffer | readonly Buffer[]) {
    this.patterns = Buffer.isBuffer(patterns) ? [patterns] : patterns;
    this.keep = Math.max(...this.patterns.map((p) => p.length)) - 1;
  }

  get seen(): boolean {
    return this.found;
  }

  push(chunk: Buffer): void {
    if (this.found) return;
    if (this.matches(chunk)) {
      this.found = true;
      return;
    }
    const keep = this.keep;
    if (this.carry.length > 0 && this.matches(Buffer.concat([this.carry, chunk.subarray(0, keep)]))) {
      this.found = true;
      return;
    }
    const tail = chunk.length >= keep ? chunk.subarray(chunk.length - keep) : Buffer.concat([this.carry, chunk]);
    this.carry = Buffer.from(tail.subarray(Math.max(0, tail.length - keep)));
  }

  private matches(bytes: Buffer): boolean {
    for (const pattern of this.patterns) if (bytes.indexOf(pattern) !== -1) return true;
    return false;
  }
}
