/**
 * The flight recorder's directory, through @stall-why/flight-record's reader
 * (`readFlightRecords(dir)`: start and end records of spans; corrupt records skipped and counted by
 * the reader). Reached through the package namespace so this package builds before the reader lands.
 */
import * as flightRecord from '@stall-why/flight-record';
import type { RecordedSpan } from '@stall-why/flight-record';
import { TraceInputError } from '../trace-input-error.js';

type Reader = (dir: string) => AsyncIterable<{ type: 'start' | 'end'; span: RecordedSpan }>;
type Probe = (path: string) => boolean | Promise<boolean>;

const api = flightRecord as unknown as Record<string, unknown>;

/** Whether @stall-why/flight-record provides the reader this importer needs. */
export function flightRecordReaderAvailable(): boolean {
  return typeof api.readFlightRecords === 'function';
}

/** Whether the path is a flight-recorder directory (false while the reader is not there). */
export async function isFlightRecorderDirectory(path: string): Promise<boolean> {
  const probe = api.isFlightRecorderDir as Probe | undefined;
  if (typeof probe !== 'function') return false;
  try {
    return await probe(path);
  } catch {
    return false;
  }
}

export async function importFlightRecords(dir: string, emit: (span: RecordedSpan) => void): Promise<{ spans: number; skipped: number; corrupt: number }> {
  const read = api.readFlightRecords as Reader | undefined;
  if (typeof read !== 'function') throw new TraceInputError(dir, undefined, 'reading flight-recorder directories needs @stall-why/flight-record with readFlightRecords');
  let spans = 0;
  const iterator = read(dir) as AsyncIterable<{ type: 'start' | 'end'; span: RecordedSpan }> & { corrupt?: number; stats?: { corrupt?: number } };
  try {
    for await (const record of iterator) {
      spans++;
      emit(record.span);
    }
  } catch (error) {
    if (error instanceof TraceInputError) throw error;
    throw new TraceInputError(dir, undefined, `cannot read the flight recorder: ${(error as Error).message.split('\n')[0]}`);
  }
  const corrupt = typeof iterator.corrupt === 'number' ? iterator.corrupt : (iterator.stats?.corrupt ?? 0);
  return { spans, skipped: 0, corrupt };
}
