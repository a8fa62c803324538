import { open, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { looksLikeFlightSegment, parseSegmentHeader, SEGMENT_PREAMBLE_BYTES, type SegmentHeader } from './segment-format.js';

/** One segment file of a recorder directory, as found on disk. */
export interface SegmentFile {
  readonly name: string;
  readonly path: string;
  /** Size when listed; a live segment may have grown since. */
  readonly size: number;
  readonly header: SegmentHeader;
  /** Format version (1: JSON record bodies, 2: binary). */
  readonly version: number;
  /** Where the first record starts. */
  readonly recordsOffset: number;
}

/** A file that has the segment magic but whose header cannot be read. */
export interface BadSegment {
  readonly name: string;
  readonly path: string;
  readonly reason: string;
}

export interface SegmentListing {
  /** Readable segments, oldest first (creation time, then writer sequence, then name). */
  readonly segments: SegmentFile[];
  readonly bad: BadSegment[];
}

const HEADER_PROBE_BYTES = 64 * 1024;

/**
 * Lists a directory's segments by content (magic and header), not by name. Files that vanish while
 * listing (evicted by a writer) are left out.
 */
export async function listSegments(dir: string): Promise<SegmentListing> {
  const entries = await readdir(dir, { withFileTypes: true });
  const segments: SegmentFile[] = [];
  const bad: BadSegment[] = [];
  for (const entry of entries) {
    if (!entry.isFile()) continue;
    const path = join(dir, entry.name);
    const probed = await probeSegment(path);
    if (probed === undefined) continue;
    if ('reason' in probed) bad.push({ name: entry.name, path, reason: probed.reason });
    else segments.push({ name: entry.name, path, ...probed });
  }
  segments.sort(compareSegments);
  return { segments, bad };
}

function compareSegments(a: SegmentFile, b: SegmentFile): number {
  return a.header.createdMs - b.header.createdMs || (a.header.seq ?? 0) - (b.header.seq ?? 0) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
}

type Probe = { size: number; header: SegmentHeader; version: number; recordsOffset: number } | { reason: string } | undefined;

/** Reads a file's header if it is a segment; undefined when it is not one (or is gone). */
async function probeSegment(path: string): Promise<Probe> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch {
    return undefined;
  }
  try {
    const size = (await handle.stat()).size;
    let bytes = Buffer.alloc(Math.min(size, HEADER_PROBE_BYTES));
    await handle.read(bytes, 0, bytes.length, 0);
    if (!looksLikeFlightSegment(bytes)) {
      if (bytes.length >= 8 && bytes.subarray(0, 8).toString('latin1') === 'SWFLTREC') return { reason: 'unsupported format version' };
      return undefined;
    }
    let parsed = parseSegmentHeader(bytes);
    if (parsed.kind === 'incomplete' && parsed.needBytes <= size) {
      bytes = Buffer.alloc(parsed.needBytes);
      await handle.read(bytes, 0, bytes.length, 0);
      parsed = parseSegmentHeader(bytes);
    }
    if (parsed.kind === 'header') return { size, header: parsed.header, version: parsed.version, recordsOffset: parsed.recordsOffset };
    return { reason: parsed.kind === 'invalid' ? parsed.reason : 'torn segment header' };
  } finally {
    await handle.close();
  }
}

/** Whether `path` is a directory holding at least one flight-recorder segment (by content). */
export async function isFlightRecorderDir(path: string): Promise<boolean> {
  try {
    if (!(await stat(path)).isDirectory()) return false;
    const entries = await readdir(path, { withFileTypes: true });
    for (const entry of entries) {
      if (!entry.isFile()) continue;
      const first = await readFirstBytes(join(path, entry.name), SEGMENT_PREAMBLE_BYTES);
      if (first && looksLikeFlightSegment(first)) return true;
    }
    return false;
  } catch {
    return false;
  }
}

async function readFirstBytes(path: string, count: number): Promise<Buffer | undefined> {
  try {
    const handle = await open(path, 'r');
    try {
      const bytes = Buffer.alloc(count);
      const { bytesRead } = await handle.read(bytes, 0, count, 0);
      return bytes.subarray(0, bytesRead);
    } finally {
      await handle.close();
    }
  } catch {
    return undefined;
  }
}
