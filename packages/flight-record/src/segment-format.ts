/**
 * The flight recorder's on-disk format. A recorder directory holds segment files; each segment is
 * written by one process only and starts with a header, followed by framed records. Writers write
 * version 2; readers read versions 1 and 2 (the version is per segment, in its header).
 *
 * Segment header (little-endian):
 *   0   8  magic `SWFLTREC`
 *   8   2  format version (2; 1 for segments written before binary records)
 *   10  2  reserved, 0
 *   12  4  header JSON length n
 *   16  4  crc32 of the header JSON
 *   20  n  header JSON: {@link SegmentHeader}
 *
 * Record frame (both versions):
 *   0   4  payload length p (type byte + body)
 *   4   4  crc32 of the payload
 *   8   1  record type: `S` (0x53) span start, `E` (0x45) span end, `L` (0x4c) log record (version 2 only)
 *   9 p-1  body: version 1, the span as JSON ({@link RecordedSpan} keys); version 2, binary:
 *
 * Version 2 body (integers little-endian; `varint`: unsigned LEB128, at most 5 bytes):
 *   u8  flags   FLAG_PARENT, FLAG_END, FLAG_KIND, FLAG_STATUS, FLAG_STATUS_MESSAGE, FLAG_SCOPE,
 *               FLAG_SCOPE_VERSION, FLAG_EVENTS: which optional parts follow
 *   u8  flags2  FLAG2_LINKS, FLAG2_RESOURCE; the other 6 bits are 0 (a reader's cheap resync check)
 *   16  traceId, 8 spanId, [8 parentSpanId]                     raw bytes of the hex ids
 *   f64 startTimeMs, [f64 endTimeMs]                            epoch ms, fractional
 *   [u8 kind] [u8 status code]
 *   string name, attributes, [string status message]
 *   [events: varint n, n x (string name, f64 timeMs, optional attributes)]
 *   [links: varint n, n x (16 traceId, 8 spanId, optional attributes)]
 *   [resource: attributes]  only when it differs from the segment header's
 *   [string scope] [string scopeVersion]
 *
 *   string      varint (byteLength << 1 | encoding), then the bytes. encoding 0: UTF-8; 1: UTF-16LE,
 *               used only for a string holding a lone surrogate, which UTF-8 cannot carry (JSON kept
 *               them as \ud800 escapes, so version 1 round-tripped them; version 2 does too).
 *   attributes  varint count, count x (string key, value); optional attributes: varint 0 when
 *               absent, else count + 1
 *   value       u8 tag, then: VALUE_STRING string | VALUE_FLOAT f64 | VALUE_INT zigzag varint
 *               (an int32 other than -0) | VALUE_FALSE | VALUE_TRUE | VALUE_NULL (array items only) |
 *               VALUE_ARRAY varint n, n x value (not nested). Numbers are stored as they are:
 *               NaN, Infinity and -0 round-trip (version 1's JSON turned them into null and 0).
 *
 * Version 2 `L` body, a log record ({@link RecordedLog}); the same framing, primitives and flag-byte
 * checks as a span's, so a reader that predates it skips it as one bad record and resynchronises:
 *   u8  flags   LOG_FLAG_TRACE_ID, LOG_FLAG_SPAN_ID, LOG_FLAG_OBSERVED_TIME, LOG_FLAG_SEVERITY_NUMBER,
 *               LOG_FLAG_SEVERITY_TEXT, LOG_FLAG_BODY, LOG_FLAG_EVENT_NAME, LOG_FLAG_SCOPE
 *   u8  flags2  LOG_FLAG2_SCOPE_VERSION, FLAG2_RESOURCE; the other 6 bits are 0, as in a span's
 *   f64 timeMs
 *   [16 traceId] [8 spanId] [f64 observedTimeMs] [varint severityNumber]
 *   attributes
 *   [string severityText] [string body] [string eventName]
 *   [resource: attributes]  only when it differs from the segment header's
 *   [string scope] [string scopeVersion]
 *
 * The length and checksum let a reader detect a torn write (a crash mid-append) or a flipped byte,
 * skip it, count it and resynchronise on the next valid frame: a bad record is never returned. A
 * record whose checksum matches but whose body does not decode is skipped and counted the same way.
 */
import { crc32 } from 'node:zlib';
import type { Attributes } from './recorded-span.js';

