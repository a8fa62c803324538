import { open, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import {
  looksLikeFlightSegment, MAX_HEADER_BYTES, parseSegmentHeader, SEGMENT_FILE_SUFFIX, SEGMENT_FORMAT_VERSION, SEGMENT_MAGIC, SEGMENT_PREAMBLE_BYTES,
  type SegmentHeader,
} from './segment-format.js';

/** One segment file of a recorder directory, as found on disk. */
export interface SegmentFile {
  readonly name: string;
  readonly path: string;
  /** Size when listed; a live segment may have grown since. */
  readonly size: number;
  /** The user that owns the file: a reader trusts what it or root wrote. */
  readonly ownerUid: number;
  readonly header: SegmentHeader;
  /** Format version (1: JSON record bodies, 2: binary). */
  readonly version: number;
  /** Where the first record starts. */
  readonly recordsOffset: number;
}

/**
 * A file that is a segment (by its magic, or by its name with most of its magic) but whose header
 * cannot be read. `recovered`: its records are read all the same (the damage was in the magic, or in
 * the header's JSON, whose length still says where the records start); it is listed among the
 * segments too.
 */
export interface BadSegment {
  readonly name: string;
  readonly path: string;
  readonly reason: string;
  readonly recovered?: boolean;
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
    if ('reason' in probed) {
      bad.push({ name: entry.name, path, reason: probed.reason, ...(probed.recovered ? { recovered: true } : {}) });
      if (probed.recovered) segments.push({ name: entry.name, path, ...probed.recovered });
    } else segments.push({ name: entry.name, path, ...probed });
  }
  segments.sort(compareSegments);
  return { segments, bad };
}

function compareSegments(a: SegmentFile, b: SegmentFile): number {
  return a.header.createdMs - b.header.createdMs || (a.header.seq ?? 0) - (b.header.seq ?? 0) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
}

type ReadableSegment = { size: number; ownerUid: number; header: SegmentHeader; version: number; recordsOffset: number };
type Probe = ReadableSegment | { reason: string; recovered?: ReadableSegment } | undefined;

/** Magic bytes that must match for a file not named as a segment to be taken for a damaged one. */
const NEAR_MAGIC_BYTES = 6;

/** Reads a file's header if it is a segment; undefined when it is not one (or is gone). */
async function probeSegment(path: string): Promise<Probe> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch {
    return undefined;
  }
  try {
    const info = await handle.stat();
    const { size } = info;
    let bytes = Buffer.alloc(Math.min(size, HEADER_PROBE_BYTES));
    await handle.read(bytes, 0, bytes.length, 0);
    // A flipped byte in the magic must not make a segment vanish unseen: a file named as a segment,
    // or one with most of the magic, is read as a damaged one.
    const magicDamaged = !looksLikeFlightSegment(bytes);
    if (magicDamaged) {
      if (bytes.length >= 8 && bytes.subarray(0, 8).equals(SEGMENT_MAGIC)) return { reason: 'unsupported format version' };
      if (!path.endsWith(SEGMENT_FILE_SUFFIX) && matchingMagicBytes(bytes) < NEAR_MAGIC_BYTES) return undefined;
      if (bytes.length < SEGMENT_PREAMBLE_BYTES) return { reason: 'torn segment header' };
      bytes = Buffer.from(bytes);
      SEGMENT_MAGIC.copy(bytes, 0);
    }
    let parsed = parseSegmentHeader(bytes);
    if (parsed.kind === 'incomplete' && parsed.needBytes <= size) {
      const head = bytes.subarray(0, 8);
      bytes = Buffer.alloc(parsed.needBytes);
      await handle.read(bytes, 0, bytes.length, 0);
      head.copy(bytes, 0);
      parsed = parseSegmentHeader(bytes);
    }
    if (parsed.kind === 'header') {
      const readable = { size, ownerUid: info.uid, header: parsed.header, version: parsed.version, recordsOffset: parsed.recordsOffset };
      return magicDamaged ? { reason: 'damaged segment magic (records recovered)', recovered: readable } : readable;
    }
    const reason = parsed.kind === 'invalid' ? parsed.reason : 'torn segment header';
    const recovered = headerlessSegment(bytes, info);
    return recovered ? { reason: `${reason} (records recovered)`, recovered } : { reason };
  } finally {
    await handle.close();
  }
}

function matchingMagicBytes(bytes: Buffer): number {
  let n = 0;
  for (let i = 0; i < Math.min(8, bytes.length); i++) if (bytes[i] === SEGMENT_MAGIC[i]) n++;
  return n;
}

/**
 * A segment whose header JSON is damaged but whose preamble still says its version and where its
 * records start: read with a header that says nothing of its writer (created at the file's mtime).
 */
function headerlessSegment(bytes: Buffer, file: { size: number; uid: number; mtimeMs: number }): ReadableSegment | undefined {
  if (bytes.length < SEGMENT_PREAMBLE_BYTES) return undefined;
  const version = bytes.readUInt16LE(8);
  const length = bytes.readUInt32LE(12);
  const recordsOffset = SEGMENT_PREAMBLE_BYTES + length;
  if (version < 1 || version > SEGMENT_FORMAT_VERSION || length > MAX_HEADER_BYTES || recordsOffset > file.size) return undefined;
  return { size: file.size, ownerUid: file.uid, header: { pid: 0, createdMs: file.mtimeMs, seq: 0 }, version, recordsOffset };
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
