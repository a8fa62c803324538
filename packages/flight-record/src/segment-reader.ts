import { open } from 'node:fs/promises';
import type { RecordedLog } from './recorded-log.js';
import type { Attributes, RecordedSpan } from './recorded-span.js';
import { decodeLogRecordBody, decodeRecordBody } from './record-decoder.js';
import { crc32 } from 'node:zlib';
import { FRAME_HEADER_BYTES, MAX_RECORD_BYTES, parseFrameAt, RECORD_TYPE_END, RECORD_TYPE_LOG, RECORD_TYPE_START, type FrameParse } from './segment-format.js';
import type { SegmentFile } from './segment-files.js';

/** Why bytes were skipped. `torn`: an incomplete record at the end of a segment (a crash mid-append). */
export type CorruptReason = 'checksum' | 'torn' | 'record' | 'header';

/** A stretch of bytes the reader skipped; never returned as data. */
export interface CorruptRecord {
  readonly segment: string;
  readonly offset: number;
  readonly bytes: number;
  readonly reason: CorruptReason;
}

/** Where a record lies in its segment. */
export interface SegmentPosition {
  /** Byte offset of the record's frame in its segment. */
  readonly offset: number;
  /** Byte offset just after it: where an upload cursor continues. */
  readonly end: number;
}

export type SegmentRecord =
  | (SegmentPosition & { readonly type: 'start' | 'end'; readonly span: RecordedSpan })
  | (SegmentPosition & { readonly type: 'log'; readonly log: RecordedLog });

export interface ReadSegmentOptions {
  /** Start at this byte offset (a record boundary, e.g. an upload cursor); default the first record. */
  readonly fromOffset?: number;
  readonly onCorrupt?: (corrupt: CorruptRecord) => void;
  /** Bytes per read; default 1 MiB. */
  readonly chunkBytes?: number;
}

/**
 * Reads a segment's records in write order, up to its current end (it may still be written).
 * Memory stays at about one chunk plus one record.
 */
export async function* readSegment(segment: SegmentFile, options: ReadSegmentOptions = {}): AsyncGenerator<SegmentRecord> {
  const chunkBytes = options.chunkBytes ?? 1024 * 1024;
  let handle;
  try {
    handle = await open(segment.path, 'r');
  } catch {
    return; // evicted since it was listed
  }
  try {
    const window = new ByteWindow(handle, Math.max(options.fromOffset ?? 0, segment.recordsOffset), chunkBytes);
    const defaultResource = segment.header.resource;
    const version = segment.version;
    let pos = 0;
    for (;;) {
      const frame = parseFrameAt(window.buf, pos, window.length, version);
      if (frame.kind === 'incomplete' && !window.eof) {
        pos = await window.fill(pos);
        continue;
      }
      if (frame.kind !== 'record' && pos >= window.length && window.eof) return;
      // A bad frame whose length took one flipped bit is read with the length its checksum matches.
      const parsed = frame.kind === 'record' ? frame : (repairedFrame(window.buf, pos, window.length) ?? frame);
      if (parsed.kind === 'record') {
        const offset = window.start + pos;
        const end = window.start + parsed.end;
        const record = decodeRecord(window.buf, parsed.type, parsed.payloadStart + 1, parsed.end, version, defaultResource, offset, end);
        pos = parsed.end;
        if (record === undefined) {
          options.onCorrupt?.({ segment: segment.name, offset, bytes: end - offset, reason: 'record' });
          continue;
        }
        yield record;
        continue;
      }
      const badStart = window.start + pos;
      // A frame that runs past the end: a torn tail (a record cut short by a crash mid-append), or a
      // damaged length. A frame found inside a torn tail would be bytes of its attribute values (a
      // forged record), so the next record is taken only where valid frames follow it to the end.
      if (parsed.kind === 'incomplete') {
        const after = await resync(window, pos + 1, version, true);
        if (after === undefined) {
          options.onCorrupt?.({ segment: segment.name, offset: badStart, bytes: window.start + window.length - badStart, reason: 'torn' });
          return;
        }
        options.onCorrupt?.({ segment: segment.name, offset: badStart, bytes: window.start + after - badStart, reason: 'checksum' });
        pos = after;
        continue;
      }
      // A bad frame: skip it whole when its own length leads to the next record (only its payload was
      // damaged), else find the next valid frame; what lies between is skipped and counted. Skipping
      // it whole keeps a frame embedded in one of its strings (a forged record) from being read.
      // One that runs past the end is read as the torn tail above would be.
      const whole = await frameEnd(window, pos, version);
      pos = whole.pos;
      const next = whole.end ?? (await resync(window, pos + 1, version, whole.pastEnd));
      if (next === undefined) {
        options.onCorrupt?.({ segment: segment.name, offset: badStart, bytes: window.start + window.length - badStart, reason: 'checksum' });
        return;
      }
      options.onCorrupt?.({ segment: segment.name, offset: badStart, bytes: window.start + next - badStart, reason: 'checksum' });
      pos = next;
    }
  } finally {
    await handle.close();
  }
}

/**
 * A frame whose length field took one flipped bit, the commonest damage: the length one bit away
 * that makes its stored checksum match. Its payload is then intact (its own checksum says so), and
 * is read, instead of being lost with whatever records its wrong length spans (a length that lands
 * on a later frame's start made the frame and the records in between one bad stretch).
 */
