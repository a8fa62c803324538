import type { HrTime } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import {
  FLAG2_LINKS, FLAG2_RESOURCE, FLAG_EVENTS, FLAG_SCOPE, FLAG_SCOPE_VERSION, FLAG_STATUS_MESSAGE, type RecordEncoder,
} from '@stall-why/flight-record';

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
 * Writes a span's flight record body (format version 2, see @stall-why/flight-record's
 * segment-format.ts) straight into the writer's batch: the ReadableSpan front end of
 * RecordEncoder, the counterpart of `writeRecordedSpanBody`. Runs for every record, on the flush
 * timer. `ended`: write the end time and status (an end record; a start record carries a status
 * only when one was set). The span's resource attributes are written only when its resource is not
 * `headerResource`, the one whose attributes the segment header holds.
 */
export function writeSpanRecordBody(encoder: RecordEncoder, span: ReadableSpan, ended: boolean, headerResource: ReadableSpan['resource'] | undefined): void {
  const ctx = span.spanContext();
  const resource = span.resource === headerResource ? undefined : span.resource.attributes;
  const status = span.status;
  const code = status.code;
  const statusCode = (ended || code !== 0) && (code === 0 || code === 1 || code === 2) ? code : undefined;
  const message = statusCode !== undefined ? status.message : undefined;
  const events = span.events;
  const links = span.links;
  const scope = span.instrumentationScope;
  encoder.writeHead(
    (message !== undefined ? FLAG_STATUS_MESSAGE : 0) | FLAG_SCOPE | (scope.version !== undefined ? FLAG_SCOPE_VERSION : 0) | (events.length > 0 ? FLAG_EVENTS : 0),
    (links.length > 0 ? FLAG2_LINKS : 0) | (resource ? FLAG2_RESOURCE : 0),
    ctx.traceId, ctx.spanId, span.parentSpanContext?.spanId, hrTimeToMs(span.startTime), ended ? hrTimeToMs(span.endTime) : undefined, (span.kind & 0xff) === span.kind ? span.kind : undefined, statusCode,
  );
  encoder.writeString(span.name);
  encoder.writeAttributes(span.attributes);
  if (message !== undefined) encoder.writeString(message);
  if (events.length > 0) {
    encoder.writeVarint(events.length);
    for (let i = 0; i < events.length; i++) {
      const event = events[i];
      encoder.writeString(event.name);
      encoder.writeF64(hrTimeToMs(event.time));
      encoder.writeOptionalAttributes(event.attributes);
    }
  }
  if (links.length > 0) {
    encoder.writeVarint(links.length);
    for (let i = 0; i < links.length; i++) {
      const link = links[i];
      encoder.writeId(link.context.traceId, 16);
      encoder.writeId(link.context.spanId, 8);
      encoder.writeOptionalAttributes(link.attributes);
    }
  }
  if (resource) encoder.writeAttributes(resource);
  encoder.writeString(scope.name);
  if (scope.version !== undefined) encoder.writeString(scope.version);
}
