import { stat } from 'node:fs/promises';
import { listSegments } from './segment-files.js';
import { readSegment, type CorruptRecord } from './segment-reader.js';
import { assertDirectory } from './flight-records.js';
import { readUploadCursor } from './upload-cursor.js';

/** What `stall-why buffer` shows; the keys are stable (`--json`). */
export interface FlightRecorderStats {
  readonly directory: string;
  /** Bytes of segment files. */
  readonly bytes: number;
  readonly segments: number;
  /** Distinct spans (trace id + span id). */
  readonly spans: number;
  /** Spans with a start record and no end record. */
  readonly openSpans: number;
  readonly startRecords: number;
  readonly endRecords: number;
  /** Log records (`L`), e.g. received by `stall-why collect` on /v1/logs. */
  readonly logRecords: number;
  /** Skipped stretches: torn tails, flipped bytes, unreadable records or segment headers. */
  readonly corruptRecords: number;
  /** Ended spans not yet uploaded (after the upload cursor). */
  readonly uploadBacklog: number;
  /** Log records not yet uploaded (after the upload cursor). */
  readonly logUploadBacklog: number;
  /** Earliest span start or log record time, epoch ms; null when empty. */
  readonly oldestMs: number | null;
  /** Latest span start or end or log record time, epoch ms; null when empty. */
  readonly newestMs: number | null;
  /** Process ids that wrote segments. */
  readonly writerPids: number[];
}

/** Reads the whole directory once and summarises it. */
export async function inspectFlightRecorder(dir: string): Promise<FlightRecorderStats> {
  await assertDirectory(dir);
  const cursor = readUploadCursor(dir);
  const { segments, bad } = await listSegments(dir);
  const open = new Set<string>();
  const seen = new Set<string>();
  let bytes = 0;
  let startRecords = 0;
  let endRecords = 0;
  let logRecords = 0;
  let logUploadBacklog = 0;
  let corruptRecords = bad.length;
  let uploadBacklog = 0;
  let oldestMs = Infinity;
  let newestMs = -Infinity;
  const pids = new Set<number>();
  const onCorrupt = (_: CorruptRecord): void => {
    corruptRecords++;
  };
  for (const b of bad) bytes += await sizeOf(b.path);
  for (const segment of segments) {
    pids.add(segment.header.pid);
    const uploadedTo = cursor.get(segment.name) ?? 0;
    let size = segment.size;
    for await (const record of readSegment(segment, { onCorrupt })) {
      if (record.end > size) size = record.end;
      if (record.type === 'log') {
        logRecords++;
        if (record.offset >= uploadedTo) logUploadBacklog++;
        if (record.log.timeMs < oldestMs) oldestMs = record.log.timeMs;
        if (record.log.timeMs > newestMs) newestMs = record.log.timeMs;
        continue;
      }
      const { span } = record;
      const key = span.traceId + span.spanId;
      seen.add(key);
      if (span.startTimeMs < oldestMs) oldestMs = span.startTimeMs;
      const last = span.endTimeMs ?? span.startTimeMs;
      if (last > newestMs) newestMs = last;
      if (record.type === 'start') {
        startRecords++;
        open.add(key);
      } else {
        endRecords++;
        open.delete(key);
        if (record.offset >= uploadedTo) uploadBacklog++;
      }
    }
    bytes += Math.max(size, await sizeOf(segment.path));
  }
  return {
    directory: dir,
    bytes,
    segments: segments.length,
    spans: seen.size,
    openSpans: open.size,
    startRecords,
    endRecords,
    logRecords,
    corruptRecords,
    uploadBacklog,
    logUploadBacklog,
    oldestMs: segments.length && Number.isFinite(oldestMs) ? oldestMs : null,
    newestMs: Number.isFinite(newestMs) ? newestMs : null,
    writerPids: [...pids].sort((a, b) => a - b),
  };
}

async function sizeOf(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}
