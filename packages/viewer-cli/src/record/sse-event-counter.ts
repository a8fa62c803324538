const LF = 0x0a;
const CR = 0x0d;

/** What the current, unfinished line holds so far. */
const enum Partial {
  Empty,
  CarriageReturn,
  Text,
}

/**
 * Counts Server-Sent Events in a response body as it streams by, without parsing them: an event
 * ends at a blank line (`\n\n` or `\r\n\r\n`) that follows at least one non-blank line. Only the
 * newlines are visited (`Buffer.indexOf`); two small pieces of state cross chunk boundaries.
 */
export class SseEventCounter {
  private count = 0;
  private partial = Partial.Empty;
  /** A non-blank line was seen since the last event ended. */
  private inEvent = false;

  get events(): number {
    return this.count;
  }

  /** Scans a chunk; returns how many events ended inside it. */
  push(chunk: Buffer): number {
    const before = this.count;
    let from = 0;
    let nl = chunk.indexOf(LF);
    while (nl !== -1) {
      const carried = from === 0 ? this.partial : Partial.Empty;
      if (isBlank(carried, chunk, from, nl)) {
        if (this.inEvent) this.count++;
        this.inEvent = false;
      } else {
        this.inEvent = true;
      }
      from = nl + 1;
      nl = chunk.indexOf(LF, from);
    }
    const carried = from === 0 ? this.partial : Partial.Empty;
    this.partial = extend(carried, chunk, from, chunk.length);
    return this.count - before;
  }
}

function isBlank(carried: Partial, chunk: Buffer, from: number, to: number): boolean {
  return extend(carried, chunk, from, to) !== Partial.Text;
}

function extend(carried: Partial, chunk: Buffer, from: number, to: number): Partial {
  const length = to - from;
  if (length === 0) return carried;
  if (length === 1 && carried === Partial.Empty && chunk[from] === CR) return Partial.CarriageReturn;
  return Partial.Text;
}
