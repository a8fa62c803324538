import { stat } from 'node:fs/promises';
import type { RecordedLog } from './recorded-log.js';
import type { RecordedSpan } from './recorded-span.js';
import { listSegments, type SegmentListing } from './segment-files.js';
import { readSegment, type CorruptRecord } from './segment-reader.js';

/** One record of a flight-recorder directory: a span as it was when it started, or when it ended; or a log record. */
export type FlightRecord =
  | { readonly type: 'start' | 'end'; readonly span: RecordedSpan }
  | { readonly type: 'log'; readonly log: RecordedLog };

/** Counters a reader fills in as it goes (pass your own object to see them after the loop). */
export interface FlightReadStats {
  records: number;
  segments: number;
  /** Skipped stretches: torn tails, flipped bytes, unreadable records or segment headers. */
  corruptRecords: number;
  corruptBytes: number;
}

export interface ReadFlightRecordsOptions {
  /** Called for each skipped stretch of bytes. */
  readonly onCorrupt?: (corrupt: CorruptRecord) => void;
  /** Filled in while reading. */
  readonly stats?: FlightReadStats;
  /** The directory's segments as the caller listed them (`listSegments`), so they are not listed again. */
  readonly listing?: SegmentListing;
}

/** Fresh zeroed read counters. */
export function newFlightReadStats(): FlightReadStats {
  return { records: 0, segments: 0, corruptRecords: 0, corruptBytes: 0 };
}

/**
 * Iterates the records of a flight-recorder directory: segments oldest first, records in write
 * order within each. Works on a directory still being written (it reads each segment up to its
 * current end). Corrupt and torn records are skipped and reported, never returned.
 * Throws (one line, naming the path) only when `dir` is not a readable directory.
 */
export async function* readFlightRecords(dir: string, options: ReadFlightRecordsOptions = {}): AsyncGenerator<FlightRecord> {
  await assertDirectory(dir);
  const stats = options.stats;
  const onCorrupt = (corrupt: CorruptRecord): void => {
    if (stats) {
      stats.corruptRecords++;
      stats.corruptBytes += corrupt.bytes;
    }
    options.onCorrupt?.(corrupt);
  };
  const { segments, bad } = options.listing ?? (await listSegments(dir));
  for (const b of bad) onCorrupt({ segment: b.name, offset: 0, bytes: 0, reason: 'header' });
  for (const segment of segments) {
    if (stats) stats.segments++;
    for await (const record of readSegment(segment, { onCorrupt })) {
      if (stats) stats.records++;
      yield record.type === 'log' ? { type: 'log', log: record.log } : { type: record.type, span: record.span };
    }
  }
}

/** Throws a one-line error when `dir` is missing or not a directory. */
export async function assertDirectory(dir: string): Promise<void> {
  let info;
  try {
    info = await stat(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(`${dir}: ${code === 'ENOENT' ? 'no such directory' : `cannot read (${code ?? String(err)})`}`);
  }
  if (!info.isDirectory()) throw new Error(`${dir}: not a directory (a flight recorder is a directory of segment files)`);
}
