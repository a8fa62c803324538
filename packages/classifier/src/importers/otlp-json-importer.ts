/**
 * OTLP JSON: an ExportTraceServiceRequest object (pretty-printed or not, any size), or JSON lines
 * of them as the OpenTelemetry Collector's file exporter writes; ExportLogsServiceRequest values
 * (alone or mixed in) give log records.
 */
import type { RecordedLog, RecordedSpan } from '@stall-why/flight-record';
import { TraceInputError } from '../trace-input-error.js';
import { readJsonValues } from './json-values.js';
import { tornTailNote } from './line-reader.js';
import { OtlpLineDecoder } from './otlp-line-decoder.js';
import { otlpAttributes, type Attributes } from '@stall-why/flight-record';
import { otlpLog } from './otlp-log.js';
import { otlpSpan } from './otlp-span.js';

const RESOURCE = '.resourceSpans[].resource';
const SCOPES = ['scopeSpans', 'instrumentationLibrarySpans'];
const LOG_RESOURCE = '.resourceLogs[].resource';
const LOG_SCOPE = '.resourceLogs[].scopeLogs[].scope';
const LOG_RECORDS = '.resourceLogs[].scopeLogs[].logRecords[]';
const TARGETS = new Set([
  RESOURCE,
  ...SCOPES.flatMap((s) => [`.resourceSpans[].${s}[].scope`, `.resourceSpans[].${s}[].instrumentationLibrary`, `.resourceSpans[].${s}[].spans[]`]),
  LOG_RESOURCE,
  LOG_SCOPE,
  LOG_RECORDS,
]);

export interface ImportOptions {
  readonly maxLineBytes: number;
  readonly onProgress?: (bytesRead: number, totalBytes: number) => void;
  /** Span names worth converting; others are counted and skipped unconverted. */
  readonly wanted?: ReadonlySet<string>;
}

export async function importOtlpJson(
  path: string,
  options: ImportOptions,
  emit: (span: RecordedSpan) => void,
  emitLog: (log: RecordedLog) => void = () => undefined,
): Promise<{ spans: number; skipped: number; notes: string[] }> {
  // Resource and scope carry over from value to value (and line to line) on both paths.
  const lines = new OtlpLineDecoder(options.wanted);
  const logs: LogContext = { resource: undefined, scope: undefined };
  let spans = 0;
  let skipped = 0;
  const notes: string[] = [];
  const emitCounted = (span: RecordedSpan): void => {
    spans++;
    emit(span);
  };
  const found = await readJsonValues(path, {
    targets: TARGETS,
    maxLineBytes: options.maxLineBytes,
    onProgress: options.onProgress,
    onTornTail: (lineNo) => notes.push(tornTailNote(lineNo)),
    fastLine: (line) => {
      const result = lines.decode(line, emitCounted);
      if (!result) return undefined;
      skipped += result.skipped;
      return result.found;
    },
    onValue: (p, value, position) => {
      const o = (value ?? {}) as Record<string, unknown>;
      if (p.startsWith('.resourceLogs')) {
        const log = readLogValue(p, o, logs);
        if (typeof log === 'string') throw new TraceInputError(path, position, `invalid OTLP log record: ${log}`);
        if (log) {
          spans++;
          emitLog(log);
        }
        return;
      }
      if (p === RESOURCE) {
        lines.resource = otlpAttributes(o.attributes);
        return;
      }
      if (!p.endsWith('spans[]')) {
        lines.scope = typeof o.name === 'string' ? o.name : undefined;
        return;
      }
      if (options.wanted && typeof o.name === 'string' && !options.wanted.has(o.name)) {
        skipped++;
        return;
      }
      const span = otlpSpan(o, lines.resource, lines.scope);
      if (typeof span === 'string') throw new TraceInputError(path, position, `invalid OTLP span: ${span}`);
      spans++;
      emit(span);
    },
  });
  if (found === 0) throw new TraceInputError(path, 1, notes.length ? `no complete OTLP line in this file (${notes[0]})` : 'no OTLP resourceSpans or resourceLogs in this file');
  return { spans, skipped, notes };
}


/** The resource and scope of the log records that follow. */
interface LogContext {
  resource: Attributes | undefined;
  scope: string | undefined;
}

/** A log record of an ExportLogsServiceRequest value, or its resource or scope noted in `context`. */
function readLogValue(path: string, o: Record<string, unknown>, context: LogContext): RecordedLog | string | undefined {
  if (path === LOG_RESOURCE) {
    context.resource = otlpAttributes(o.attributes);
    return undefined;
  }
  if (path === LOG_SCOPE) {
    context.scope = typeof o.name === 'string' ? o.name : undefined;
    return undefined;
  }
  return otlpLog(o, context.resource, context.scope);
}