/** `SWFLTREC`: stall-why flight recorder. */
export const SEGMENT_MAGIC = Buffer.from('SWFLTREC', 'latin1');
/** The format version this package writes; it reads this one and every earlier one (from 1). */
export const SEGMENT_FORMAT_VERSION = 2;
/** Version 1: JSON record bodies. */
export const SEGMENT_FORMAT_VERSION_JSON = 1;
/** Bytes before the header JSON. */
export const SEGMENT_PREAMBLE_BYTES = 20;
/** Bytes before a record's payload. */
export const FRAME_HEADER_BYTES = 8;
/** Larger records are refused by the writer and treated as corrupt by the reader. */
export const MAX_RECORD_BYTES = 4 * 1024 * 1024;
/** Bound on the header JSON, so a corrupt length cannot make a reader allocate gigabytes. */
export const MAX_HEADER_BYTES = 1024 * 1024;
/** Suffix of segment file names; readers recognise segments by their magic, not by this name. */
export const SEGMENT_FILE_SUFFIX = '.swfr';

export const RECORD_TYPE_START = 0x53; // 'S'
export const RECORD_TYPE_END = 0x45; // 'E'
/** A log record ({@link RecordedLog}); only in version 2 segments. */
export const RECORD_TYPE_LOG = 0x4c; // 'L'
const OPEN_BRACE = 0x7b; // '{': every version 1 body starts with it

/** Version 2 body, first flags byte: which optional parts the record holds. */
export const FLAG_PARENT = 0x01;
export const FLAG_END = 0x02;
export const FLAG_KIND = 0x04;
export const FLAG_STATUS = 0x08;
export const FLAG_STATUS_MESSAGE = 0x10;
export const FLAG_SCOPE = 0x20;
export const FLAG_SCOPE_VERSION = 0x40;
export const FLAG_EVENTS = 0x80;
/** Version 2 body, second flags byte. */
export const FLAG2_LINKS = 0x01;
export const FLAG2_RESOURCE = 0x02;
/** Bits of the second flags byte no writer sets yet: a frame with any of them is not a version 2 record. */
export const FLAG2_RESERVED = 0xfc;

/** Version 2 `L` body, first flags byte: which optional parts the log record holds. */
export const LOG_FLAG_TRACE_ID = 0x01;
export const LOG_FLAG_SPAN_ID = 0x02;
export const LOG_FLAG_OBSERVED_TIME = 0x04;
export const LOG_FLAG_SEVERITY_NUMBER = 0x08;
export const LOG_FLAG_SEVERITY_TEXT = 0x10;
export const LOG_FLAG_BODY = 0x20;
export const LOG_FLAG_EVENT_NAME = 0x40;
export const LOG_FLAG_SCOPE = 0x80;
/** Version 2 `L` body, second flags byte (FLAG2_RESOURCE means the same as in a span's). */
export const LOG_FLAG2_SCOPE_VERSION = 0x01;

/** Version 2 attribute value tags. */
export const VALUE_STRING = 0;
export const VALUE_FLOAT = 1;
export const VALUE_INT = 2;
export const VALUE_FALSE = 3;
export const VALUE_TRUE = 4;
export const VALUE_NULL = 5;
export const VALUE_ARRAY = 6;

/** The smallest version 2 payload: type, two flag bytes, trace and span id, start time, name length, attribute count. */
const MIN_BINARY_PAYLOAD = 1 + 2 + 16 + 8 + 8 + 1 + 1;
/** The smallest `L` payload: type, two flag bytes, time, attribute count. */
const MIN_LOG_PAYLOAD = 1 + 2 + 8 + 1;

/** What a segment says about its writer. */
export interface SegmentHeader {
  /** Process id of the writer. */
  readonly pid: number;
  /** Epoch ms at which the segment was created; segments are read oldest first. */
  readonly createdMs: number;
  /** Per-writer sequence number, to order segments created in the same millisecond. */
  readonly seq: number;
  /** What wrote it, e.g. `@stall-why/instrument FlightRecorderProcessor`. */
  readonly writer?: string;
  readonly hostname?: string;
  /** Resource attributes of the writer's spans; a record carries its own when it differs. */
  readonly resource?: Attributes;
}

/** Encodes a segment header (preamble + JSON). */
export function encodeSegmentHeader(header: SegmentHeader): Buffer {
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const out = Buffer.allocUnsafe(SEGMENT_PREAMBLE_BYTES + json.length);
  SEGMENT_MAGIC.copy(out, 0);
  out.writeUInt16LE(SEGMENT_FORMAT_VERSION, 8);
  out.writeUInt16LE(0, 10);
  out.writeUInt32LE(json.length, 12);
  out.writeUInt32LE(crc32(json), 16);
  json.copy(out, SEGMENT_PREAMBLE_BYTES);
  return out;
}

/** Whether these first bytes of a file are a flight-recorder segment's (magic and a known version). */
export function looksLikeFlightSegment(firstBytes: Uint8Array): boolean {
  if (firstBytes.length < 10) return false;
  for (let i = 0; i < SEGMENT_MAGIC.length; i++) if (firstBytes[i] !== SEGMENT_MAGIC[i]) return false;
  const version = firstBytes[8] | (firstBytes[9] << 8);
  return version >= 1 && version <= SEGMENT_FORMAT_VERSION;
}

