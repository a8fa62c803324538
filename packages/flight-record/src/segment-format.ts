/**
 * The flight recorder's on-disk format, version 1. A recorder directory holds segment files; each
 * segment is written by one process only and starts with a header, followed by framed records.
 *
 * Segment header (little-endian):
 *   0   8  magic `SWFLTREC`
 *   8   2  format version (1)
 *   10  2  reserved, 0
 *   12  4  header JSON length n
 *   16  4  crc32 of the header JSON
 *   20  n  header JSON: {@link SegmentHeader}
 *
 * Record frame:
 *   0   4  payload length p (type byte + JSON)
 *   4   4  crc32 of the payload
 *   8   1  record type: `S` (0x53) span start, `E` (0x45) span end
 *   9 p-1  the span as JSON ({@link RecordedSpan} keys)
 *
 * The length and checksum let a reader detect a torn write (a crash mid-append) or a flipped byte,
 * skip it, count it and resynchronise on the next valid frame: a bad record is never returned.
 */
import { crc32 } from 'node:zlib';
import type { Attributes } from './recorded-span.js';

/** `SWFLTREC`: stall-why flight recorder. */
export const SEGMENT_MAGIC = Buffer.from('SWFLTREC', 'latin1');
/** The format version this package writes and reads. */
export const SEGMENT_FORMAT_VERSION = 1;
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
const OPEN_BRACE = 0x7b; // '{'

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
  | { readonly kind: 'header'; readonly header: SegmentHeader; readonly recordsOffset: number }
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
    return { kind: 'header', header, recordsOffset: end };
  } catch {
    return { kind: 'invalid', reason: 'corrupt segment header (JSON)' };
  }
}

export type FrameParse =
  | { readonly kind: 'record'; readonly type: number; readonly payloadStart: number; readonly end: number }
  | { readonly kind: 'incomplete' }
  | { readonly kind: 'corrupt' };

/**
 * Parses the frame at `pos` in `buf[0, end)`. Cheap checks come first (plausible length, type
 * byte, `{`) so that a resynchronising scan rejects most positions without a checksum.
 */
export function parseFrameAt(buf: Buffer, pos: number, end: number): FrameParse {
  if (end - pos < FRAME_HEADER_BYTES) return { kind: 'incomplete' };
  const length = buf.readUInt32LE(pos);
  if (length < 3 || length > MAX_RECORD_BYTES) return { kind: 'corrupt' };
  const payloadStart = pos + FRAME_HEADER_BYTES;
  if (end > payloadStart) {
    const type = buf[payloadStart];
    if (type !== RECORD_TYPE_START && type !== RECORD_TYPE_END) return { kind: 'corrupt' };
  }
  if (end > payloadStart + 1 && buf[payloadStart + 1] !== OPEN_BRACE) return { kind: 'corrupt' };
  const recordEnd = payloadStart + length;
  if (recordEnd > end) return { kind: 'incomplete' };
  if (crc32(buf.subarray(payloadStart, recordEnd)) !== buf.readUInt32LE(pos + 4)) return { kind: 'corrupt' };
  return { kind: 'record', type: buf[payloadStart], payloadStart, end: recordEnd };
}

/**
 * Frames one record into `target` at `offset` (the caller guarantees room for
 * `FRAME_HEADER_BYTES + 1 + Buffer.byteLength(json)` bytes). Returns the offset after it.
 */
export function writeFrame(target: Buffer, offset: number, type: number, json: string): number {
  const payloadStart = offset + FRAME_HEADER_BYTES;
  target[payloadStart] = type;
  const jsonBytes = target.write(json, payloadStart + 1, 'utf8');
  const length = jsonBytes + 1;
  const end = payloadStart + length;
  target.writeUInt32LE(length, offset);
  target.writeUInt32LE(crc32(target.subarray(payloadStart, end)), offset + 4);
  return end;
}

/** The name a writer gives a new segment: sortable by creation time, unique per process. */
export function segmentFileName(createdMs: number, pid: number, seq: number, nonce: string): string {
  return `${String(Math.floor(createdMs)).padStart(15, '0')}-${pid}-${String(seq).padStart(6, '0')}-${nonce}${SEGMENT_FILE_SUFFIX}`;
}
