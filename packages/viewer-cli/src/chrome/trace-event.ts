/**
 * The Trace Event Format (https://docs.google.com/document/d/1CvAClvFfyA5R-PhYUmn5OOQtYMH4h6I0nSsKchNAySU),
 * the part of it the export writes: complete (`X`), instant (`i`), flow (`s`/`f`) and metadata (`M`)
 * events, times in microseconds.
 */

export interface TraceEvent {
  readonly name: string;
  readonly ph: 'X' | 'i' | 's' | 'f' | 'M';
  readonly pid: number;
  readonly tid: number;
  /** Microseconds. */
  readonly ts: number;
  readonly cat?: string;
  /** Microseconds, `X` only. */
  readonly dur?: number;
  /** Instant scope: `t` thread. */
  readonly s?: 't' | 'p' | 'g';
  /** Flow id, `s`/`f` only. */
  readonly id?: number;
  /** `e`: the flow end binds to the enclosing slice. */
  readonly bp?: 'e';
  readonly args?: Record<string, unknown>;
}

/** The JSON Object Format: what Perfetto UI, chrome://tracing and DevTools open. */
export interface ChromeTrace {
  readonly traceEvents: TraceEvent[];
  readonly displayTimeUnit: 'ms';
  readonly otherData: Record<string, string>;
}

/** The category of every event the export writes; flow events bind by it too. */
export const TRACE_CATEGORY = 'stall_why';

/** Epoch ms (fractional) to integral microseconds: integers keep nesting checks exact. */
export function toMicros(ms: number): number {
  return Math.round(ms * 1000);
}
