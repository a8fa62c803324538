/**
 * The span as stall-why stores and reads it: one shape for the flight recorder's records, for
 * what every importer of the classifier produces, and for the Chrome export's round trip. It
 * needs no OpenTelemetry SDK: times are epoch milliseconds (fractional, so microseconds survive).
 */

/** An attribute value, as OpenTelemetry allows it. */
export type AttributeValue = string | number | boolean | Array<string | number | boolean | null>;
export type Attributes = Record<string, AttributeValue>;

export interface RecordedEvent {
  readonly name: string;
  readonly timeMs: number;
  readonly attributes?: Attributes;
}

/** OpenTelemetry status codes: 0 unset, 1 ok, 2 error. */
export interface RecordedStatus {
  readonly code: 0 | 1 | 2;
  readonly message?: string;
}

export interface RecordedSpan {
  /** 32 lowercase hex digits. */
  readonly traceId: string;
  /** 16 lowercase hex digits. */
  readonly spanId: string;
  readonly parentSpanId?: string;
  readonly name: string;
  /** OpenTelemetry SpanKind: 0 internal, 1 server, 2 client, 3 producer, 4 consumer. */
  readonly kind?: number;
  /** Epoch milliseconds, fractional. */
  readonly startTimeMs: number;
  /** Epoch milliseconds, fractional; absent while the span is still open. */
  readonly endTimeMs?: number;
  readonly attributes: Attributes;
  readonly events?: readonly RecordedEvent[];
  readonly status?: RecordedStatus;
  /** Resource attributes of the emitting process (`service.name`, ...). */
  readonly resource?: Attributes;
  /** Name of the instrumentation scope. */
  readonly scope?: string;
  /** Version of the instrumentation scope. */
  readonly scopeVersion?: string;
  /** Links to other spans. */
  readonly links?: readonly RecordedLink[];
}

export interface RecordedLink {
  readonly traceId: string;
  readonly spanId: string;
  readonly attributes?: Attributes;
}

/** Whether the span is still open (started and not ended) in what was read. */
export function isOpen(span: RecordedSpan): boolean {
  return span.endTimeMs === undefined;
}
