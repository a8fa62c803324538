/**
 * The trace files under a directory: walked without following links to directories (a link loop
 * cannot hang it), bounded in depth and entries, each regular file recognised by content. Every
 * file that is not read is named with why (not a trace, not a regular file, unreadable), and gzip
 * files are inflated into a private temporary directory (removed by `cleanup`) and read like the rest.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { lstat, mkdtemp, open, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { isFlightRecorderDirectory } from './importers/flight-record-importer.js';
import { DETECT_BYTES, detectFormat, type TraceFormat } from './trace-format.js';

/** Deepest directory level walked below the one given. */
export const MAX_WALK_DEPTH = 16;
/** Most directory entries looked at in one walk; beyond, the rest is named in a note. */
export const MAX_WALK_ENTRIES = 100_000;
/** Largest gzip file inflated, after inflation. */
export const MAX_INFLATED_BYTES = 8 * 1024 * 1024 * 1024;
/** Most files named one by one in the notes; beyond, they are counted. */
const MAX_NAMED = 20;

export interface TraceFile {
  /** The path to read (an inflated copy for a gzip file). */
  readonly path: string;
  /** The path as found in the directory. */
  readonly found: string;
  readonly format: TraceFormat | 'flight-recorder-dir';
}

export interface DirectoryWalk {
  readonly files: TraceFile[];
  /** Why each file that is not read was left out, one line each (bounded). */
  readonly notes: string[];
  cleanup(): Promise<void>;
}

const GZIP = [0x1f, 0x8b];

/** A file's first bytes, as much as format detection looks at. */
export async function head(path: string, bytes = DETECT_BYTES): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
    const buf = Buffer.alloc(bytes);
    const { bytesRead } = await handle.read(buf, 0, bytes, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/** Walks `dir` for trace files. */
export async function walkTraceDirectory(dir: string): Promise<DirectoryWalk> {
  const files: TraceFile[] = [];
  const skipped: string[] = [];
  let entries = 0;
  let tempDir: string | undefined;
  const cleanup = async (): Promise<void> => {
    if (tempDir) await rm(tempDir, { recursive: true, force: true });
  };
  const inflate = async (path: string): Promise<string> => {
    tempDir ??= await mkdtemp(join(tmpdir(), 'stall-why-gz-'));
    const copy = join(tempDir, `${files.length}-${basename(path).replace(/\.gz$/i, '')}`);
    let total = 0;
    const bound = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        total += chunk.length;
        done(total > MAX_INFLATED_BYTES ? new Error(`inflates to more than ${MAX_INFLATED_BYTES} bytes`) : null, chunk);
      },
    });
    await pipeline(createReadStream(path), createGunzip(), bound, createWriteStream(copy, { mode: 0o600 }));
    return copy;
  };
  const visit = async (path: string, depth: number): Promise<void> => {
    let names: string[];
    try {
      names = (await readdir(path)).sort();
    } catch (error) {
      skipped.push(`${path}: not read (${(error as NodeJS.ErrnoException).code ?? 'unreadable'})`);
      return;
    }
    for (const name of names) {
      if (++entries > MAX_WALK_ENTRIES) return;
      const child = join(path, name);
      try {
        const link = await lstat(child);
        if (link.isDirectory()) {
          if (await isFlightRecorderDirectory(child)) files.push({ path: child, found: child, format: 'flight-recorder-dir' });
          else if (depth < MAX_WALK_DEPTH) await visit(child, depth + 1);
          else skipped.push(`${child}: not read (deeper than ${MAX_WALK_DEPTH} levels)`);
          continue;
        }
        const info = link.isSymbolicLink() ? await stat(child) : link;
        if (info.isDirectory()) {
          skipped.push(`${child}: not read (a link to a directory: links are not followed into directories)`);
          continue;
        }
        if (!info.isFile()) {
          skipped.push(`${child}: not read (not a regular file)`);
          continue;
        }
        let bytes = await head(child);
        let readPath = child;
        if (bytes[0] === GZIP[0] && bytes[1] === GZIP[1]) {
          readPath = await inflate(child).catch((error: Error) => {
            skipped.push(`${child}: not read (gzip: ${error.message.includes('more than') ? error.message : 'corrupt or truncated data'})`);
            return '';
          });
          if (readPath === '') continue;
          bytes = await head(readPath);
        }
        const format = detectFormat(bytes);
        if (format) files.push({ path: readPath, found: child, format });
        else skipped.push(`${child}: not read (${bytes.length === 0 ? 'empty' : 'not a trace format stall-why reads'})`);
      } catch (error) {
        skipped.push(`${child}: not read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
      }
    }
  };
  try {
    await visit(dir, 0);
  } catch (error) {
    await cleanup();
    throw error;
  }
  const notes = skipped.slice(0, MAX_NAMED);
  if (skipped.length > MAX_NAMED) notes.push(`and ${skipped.length - MAX_NAMED} more files not read`);
  if (entries > MAX_WALK_ENTRIES) notes.push(`the walk stopped after ${MAX_WALK_ENTRIES} entries: name a smaller directory`);
  return { files, notes, cleanup };
}
