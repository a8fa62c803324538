/**
 * Reads the values at some paths of a JSON file that is either JSON lines (each line parsed on its
 * own, fast) or one document of any size (scanned with JsonStreamScanner, bounded memory). The first
 * non-empty line decides: if it parses on its own, the file is JSON lines.
 */
import { open } from 'node:fs/promises';
import { TraceInputError } from '../trace-input-error.js';
import { JsonStreamScanner } from './json-stream-scanner.js';
import { forEachLine } from './line-reader.js';

export interface JsonValuesOptions {
  /** Paths as JsonStreamScanner writes them: `.resourceSpans[].scopeSpans[].spans[]`. */
  readonly targets: ReadonlySet<string>;
  /** Longest JSON line; also the largest single value of a document. */
  readonly maxLineBytes: number;
  readonly onProgress?: (bytesRead: number, totalBytes: number) => void;
  /** Called for each value found, in document order; `position` is a line number or `@offset`. */
  readonly onValue: (path: string, value: unknown, position: string) => void;
  /**
   * A faster reader of a whole JSON line: returns how many values it found (it reports them itself),
   * or undefined to leave the line to `JSON.parse` and `onValue`.
   */
  readonly fastLine?: (line: Buffer) => number | undefined;
  /**
   * The file's last line has no newline after it and is not valid JSON: a writer appending it (a
   * Collector's file exporter, a live recording) or a copy cut short. It is skipped, and this is told
   * its line number; without it, it is an error like any invalid line.
   */
  readonly onTornTail?: (lineNo: number) => void;
}

/** Walks a parsed value down the target paths (the JSON-lines case). */
function walk(value: unknown, path: string, options: JsonValuesOptions, prefixes: ReadonlySet<string>, position: string): void {
  if (options.targets.has(path)) {
    options.onValue(path, value, position);
    return;
  }
  if (!prefixes.has(path) && path !== '') return;
  if (Array.isArray(value)) for (const v of value) walk(v, `${path}[]`, options, prefixes, position);
  else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) walk(v, `${path}.${k}`, options, prefixes, position);
}

async function firstLineParses(path: string, maxBytes: number): Promise<boolean> {
  const handle = await open(path, 'r');
  try {
    const buf = Buffer.alloc(Math.min(maxBytes, 1024 * 1024));
    const { bytesRead } = await handle.read(buf, 0, buf.length, 0);
    const text = buf.toString('utf8', 0, bytesRead);
    const nl = text.indexOf('\n');
    if (nl < 0) return bytesRead < buf.length && isJson(text);
    return isJson(text.slice(0, nl));
  } finally {
    await handle.close();
  }
}

function isJson(text: string): boolean {
  const t = text.trim();
  if (!t) return false;
  try {
    JSON.parse(t);
    return true;
  } catch {
    return false;
  }
}

/** Reads the values; returns how many were found. */
export async function readJsonValues(path: string, options: JsonValuesOptions): Promise<number> {
  let found = 0;
  const counted: JsonValuesOptions = { ...options, onValue: (p, v, pos) => { found++; options.onValue(p, v, pos); } };
  await readValues(path, counted, (n) => (found += n));
  return found;
}

async function readValues(path: string, options: JsonValuesOptions, foundFast: (n: number) => void): Promise<void> {
  const prefixes = new Set<string>();
  for (const t of options.targets) for (let i = 1; i <= t.length; i++) prefixes.add(t.slice(0, i));
  if (await firstLineParses(path, options.maxLineBytes)) {
    await forEachLine(path, { maxLineBytes: options.maxLineBytes, onProgress: options.onProgress }, (line, info) => {
      if (info.length === 0) return;
      const fast = options.fastLine?.(line);
      if (fast !== undefined) {
        foundFast(fast);
        return;
      }
      let value: unknown;
      try {
        value = JSON.parse(line.toString('utf8'));
      } catch (error) {
        if (line.toString('latin1').trim() === '') return;
        if (info.atEof && options.onTornTail) {
          options.onTornTail(info.lineNo);
          return;
        }
        throw new TraceInputError(path, info.lineNo, `invalid JSON: ${(error as Error).message}`);
      }
      walk(value, '', options, prefixes, String(info.lineNo));
    });
    return;
  }
  const scanner = new JsonStreamScanner(path, {
    targets: options.targets,
    maxValueBytes: options.maxLineBytes,
    onValue: (p, v, offset) => options.onValue(p, v, `@${offset}`),
  });
  const handle = await open(path, 'r');
  try {
    const total = (await handle.stat()).size;
    const chunk = Buffer.allocUnsafe(2 * 1024 * 1024);
    let position = 0;
    for (;;) {
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, position);
      if (bytesRead === 0) break;
      scanner.feed(chunk.subarray(0, bytesRead));
      position += bytesRead;
      options.onProgress?.(position, total);
    }
    scanner.end();
  } finally {
    await handle.close();
  }
}
