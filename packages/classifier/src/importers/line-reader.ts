/**
 * Reads a file line by line in fixed chunks, splitting with `Buffer.indexOf`: memory stays bounded
 * by the chunk size plus `keepBytes`, whatever the file or line size. A line longer than
 * `maxLineBytes` is an error raised as soon as the limit is crossed (no need to reach its end).
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { TraceInputError } from '../trace-input-error.js';

export interface LineInfo {
  /** 1-based line number. */
  readonly lineNo: number;
  /** Byte offset of the line's first byte. */
  readonly offset: number;
  /** The line's full length in bytes (without the newline). */
  readonly length: number;
  /** The line was longer than `keepBytes`: `line` holds only its first `keepBytes` and its last byte is `lastByte`. */
  readonly truncated: boolean;
  /** The line's last byte (after trimming `\r`), or -1 for an empty line. */
  readonly lastByte: number;
  /** The file ended without a newline after this line. */
  readonly atEof: boolean;
}

export interface LineReaderOptions {
  /** Longest line accepted; longer is a TraceInputError. */
  readonly maxLineBytes: number;
  /** Longest line handed over whole; longer ones are handed over as their head. Default `maxLineBytes`. */
  readonly keepBytes?: number;
  /** Read size. Default 64 KiB (`DEFAULT_CHUNK_BYTES`). */
  readonly chunkBytes?: number;
  readonly onProgress?: (bytesRead: number, totalBytes: number) => void;
}

/**
 * The default read size. Small on purpose: a buffer the allocator takes from its heap (under glibc's
 * 128 KiB mmap threshold) is filled by read(2) about three times faster than a mapped one of 2 MiB
 * (system time for a 300 MB file on this project's machines: 0.06 s vs 0.20 s, the same in 64 KiB
 * reads into the big buffer; `node bench/read-chunk.mjs`), and stays in the CPU's cache for the
 * `indexOf` that follows.
 */
export const DEFAULT_CHUNK_BYTES = 64 * 1024;
/** Progress is reported, and the event loop given a turn, after about this many bytes (not per chunk). */
const PROGRESS_BYTES = 2 * 1024 * 1024;
const YIELD_BYTES = 16 * 1024 * 1024;

/**
 * Calls `onLine` for every line. The buffer it gets is valid only during the call (it is a view into
 * a reused chunk). Empty lines are passed too (length 0).
 */
export async function forEachLine(
  path: string,
  options: LineReaderOptions,
  onLine: (line: Buffer, info: LineInfo) => void,
): Promise<{ bytes: number; lines: number }> {
  const { maxLineBytes } = options;
  const keepBytes = Math.min(options.keepBytes ?? maxLineBytes, maxLineBytes);
  const chunk = Buffer.allocUnsafe(options.chunkBytes ?? DEFAULT_CHUNK_BYTES);
  // A line that spans chunks keeps its head here: one buffer for the whole file (grown as needed), no per-line allocation.
  let carryBuf: Buffer | undefined;
  // Synchronous reads: a thread-pool round trip per chunk costs more than the read on a busy machine.
  // The loop yields to the event loop every YIELD_BYTES so timers and progress run.
  const fd = openSync(path, 'r');
  try {
    const total = fstatSync(fd).size;
    let position = 0;
    let lineNo = 1;
    let progressAt = PROGRESS_BYTES;
    let reported = -1;
    let yieldAt = YIELD_BYTES;
    let lineStart = 0; // file offset of the current line's start
    // The current line's bytes carried over from earlier chunks (its head, up to keepBytes, in carryBuf).
    let carried = 0;
    let carriedLength = 0;
    let lastByte = -1;
    const emit = (tail: Buffer, atEof: boolean): void => {
      let length = carriedLength + tail.length;
      let line: Buffer;
      if (carriedLength === 0) line = tail.length > keepBytes ? tail.subarray(0, keepBytes) : tail;
      else {
        const take = Math.min(tail.length, keepBytes - carried);
        carryBuf = roomFor(carryBuf, carried, carried + take);
        const copied = tail.copy(carryBuf, carried, 0, take);
        line = carryBuf.subarray(0, carried + copied);
      }
      let last = tail.length ? tail[tail.length - 1]! : lastByte;
      if (last === 0x0d) {
        // CRLF: drop the \r.
        length--;
        if (line.length > length) line = line.subarray(0, length);
        last = length > 0 ? (tail.length >= 2 ? tail[tail.length - 2]! : -1) : -1;
      }
      onLine(line, { lineNo, offset: lineStart, length, truncated: length > line.length, lastByte: length > 0 ? last : -1, atEof });
      carried = 0;
      carriedLength = 0;
      lastByte = -1;
    };
    for (;;) {
      const bytesRead = readSync(fd, chunk, 0, chunk.length, position);
      if (bytesRead === 0) break;
      const view = chunk.subarray(0, bytesRead);
      let from = 0;
      for (;;) {
        const nl = view.indexOf(0x0a, from);
        if (nl < 0) break;
        if (carriedLength + nl - from > maxLineBytes) tooLong(path, lineNo, maxLineBytes);
        emit(view.subarray(from, nl), false);
        lineNo++;
        from = nl + 1;
        lineStart = position + from;
      }
      if (from < bytesRead) {
        const rest = view.subarray(from);
        carriedLength += rest.length;
        if (carriedLength > maxLineBytes) tooLong(path, lineNo, maxLineBytes);
        if (carried < keepBytes) {
          const take = Math.min(rest.length, keepBytes - carried);
          carryBuf = roomFor(carryBuf, carried, carried + take);
          carried += rest.copy(carryBuf, carried, 0, take);
        }
        lastByte = rest[rest.length - 1]!;
      }
      position += bytesRead;
      if (position >= progressAt) {
        progressAt = position + PROGRESS_BYTES;
        reported = position;
        options.onProgress?.(position, total);
      }
      if (position >= yieldAt) {
        yieldAt = position + YIELD_BYTES;
        await yieldToLoop();
      }
    }
    if (reported !== position) options.onProgress?.(position, total);
    if (carriedLength > 0) emit(Buffer.alloc(0), true);
    return { bytes: position, lines: lineNo - 1 };
  } finally {
    closeSync(fd);
  }
}

// The carry buffer grows with the longest line carried (doubling, so a long line is copied O(1) times
// per byte): memory follows the lines read, not maxLineBytes.
function roomFor(buf: Buffer | undefined, used: number, needed: number): Buffer {
  if (buf && buf.length >= needed) return buf;
  const grown = Buffer.allocUnsafe(Math.max(needed, 2 * (buf?.length ?? 0), 64 * 1024));
  if (buf && used > 0) buf.copy(grown, 0, 0, used);
  return grown;
}

function tooLong(path: string, lineNo: number, max: number): never {
  throw new TraceInputError(path, lineNo, `line is longer than ${max >= 1048576 ? `${Math.round(max / 1048576)} MiB` : `${max} bytes`} (the limit; if this is a real trace, raise it: --max-line-bytes in the CLI, maxLineBytes in the API)`);
}

/** The note for a last line cut short: what was judged, and why the line may be cut. */
export function tornTailNote(lineNo: number): string {
  return `line ${lineNo}, the last, is cut short (no newline, not complete JSON: a writer still appending it, or a copy cut short); judged up to line ${lineNo - 1}`;
}
