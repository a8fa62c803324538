import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** File in a recorder directory that remembers how far each segment has been uploaded. */
export const UPLOAD_CURSOR_FILE = 'upload-cursor.json';

/**
 * Upload progress: for each segment name, the byte offset up to which its ended spans have been
 * delivered (or dropped after a permanent failure). Segments not listed have uploaded nothing.
 */
export type UploadCursor = Map<string, number>;

/** Reads the cursor; an absent or unreadable file means nothing was uploaded. */
export function readUploadCursor(dir: string): UploadCursor {
  try {
    const parsed = JSON.parse(readFileSync(join(dir, UPLOAD_CURSOR_FILE), 'utf8')) as { segments?: Record<string, unknown> };
    const cursor: UploadCursor = new Map();
    for (const [name, offset] of Object.entries(parsed.segments ?? {})) {
      if (typeof offset === 'number' && offset >= 0) cursor.set(name, offset);
    }
    return cursor;
  } catch {
    return new Map();
  }
}

/**
 * Persists the cursor atomically (write a temporary file, rename over), so a crash leaves either the
 * old or the new cursor: at-least-once delivery, duplicates bounded by the batch in flight.
 * `liveSegments` prunes entries of evicted segments.
 */
export function writeUploadCursor(dir: string, cursor: UploadCursor, liveSegments?: ReadonlySet<string>): void {
  const segments: Record<string, number> = {};
  for (const [name, offset] of cursor) {
    if (!liveSegments || liveSegments.has(name)) segments[name] = offset;
  }
  const path = join(dir, UPLOAD_CURSOR_FILE);
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify({ version: 1, segments }), { mode: 0o600 });
  renameSync(tmp, path);
}
