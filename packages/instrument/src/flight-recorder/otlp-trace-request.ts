import type { AttributeValue, Attributes, RecordedEvent, RecordedLink, RecordedSpan } from '@stall-why/flight-record';
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
    const resource = toAttributes(asObj(asObj(rs).resource).attributes);
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
    attributes: toAttributes(asObj(e).attributes),
  }));
  const links = asArray(s.links).flatMap((l): RecordedLink[] => {
    const t = toHexId(asObj(l).traceId, 16);
    const i = toHexId(asObj(l).spanId, 8);
    return t && i ? [{ traceId: t, spanId: i, attributes: toAttributes(asObj(l).attributes) }] : [];
  });
  const kind = Number(s.kind ?? 0);
  const statusCode = Number(status.code ?? 0);
  return {
    traceId,
    spanId,
    parentSpanId,
    name: String(s.name ?? ''),
    // OTLP counts kinds from 1 (0 is unspecified); RecordedSpan uses the API's SpanKind.
    kind: kind > 0 ? kind - 1 : 0,
    startTimeMs,
    endTimeMs: endTimeMs && endTimeMs > 0 ? endTimeMs : undefined,
    attributes: toAttributes(s.attributes),
    events: events.length ? events : undefined,
    status: statusCode === 1 || statusCode === 2 ? { code: statusCode, message: status.message ? String(status.message) : undefined } : undefined,
    links: links.length ? links : undefined,
    resource,
    scope: scope.name ? String(scope.name) : undefined,
    scopeVersion: scope.version ? String(scope.version) : undefined,
  };
}

/** Ids: bytes (protobuf), hex (OTLP/JSON) or base64 (some older JSON exporters). */
function toHexId(value: unknown, bytes: number): string | undefined {
  let hex: string | undefined;
  if (value instanceof Uint8Array) hex = Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('hex');
  else if (typeof value === 'string' && value.length === bytes * 2 && /^[0-9a-fA-F]+$/.test(value)) hex = value.toLowerCase();
  else if (typeof value === 'string' && value.length > 0) hex = Buffer.from(value, 'base64').toString('hex');
  if (!hex || hex.length !== bytes * 2 || /^0+$/.test(hex)) return undefined;
  return hex;
}

/** Unix nanoseconds (decimal string or number) as fractional epoch ms, exact to the microsecond. */
function nanosToMs(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value / 1e6 : undefined;
  if (typeof value === 'string' && /^\d+$/.test(value)) return Number(BigInt(value) / 1000n) / 1000;
  if (typeof value === 'object' && value !== null && 'low' in value && 'high' in value) {
    const { low, high } = value as { low: number; high: number };
    return Number((BigInt(high >>> 0) << 32n) | BigInt(low >>> 0)) / 1e6;
  }
  return undefined;
}

function toAttributes(list: unknown): Attributes {
  const out: Record<string, AttributeValue> = {};
  for (const kv of asArray(list)) {
    const key = asObj(kv).key;
    if (typeof key !== 'string') continue;
    const value = toAttributeValue(asObj(kv).value);
    if (value !== undefined) out[key] = value;
  }
  return out;
}

function toAttributeValue(any: unknown): AttributeValue | undefined {
  const v = asObj(any);
  if (v.stringValue !== undefined) return String(v.stringValue);
  if (v.boolValue !== undefined) return Boolean(v.boolValue);
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return Number(v.doubleValue);
  if (v.arrayValue !== undefined) {
    return asArray(asObj(v.arrayValue).values).map((item) => {
      const x = toAttributeValue(item);
      return x === undefined || Array.isArray(x) ? (x === undefined ? null : JSON.stringify(x)) : x;
    });
  }
  if (v.kvlistValue !== undefined) return JSON.stringify(toAttributes(asObj(v.kvlistValue).values));
  if (v.bytesValue !== undefined) {
    const b = v.bytesValue;
    return b instanceof Uint8Array ? Buffer.from(b).toString('base64') : String(b);
  }
  return undefined;
}
