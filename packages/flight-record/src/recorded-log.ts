/**
 * The log record as stall-why stores and reads it: what `stall-why collect` keeps of an OTLP log
 * record, beside the spans of the same flight recorder. Like RecordedSpan it needs no OpenTelemetry
 * SDK: times are epoch milliseconds (fractional, so microseconds survive).
 */
import type { Attributes } from './recorded-span.js';

/** One OpenTelemetry log record as the flight recorder keeps it. */
export interface RecordedLog {
  /** 32 lowercase hex digits; absent when the record carries no trace context. */
  readonly traceId?: string;
  /** 16 lowercase hex digits; absent when the record carries no span context. */
  readonly spanId?: string;
  /** Epoch ms, fractional: the record's time, or its observed time when the time is 0 or absent (Codex sends time 0). */
  readonly timeMs: number;
  /** Epoch ms, fractional, when the record carries an observed time. */
  readonly observedTimeMs?: number;
  readonly severityNumber?: number;
  readonly severityText?: string;
  /** The body as text: a string body as is, any other value as compact JSON; bounded like attributes. */
  readonly body?: string;
  /** The OTLP `eventName` field verbatim (Codex puts a source location there; its event name is the `event.name` attribute). */
  readonly eventName?: string;
  readonly attributes: Attributes;
  readonly resource?: Attributes;
  readonly scope?: string;
  readonly scopeVersion?: string;
}