export type HeaderParse =
  | { readonly kind: 'header'; readonly header: SegmentHeader; readonly version: number; readonly recordsOffset: number }
  | { readonly kind: 'incomplete'; readonly needBytes: number }
  | { readonly kind: 'invalid'; readonly reason: string };

/** Parses a segment header from the start of `bytes`. */
export function parseSegmentHeader(bytes: Buffer): HeaderParse {
  if (bytes.length < SEGMENT_PREAMBLE_BYTES) {
    if (bytes.length >= 10 && !looksLikeFlightSegment(bytes)) return { kind: 'invalid', reason: 'not a flight-recorder segment' };
    return { kind: 'incomplete', needBytes: SEGMENT_PREAMBLE_BYTES };
  }
  if (!looksLikeFlightSegment(bytes)) {
    const version = bytes.readUInt16LE(8);
    return { kind: 'invalid', reason: bytes.subarray(0, 8).equals(SEGMENT_MAGIC) ? `unsupported format version ${version}` : 'not a flight-recorder segment' };
  }
  const length = bytes.readUInt32LE(12);
  if (length > MAX_HEADER_BYTES) return { kind: 'invalid', reason: 'corrupt segment header (length)' };
  const end = SEGMENT_PREAMBLE_BYTES + length;
  if (bytes.length < end) return { kind: 'incomplete', needBytes: end };
  const json = bytes.subarray(SEGMENT_PREAMBLE_BYTES, end);
  if (crc32(json) !== bytes.readUInt32LE(16)) return { kind: 'invalid', reason: 'corrupt segment header (checksum)' };
  try {
    const header = JSON.parse(json.toString('utf8')) as SegmentHeader;
    if (typeof header !== 'object' || header === null || typeof header.createdMs !== 'number') {
      return { kind: 'invalid', reason: 'corrupt segment header (fields)' };
    }
    return { kind: 'header', header, version: bytes.readUInt16LE(8), recordsOffset: end };
  } catch {
    return { kind: 'invalid', reason: 'corrupt segment header (JSON)' };
  }
}

export type FrameParse =
  | { readonly kind: 'record'; readonly type: number; readonly payloadStart: number; readonly end: number }
  | { readonly kind: 'incomplete' }
  | { readonly kind: 'corrupt' };

/**
 * Parses the frame at `pos` in `buf[0, end)` of a segment of format `version`. Cheap checks come
 * first (plausible length, type byte, then `{` in version 1, zero reserved flag bits in version 2)
 * so that a resynchronising scan rejects most positions without a checksum.
 */
export function parseFrameAt(buf: Buffer, pos: number, end: number, version: number): FrameParse {
  if (end - pos < FRAME_HEADER_BYTES) return { kind: 'incomplete' };
  const length = buf.readUInt32LE(pos);
  const binary = version !== SEGMENT_FORMAT_VERSION_JSON;
  if (length < (binary ? MIN_LOG_PAYLOAD : 3) || length > MAX_RECORD_BYTES) return { kind: 'corrupt' };
  const payloadStart = pos + FRAME_HEADER_BYTES;
  if (end > payloadStart) {
    const type = buf[payloadStart];
    if (type === RECORD_TYPE_LOG) {
      if (!binary) return { kind: 'corrupt' };
    } else if (type !== RECORD_TYPE_START && type !== RECORD_TYPE_END) {
      return { kind: 'corrupt' };
    } else if (binary && length < MIN_BINARY_PAYLOAD) {
      return { kind: 'corrupt' };
    }
  }
  if (binary) {
    if (end > payloadStart + 2 && (buf[payloadStart + 2] & FLAG2_RESERVED) !== 0) return { kind: 'corrupt' };
  } else if (end > payloadStart + 1 && buf[payloadStart + 1] !== OPEN_BRACE) {
    return { kind: 'corrupt' };
  }
  const recordEnd = payloadStart + length;
  if (recordEnd > end) return { kind: 'incomplete' };
  if (crc32(buf.subarray(payloadStart, recordEnd)) !== buf.readUInt32LE(pos + 4)) return { kind: 'corrupt' };
  return { kind: 'record', type: buf[payloadStart], payloadStart, end: recordEnd };
}

/** The name a writer gives a new segment: sortable by creation time, unique per process. */
export function segmentFileName(createdMs: number, pid: number, seq: number, nonce: string): string {
  return `${String(Math.floor(createdMs)).padStart(15, '0')}-${pid}-${String(seq).padStart(6, '0')}-${nonce}${SEGMENT_FILE_SUFFIX}`;
}
