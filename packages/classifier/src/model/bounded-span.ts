/**
 * Caps the strings a span brings into the timeline. Inputs are not ours: an id or attribute of
 * megabytes (a bug in a writer, or a file made to hurt) would be held for every span of its turn,
 * copied into each report line, JSON key and Chrome slice, and printed; a 629 MB OTLP file with 10 MB
 * ids took 2.85 GB. A longer string keeps its start and is marked with its length and a fingerprint
 * of the whole, so two long ids that share a start stay two ids, and the same id stays the same.
 */
import type { Attributes, AttributeValue, RecordedSpan } from '@stall-why/flight-record';
import { stableId } from '../importers/stable-id.js';

/** The longest string kept of an id, attribute value or status message; the instrument's default too. */
export const DEFAULT_MAX_VALUE_LENGTH = 1024;

/** `span` itself when every string of it fits (almost always: one length check each), else a copy with long ones cut. */
export function boundedSpan(span: RecordedSpan, maxLength: number): RecordedSpan {
  if (fits(span, maxLength)) return span;
  const cut = (value: string): string => cutString(value, maxLength);
  const copy: { -readonly [K in keyof RecordedSpan]: RecordedSpan[K] } = {
    ...span,
    traceId: cut(span.traceId),
    spanId: cut(span.spanId),
    attributes: boundedAttributes(span.attributes, maxLength),
  };
  if (span.parentSpanId !== undefined) copy.parentSpanId = cut(span.parentSpanId);
  if (span.status?.message !== undefined) copy.status = { ...span.status, message: cut(span.status.message) };
  if (span.resource) copy.resource = boundedAttributes(span.resource, maxLength);
  if (span.events) copy.events = span.events.map((e) => (e.attributes ? { ...e, name: cut(e.name), attributes: boundedAttributes(e.attributes, maxLength) } : { ...e, name: cut(e.name) }));
  if (span.links) copy.links = span.links.map((l) => ({ ...l, traceId: cut(l.traceId), spanId: cut(l.spanId), ...(l.attributes ? { attributes: boundedAttributes(l.attributes, maxLength) } : {}) }));
  return copy;
}

/** `value` itself when it fits, else its first `maxLength` code units, its length and a fingerprint of the whole. */
export function cutString(value: string, maxLength: number): string {
  if (value.length <= maxLength) return value;
  return `${value.slice(0, maxLength)}…[${value.length} chars, ${stableId(value, 16)}]`;
}

function fits(span: RecordedSpan, max: number): boolean {
  if (span.traceId.length > max || span.spanId.length > max || (span.parentSpanId?.length ?? 0) > max) return false;
  if ((span.status?.message?.length ?? 0) > max) return false;
  if (!attributesFit(span.attributes, max) || (span.resource !== undefined && !attributesFit(span.resource, max))) return false;
  if (span.events?.some((e) => e.name.length > max || (e.attributes !== undefined && !attributesFit(e.attributes, max)))) return false;
  return !span.links?.some((l) => l.traceId.length > max || l.spanId.length > max || (l.attributes !== undefined && !attributesFit(l.attributes, max)));
}

function attributesFit(attributes: Attributes, max: number): boolean {
  for (const key in attributes) {
    if (key.length > max || !valueFits(attributes[key], max)) return false;
  }
  return true;
}

function valueFits(value: AttributeValue | undefined, max: number): boolean {
  if (typeof value === 'string') return value.length <= max;
  if (Array.isArray(value)) return value.every((v) => typeof v !== 'string' || v.length <= max);
  return true;
}

function boundedAttributes(attributes: Attributes, max: number): Attributes {
  if (attributesFit(attributes, max)) return attributes;
  const bounded: Record<string, AttributeValue> = {};
  for (const key in attributes) {
    const value = attributes[key];
    if (value === undefined) continue;
    bounded[cutString(key, max)] = typeof value === 'string' ? cutString(value, max) : Array.isArray(value) ? value.map((v) => (typeof v === 'string' ? cutString(v, max) : v)) as AttributeValue : value;
  }
  return bounded;
}
