/**
 * How much text reading a Codex rollout makes, estimated from samples of the file: what decides
 * whether it is read in the calling thread or in the heap-capped worker. The importer turns at most
 * the head of each line (`ROLLOUT_HEAD_BYTES`) into a string and spans, never a long line's payload: a
 * rollout of many short lines (a long working session, tens of thousands of turns) makes about its
 * size in garbage, and without a cap the heap grows with it (179 MB peak RSS for 300 MB, issue 14);
 * one bloated with inline images and tool outputs makes a few MB, and a worker's start would be most
 * of its time.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { ROLLOUT_HEAD_BYTES } from './rollout-lines.js';

/** Windows read across the file: enough that a few bloated lines among short ones do not sway the count. */
const SAMPLE_WINDOWS = 64;
/** Bytes per window (64 × 16 KiB = 1 MiB read, a few ms, whatever the file's size). */
const WINDOW_BYTES = 16 * 1024;
const NEWLINE = 0x0a;

/**
 * The bytes of line heads the rollout holds, at most its size: in evenly spaced windows, each line
 * that starts in the window counts its length up to `ROLLOUT_HEAD_BYTES`, or all of that when it runs
 * past the window (a bloated line's head is counted once, in the window where it starts; a short line
 * cut by the window's edge is counted high). Scaled from the bytes sampled to the file's size. A file
 * no bigger than the windows counts its size: it is small whatever it holds.
 */
export function rolloutTextBytes(path: string, size: number): number {
  if (size <= SAMPLE_WINDOWS * WINDOW_BYTES) return size;
  // Synchronous reads: 64 thread-pool round trips cost more than the reads (tens of ms on a busy machine).
  const fd = openSync(path, 'r');
  try {
    const stride = (size - WINDOW_BYTES) / (SAMPLE_WINDOWS - 1);
    const buf = Buffer.allocUnsafe(WINDOW_BYTES);
    let heads = 0;
    let sampled = 0;
    for (let w = 0; w < SAMPLE_WINDOWS; w++) {
      const position = Math.floor(w * stride);
      const bytesRead = readSync(fd, buf, 0, WINDOW_BYTES, position);
      sampled += bytesRead;
      heads += headBytes(buf.subarray(0, bytesRead), position === 0);
    }
    return sampled === 0 ? 0 : Math.min(size, Math.round((heads / sampled) * size));
  } finally {
    closeSync(fd);
  }
}

/** The head bytes of the lines that start in `window` (the first one too when the window starts the file). */
function headBytes(window: Buffer, atFileStart: boolean): number {
  let heads = 0;
  let start = atFileStart ? 0 : window.indexOf(NEWLINE) + 1;
  if (start === 0 && !atFileStart) return 0;
  while (start < window.length) {
    const end = window.indexOf(NEWLINE, start);
    if (end === -1) return heads + ROLLOUT_HEAD_BYTES;
    heads += Math.min(end - start, ROLLOUT_HEAD_BYTES);
    start = end + 1;
  }
  return heads;
}
