/**
 * Attribute values in the exporter's schema: every value of `SpanAttributes`, `ResourceAttributes`,
 * `LogAttributes` and the event/link maps is a string (`Map(LowCardinality(String), String)`), made by
 * pdata's `Value.AsString()`: strings as they are, booleans `true`/`false`, numbers as ES6 prints them,
 * arrays as JSON. Reading back restores the types the classifier compares by (`=== true`, numbers),
 * while identifiers stay strings whatever they look like.
 */
import type { AttributeValue, Attributes } from '@stall-why/flight-record';

/** The exporter's text of one attribute value. */
export function exporterValueText(value: AttributeValue): string {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return JSON.stringify(value);
  return String(value);
}

/** An attribute map as the exporter writes it. */
export function exporterAttributeMap(attributes: Attributes | undefined): Record<string, string> {
  const map: Record<string, string> = {};
  if (attributes) for (const key of Object.keys(attributes)) map[key] = exporterValueText(attributes[key]!);
  return map;
}

/** The typed attributes behind an exporter map. */
export function restoredAttributes(map: Readonly<Record<string, string>> | undefined): Attributes {
  const attributes: Attributes = {};
  if (map) for (const key of Object.keys(map)) attributes[key] = restoredValue(key, map[key]!);
  return attributes;
}

/** Keys whose values are identifiers: `"42"` stays a string there. */
function isIdentifierKey(key: string): boolean {
  return key.endsWith('.id') || key.endsWith('_id') || key.endsWith('.ids');
}

function restoredValue(key: string, text: string): AttributeValue {
  if (text === 'true') return true;
  if (text === 'false') return false;
  if (isIdentifierKey(key) || text === '') return text;
  const first = text.charCodeAt(0);
  if (first === 0x5b /* [ */ && text.endsWith(']')) return restoredArray(text);
  // Only the exact text String(n) prints: "007" or "1e3" were strings when they were written.
  if ((first >= 0x30 && first <= 0x39) || first === 0x2d /* - */) {
    const n = Number(text);
    if (Number.isFinite(n) && String(n) === text) return n;
  }
  return text;
}

function restoredArray(text: string): AttributeValue {
  try {
    const parsed: unknown = JSON.parse(text);
    if (Array.isArray(parsed) && parsed.every((v) => v === null || ['string', 'number', 'boolean'].includes(typeof v))) return parsed as AttributeValue;
  } catch {
    // A string that looks like an array: kept as written.
  }
  return text;
}
