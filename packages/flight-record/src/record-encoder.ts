/**
 * The encoder core of format version 2 records (layout in segment-format.ts): a growable buffer
 * with the primitives a record body is made of. Thin front ends drive it, one per record shape:
 * `writeRecordedSpanBody` and `writeRecordedLogBody` here, and @stall-why/instrument's from an SDK
 * ReadableSpan. The flight
 * recorder's writer encodes straight into its pending batch (one RecordEncoder), so a record is
 * built once, in place, with no intermediate string or copy.
 *
 * Runs for every span a host records, so it is written for speed: short ASCII strings (keys, names,
 * most values) are copied by a charCodeAt loop, which beats Buffer#write's call overhead on them;
 * hex ids go through a lookup table; nothing is allocated per record but the view crc32 reads.
 */
import { crc32 } from 'node:zlib';
import type { RecordedLog } from './recorded-log.js';
import type { RecordedSpan } from './recorded-span.js';
import {
  FLAG2_LINKS, FLAG2_RESOURCE, FLAG_END, FLAG_EVENTS, FLAG_KIND, FLAG_PARENT, FLAG_SCOPE, FLAG_SCOPE_VERSION, FLAG_STATUS,
  FLAG_STATUS_MESSAGE, FRAME_HEADER_BYTES, LOG_FLAG2_SCOPE_VERSION, LOG_FLAG_BODY, LOG_FLAG_EVENT_NAME, LOG_FLAG_OBSERVED_TIME,
  LOG_FLAG_SCOPE, LOG_FLAG_SEVERITY_NUMBER, LOG_FLAG_SEVERITY_TEXT, LOG_FLAG_SPAN_ID, LOG_FLAG_TRACE_ID, MAX_RECORD_BYTES,
  VALUE_ARRAY, VALUE_FALSE, VALUE_FLOAT, VALUE_INT, VALUE_NULL, VALUE_STRING, VALUE_TRUE,
} from './segment-format.js';

/** Writes one record's body (everything after the type byte); throws when the value cannot be recorded. */
export type RecordBodyWriter<T> = (encoder: RecordEncoder, value: T, type: number) => void;

/** Strings shorter than this take the charCodeAt path: as ASCII their length prefix is one byte. */
const SHORT_STRING = 64;

/** Nibble value of each ASCII hex digit (lowercase only, as RecordedSpan ids are), -1 elsewhere. */
const HEX_NIBBLE = new Int8Array(128).fill(-1);
for (let i = 0; i < 10; i++) HEX_NIBBLE[0x30 + i] = i;
for (let i = 0; i < 6; i++) HEX_NIBBLE[0x61 + i] = 10 + i;

type WellFormed = string & { isWellFormed(): boolean }; // ES2024, in Node since 20.0

/** Frames records into a growable buffer: `buffer[0, length)` holds them. */
export class RecordEncoder {
  /** Replaced by a larger one when it fills up; read it after encoding, not before. */
  buffer: Buffer;
  length = 0;
  private frameStart = 0;

  constructor(initialBytes = 64 * 1024) {
    this.buffer = Buffer.allocUnsafe(Math.max(64, initialBytes));
  }

  /**
   * Frames one record (length, crc32, type byte, the body `writeBody` writes). Returns false, and
   * leaves the buffer as it was, when `writeBody` throws or the body is over MAX_RECORD_BYTES.
   */
  appendRecord<T>(type: number, value: T, writeBody: RecordBodyWriter<T>): boolean {
    const start = this.length;
    this.frameStart = start;
    try {
      this.reserve(FRAME_HEADER_BYTES + 1);
      this.buffer[start + FRAME_HEADER_BYTES] = type;
      this.length = start + FRAME_HEADER_BYTES + 1;
      writeBody(this, value, type);
    } catch {
      this.length = start;
      return false;
    }
    const payloadStart = start + FRAME_HEADER_BYTES;
    // reserve() refuses to grow the buffer for a record over the limit; one that fit in room already there is caught here.
    if (this.length - payloadStart > MAX_RECORD_BYTES) {
      this.length = start;
      return false;
    }
    const buf = this.buffer;
    buf.writeUInt32LE(this.length - payloadStart, start);
    buf.writeUInt32LE(crc32(buf.subarray(payloadStart, this.length)), start + 4);
    return true;
  }

  /** Forgets everything from `length` on. */
  truncate(length: number): void {
    this.length = length;
  }

