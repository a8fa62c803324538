import type { HrTime } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import type { Attributes, RecordedLink } from '@stall-why/flight-record';
import { attributesJson } from './attributes-json.js';

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

/** The usual statuses (no message), by code: most records carry one. */
const STATUS_JSON: Record<number, string> = { 0: ',"status":{"code":0}', 1: ',"status":{"code":1}', 2: ',"status":{"code":2}' };

/** `"scope":…,"scopeVersion":…}` per instrumentation scope object: computed once, not per record. */
const scopeTails = new WeakMap<object, string>();

/**
 * A span as the JSON of a flight record (RecordedSpan keys). Runs for every record, on the flush
 * timer: the fixed keys are concatenated, attribute maps go through {@link attributesJson}, and only
 * the open-ended parts (name, status, links) through JSON.stringify; this measured about 1.5x faster
 * than stringifying one object literal (bench/flight-recorder.mjs). Ids are hex and times are finite
 * numbers, so they need no escaping. `ended`: write the end time and status (an end record).
 * `resource`: only when it differs from the segment header's.
 */
export function encodeSpanRecord(span: ReadableSpan, ended: boolean, resource: Attributes | undefined): string {
  const ctx = span.spanContext();
  let s = '{"traceId":"' + ctx.traceId + '","spanId":"' + ctx.spanId + '"';
  const parent = span.parentSpanContext;
  if (parent) s += ',"parentSpanId":"' + parent.spanId + '"';
  s += ',"name":' + JSON.stringify(span.name) + ',"kind":' + span.kind + ',"startTimeMs":' + hrTimeToMs(span.startTime);
  if (ended) s += ',"endTimeMs":' + hrTimeToMs(span.endTime);
  s += ',"attributes":' + attributesJson(span.attributes);
  const events = span.events;
  if (events.length > 0) {
    s += ',"events":[';
    for (let i = 0; i < events.length; i++) {
      const e = events[i];
      s += (i > 0 ? ',{"name":' : '{"name":') + JSON.stringify(e.name) + ',"timeMs":' + hrTimeToMs(e.time);
      s += e.attributes ? ',"attributes":' + attributesJson(e.attributes) + '}' : '}';
    }
    s += ']';
  }
  const status = span.status;
  if (ended || status.code !== 0) s += status.message === undefined ? STATUS_JSON[status.code] ?? ',"status":' + JSON.stringify(status) : ',"status":' + JSON.stringify(status);
  if (span.links.length > 0) s += ',"links":' + JSON.stringify(span.links.map(toRecordedLink));
  if (resource) s += ',"resource":' + JSON.stringify(resource);
  const scope = span.instrumentationScope;
  let tail = scopeTails.get(scope);
  if (tail === undefined) {
    tail = ',' + JSON.stringify({ scope: scope.name, scopeVersion: scope.version }).slice(1);
    scopeTails.set(scope, tail);
  }
  return s + tail;
}

function toRecordedLink(link: ReadableSpan['links'][number]): RecordedLink {
  return { traceId: link.context.traceId, spanId: link.context.spanId, attributes: link.attributes as Attributes | undefined };
}
