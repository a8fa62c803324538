/**
 * A real SDK pipeline for tests: a BasicTracerProvider with an in-memory exporter for ended spans
 * and a processor that records every span at start, so a test sees spans that are still open
 * (the state of a stuck turn) the way a flight recorder does.
 */
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan, type SpanProcessor } from '@opentelemetry/sdk-trace-base';

export interface SpanCapture {
  readonly provider: BasicTracerProvider;
  /** Every span, in start order, ended or not (the live SDK objects: `ended` changes as they end). */
  readonly started: ReadableSpan[];
  finished(): ReadableSpan[];
  /** Spans started and not yet ended. */
  open(): ReadableSpan[];
  named(name: string): ReadableSpan[];
  one(name: string): ReadableSpan;
}

export function captureSpans(): SpanCapture {
  const exporter = new InMemorySpanExporter();
  const started: ReadableSpan[] = [];
  const recordStart: SpanProcessor = {
    onStart: (span) => { started.push(span as unknown as ReadableSpan); },
    onEnd: () => {},
    forceFlush: async () => {},
    shutdown: async () => {},
  };
  const provider = new BasicTracerProvider({ spanProcessors: [recordStart, new SimpleSpanProcessor(exporter)] });
  const named = (name: string) => started.filter((s) => s.name === name);
  return {
    provider,
    started,
    finished: () => exporter.getFinishedSpans(),
    open: () => started.filter((s) => !s.ended),
    named,
    one(name) {
      const spans = named(name);
      if (spans.length !== 1) throw new Error(`expected one ${name} span, found ${spans.length}: ${started.map((s) => s.name).join(', ')}`);
      return spans[0];
    },
  };
}

/** Polls until `predicate` holds (events arrive over real sockets); fails with `what` after `timeoutMs`. */
export async function waitUntil(predicate: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