  /** Drops `buffer[0, from)`, moving what follows to the start. */
  discardBefore(from: number): void {
    this.buffer.copyWithin(0, from, this.length);
    this.length -= from;
  }

  /** Empties the encoder; a buffer grown past `maxKeptBytes` is let go. */
  clear(maxKeptBytes: number): void {
    this.length = 0;
    if (this.buffer.length > maxKeptBytes) this.buffer = Buffer.allocUnsafe(64 * 1024);
  }

  /** Makes room for `bytes` more bytes; a record may not outgrow MAX_RECORD_BYTES (it throws, the record is left out). */
  reserve(bytes: number): void {
    const needed = this.length + bytes;
    if (needed <= this.buffer.length) return;
    if (needed - this.frameStart > FRAME_HEADER_BYTES + MAX_RECORD_BYTES) throw new RangeError('flight record over MAX_RECORD_BYTES');
    const grown = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, needed));
    this.buffer.copy(grown, 0, 0, this.length);
    this.buffer = grown;
  }

  writeU8(value: number): void {
    this.reserve(1);
    this.buffer[this.length++] = value;
  }

  /** An unsigned integer below 2^32 as LEB128. */
  writeVarint(value: number): void {
    this.reserve(5);
    const buf = this.buffer;
    let pos = this.length;
    while (value > 0x7f) {
      buf[pos++] = (value & 0x7f) | 0x80;
      value >>>= 7;
    }
    buf[pos++] = value;
    this.length = pos;
  }

  writeF64(value: number): void {
    this.reserve(8);
    this.length = this.buffer.writeDoubleLE(value, this.length);
  }

  /** A lowercase hex id of `bytes` bytes as raw bytes; throws on anything else. */
  writeId(hex: string, bytes: number): void {
    this.reserve(bytes);
    this.length = writeHexId(this.buffer, this.length, hex, bytes);
  }

  /**
   * The fixed start of a body: both flag bytes, ids, times, kind and status code, with one bounds
   * check. FLAG_PARENT, FLAG_END, FLAG_KIND and FLAG_STATUS are set here from what is given
   * (undefined: absent; `kind` a byte, `statusCode` 0-2); `flags` and `flags2` carry the others.
   */
  writeHead(
    flags: number, flags2: number, traceId: string, spanId: string, parentSpanId: string | undefined,
    startTimeMs: number, endTimeMs: number | undefined, kind: number | undefined, statusCode: number | undefined,
  ): void {
    this.reserve(2 + 16 + 8 + 8 + 8 + 8 + 2);
    const buf = this.buffer;
    let pos = this.length;
    buf[pos] = flags | (parentSpanId !== undefined ? FLAG_PARENT : 0) | (endTimeMs !== undefined ? FLAG_END : 0) |
      (kind !== undefined ? FLAG_KIND : 0) | (statusCode !== undefined ? FLAG_STATUS : 0);
    buf[pos + 1] = flags2;
    pos = writeHexId(buf, pos + 2, traceId, 16);
    pos = writeHexId(buf, pos, spanId, 8);
    if (parentSpanId !== undefined) pos = writeHexId(buf, pos, parentSpanId, 8);
    pos = buf.writeDoubleLE(startTimeMs, pos);
    if (endTimeMs !== undefined) pos = buf.writeDoubleLE(endTimeMs, pos);
    if (kind !== undefined) buf[pos++] = kind;
    if (statusCode !== undefined) buf[pos++] = statusCode;
    this.length = pos;
  }

  /** varint (byte length << 1 | encoding) + bytes: UTF-8, or UTF-16LE for a string with a lone surrogate. */
  writeString(value: string): void {
    const n = value.length;
    if (n < SHORT_STRING) {
      this.reserve(1 + n);
      const buf = this.buffer;
      const start = this.length;
      for (let i = 0; i < n; i++) {
        const c = value.charCodeAt(i);
        if (c >= 0x80) return this.writeEncodedString(value);
        buf[start + 1 + i] = c;
      }
      buf[start] = n << 1;
      this.length = start + 1 + n;
      return;
    }
    this.writeEncodedString(value);
  }

  private writeEncodedString(value: string): void {
    if ((value as WellFormed).isWellFormed()) {
      const bytes = Buffer.byteLength(value, 'utf8');
      this.writeVarint(bytes * 2);
      this.reserve(bytes);
      this.length += this.buffer.write(value, this.length, bytes, 'utf8');
    } else {
      const bytes = value.length * 2;
      this.writeVarint(bytes * 2 + 1);
      this.reserve(bytes);
      this.length += this.buffer.write(value, this.length, bytes, 'utf16le');
    }
  }

  /**
   * An attribute map: varint count, then key + tagged value per entry. Keys whose value is
   * undefined, a function, a plain object or a bigint (none of them an OpenTelemetry attribute
   * value) are left out, as JSON.stringify leaves out the first two.
   */
  writeAttributes(attributes: object): void {
    this.writeAttributeMap(attributes, 0);
  }

  /** An optional attribute map: varint 0 when absent, else count + 1. */
  writeOptionalAttributes(attributes: object | undefined): void {
    if (attributes === undefined || attributes === null) this.writeU8(0);
    else this.writeAttributeMap(attributes, 1);
  }

  private writeAttributeMap(attributes: object, countBias: number): void {
    const countAt = this.length;
    this.writeU8(0); // the count's place: one byte below 128 entries, widened below when more
    let count = 0;
    // for-in, not Object.keys: no array per map (attribute maps are plain objects, nothing inherited).
    for (const key in attributes) {
      const value = (attributes as Record<string, unknown>)[key];
      if (!isRecordable(value)) continue;
      this.writeString(key);
      this.writeValue(value);
      count++;
    }
    count += countBias;
    if (count < 0x80) this.buffer[countAt] = count;
    else this.rewriteVarint(countAt, countAt + 1, count);
  }

  /** A tagged value; anything but a string, number, boolean or array is a null (array items: nested arrays too). */
  private writeValue(value: unknown): void {
    switch (typeof value) {
      case 'string':
        this.writeU8(VALUE_STRING);
        this.writeString(value);
        return;
      case 'number':
        this.writeNumber(value);
        return;
      case 'boolean':
        this.writeU8(value ? VALUE_TRUE : VALUE_FALSE);
        return;
      default:
        if (!Array.isArray(value)) {
          this.writeU8(VALUE_NULL);
          return;
        }
        this.writeU8(VALUE_ARRAY);
        this.writeVarint(value.length);
        for (let i = 0; i < value.length; i++) {
          const item: unknown = value[i];
          if (Array.isArray(item)) this.writeU8(VALUE_NULL);
          else this.writeValue(item);
        }
    }
  }

  /** int32 values (not -0) as a zigzag varint, the rest as f64: NaN, Infinity and -0 are kept. */
  private writeNumber(value: number): void {
    if ((value | 0) === value && (value !== 0 || 1 / value > 0)) {
      this.writeU8(VALUE_INT);
      this.writeVarint(((value << 1) ^ (value >> 31)) >>> 0);
    } else {
      this.writeU8(VALUE_FLOAT);
      this.writeF64(value);
    }
  }

  /** Replaces the varint at `at` (its bytes end at `bodyAt`) with `value`, shifting what follows. */
  private rewriteVarint(at: number, bodyAt: number, value: number): void {
    const size = varintSize(value);
    const shift = at + size - bodyAt;
    if (shift !== 0) {
      this.reserve(Math.max(0, shift));
      this.buffer.copyWithin(bodyAt + shift, bodyAt, this.length);
      this.length += shift;
    }
    const end = this.length;
    this.length = at;
    this.writeVarint(value);
    this.length = end;
  }
}

