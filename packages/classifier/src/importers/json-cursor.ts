/**
 * A cursor over one JSON value held in a Buffer, for decoders that read a few fields of a known
 * shape and skip the rest without materialising it (no strings, no objects for what is skipped).
 * Skipped values are checked only as far as skipping needs (strings end, brackets balance): a
 * decoder that meets anything unexpected throws `NOT_THIS_SHAPE` and its caller falls back to
 * `JSON.parse`, which reports real syntax errors.
 */

/** Thrown (never escapes a decoder) when the bytes are not in the shape the decoder reads. */
export const NOT_THIS_SHAPE: unique symbol = Symbol('not this shape');

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;

const SCALAR_START = new Uint8Array(256);
for (const c of '-0123456789tfn') SCALAR_START[c.charCodeAt(0)] = 1;
const SCALAR_END = new Uint8Array(256);
for (const c of [0x20, 0x09, 0x0a, 0x0d, COMMA, CLOSE_ARRAY, CLOSE_OBJECT]) SCALAR_END[c] = 1;
const HEX_LOWER = new Uint8Array(256);
for (const c of '0123456789abcdef') HEX_LOWER[c.charCodeAt(0)] = 1;
// What a byte inside a string is, so the walk tests one table entry per byte instead of four ranges.
const PLAIN = 0;
const IN_STRING_QUOTE = 1;
const IN_STRING_BACKSLASH = 2;
const IN_STRING_CONTROL = 3;
const IN_STRING_WIDE = 4;
const STRING_BYTE = new Uint8Array(256);
for (let c = 0; c < 0x20; c++) STRING_BYTE[c] = IN_STRING_CONTROL;
for (let c = 0x80; c < 0x100; c++) STRING_BYTE[c] = IN_STRING_WIDE;
STRING_BYTE[QUOTE] = IN_STRING_QUOTE;
STRING_BYTE[BACKSLASH] = IN_STRING_BACKSLASH;
/**
 * A skipped string longer than this is jumped over with `Buffer.indexOf` (memchr) rather than
 * walked: below it the native call costs more than the walk (ids, names and keys are shorter).
 */
const WALK_BEFORE_JUMP = 48;

function fail(): never {
  throw NOT_THIS_SHAPE;
}

export class JsonCursor {
  buf: Buffer = Buffer.alloc(0);
  pos = 0;
  end = 0;
  /** Bounds of the last string read, quotes excluded. */
  strStart = 0;
  strEnd = 0;
  /** The last string read holds an escape (decode with JSON.parse) / a byte ≥ 0x80 (decode as UTF-8). */
  strEscaped = false;
  strWide = false;

  reset(buf: Buffer, start: number, end: number): void {
    this.buf = buf;
    this.pos = start;
    this.end = end;
  }