function repairedFrame(buf: Buffer, pos: number, end: number): FrameParse & { kind: 'record' } | undefined {
  if (end - pos < FRAME_HEADER_BYTES) return undefined;
  const length = buf.readUInt32LE(pos);
  const checksum = buf.readUInt32LE(pos + 4);
  const payloadStart = pos + FRAME_HEADER_BYTES;
  const type = buf[payloadStart];
  if (type !== RECORD_TYPE_START && type !== RECORD_TYPE_END && type !== RECORD_TYPE_LOG) return undefined;
  for (let bit = 0; bit < 32; bit++) {
    const candidate = (length ^ (1 << bit)) >>> 0;
    if (candidate < 2 || candidate > MAX_RECORD_BYTES || payloadStart + candidate > end) continue;
    if (crc32(buf.subarray(payloadStart, payloadStart + candidate)) === checksum) return { kind: 'record', type, payloadStart, end: payloadStart + candidate };
  }
  return undefined;
}

/** The record of type `type` whose body is `buf[start, end)`; undefined when the body does not decode. */
function decodeRecord(
  buf: Buffer, type: number, start: number, end: number, version: number, defaultResource: Attributes | undefined, offset: number, fileEnd: number,
): SegmentRecord | undefined {
  if (type === RECORD_TYPE_LOG) {
    const log = decodeLogRecordBody(buf, start, end, defaultResource);
    return log && { type: 'log', log, offset, end: fileEnd };
  }
  const span = decodeRecordBody(buf, start, end, version, defaultResource);
  return span && { type: type === RECORD_TYPE_START ? 'start' : 'end', span, offset, end: fileEnd };
}

/**
 * Where the frame at `pos` ends by its own length, when a valid frame (or the end of the file) is
 * there: the length was right, only the payload is damaged. `pastEnd` when that length runs past the
 * end of the file. `pos` is returned as it stands after the window moved.
 */
async function frameEnd(window: ByteWindow, pos: number, version: number): Promise<{ pos: number; end: number | undefined; pastEnd?: boolean }> {
  for (;;) {
    if (pos + 4 > window.length) {
      if (window.eof) return { pos, end: undefined, pastEnd: true };
      pos = await window.fill(pos);
      continue;
    }
    const length = window.buf.readUInt32LE(pos);
    if (length > MAX_RECORD_BYTES) return { pos, end: undefined };
    const end = pos + FRAME_HEADER_BYTES + length;
    if (end === window.length && window.eof) return { pos, end };
    if (end >= window.length) {
      if (window.eof) return { pos, end: undefined, pastEnd: true };
      pos = await window.fill(pos);
      continue;
    }
    const parsed = parseFrameAt(window.buf, end, window.length, version);
    if (parsed.kind === 'incomplete' && !window.eof) {
      pos = await window.fill(pos);
      continue;
    }
    return { pos, end: parsed.kind === 'record' ? end : undefined };
  }
}

/**
 * Scans forward from `pos` for a valid frame (with `toEnd`, one from which valid frames follow one
 * another to the end of the file); returns its position in the (possibly refilled) window.
 */
async function resync(window: ByteWindow, pos: number, version: number, toEnd = false): Promise<number | undefined> {
  for (;;) {
    if (pos >= window.length) {
      if (window.eof) return undefined;
      pos = await window.fill(pos);
      continue;
    }
    const parsed = parseFrameAt(window.buf, pos, window.length, version);
    if (parsed.kind === 'record' && (!toEnd || chainsToEnd(window, parsed.end, version))) return pos;
    if (parsed.kind === 'incomplete' && !window.eof) {
      pos = await window.fill(pos);
      continue;
    }
    pos++;
  }
}

/**
 * Whether records follow one another from `pos` to the end of the window, which holds the whole rest
 * of the file: valid frames, or damaged ones whose own length leads to the next (a flipped payload
 * byte elsewhere costs only its record).
 */
function chainsToEnd(window: ByteWindow, pos: number, version: number): boolean {
  while (pos < window.length) {
    const parsed = parseFrameAt(window.buf, pos, window.length, version);
    if (parsed.kind === 'record') {
      pos = parsed.end;
      continue;
    }
    if (parsed.kind !== 'corrupt' || pos + 4 > window.length) return false;
    const length = window.buf.readUInt32LE(pos);
    const end = pos + FRAME_HEADER_BYTES + length;
    if (length > MAX_RECORD_BYTES || end > window.length) return false;
    if (end < window.length && parseFrameAt(window.buf, end, window.length, version).kind !== 'record') return false;
    pos = end;
  }
  return true;
}

/** A sliding window over a file: `buf[0, length)` holds the bytes at file offset `start`. */
class ByteWindow {
  buf = Buffer.alloc(0);
  length = 0;
  eof = false;
  constructor(
    private readonly handle: import('node:fs/promises').FileHandle,
    public start: number,
    private readonly chunkBytes: number,
  ) {}

  /** Drops bytes before `keepFrom`, reads at least one more chunk; returns `keepFrom`'s new position. */
  async fill(keepFrom: number): Promise<number> {
    const kept = this.length - keepFrom;
    const needed = kept + this.chunkBytes;
    const next = needed > this.buf.length ? Buffer.allocUnsafe(Math.max(needed, this.buf.length * 2)) : this.buf;
    this.buf.copy(next, 0, keepFrom, this.length);
    this.buf = next;
    this.start += keepFrom;
    this.length = kept;
    const { bytesRead } = await this.handle.read(this.buf, this.length, this.buf.length - this.length, this.start + this.length);
    this.length += bytesRead;
    if (bytesRead === 0) this.eof = true;
    return 0;
  }
}
