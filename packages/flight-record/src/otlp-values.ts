/**
 * Decoding the values of an OTLP span (JSON encoding, or the object form of a protobuf decode) into
 * what a RecordedSpan holds. Shared by every reader of OTLP, so ids, times and attribute values
 * mean the same whether they arrived at `stall-why collect` or were imported from a file.
 */
import type { AttributeValue, Attributes } from './recorded-span.js';

type Json = Record<string, unknown>;

const HEX = /^[0-9a-fA-F]*$/;
const DIGITS = /^\d+$/;

/** A trace or span id of `hexDigits` hex digits: bytes (protobuf), hex (OTLP/JSON) or base64 (older JSON exporters). */
export function otlpId(value: unknown, hexDigits: number): string | undefined {
  let hex: string;
  if (value instanceof Uint8Array) hex = Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('hex');
  else if (typeof value !== 'string' || value.length === 0) return undefined;
  else if (value.length === hexDigits && HEX.test(value)) return value.toLowerCase();
  else hex = Buffer.from(value, 'base64').toString('hex');
  return hex.length === hexDigits ? hex : undefined;
}

/**
 * Nanoseconds since the epoch (a decimal string, a number, or a protobuf Long `{low, high}`) to
 * fractional milliseconds; undefined for 0, absent or malformed values.
 */
export function nanosToMs(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value > 0 ? value / 1e6 : undefined;
  if (typeof value === 'string') {
    if (!DIGITS.test(value) || /^0+$/.test(value)) return undefined;
    if (value.length <= 15) return Number(value) / 1e6;
    // Split so no precision is lost past 2^53.
    return Number(value.slice(0, -6)) + Number(value.slice(-6)) / 1e6;
  }
  if (typeof value === 'object' && value !== null && 'low' in value && 'high' in value) {
    const { low, high } = value as { low: number; high: number };
    const nanos = (BigInt(high >>> 0) << 32n) | BigInt(low >>> 0);
    return nanos > 0n ? nanosToMs(nanos.toString()) : undefined;
  }
  return undefined;
}

/**
 * An OTLP AnyValue to an attribute value. OpenTelemetry attributes are flat, so a nested array
 * item becomes its JSON text, a key/value list the JSON of its attributes, bytes their base64.
 */
export function anyValue(value: unknown): AttributeValue | undefined {
  if (!value || typeof value !== 'object') return undefined;
  const v = value as Json;
  if (v.stringValue !== undefined) return String(v.stringValue);
  if (v.boolValue !== undefined) return Boolean(v.boolValue);
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return Number(v.doubleValue);
  if (v.arrayValue !== undefined) {
    const values = (v.arrayValue as Json | null)?.values;
    return (Array.isArray(values) ? values : []).map((item) => {
      const x = anyValue(item);
      return x === undefined ? null : Array.isArray(x) ? JSON.stringify(x) : x;
    });
  }
  if (v.kvlistValue !== undefined) return JSON.stringify(otlpAttributes((v.kvlistValue as Json | null)?.values));
  if (v.bytesValue !== undefined) {
    const b = v.bytesValue;
    return b instanceof Uint8Array ? Buffer.from(b).toString('base64') : String(b);
  }
  return undefined;
}

/** An OTLP key/value list to attributes; with `keys`, only those keys are decoded. */
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

/**
 * OTLP's span kind counts from 1 (1 internal … 5 consumer; 0 unspecified), RecordedSpan uses the
 * OpenTelemetry API's 0-based SpanKind. Accepts the number or the enum name of the JSON mapping.
 */
export function otlpSpanKind(kind: unknown): number | undefined {
  if (typeof kind === 'number') return Math.max(0, kind - 1);
  if (typeof kind === 'string') return SPAN_KINDS[kind];
  return undefined;
}

const SPAN_KINDS: Record<string, number> = {
  SPAN_KIND_UNSPECIFIED: 0, SPAN_KIND_INTERNAL: 0, SPAN_KIND_SERVER: 1, SPAN_KIND_CLIENT: 2, SPAN_KIND_PRODUCER: 3, SPAN_KIND_CONSUMER: 4,
};

/** An OTLP status code (number or enum name) as RecordedStatus's 0 unset, 1 ok, 2 error. */
export function otlpStatusCode(code: unknown): 0 | 1 | 2 | undefined {
  if (code === 0 || code === 1 || code === 2) return code;
  if (typeof code === 'string') return STATUS_CODES[code];
  return undefined;
}

const STATUS_CODES: Record<string, 0 | 1 | 2> = { STATUS_CODE_UNSET: 0, STATUS_CODE_OK: 1, STATUS_CODE_ERROR: 2 };
