/**
 * The flight recorder's directory, read through @stall-why/flight-record (start and end records of
 * spans; corrupt records skipped and counted by the reader, never returned).
 */
import { stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import {
  ATTR_PHASE_KIND,
  ATTR_PROCESS_PID,
  ATTR_WRITER_STOP_REASON,
  PHASE_KIND_POINT,
  PHASE_WRITER_STOPPED,
  WRITER_STOP_REASON_PROCESS_GONE,
} from '@stall-why/conventions';
import {
  assertDirectory, isFlightRecorderDir, listSegments, newFlightReadStats, processRuns, readFlightRecords, type RecordedLog, type RecordedSpan, type SegmentListing,
} from '@stall-why/flight-record';
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
  emitLog: (log: RecordedLog) => void = () => undefined,
): Promise<{ spans: number; skipped: number; corrupt: number; lastRecordMs: number | undefined; listing: SegmentListing }> {
  const stats = newFlightReadStats();
  // Listed once: the trust note and the writers' liveness are read from the same listing.
  let listing: SegmentListing = { segments: [], bad: [] };
  let records = 0;
  let lastRecordMs: number | undefined;
  // A span that starts and ends with nothing recorded between (an item, a milestone) has its start and
  // end records side by side: they are merged here, as the timeline would merge them, and the timeline
  // gets one span instead of two records. Any other start record goes on as it is.
  let held: RecordedSpan | undefined;
  try {
    await assertDirectory(dir);
    listing = await listSegments(dir);
    for await (const record of readFlightRecords(dir, { stats, listing })) {
      if (record.type === 'log') {
        // In write order among the spans: a log's phases may close what a span opened.
        if (held) emit(held);
        held = undefined;
        emitLog(record.log);
        if (lastRecordMs === undefined || record.log.timeMs > lastRecordMs) lastRecordMs = record.log.timeMs;
        continue;
      }
      const span = record.span;
      const at = span.endTimeMs ?? span.startTimeMs;
      if (lastRecordMs === undefined || at > lastRecordMs) lastRecordMs = at;
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
  return { spans: records, skipped: 0, corrupt: stats.corruptRecords, lastRecordMs, listing };
}

/** Writers whose liveness says something: in-process recorders (an app-server, `stall-why record`), not a receiver of others' spans. */
const RECORDING_WRITER = /FlightRecorderProcessor/;

/**
 * Whether every process that wrote the directory is gone, found by pid on this host: a recorder
 * killed before it could say so (SIGKILL, a crash) leaves its open turns open for ever. Undefined
 * when any writer may still run, is on another host, or did not say who it is.
 */
export function goneWriters(listing: SegmentListing): number[] | undefined {
  const host = hostname();
  const pids = new Set<number>();
  for (const segment of listing.segments) {
    const { pid, hostname: segmentHost, writer } = segment.header;
    if (segmentHost !== host || !writer || !RECORDING_WRITER.test(writer) || !Number.isInteger(pid)) return undefined;
    pids.add(pid);
  }
  if (pids.size === 0) return undefined;
  for (const pid of pids) if (processRuns(pid)) return undefined;
  return [...pids];
}

/** The stop a gone writer did not get to record, placed at its last record. */
export function processGoneSpan(pids: readonly number[], atMs: number): RecordedSpan {
  return {
    traceId: '0'.repeat(32),
    spanId: '0'.repeat(16),
    name: PHASE_WRITER_STOPPED,
    startTimeMs: atMs,
    endTimeMs: atMs,
    attributes: {
      [ATTR_PHASE_KIND]: PHASE_KIND_POINT,
      [ATTR_WRITER_STOP_REASON]: WRITER_STOP_REASON_PROCESS_GONE,
      ...(pids.length === 1 ? { [ATTR_PROCESS_PID]: pids[0]! } : {}),
    },
  };
}

/**
 * A note when the directory is not the reader's own to trust: writable by every user, or holding
 * segments of another user, whose turns may have been planted (forged) there. Undefined otherwise.
 */
export async function untrustedSegmentsNote(dir: string, listing: SegmentListing): Promise<string | undefined> {
  const uid = process.getuid?.();
  if (uid === undefined) return undefined;
  try {
    const shared = ((await stat(dir)).mode & 0o002) !== 0;
    const owners = new Set<number>();
    for (const { ownerUid } of listing.segments) if (ownerUid !== uid && ownerUid !== 0) owners.add(ownerUid);
    if (!shared && owners.size === 0) return undefined;
    const who = owners.size ? `segments written by another user (uid ${[...owners].join(', ')})` : 'a directory every user can write';
    return `${who}: its turns may have been planted by someone else; trust it only if you know who wrote it`;
  } catch {
    return undefined;
  }
}
