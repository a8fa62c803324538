/**
 * The I/O edge: reads trace files and directories (format chosen by content unless forced),
 * streams their spans into the classifier, and judges at `now`.
 */
import { lstat, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { RecordedLog, RecordedSpan } from '@stall-why/flight-record';
import { SpanClassifier } from './classify-spans.js';
import { importChromeTrace } from './importers/chrome-trace-importer.js';
import { goneWriters, importFlightRecords, isFlightRecorderDirectory, processGoneSpan, untrustedSegmentsNote } from './importers/flight-record-importer.js';
import { forEachLine } from './importers/line-reader.js';
import { importOtlpJson } from './importers/otlp-json-importer.js';
import { RolloutImporter } from './importers/rollout-importer.js';
import { ROLLOUT_PARSE_BYTES } from './importers/rollout-lines.js';
import { rolloutTextBytes } from './importers/rollout-text-bytes.js';
import { KNOWN_PHASES } from './model/phase-groups.js';
import { CODEX_SPAN_NAMES } from './importers/codex-otel-spans.js';
import { CodexTelemetryMapper } from './importers/codex-telemetry.js';

/** Span names worth decoding: the vocabulary's phases, and the Codex app-server's own spans that map onto them. */
const READ_SPAN_NAMES: ReadonlySet<string> = new Set([...KNOWN_PHASES, ...CODEX_SPAN_NAMES]);
import type { TimelineLimits } from './model/timeline-limits.js';
import type { Report, SourceSummary } from './report.js';
import type { Thresholds } from './thresholds.js';
import { DEFAULT_HEAP_LIMIT_MB, DEFAULT_ISOLATE_ABOVE_BYTES, DEFAULT_MAX_LINE_BYTES, TRACE_FORMATS, detectFormat, type TraceFormat } from './trace-format.js';
import { TraceInputError } from './trace-input-error.js';
import { MAX_WALK_DEPTH, head as fileHead, walkTraceDirectory } from './trace-directory.js';
import { analyzeInWorker } from './analyze-worker-client.js';

export interface AnalyzeOptions {
  /** The judged moment, epoch ms. Default `Date.now()`. */
  now?: number;
  /**
   * Ask whether the process that wrote a flight-recorder directory still runs (by its pid, on this
   * host): a writer killed without a word leaves its open turns abandoned. Only true when judging as
   * of now. Default: true when `now` is not given.
   */
  checkWriters?: boolean;
  /** Force a format instead of detecting it from each file's content. */
  format?: TraceFormat;
  thresholds?: Partial<Thresholds>;
  /** Memory bounds of the timeline (see `DEFAULT_TIMELINE_LIMITS`). */
  limits?: Partial<TimelineLimits>;
  /** Longest line (JSON lines, rollouts) or single JSON value accepted. Default 64 MiB. */
  maxLineBytes?: number;
  onProgress?: (p: { path: string; bytesRead: number; totalBytes: number }) => void;
  /**
   * Read and judge inputs larger than `isolateAboveBytes` in a worker thread whose heap V8 caps
   * (`heapLimitMb`), so the process's memory stays bounded whatever the input and whatever the host's
   * heap flags. An input that needs more heap than the cap (a single JSON value of tens of MB) is a
   * TraceInputError saying so, never read again uncapped. Default true.
   */
  isolate?: boolean;
  /**
   * Inputs up to this size (all paths, directories summed; a Codex rollout counted by its lines, at
   * most 8 KiB each: their payloads are skipped, not parsed, so one bloated with images holds little
   * whatever its size) are read in the calling thread: starting a worker costs ~0.1 s. Default 16 MiB.
   */
  isolateAboveBytes?: number;
  /** The worker's old-generation cap, MB. Default 64 (what is live is about 10 MB; see docs/classifier.md). */
  heapLimitMb?: number;
}

export interface Analysis {
  report: Report;
  /** The phase spans of the reported turns, for the Chrome export. */
  spans: readonly RecordedSpan[];
}

export { DEFAULT_MAX_LINE_BYTES };

function ioError(path: string, error: unknown): TraceInputError {
  const code = (error as NodeJS.ErrnoException).code;
  const what =
    code === 'ENOENT' ? 'no such file or directory' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a directory' : (error as Error).message.split('\n')[0]!;
  return new TraceInputError(path, undefined, what);
}


function describeFormats(): string {
  return TRACE_FORMATS.join(', ');
}

export { DEFAULT_HEAP_LIMIT_MB, DEFAULT_ISOLATE_ABOVE_BYTES };

/**
 * The inputs' total size in bytes, counted until it passes `enough`; a rollout counts the text its
 * lines' heads make (`rolloutTextBytes`), unreadable paths 0 (reading them reports why).
 */
async function inputBytes(paths: readonly string[], enough: number, format: TraceFormat | undefined): Promise<number> {
  let total = 0;
  const visit = async (path: string, depth: number): Promise<void> => {
    if (total > enough) return;
    try {
      // Links into directories are not followed below the paths given (a loop of them would never end).
      const info = depth === 0 ? await stat(path) : await lstat(path);
      if (info.isDirectory()) {
        if (depth <= MAX_WALK_DEPTH) for (const name of await readdir(path)) await visit(join(path, name), depth + 1);
      } else if (info.isFile()) {
        const rollout = (format ?? detectFormat(await fileHead(path))) === 'codex-rollout';
        total += rollout ? rolloutTextBytes(path, info.size) : info.size;
      }
    } catch {
      // Left to the reader, which names the file and what is wrong.
    }
  };
  for (const path of paths) await visit(path, 0);
  return total;
}

/** Reads the traces and judges every turn in them at `now`. */
export async function analyzeTraces(paths: string[], options: AnalyzeOptions = {}): Promise<Analysis> {
  const now = options.now ?? Date.now();
  const threshold = options.isolateAboveBytes ?? DEFAULT_ISOLATE_ABOVE_BYTES;
  const resolved = { ...options, now, checkWriters: options.checkWriters ?? options.now === undefined };
  if (options.isolate === false || (await inputBytes(paths, threshold, options.format)) <= threshold) return analyzeInThisThread(paths, resolved);
  const heapLimitMb = options.heapLimitMb ?? DEFAULT_HEAP_LIMIT_MB;
  const inWorker = await analyzeInWorker(paths, resolved, heapLimitMb);
  // Never read again uncapped: an input that needs more (one JSON value of hundreds of MB, ids of
  // megabytes) once took gigabytes in the calling thread.
  if (inWorker === undefined) {
    throw new TraceInputError(paths.join(', '), undefined, `needs more than the ${heapLimitMb} MB heap cap to read (a single JSON value or ids of megabytes?); --max-heap raises it`);
  }
  return inWorker;
}

/** `analyzeTraces` in the calling thread: what the worker runs. */
export async function analyzeInThisThread(paths: string[], options: AnalyzeOptions = {}): Promise<Analysis> {
  const now = options.now ?? Date.now();
  const maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  const classifier = new SpanClassifier({ now, thresholds: options.thresholds, limits: options.limits });
  const sources: SourceSummary[] = [];

  // `shown` names the file in sources and errors when `path` is a copy (an inflated gzip file).
  const readFile = async (path: string, format: TraceFormat, shown = path): Promise<void> => {
    // Codex's own spans and log events become phases; its log mapping follows the source's turns.
    const codex = new CodexTelemetryMapper();
    const add = (span: RecordedSpan): void => {
      codex.span(span, (phase) => classifier.add(phase, shown));
    };
    const addLog = (log: RecordedLog): void => {
      codex.log(log, (phase) => classifier.add(phase, shown));
    };
    const onProgress = options.onProgress ? (bytesRead: number, totalBytes: number) => options.onProgress!({ path: shown, bytesRead, totalBytes }) : undefined;
    let result: { spans: number; skipped: number; corrupt?: number; notes?: string[] };
    switch (format) {
      case 'otlp-json':
        result = await importOtlpJson(path, { maxLineBytes, onProgress, wanted: READ_SPAN_NAMES }, add, addLog);
        break;
      case 'chrome-trace':
        result = await importChromeTrace(path, { maxLineBytes, onProgress }, add);
        break;
      case 'codex-rollout': {
        const importer = new RolloutImporter(path, add);
        await forEachLine(path, { maxLineBytes, keepBytes: ROLLOUT_PARSE_BYTES, onProgress }, (line, info) => importer.line(line, info));
        importer.finish();
        if (importer.lastLineMs !== undefined) classifier.noteWrite(shown, importer.lastLineMs);
        result = { spans: importer.spans, skipped: importer.skipped, notes: importer.notes() };
        break;
      }
      case 'flight-recorder': {
        const records = await importFlightRecords(path, add, undefined, addLog);
        const untrusted = await untrustedSegmentsNote(path, records.listing);
        result = untrusted ? { ...records, notes: [untrusted] } : records;
        // Judged as of now (not a moment replayed from the past): a writer killed without a word is gone.
        if (records.lastRecordMs !== undefined && (options.checkWriters ?? options.now === undefined)) {
          const gone = goneWriters(records.listing);
          if (gone) classifier.add(processGoneSpan(gone, records.lastRecordMs), shown);
        }
        break;
      }
    }
    const notes = result.notes?.length ? { notes: result.notes } : {};
    sources.push({ path: shown, format, spans: result.spans, skipped: result.skipped, corrupt: result.corrupt ?? 0, ...notes });
  };

  for (const path of paths) {
    try {
      const info = await stat(path);
      if (info.isDirectory()) {
        if (options.format === 'flight-recorder' || (await isFlightRecorderDirectory(path))) {
          await readFile(path, 'flight-recorder');
          continue;
        }
        const walk = await walkTraceDirectory(path);
        try {
          if (walk.files.length === 0 && walk.notes.length === 0) {
            // A recording that has not written anything yet (`record` makes its directory at once): no turns, said why.
            sources.push({ path, format: 'directory', spans: 0, skipped: 0, corrupt: 0, notes: [`empty: nothing recorded in it yet (made at ${info.birthtime.toISOString()})`] });
            continue;
          }
          if (walk.files.length === 0) {
            const why = walk.notes.length ? `; ${walk.notes.length} entr${walk.notes.length > 1 ? 'ies' : 'y'} not read, e.g. ${walk.notes[0]}` : '';
            throw new TraceInputError(path, undefined, `no trace files in this directory (looked for ${describeFormats()}${why})`);
          }
          for (const f of walk.files) {
            try {
              await readFile(f.path, f.format === 'flight-recorder-dir' ? 'flight-recorder' : f.format, f.found);
            } catch (error) {
              // An inflated copy is named as the file that was found.
              if (error instanceof TraceInputError && f.path !== f.found) throw new TraceInputError(f.found, error.position, error.reason);
              throw error;
            }
          }
          if (walk.notes.length) sources.push({ path, format: 'directory', spans: 0, skipped: walk.notes.length, corrupt: 0, notes: walk.notes });
        } finally {
          await walk.cleanup();
        }
        continue;
      }
      const head = await fileHead(path);
      if (head.length === 0 || head.toString('latin1').trim() === '') throw new TraceInputError(path, 1, 'empty file: no trace in it');
      const format = options.format ?? detectFormat(head);
      if (!format) {
        const binary = head.subarray(0, 512).some((b) => b === 0 || (b < 0x09));
        throw new TraceInputError(path, 1, `${binary ? 'binary data' : 'not a format stall-why reads'} (expected ${describeFormats()}; --format forces one)`);
      }
      await readFile(path, format);
    } catch (error) {
      if (error instanceof TraceInputError) throw error;
      throw ioError(path, error);
    }
  }
  const { report, spans } = classifier.finish(sources);
  return { report, spans };
}