/** Writes `hex` (2 * `bytes` lowercase hex digits) as bytes at `pos`; returns the position after them. */
function writeHexId(buf: Buffer, pos: number, hex: string, bytes: number): number {
  if (hex.length !== bytes * 2) throw new TypeError('not a hex id of the expected length');
  for (let i = 0; i < bytes; i++) {
    const c1 = hex.charCodeAt(2 * i);
    const c2 = hex.charCodeAt(2 * i + 1);
    const hi = c1 < 128 ? HEX_NIBBLE[c1] : -1;
    const lo = c2 < 128 ? HEX_NIBBLE[c2] : -1;
    if ((hi | lo) < 0) throw new TypeError('not a lowercase hex id');
    buf[pos + i] = (hi << 4) | lo;
  }
  return pos + bytes;
}

function isRecordable(value: unknown): boolean {
  const type = typeof value;
  return type === 'string' || type === 'number' || type === 'boolean' || value === null || Array.isArray(value);
}

function varintSize(value: number): number {
  let size = 1;
  while (value > 0x7f) {
    value = Math.floor(value / 128);
    size++;
  }
  return size;
}

/** The version 2 body of a RecordedSpan (the record front end for spans that come from OTLP, or from tests). */
export function writeRecordedSpanBody(encoder: RecordEncoder, span: RecordedSpan): void {
  const { status, events, links, resource, scope, scopeVersion, kind } = span;
  const statusCode = status !== undefined && isStatusCode(status.code) ? status.code : undefined;
  const message = statusCode !== undefined ? status!.message : undefined;
  encoder.writeHead(
    (message !== undefined ? FLAG_STATUS_MESSAGE : 0) | (scope !== undefined ? FLAG_SCOPE : 0) |
      (scopeVersion !== undefined ? FLAG_SCOPE_VERSION : 0) | (events !== undefined ? FLAG_EVENTS : 0),
    (links !== undefined ? FLAG2_LINKS : 0) | (resource !== undefined ? FLAG2_RESOURCE : 0),
    span.traceId, span.spanId, span.parentSpanId, span.startTimeMs, span.endTimeMs, kind !== undefined && isByte(kind) ? kind : undefined, statusCode,
  );
  encoder.writeString(span.name);
  encoder.writeAttributes(span.attributes ?? {});
  if (message !== undefined) encoder.writeString(message);
  if (events !== undefined) {
    encoder.writeVarint(events.length);
    for (const event of events) {
      encoder.writeString(event.name);
      encoder.writeF64(event.timeMs);
      encoder.writeOptionalAttributes(event.attributes);
    }
  }
  if (links !== undefined) {
    encoder.writeVarint(links.length);
    for (const link of links) {
      encoder.writeId(link.traceId, 16);
      encoder.writeId(link.spanId, 8);
      encoder.writeOptionalAttributes(link.attributes);
    }
  }
  if (resource !== undefined) encoder.writeAttributes(resource);
  if (scope !== undefined) encoder.writeString(scope);
  if (scopeVersion !== undefined) encoder.writeString(scopeVersion);
}

