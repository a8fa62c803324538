/**
 * The flight recorder's directory, read through @stall-why/flight-record (start and end records of
 * spans; corrupt records skipped and counted by the reader, never returned).
 */
import { isFlightRecorderDir, newFlightReadStats, readFlightRecords, type RecordedSpan } from '@stall-why/flight-record';
import { newerRecord } from '../model/timeline.js';
import { TraceInputError } from '../trace-input-error.js';

/** Whether the path is a flight-recorder directory. */
export async function isFlightRecorderDirectory(path: string): Promise<boolean> {
  try {
    return await isFlightRecorderDir(path);
  } catch {
    return false;
  }
}

export async function importFlightRecords(
  dir: string,
  emit: (span: RecordedSpan) => void,
  onProgress?: (records: number) => void,
): Promise<{ spans: number; skipped: number; corrupt: number }> {
  const stats = newFlightReadStats();
  let records = 0;
  // A span that starts and ends with nothing recorded between (an item, a milestone) has its start and
  // end records side by side: they are merged here, as the timeline would merge them, and the timeline
  // gets one span instead of two records. Any other start record goes on as it is.
  let held: RecordedSpan | undefined;
  try {
    for await (const record of readFlightRecords(dir, { stats })) {
      const span = record.span;
      if (held && record.type === 'end' && span.spanId === held.spanId && span.traceId === held.traceId) {
        emit(newerRecord(held, span));
        held = undefined;
      } else {
        if (held) emit(held);
        held = record.type === 'start' ? span : undefined;
        if (!held) emit(span);
      }
      if (++records % 65536 === 0) onProgress?.(records);
    }
    if (held) emit(held);
  } catch (error) {
    if (error instanceof TraceInputError) throw error;
    const message = (error as Error).message.split('\n')[0]!;
    throw new TraceInputError(dir, undefined, message.startsWith(`${dir}: `) ? message.slice(dir.length + 2) : message);
  }
  return { spans: records, skipped: 0, corrupt: stats.corruptRecords };
}
