/**
 * A byte-level JSON scanner for documents too big to parse whole (a pretty-printed OTLP export, a
 * Chrome trace): it tracks the path of keys down to the current value and hands over, parsed, only
 * the objects and arrays found at the requested paths (`.resourceSpans[].scopeSpans[].spans[]`).
 * Memory is bounded by the largest captured value (`maxValueBytes`), not the document. It accepts a
 * sequence of top-level values (JSON lines). Malformed input raises with its byte offset.
 */
import { TraceInputError, bytePosition } from '../trace-input-error.js';

const enum Mode {
  Value, // expecting a value
  AfterValue, // expecting , or a closer
  Key, // expecting a key string or }
  Colon, // expecting :
}

interface Frame {
  readonly isObject: boolean;
  readonly path: string;
}

const WS = new Uint8Array(256);
for (const c of [0x20, 0x09, 0x0a, 0x0d]) WS[c] = 1;
const SCALAR_START = new Uint8Array(256);
for (const c of '-0123456789tfn') SCALAR_START[c.charCodeAt(0)] = 1;
const SCALAR_END = new Uint8Array(256);
for (const c of [0x20, 0x09, 0x0a, 0x0d, 0x2c, 0x5d, 0x7d]) SCALAR_END[c] = 1;

export interface ScannerOptions {
  /** Paths whose object/array values are captured: `.key`, `[]` for array elements, concatenated. */
  readonly targets: ReadonlySet<string>;
  /** Largest captured value. */
  readonly maxValueBytes: number;
  readonly onValue: (path: string, value: unknown, offset: number) => void;
}

export class JsonStreamScanner {
  private readonly stack: Frame[] = [];
  private mode = Mode.Value;
  private key = '';
  private keyParts: Buffer[] | undefined;
  private inString = false;
  private stringIsKey = false;
  private escaped = false;
  private inScalar = false;
  private offset = 0; // file offset of the next byte fed
  private capture: { path: string; depth: number; start: number; parts: Buffer[]; size: number } | undefined;
  private readonly prefixes = new Set<string>();

  constructor(
    private readonly file: string,
    private readonly options: ScannerOptions,
  ) {
    this.prefixes.add('');
    for (const t of options.targets) for (let i = 1; i <= t.length; i++) this.prefixes.add(t.slice(0, i));
  }

  private fail(at: number, what: string): never {
    throw new TraceInputError(this.file, bytePosition(at), what);
  }

  private path(): string {
    return this.stack.length ? this.stack[this.stack.length - 1]!.path : '';
  }

  feed(buf: Buffer): void {
    const base = this.offset;
    const n = buf.length;
    this.chunkCaptureStart = 0;
    let i = 0;
    while (i < n) {
      if (this.inString) {
        i = this.skipString(buf, i);
        continue;
      }
      const c = buf[i]!;
      if (this.inScalar) {
        if (!SCALAR_END[c]) {
          i++;
          continue;
        }
        this.inScalar = false;
        this.mode = Mode.AfterValue;
      }
      if (WS[c]) {
        i++;
        continue;
      }
      const top = this.stack[this.stack.length - 1];
      switch (this.mode) {
        case Mode.Value:
          if (c === 0x7b || c === 0x5b) this.open(c === 0x7b, i, base);
          else if (c === 0x22) {
            this.inString = true;
            this.stringIsKey = false;
          } else if (c === 0x5d && top && !top.isObject) this.close(buf, i);
          else if (SCALAR_START[c] && top) this.inScalar = true;
          else this.fail(base + i, `unexpected ${describe(c)} where a JSON value should start`);
          break;
        case Mode.Key:
          if (c === 0x22) {
            this.inString = true;
            this.stringIsKey = true;
            this.keyParts = [];
          } else if (c === 0x7d) this.close(buf, i);
          else this.fail(base + i, `unexpected ${describe(c)} where a key should be`);
          break;
        case Mode.Colon:
          if (c !== 0x3a) this.fail(base + i, `unexpected ${describe(c)} where ':' should be`);
          this.mode = Mode.Value;
          break;
        case Mode.AfterValue:
          if (!top) {
            // Between top-level values (JSON lines): the next one starts here.
            this.mode = Mode.Value;
            continue;
          }
          if (c === 0x2c) this.mode = top.isObject ? Mode.Key : Mode.Value;
          else if ((c === 0x7d && top.isObject) || (c === 0x5d && !top.isObject)) this.close(buf, i);
          else this.fail(base + i, `unexpected ${describe(c)} after a value`);
          break;
      }
      i++;
    }
    if (this.capture) this.capturePart(buf.subarray(this.chunkCaptureStart, n));
    this.offset = base + n;
  }

