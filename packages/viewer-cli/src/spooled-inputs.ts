/**
 * Trace inputs the importers cannot read in place: standard input (`-`), a pipe (`<(zcat …)`, a
 * FIFO), gzip-compressed files and gzip through a pipe (by their magic bytes, whatever their name) (`rollout.jsonl.gz`, a collector's compressed file export). The
 * importers read by position (format sniffing, then the whole file; a flight recorder by segment),
 * so such an input is first copied, decompressed where it is gzip, into a private temporary
 * directory (0700) under its own name without `.gz` (a rollout's name carries its thread id), and
 * removed afterwards. The copy is bounded: an input past `maxBytes` is refused with one line.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, open, rename, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';

/** Default bound on one spooled input, after decompression. */
export const DEFAULT_MAX_SPOOL_BYTES = 8 * 1024 * 1024 * 1024;

const GZIP_MAGIC = [0x1f, 0x8b] as const;

/** Why an input could not be copied; the message names the input as the user gave it. */
export class SpoolError extends Error {
  override readonly name = 'SpoolError';
}

export interface SpooledInputs {
  /** Paths to analyse, in the order given: the originals, or their copies. */
  readonly paths: readonly string[];
  /** The name a person gave for a path in `paths` (the path itself when it was not copied). */
  displayName(path: string): string;
  /** Removes the copies. */
  cleanup(): Promise<void>;
}

export interface SpoolOptions {
  readonly stdin?: Readable;
  readonly maxBytes?: number;
}

/** Copies the inputs that need it; the others pass through untouched (a directory, a plain file). */
export async function spoolInputs(inputs: readonly string[], options: SpoolOptions = {}): Promise<SpooledInputs> {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_SPOOL_BYTES;
  const names = new Map<string, string>();
  let dir: string | undefined;
  const paths: string[] = [];
  const cleanup = async (): Promise<void> => {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  };
  try {
    for (const [index, input] of inputs.entries()) {
      const kind = await inputKind(input);
      if (kind === 'in-place') {
        paths.push(input);
        continue;
      }
      dir ??= await mkdtemp(join(tmpdir(), 'stall-why-input-'));
      const copy = join(dir, `${index}`, spoolName(input));
      await spool(input, kind, copy, maxBytes, options.stdin ?? process.stdin);
      names.set(copy, input);
      paths.push(copy);
    }
  } catch (err) {
    await cleanup();
    throw err;
  }
  return { paths, displayName: (path) => names.get(path) ?? path, cleanup };
}

type InputKind = 'in-place' | 'stream' | 'gzip-file';

async function inputKind(input: string): Promise<InputKind> {
  if (input === '-') return 'stream';
  let info;
  try {
    info = await stat(input);
  } catch {
    return 'in-place'; // missing or unreadable: the analysis says so, naming it
  }
  if (info.isFIFO() || info.isSocket()) return 'stream';
  if (!info.isFile()) return 'in-place';
  return (await startsWithGzipMagic(input)) ? 'gzip-file' : 'in-place';
}

async function startsWithGzipMagic(path: string): Promise<boolean> {
  const handle = await open(path, 'r');
  try {
    const head = Buffer.alloc(2);
    const { bytesRead } = await handle.read(head, 0, 2, 0);
    return bytesRead === 2 && head[0] === GZIP_MAGIC[0] && head[1] === GZIP_MAGIC[1];
  } finally {
    await handle.close();
  }
}

function spoolName(input: string): string {
  if (input === '-') return 'stdin';
  const name = basename(input).replace(/\.gz$/i, '');
  return name === '' || name === '.' ? 'input' : name;
}

/** Copies `input` to `copy` (inflating a gzip file); pipeline closes every stream, on success or failure. */
async function spool(input: string, kind: InputKind, copy: string, maxBytes: number, stdin: Readable): Promise<void> {
  await mkdir(dirname(copy), { mode: 0o700 });
  const source = input === '-' ? stdin : createReadStream(input);
  const out = createWriteStream(copy, { mode: 0o600 });
  try {
    if (kind === 'gzip-file') await pipeline(source, createGunzip(), boundedTo(maxBytes, input), out);
    else {
      await pipeline(source, boundedTo(maxBytes, input), out);
      // Standard input and pipes are looked at once copied: gzip through a pipe (`cat x.gz | stall-why -`) is inflated too.
      if (await startsWithGzipMagic(copy)) {
        const inflated = `${copy}.inflated`;
        await pipeline(createReadStream(copy), createGunzip(), boundedTo(maxBytes, input), createWriteStream(inflated, { mode: 0o600 }));
        await rename(inflated, copy);
      }
    }
  } catch (err) {
    if (err instanceof SpoolError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    const what = code === 'Z_DATA_ERROR' || code === 'Z_BUF_ERROR' ? 'corrupt or truncated gzip data' : code ?? (err as Error).message;
    throw new SpoolError(`${input}: cannot read (${what})`);
  }
}

function boundedTo(maxBytes: number, input: string): Transform {
  let total = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      total += chunk.length;
      if (total > maxBytes) return done(new SpoolError(`${input}: more than ${maxBytes} bytes through a pipe or gzip; write it to a plain file first`));
      done(null, chunk);
    },
  });
}
