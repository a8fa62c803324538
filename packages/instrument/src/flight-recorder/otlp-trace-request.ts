import {
  nanosToMs, otlpAttributes, otlpId, otlpSpanKind, otlpStatusCode,
  type Attributes, type RecordedEvent, type RecordedLink, type RecordedSpan,
} from '@stall-why/flight-record';
import { decodeOtlpProtobufRequest } from './otlp-trace-proto.js';

/** A request body that is not an OTLP traces request; its message names what is wrong. */
export class OtlpRequestError extends Error {
  override readonly name = 'OtlpRequestError';
}

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
  const type = contentType.split(';')[0].trim().toLowerCase();
  let request: unknown;
  if (type === 'application/json') {
    try {
      request = JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8'));
    } catch (err) {
      throw new OtlpRequestError(`invalid JSON: ${(err as Error).message}`);
    }
  } else if (type === 'application/x-protobuf' || type === 'application/protobuf') {
    try {
      request = decodeOtlpProtobufRequest(body);
    } catch (err) {
      throw new OtlpRequestError(`invalid protobuf: ${(err as Error).message}`);
    }
  } else {
    throw new OtlpRequestError(`unsupported content type '${contentType || '(none)'}' (use application/json or application/x-protobuf)`);
  }
  return toRecordedSpans(request);
}

type Obj = Record<string, unknown>;
const asObj = (v: unknown): Obj => (typeof v === 'object' && v !== null ? (v as Obj) : {});
const asArray = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

function toRecordedSpans(request: unknown): DecodedTraceRequest {
  if (typeof request !== 'object' || request === null || Array.isArray(request)) throw new OtlpRequestError('not an ExportTraceServiceRequest object');
  const spans: RecordedSpan[] = [];
  let rejectedSpans = 0;
  for (const rs of asArray(asObj(request).resourceSpans)) {
    const resource = otlpAttributes(asObj(asObj(rs).resource).attributes);
    for (const ss of asArray(asObj(rs).scopeSpans)) {
      const scope = asObj(asObj(ss).scope);
      for (const s of asArray(asObj(ss).spans)) {
        const span = toRecordedSpan(asObj(s), resource, scope);
        if (span) spans.push(span);
        else rejectedSpans++;
      }
    }
  }
  return { spans, rejectedSpans };
}

function toRecordedSpan(s: Obj, resource: Attributes, scope: Obj): RecordedSpan | undefined {
  const traceId = toHexId(s.traceId, 16);
  const spanId = toHexId(s.spanId, 8);
  const startTimeMs = nanosToMs(s.startTimeUnixNano);
  if (!traceId || !spanId || startTimeMs === undefined) return undefined;
  const endTimeMs = nanosToMs(s.endTimeUnixNano);
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

/** An id of `bytes` bytes; all-zero ids (an exporter's "none") are no id. */
function toHexId(value: unknown, bytes: number): string | undefined {
  const hex = otlpId(value, bytes * 2);
  return hex === undefined || /^0+$/.test(hex) ? undefined : hex;
}
