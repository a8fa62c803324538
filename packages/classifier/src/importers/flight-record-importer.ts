/**
 * The flight recorder's directory, read through @stall-why/flight-record (start and end records of
 * spans; corrupt records skipped and counted by the reader, never returned).
 */
import { isFlightRecorderDir, newFlightReadStats, readFlightRecords, type RecordedSpan } from '@stall-why/flight-record';
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
  try {
    for await (const record of readFlightRecords(dir, { stats })) {
      emit(record.span);
      if (++records % 65536 === 0) onProgress?.(records);
    }
  } catch (error) {
    if (error instanceof TraceInputError) throw error;
    const message = (error as Error).message.split('\n')[0]!;
    throw new TraceInputError(dir, undefined, message.startsWith(`${dir}: `) ? message.slice(dir.length + 2) : message);
  }
  return { spans: records, skipped: 0, corrupt: stats.corruptRecords };
}