  private chunkCaptureStart = 0;

  // Inside a string: jumps to its closing quote (a quote after an odd run of backslashes is escaped);
  // returns the index after it, or n when the string goes on in the next chunk.
  private skipString(buf: Buffer, i: number): number {
    const n = buf.length;
    let from = i;
    if (this.escaped) {
      this.escaped = false;
      from = i + 1;
    }
    let j = from;
    let end = -1;
    while (j < n) {
      const q = buf.indexOf(0x22, j);
      if (q < 0) break;
      let k = q - 1;
      while (k >= from && buf[k] === 0x5c) k--;
      if ((q - 1 - k) % 2 === 0) {
        end = q;
        break;
      }
      j = q + 1;
    }
    if (end < 0) {
      let k = n - 1;
      while (k >= from && buf[k] === 0x5c) k--;
      this.escaped = (n - 1 - k) % 2 === 1;
      if (this.stringIsKey) this.keyPart(buf.subarray(i, n));
      return n;
    }
    if (this.stringIsKey) {
      this.keyPart(buf.subarray(i, end));
      const parts = this.keyParts!;
      this.key = parts.length === 1 ? parts[0]!.toString('utf8') : Buffer.concat(parts).toString('utf8');
      this.keyParts = undefined;
      this.mode = Mode.Colon;
    } else this.mode = Mode.AfterValue;
    this.inString = false;
    return end + 1;
  }

  private open(isObject: boolean, i: number, base: number): void {
    const parent = this.stack[this.stack.length - 1];
    const path = parent === undefined ? '' : parent.isObject ? `${parent.path}.${this.key}` : `${parent.path}[]`;
    if (!this.capture && this.options.targets.has(path)) {
      this.capture = { path, depth: this.stack.length, start: base + i, parts: [], size: 0 };
      this.chunkCaptureStart = i;
    }
    // Paths that lead to no target are not built (saves a string per container).
    this.stack.push({ isObject, path: this.prefixes.has(path) ? path : '\u0000' });
    this.mode = isObject ? Mode.Key : Mode.Value;
  }

  private keyPart(b: Buffer): void {
    if (this.keyParts!.length < 64) this.keyParts!.push(Buffer.from(b));
  }

  private capturePart(b: Buffer): void {
    const cap = this.capture!;
    cap.size += b.length;
    if (cap.size > this.options.maxValueBytes) {
      this.fail(cap.start, `a value at ${cap.path || 'the top level'} is larger than ${Math.round(this.options.maxValueBytes / 1048576)} MiB`);
    }
    cap.parts.push(Buffer.from(b));
  }

  private close(buf: Buffer, i: number): void {
    this.stack.pop();
    this.mode = Mode.AfterValue;
    const cap = this.capture;
    if (cap && this.stack.length === cap.depth) {
      this.capturePart(buf.subarray(this.chunkCaptureStart, i + 1));
      const text = cap.parts.length === 1 ? cap.parts[0]!.toString('utf8') : Buffer.concat(cap.parts).toString('utf8');
      this.capture = undefined;
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch (error) {
        this.fail(cap.start, `invalid JSON: ${(error as Error).message}`);
      }
      this.options.onValue(cap.path, value, cap.start);
    }
  }

  /** Call at the end of input: raises if a value is unfinished. */
  end(): void {
    if (this.inString || this.stack.length > 0) {
      this.fail(this.offset, `the JSON is truncated: the file ends inside ${this.inString ? 'a string' : this.stack[this.stack.length - 1]!.isObject ? 'an object' : 'an array'}`);
    }
  }
}

function describe(c: number): string {
  return c >= 0x20 && c < 0x7f ? `'${String.fromCharCode(c)}'` : `byte 0x${c.toString(16).padStart(2, '0')}`;
}