/** The `L` body of a RecordedLog (layout in segment-format.ts), from the same primitives as a span's. */
export function writeRecordedLogBody(encoder: RecordEncoder, log: RecordedLog): void {
  const { traceId, spanId, observedTimeMs, severityText, body, eventName, resource, scope, scopeVersion } = log;
  const severityNumber = log.severityNumber !== undefined && isVarint(log.severityNumber) ? log.severityNumber : undefined;
  encoder.writeU8(
    (traceId !== undefined ? LOG_FLAG_TRACE_ID : 0) | (spanId !== undefined ? LOG_FLAG_SPAN_ID : 0) |
      (observedTimeMs !== undefined ? LOG_FLAG_OBSERVED_TIME : 0) | (severityNumber !== undefined ? LOG_FLAG_SEVERITY_NUMBER : 0) |
      (severityText !== undefined ? LOG_FLAG_SEVERITY_TEXT : 0) | (body !== undefined ? LOG_FLAG_BODY : 0) |
      (eventName !== undefined ? LOG_FLAG_EVENT_NAME : 0) | (scope !== undefined ? LOG_FLAG_SCOPE : 0),
  );
  encoder.writeU8((scopeVersion !== undefined ? LOG_FLAG2_SCOPE_VERSION : 0) | (resource !== undefined ? FLAG2_RESOURCE : 0));
  encoder.writeF64(log.timeMs);
  if (traceId !== undefined) encoder.writeId(traceId, 16);
  if (spanId !== undefined) encoder.writeId(spanId, 8);
  if (observedTimeMs !== undefined) encoder.writeF64(observedTimeMs);
  if (severityNumber !== undefined) encoder.writeVarint(severityNumber);
  encoder.writeAttributes(log.attributes ?? {});
  if (severityText !== undefined) encoder.writeString(severityText);
  if (body !== undefined) encoder.writeString(body);
  if (eventName !== undefined) encoder.writeString(eventName);
  if (resource !== undefined) encoder.writeAttributes(resource);
  if (scope !== undefined) encoder.writeString(scope);
  if (scopeVersion !== undefined) encoder.writeString(scopeVersion);
}

/** A severity number is stored as a varint; one that is not a non-negative int32 is recorded without it. */
function isVarint(value: number): boolean {
  return Number.isInteger(value) && value >= 0 && value <= 0x7fffffff;
}

/** The kind is stored as a byte; a span with a kind that is not one is recorded without it. */
function isByte(value: number): boolean {
  return (value & 0xff) === value;
}

/** A status whose code is not one of OpenTelemetry's three is recorded as absent. */
function isStatusCode(code: number): code is 0 | 1 | 2 {
  return code === 0 || code === 1 || code === 2;
}
