import { describe, expect, it } from 'vitest';
import { anyValue, nanosToMs, otlpAttributes, otlpId, otlpSpanKind, otlpStatusCode } from '@stall-why/flight-record';

describe('OTLP value decoders (shared by collect and the classifier)', () => {
  it('reads ids as protobuf bytes, hex or base64, and refuses the wrong length', () => {
    const hex = '0102030405060708';
    expect(otlpId(Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]), 16)).toBe(hex);
    expect(otlpId(hex.toUpperCase(), 16)).toBe(hex);
    expect(otlpId(Buffer.from(hex, 'hex').toString('base64'), 16)).toBe(hex);
    expect(otlpId('abcd', 16)).toBeUndefined();
    expect(otlpId('', 16)).toBeUndefined();
  });

  it('reads nanoseconds from strings, numbers and protobuf Longs, and rejects 0 and malformed text', () => {
    expect(nanosToMs('1795532828133123456')).toBeCloseTo(1795532828133.1235, 3);
    expect(nanosToMs(1_000_000)).toBe(1);
    expect(nanosToMs({ low: 1_000_000, high: 0 })).toBe(1);
    expect(nanosToMs('0')).toBeUndefined();
    expect(nanosToMs(0)).toBeUndefined();
    expect(nanosToMs('12abc')).toBeUndefined();
    expect(nanosToMs(undefined)).toBeUndefined();
  });

  it('flattens attribute values the way OpenTelemetry attributes must be', () => {
    expect(anyValue({ intValue: '42' })).toBe(42);
    expect(anyValue({ arrayValue: { values: [{ stringValue: 'a' }, { arrayValue: { values: [{ boolValue: true }] } }, {}] } })).toEqual(['a', '[true]', null]);
    expect(anyValue({ kvlistValue: { values: [{ key: 'k', value: { doubleValue: 1.5 } }] } })).toBe('{"k":1.5}');
    expect(anyValue({ bytesValue: Uint8Array.from([255]) })).toBe('/w==');
    expect(otlpAttributes([{ key: 'a', value: { stringValue: 'x' } }, { key: 'b', value: { stringValue: 'y' } }], new Set(['b']))).toEqual({ b: 'y' });
  });

  it('maps span kinds (1-based in OTLP) and status codes, numbers or enum names', () => {
    expect(otlpSpanKind(2)).toBe(1); // OTLP 2 = SERVER, API SpanKind.SERVER = 1
    expect(otlpSpanKind('SPAN_KIND_CLIENT')).toBe(2);
    expect(otlpSpanKind(undefined)).toBeUndefined();
    expect(otlpStatusCode('STATUS_CODE_ERROR')).toBe(2);
    expect(otlpStatusCode(1)).toBe(1);
    expect(otlpStatusCode(7)).toBeUndefined();
  });
});
