/**
 * Chrome trace files written by stall-why: every event carries its original span as JSON under
 * `args[CHROME_ARG_SPAN]` (an open span has no endTimeMs), so the round trip is exact. Events
 * without it (metadata, other tools' events) are counted as skipped.
 */
import { CHROME_ARG_SPAN } from '@stall-why/conventions';
import type { RecordedSpan } from '@stall-why/flight-record';
import { TraceInputError } from '../trace-input-error.js';
import { readJsonValues } from './json-values.js';
import type { ImportOptions } from './otlp-json-importer.js';

const TARGETS = new Set(['.traceEvents[]', '[]']);

function asSpan(raw: unknown): RecordedSpan | undefined {
  const value = typeof raw === 'string' ? (JSON.parse(raw) as unknown) : raw;
  if (!value || typeof value !== 'object') return undefined;
  const s = value as Partial<RecordedSpan>;
  if (typeof s.traceId !== 'string' || typeof s.spanId !== 'string' || typeof s.name !== 'string' || typeof s.startTimeMs !== 'number') return undefined;
  return { ...s, attributes: s.attributes && typeof s.attributes === 'object' ? s.attributes : {} } as RecordedSpan;
}

export async function importChromeTrace(
  path: string,
  options: ImportOptions,
  emit: (span: RecordedSpan) => void,
): Promise<{ spans: number; skipped: number }> {
  let spans = 0;
  let skipped = 0;
  const found = await readJsonValues(path, {
    targets: TARGETS,
    maxLineBytes: options.maxLineBytes,
    onProgress: options.onProgress,
    onValue: (_p, value, position) => {
      const args = (value as { args?: Record<string, unknown> } | null)?.args;
      const raw = args?.[CHROME_ARG_SPAN];
      if (raw === undefined) {
        skipped++;
        return;
      }
      let span: RecordedSpan | undefined;
      try {
        span = asSpan(raw);
      } catch (error) {
        throw new TraceInputError(path, position, `invalid span JSON in args["${CHROME_ARG_SPAN}"]: ${(error as Error).message}`);
      }
      if (!span) throw new TraceInputError(path, position, `args["${CHROME_ARG_SPAN}"] is not a span (traceId, spanId, name, startTimeMs)`);
      spans++;
      emit(span);
    },
  });
  if (found === 0) throw new TraceInputError(path, 1, 'no trace events in this file (expected {"traceEvents":[…]} or an array of events)');
  return { spans, skipped };
}
