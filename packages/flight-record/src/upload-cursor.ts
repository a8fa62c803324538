import { closeSync, constants, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
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
  const fd = openFresh(tmp);
  try {
    writeSync(fd, JSON.stringify({ version: 1, segments }));
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

const FRESH_FILE = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

/**
 * A new file of our own at `path`: never one that is there already. A name left by a crash, or a
 * symlink someone else planted to make us overwrite a file of theirs choosing, is removed (the link,
 * not what it points to) and the file made anew.
 */
function openFresh(path: string): number {
  try {
    return openSync(path, FRESH_FILE, 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    unlinkSync(path);
    return openSync(path, FRESH_FILE, 0o600);
  }
}
