/**
 * The upload cursor is written through a temporary file beside it: a name another local user can
 * guess (`upload-cursor.json.<pid>.tmp`). A symlink planted there must not make the writer overwrite
 * the file it points to.
 */
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, lstatSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UPLOAD_CURSOR_FILE, readUploadCursor, writeUploadCursor } from '@stall-why/flight-record';
import { afterAll, describe, expect, it } from 'vitest';

const root = mkdtempSync(join(tmpdir(), 'sw-cursor-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('writeUploadCursor', () => {
  it('does not follow a symlink planted at its temporary name, and still writes the cursor', () => {
    const victim = join(root, 'victim.txt');
    writeFileSync(victim, 'precious\n');
    const tmp = join(root, `${UPLOAD_CURSOR_FILE}.${process.pid}.tmp`);
    symlinkSync(victim, tmp);
    writeUploadCursor(root, new Map([['seg-a', 128]]));
    expect(readFileSync(victim, 'utf8')).toBe('precious\n');
    expect(readUploadCursor(root)).toEqual(new Map([['seg-a', 128]]));
    expect(lstatSync(join(root, UPLOAD_CURSOR_FILE)).isSymbolicLink()).toBe(false);
  });

  it('replaces a temporary file a crash left behind', () => {
    writeFileSync(join(root, `${UPLOAD_CURSOR_FILE}.${process.pid}.tmp`), 'half a cursor');
    writeUploadCursor(root, new Map([['seg-b', 7]]));
    expect(readUploadCursor(root)).toEqual(new Map([['seg-b', 7]]));
  });
});
