import { TraceFlags, type Attributes as OtelAttributes, type SpanKind, type SpanStatusCode } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import type { RecordedSpan } from '@stall-why/flight-record';
import { SharedResources } from './shared-resources.js';
import { msToHrTime } from './span-record-encoding.js';

const NO_TIME: [number, number] = [0, 0];

/**
 * Turns recorded spans back into ReadableSpans for an OTLP exporter. Spans with equal resource
 * attributes share one Resource object, because the OTLP serializer groups by object identity.
 */
export class RecordedSpanConverter {
  private readonly resources = new SharedResources();

  toReadableSpan(span: RecordedSpan): ReadableSpan {
    const startTime = msToHrTime(span.startTimeMs);
    const endTime = span.endTimeMs === undefined ? NO_TIME : msToHrTime(span.endTimeMs);
    const context = { traceId: span.traceId, spanId: span.spanId, traceFlags: TraceFlags.SAMPLED };
    return {
      name: span.name,
      kind: (span.kind ?? 0) as SpanKind,
      spanContext: () => context,
      parentSpanContext: span.parentSpanId ? { traceId: span.traceId, spanId: span.parentSpanId, traceFlags: TraceFlags.SAMPLED } : undefined,
      startTime,
      endTime,
      duration: span.endTimeMs === undefined ? NO_TIME : msToHrTime(span.endTimeMs - span.startTimeMs),
      status: { code: (span.status?.code ?? 0) as SpanStatusCode, message: span.status?.message },
      // Recorded attributes are OpenTelemetry attributes read back; mixed arrays only come from foreign OTLP.
      attributes: span.attributes as OtelAttributes,
      links: (span.links ?? []).map((l) => ({ context: { traceId: l.traceId, spanId: l.spanId, traceFlags: TraceFlags.SAMPLED }, attributes: l.attributes as OtelAttributes | undefined })),
      events: (span.events ?? []).map((e) => ({ name: e.name, time: msToHrTime(e.timeMs), attributes: e.attributes as OtelAttributes | undefined })),
      ended: span.endTimeMs !== undefined,
      resource: this.resources.resourceFor(span.resource),
      instrumentationScope: { name: span.scope ?? 'stall-why', version: span.scopeVersion },
      droppedAttributesCount: 0,
      droppedEventsCount: 0,
      droppedLinksCount: 0,
    };
  }
}
