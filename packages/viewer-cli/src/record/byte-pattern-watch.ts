/**
 * Tells whether a byte pattern occurs anywhere in a stream seen chunk by chunk, without keeping
 * the stream: only the last `pattern.length - 1` bytes are carried over, so a match split across
 * two chunks is still found. Used to notice a tool result (`function_call_output`) in a model
 * request body that is forwarded, never stored.
 */
export class BytePatternWatch {
  private found = false;
  private carry: Buffer = Buffer.alloc(0);

  constructor(private readonly pattern: Buffer) {}

  get seen(): boolean {
    return this.found;
  }

  push(chunk: Buffer): void {
    if (this.found) return;
    if (chunk.indexOf(this.pattern) !== -1) {
      this.found = true;
      return;
    }
    const keep = this.pattern.length - 1;
    if (this.carry.length > 0) {
      const seam = Buffer.concat([this.carry, chunk.subarray(0, keep)]);
      if (seam.indexOf(this.pattern) !== -1) {
        this.found = true;
        return;
      }
    }
    const tail = chunk.length >= keep ? chunk.subarray(chunk.length - keep) : Buffer.concat([this.carry, chunk]);
    this.carry = Buffer.from(tail.subarray(Math.max(0, tail.length - keep)));
  }
}
