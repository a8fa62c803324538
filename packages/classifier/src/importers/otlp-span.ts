/**
 * One OTLP/JSON span (as the OTLP JSON encoding or a protobuf-JSON mapping writes it) to a
 * RecordedSpan: hex or base64 ids, string or number nanoseconds, `intValue` as a string, enum
 * names or numbers. Only what the classifier reads is kept: span attributes of the vocabulary
 * (`ATTR_*` of @stall-why/conventions), the status, the resource; events and links are not read.
 */
import * as conventions from '@stall-why/conventions';
import type { AttributeValue, Attributes, RecordedSpan } from '@stall-why/flight-record';

type Json = Record<string, unknown>;

const HEX = /^[0-9a-fA-F]*$/;

/** A trace or span id: hex as is (lowercased), anything else read as base64. */
export function otlpId(value: unknown, hexDigits: number): string | undefined {
  if (typeof value !== 'string' || value.length === 0) return undefined;
  if (value.length === hexDigits && HEX.test(value)) return value.toLowerCase();
  const hex = Buffer.from(value, 'base64').toString('hex');
  return hex.length === hexDigits ? hex : undefined;
}

/** Nanoseconds since the epoch (string or number) to fractional milliseconds; undefined for 0 or absent. */
export function nanosToMs(value: unknown): number | undefined {
  if (typeof value === 'number') return value > 0 ? value / 1e6 : undefined;
  if (typeof value !== 'string' || value.length === 0 || value === '0') return undefined;
  if (value.length <= 15) return Number(value) / 1e6;
  // Split so no precision is lost past 2^53.
  return Number(value.slice(0, -6)) + Number(value.slice(-6)) / 1e6;
}

/** The attribute keys of the vocabulary: the only span attributes an importer keeps. */
export const VOCABULARY_ATTRIBUTES: ReadonlySet<string> = new Set(
  Object.entries(conventions).flatMap(([name, value]) => (name.startsWith('ATTR_') && typeof value === 'string' ? [value] : [])),
);

/** An OTLP AnyValue to an attribute value (nested lists become null, key/value lists JSON text). */
export function anyValue(v: unknown): AttributeValue | undefined {
  if (!v || typeof v !== 'object') return undefined;
  const o = v as Json;
  if ('stringValue' in o) return String(o.stringValue);
  if ('intValue' in o) return Number(o.intValue);
  if ('doubleValue' in o) return Number(o.doubleValue);
  if ('boolValue' in o) return Boolean(o.boolValue);
  if ('arrayValue' in o) {
    const values = ((o.arrayValue as Json | undefined)?.values as unknown[] | undefined) ?? [];
    return values.map((x) => {
      const a = anyValue(x);
      return a === undefined || Array.isArray(a) ? null : a;
    });
  }
  if ('bytesValue' in o) return String(o.bytesValue);
  if ('kvlistValue' in o) return JSON.stringify(o.kvlistValue);
  return undefined;
}

/** OTLP key/value list to attributes; with `keys`, only those. */
export function otlpAttributes(list: unknown, keys?: ReadonlySet<string>): Attributes {
  const out: Attributes = {};
  if (!Array.isArray(list)) return out;
  for (const kv of list as Json[]) {
    if (!kv || typeof kv.key !== 'string' || (keys && !keys.has(kv.key))) continue;
    const value = anyValue(kv.value);
    if (value !== undefined) out[kv.key] = value;
  }
  return out;
}

export const KINDS: Record<string, number> = {
  SPAN_KIND_UNSPECIFIED: 0, SPAN_KIND_INTERNAL: 0, SPAN_KIND_SERVER: 1, SPAN_KIND_CLIENT: 2, SPAN_KIND_PRODUCER: 3, SPAN_KIND_CONSUMER: 4,
};
export const STATUS: Record<string, 0 | 1 | 2> = { STATUS_CODE_UNSET: 0, STATUS_CODE_OK: 1, STATUS_CODE_ERROR: 2 };

/** The parts of a RecordedSpan an OTLP span gives, already decoded. */
export interface OtlpSpanParts {
  traceId: string;
  spanId: string;
  parentSpanId: string | undefined;
  name: string;
  kind: number | undefined;
  startTimeMs: number;
  endTimeMs: number | undefined;
  attributes: Attributes;
  statusCode: 0 | 1 | 2 | undefined;
  statusMessage: string | undefined;
}

type MutableSpan = { -readonly [K in keyof RecordedSpan]: RecordedSpan[K] };

/** The RecordedSpan of decoded parts: built field by field in one order, so every OTLP path makes the same shapes. */
export function recordedOtlpSpan(p: OtlpSpanParts, resource: Attributes | undefined, scope: string | undefined): RecordedSpan {
  const span: MutableSpan = { traceId: p.traceId, spanId: p.spanId, name: p.name, startTimeMs: p.startTimeMs, attributes: p.attributes };
  if (p.parentSpanId) span.parentSpanId = p.parentSpanId;
  if (p.kind !== undefined) span.kind = p.kind;
  if (p.endTimeMs !== undefined && p.endTimeMs >= p.startTimeMs) span.endTimeMs = p.endTimeMs;
  if (p.statusCode !== undefined) span.status = p.statusMessage ? { code: p.statusCode, message: p.statusMessage } : { code: p.statusCode };
  if (resource) span.resource = resource;
  if (scope) span.scope = scope;
  return span;
}

/**
 * The RecordedSpan of an OTLP span, or a string saying what is missing. OTLP's span kind is 1-based
 * (1 internal … 5 consumer); RecordedSpan uses the OpenTelemetry API's 0-based kind.
 */
export function otlpSpan(s: Json, resource: Attributes | undefined, scope: string | undefined): RecordedSpan | string {
  const traceId = otlpId(s.traceId, 32);
  const spanId = otlpId(s.spanId, 16);
  if (!traceId || !spanId) return 'a span without a valid traceId/spanId';
  if (typeof s.name !== 'string') return 'a span without a name';
  const start = nanosToMs(s.startTimeUnixNano);
  if (start === undefined) return `span ${s.name} has no startTimeUnixNano`;
  const st = s.status as Json | undefined;
  return recordedOtlpSpan(
    {
      traceId,
      spanId,
      parentSpanId: otlpId(s.parentSpanId, 16),
      name: s.name,
      kind: typeof s.kind === 'number' ? Math.max(0, s.kind - 1) : typeof s.kind === 'string' ? KINDS[s.kind] : undefined,
      startTimeMs: start,
      endTimeMs: nanosToMs(s.endTimeUnixNano),
      attributes: otlpAttributes(s.attributes, VOCABULARY_ATTRIBUTES),
      statusCode: st ? (typeof st.code === 'number' ? (st.code as 0 | 1 | 2) : typeof st.code === 'string' ? STATUS[st.code] : undefined) : undefined,
      statusMessage: typeof st?.message === 'string' ? st.message : undefined,
    },
    resource,
    scope,
  );
}
