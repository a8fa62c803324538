import {
  nanosToMs, otlpAttributes, otlpSpanKind, otlpStatusCode,
  type Attributes, type RecordedEvent, type RecordedLink, type RecordedSpan,
} from '@stall-why/flight-record';
import { asArray, asObj, forEachOtlpItem, parseOtlpRequestBody, toHexId, type Obj } from './otlp-request-body.js';
import { decodeOtlpProtobufRequest } from './otlp-trace-proto.js';

export interface DecodedTraceRequest {
  readonly spans: RecordedSpan[];
  /** Spans left out because their ids or times are unusable. */
  readonly rejectedSpans: number;
}

/**
 * Decodes the body of an OTLP/HTTP traces request (`application/json` or `application/x-protobuf`)
 * into recorded spans. Throws OtlpRequestError on a body that is not such a request.
 */
export function decodeOtlpTraceRequest(body: Uint8Array, contentType: string): DecodedTraceRequest {
  return toRecordedSpans(parseOtlpRequestBody(body, contentType, decodeOtlpProtobufRequest));
}

function toRecordedSpans(request: unknown): DecodedTraceRequest {
  const spans: RecordedSpan[] = [];
  let rejectedSpans = 0;
  forEachOtlpItem(request, 'ExportTraceServiceRequest', ['resourceSpans', 'scopeSpans', 'spans'], (s, resource, scope) => {
    const span = toRecordedSpan(asObj(s), resource, scope);
    if (span) spans.push(span);
    else rejectedSpans++;
  });
  return { spans, rejectedSpans };
}

function toRecordedSpan(s: Obj, resource: Attributes, scope: Obj): RecordedSpan | undefined {
  const traceId = toHexId(s.traceId, 16);
  const spanId = toHexId(s.spanId, 8);
  const startTimeMs = nanosToMs(s.startTimeUnixNano);
  if (!traceId || !spanId || startTimeMs === undefined) return undefined;
  const end = nanosToMs(s.endTimeUnixNano);
  // An end before the start is a clock or writer fault: the span ended, at its start.
  const endTimeMs = end === undefined ? undefined : Math.max(end, startTimeMs);
  const parentSpanId = toHexId(s.parentSpanId, 8);
  const status = asObj(s.status);
  const events = asArray(s.events).map((e): RecordedEvent => ({
    name: String(asObj(e).name ?? ''),
    timeMs: nanosToMs(asObj(e).timeUnixNano) ?? startTimeMs,
    attributes: otlpAttributes(asObj(e).attributes),
  }));
  const links = asArray(s.links).flatMap((l): RecordedLink[] => {
    const t = toHexId(asObj(l).traceId, 16);
    const i = toHexId(asObj(l).spanId, 8);
    return t && i ? [{ traceId: t, spanId: i, attributes: otlpAttributes(asObj(l).attributes) }] : [];
  });
  const statusCode = otlpStatusCode(status.code);
  return {
    traceId,
    spanId,
    parentSpanId,
    name: String(s.name ?? ''),
    kind: otlpSpanKind(s.kind) ?? 0,
    startTimeMs,
    endTimeMs,
    attributes: otlpAttributes(s.attributes),
    events: events.length ? events : undefined,
    status: statusCode === 1 || statusCode === 2 ? { code: statusCode, message: status.message ? String(status.message) : undefined } : undefined,
    links: links.length ? links : undefined,
    resource,
    scope: scope.name ? String(scope.name) : undefined,
    scopeVersion: scope.version ? String(scope.version) : undefined,
  };
}