  /** Skips whitespace; returns the next byte (or -1 at the end) without consuming it. */
  peek(): number {
    const b = this.buf;
    let i = this.pos;
    while (i < this.end) {
      const c = b[i]!;
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) i++;
      else break;
    }
    this.pos = i;
    return i < this.end ? b[i]! : -1;
  }

  /** Consumes `byte` (after whitespace) or fails. */
  expect(byte: number): void {
    if (this.peek() !== byte) fail();
    this.pos++;
  }

  /** Consumes `byte` if it comes next. */
  take(byte: number): boolean {
    if (this.peek() !== byte) return false;
    this.pos++;
    return true;
  }

  /** Reads a string's bounds into strStart/strEnd (escapes left in place). */
  string(): void {
    this.expect(QUOTE);
    const b = this.buf;
    const end = this.end;
    let i = this.pos;
    let escaped = false;
    let wide = false;
    this.strStart = i;
    for (;;) {
      if (i >= end) fail();
      const kind = STRING_BYTE[b[i]!]!;
      if (kind === PLAIN) {
        i++;
        continue;
      }
      if (kind === IN_STRING_QUOTE) break;
      if (kind === IN_STRING_BACKSLASH) {
        escaped = true;
        i += 2;
        continue;
      }
      if (kind === IN_STRING_CONTROL) fail();
      wide = true;
      i++;
    }
    this.strEnd = i;
    this.strEscaped = escaped;
    this.strWide = wide;
    this.pos = i + 1;
  }

  /**
   * Reads a string of exactly `digits` lowercase hex digits (an OTLP id as the OTLP JSON encoding
   * writes it) in one walk; false, nothing consumed, when the next value is not one.
   */
  lowerHexString(digits: number): boolean {
    const b = this.buf;
    const start = this.pos + 1;
    const close = start + digits;
    if (close >= this.end || b[this.pos] !== QUOTE || b[close] !== QUOTE) return false;
    for (let k = start; k < close; k++) if (!HEX_LOWER[b[k]!]) return false;
    this.strStart = start;
    this.strEnd = close;
    this.strEscaped = false;
    this.strWide = false;
    this.pos = close + 1;
    return true;
  }

  /**
   * Consumes a member's key and colon when exactly these bytes (`"key":`) come next, as writers lay
   * them out; false, nothing consumed, otherwise (other key, whitespace): then read it with `nextKey`.
   * The last string read is not set.
   */
  takeLiteral(bytes: Uint8Array): boolean {
    const b = this.buf;
    const i = this.pos;
    const n = bytes.length;
    if (i + n > this.end) return false;
    for (let k = 0; k < n; k++) if (b[i + k] !== bytes[k]) return false;
    this.pos = i + n;
    return true;
  }

  /** The last string read, decoded. */
  stringValue(): string {
    if (this.strEscaped) return JSON.parse(this.buf.toString('utf8', this.strStart - 1, this.strEnd + 1)) as string;
    return this.buf.toString(this.strWide ? 'utf8' : 'latin1', this.strStart, this.strEnd);
  }

  /** Whether the last string read equals these ASCII bytes. */
  stringIs(bytes: Uint8Array): boolean {
    const n = bytes.length;
    if (this.strEnd - this.strStart !== n || this.strEscaped) return false;
    const b = this.buf;
    const s = this.strStart;
    for (let k = 0; k < n; k++) if (b[s + k] !== bytes[k]) return false;
    return true;
  }

  /**
   * Consumes the next string when it is exactly `text`, a string of ASCII without backslashes or
   * control characters, written without escapes; false, nothing consumed, otherwise. Compared from
   * the closing quote back: the recent ids and values tried differ in length or at their ends.
   */
  takeString(text: string): boolean {
    const b = this.buf;
    const start = this.pos + 1;
    const n = text.length;
    if (start + n >= this.end || b[start + n] !== QUOTE || b[this.pos] !== QUOTE) return false;
    for (let k = n - 1; k >= 0; k--) if (b[start + k] !== text.charCodeAt(k)) return false;
    this.strStart = start;
    this.strEnd = start + n;
    this.strEscaped = false;
    this.strWide = false;
    this.pos = start + n + 1;
    return true;
  }

  /** Whether the last string read is `digits` lowercase hex digits. */
  stringIsLowerHex(digits: number): boolean {
    if (this.strEnd - this.strStart !== digits) return false;
    const b = this.buf;
    for (let k = this.strStart; k < this.strEnd; k++) if (!HEX_LOWER[b[k]!]) return false;
    return true;
  }

  /** The bytes `[from, to)` as a decimal number when they are all ASCII digits (exact for ≤ 15 of them); -1 otherwise. */
  stringDigits(from: number, to: number): number {
    const b = this.buf;
    let n = 0;
    for (let k = from; k < to; k++) {
      const d = b[k]! - 0x30;
      if (d < 0 || d > 9) return -1;
      n = n * 10 + d;
    }
    return n;
  }

  /** Reads a scalar (number, true, false, null) and returns its text bounds in strStart/strEnd. */
  scalar(): void {
    const c = this.peek();
    if (c < 0 || !SCALAR_START[c]) fail();
    const b = this.buf;
    let i = this.pos + 1;
    while (i < this.end && !SCALAR_END[b[i]!]) i++;
    this.strStart = this.pos;
    this.strEnd = i;
    this.pos = i;
  }

  /** The last scalar read as a number; fails if it is not one. */
  scalarNumber(): number {
    const text = this.buf.toString('latin1', this.strStart, this.strEnd);
    const n = Number(text);
    if (text === '' || Number.isNaN(n) || !/^-?\d/.test(text)) fail();
    return n;
  }

  /** Skips one value of any kind. */
  skipValue(): void {
    const c = this.peek();
    if (c === QUOTE) {
      this.pos = this.skipString(this.pos + 1);
      return;
    }
    if (c !== OPEN_OBJECT && c !== OPEN_ARRAY) {
      this.scalar();
      return;
    }
    const b = this.buf;
    const end = this.end;
    let i = this.pos + 1;
    let depth = 1;
    while (depth > 0) {
      if (i >= end) fail();
      const x = b[i]!;
      if (x === QUOTE) i = this.skipString(i + 1);
      else {
        if (x === OPEN_OBJECT || x === OPEN_ARRAY) depth++;
        else if (x === CLOSE_OBJECT || x === CLOSE_ARRAY) depth--;
        i++;
      }
    }
    this.pos = i;
  }

  /**
   * The position after the closing quote of a skipped string whose content starts at `from`: walked
   * for its first bytes, then jumped quote to quote with indexOf. A quote is the closing one when an
   * even number of backslashes (escaping each other) stands before it.
   */
  skipString(from: number): number {
    const b = this.buf;
    const end = this.end;
    const walkEnd = Math.min(end, from + WALK_BEFORE_JUMP);
    let i = from;
    while (i < walkEnd) {
      const x = b[i]!;
      if (x === QUOTE) return i + 1;
      i += x === BACKSLASH ? 2 : 1;
    }
    if (i >= end) fail();
    for (;;) {
      const q = b.indexOf(QUOTE, i);
      if (q < 0 || q >= end) fail();
      let backslashes = 0;
      while (q - backslashes - 1 >= from && b[q - backslashes - 1] === BACKSLASH) backslashes++;
      if ((backslashes & 1) === 0) return q + 1;
      i = q + 1;
    }
  }

  /** Skips one value and returns its bounds, for a decoder that parses it whole later. */
  valueBounds(): [number, number] {
    this.peek();
    const start = this.pos;
    this.skipValue();
    return [start, this.pos];
  }

  /**
   * Starts an object: consumes `{`; returns false for `{}` (consumed whole). Then, per member:
   * `nextKey()` reads the key and the colon, the caller reads or skips the value, `endMember()`
   * consumes `,` (true: another member follows) or `}` (false).
   */
  openObject(): boolean {
    this.expect(OPEN_OBJECT);
    return !this.take(CLOSE_OBJECT);
  }

  nextKey(): void {
    this.string();
    this.expect(COLON);
  }

  endMember(): boolean {
    if (this.take(COMMA)) return true;
    this.expect(CLOSE_OBJECT);
    return false;
  }

  /** As for objects: `openArray()`, then per element read it and `endElement()`. */
  openArray(): boolean {
    this.expect(OPEN_ARRAY);
    return !this.take(CLOSE_ARRAY);
  }

  endElement(): boolean {
    if (this.take(COMMA)) return true;
    this.expect(CLOSE_ARRAY);
    return false;
  }

  /** Only whitespace remains. */
  atEnd(): boolean {
    return this.peek() === -1;
  }

  /** The bytes of `[start, end)` parsed by JSON.parse (for small, rare values). */
  parse(start: number, end: number): unknown {
    try {
      return JSON.parse(this.buf.toString('utf8', start, end));
    } catch {
      return fail();
    }
  }
}

/** A key or value as ASCII bytes, for `stringIs`. */
export function ascii(text: string): Uint8Array {
  return Buffer.from(text, 'latin1');
}

/** A member's key as it is usually written, `"key":`, for `takeLiteral`. */
export function keyLiteral(key: string): Uint8Array {
  return ascii(`"${key}":`);
}
