import type { HrTime } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import type { Attributes, RecordedEvent, RecordedLink } from '@stall-why/flight-record';

/** HrTime ([seconds, nanoseconds]) as fractional epoch milliseconds. */
export function hrTimeToMs(time: HrTime): number {
  return time[0] * 1e3 + time[1] / 1e6;
}

/** Fractional epoch milliseconds as HrTime, rounded to the microsecond the double can hold. */
export function msToHrTime(ms: number): HrTime {
  let seconds = Math.floor(ms / 1e3);
  let nanos = Math.round((ms - seconds * 1e3) * 1e3) * 1e3;
  if (nanos >= 1e9) {
    seconds += 1;
    nanos -= 1e9;
  }
  return [seconds, nanos];
}

/**
 * A span as the JSON of a flight record (RecordedSpan keys). One object literal of a fixed shape
 * and one JSON.stringify: this runs for every record, on the flush timer.
 * `ended`: write the end time and status (an end record). `resource`: only when it differs from the
 * segment header's.
 */
export function encodeSpanRecord(span: ReadableSpan, ended: boolean, resource: Attributes | undefined): string {
  const ctx = span.spanContext();
  const scope = span.instrumentationScope;
  return JSON.stringify({
    traceId: ctx.traceId,
    spanId: ctx.spanId,
    parentSpanId: span.parentSpanContext?.spanId,
    name: span.name,
    kind: span.kind,
    startTimeMs: hrTimeToMs(span.startTime),
    endTimeMs: ended ? hrTimeToMs(span.endTime) : undefined,
    attributes: span.attributes,
    events: span.events.length > 0 ? span.events.map(toRecordedEvent) : undefined,
    status: ended || span.status.code !== 0 ? span.status : undefined,
    links: span.links.length > 0 ? span.links.map(toRecordedLink) : undefined,
    resource,
    scope: scope.name,
    scopeVersion: scope.version,
  });
}

function toRecordedEvent(event: ReadableSpan['events'][number]): RecordedEvent {
  return { name: event.name, timeMs: hrTimeToMs(event.time), attributes: event.attributes as Attributes | undefined };
}

function toRecordedLink(link: ReadableSpan['links'][number]): RecordedLink {
  return { traceId: link.context.traceId, spanId: link.context.spanId, attributes: link.attributes as Attributes | undefined };
}
