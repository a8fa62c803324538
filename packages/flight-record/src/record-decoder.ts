/**
 * Record bodies back to spans (both format versions) and log records (version 2; layout in
 * segment-format.ts). A body whose
 * checksum matched can still be unusable (a writer bug, a future field): every length is checked
 * against the record's end, and such a body gives undefined, never an exception or a partial span.
 */
import type { RecordedLog } from './recorded-log.js';
import type { AttributeValue, Attributes, RecordedEvent, RecordedLink, RecordedSpan } from './recorded-span.js';
import {
  FLAG2_LINKS, FLAG2_RESERVED, FLAG2_RESOURCE, FLAG_END, FLAG_EVENTS, FLAG_KIND, FLAG_PARENT, FLAG_SCOPE, FLAG_SCOPE_VERSION,
  FLAG_STATUS, FLAG_STATUS_MESSAGE, LOG_FLAG2_SCOPE_VERSION, LOG_FLAG_BODY, LOG_FLAG_EVENT_NAME, LOG_FLAG_OBSERVED_TIME, LOG_FLAG_SCOPE,
  LOG_FLAG_SEVERITY_NUMBER, LOG_FLAG_SEVERITY_TEXT, LOG_FLAG_SPAN_ID, LOG_FLAG_TRACE_ID, SEGMENT_FORMAT_VERSION_JSON, VALUE_ARRAY, VALUE_FALSE, VALUE_FLOAT, VALUE_INT, VALUE_NULL,
  VALUE_STRING, VALUE_TRUE,
} from './segment-format.js';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * The span in `buf[start, end)` (a record body: after the type byte) of a segment of format
 * `version`; undefined when it is not a valid span. `defaultResource`: the segment header's,
 * for records that carry none of their own.
 */
export function decodeRecordBody(buf: Buffer, start: number, end: number, version: number, defaultResource: Attributes | undefined): RecordedSpan | undefined {
  const span = version === SEGMENT_FORMAT_VERSION_JSON ? decodeJsonBody(buf.toString('utf8', start, end)) : decodeBinaryBody(buf, start, end);
  if (span !== undefined && span.resource === undefined && defaultResource !== undefined) span.resource = defaultResource;
  return span;
}

const HEX32 = /^[0-9a-f]{32}$/;
const HEX16 = /^[0-9a-f]{16}$/;

/** Version 1: parses and checks a record's JSON. */
function decodeJsonBody(json: string): Mutable<RecordedSpan> | undefined {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const span = value as Mutable<RecordedSpan>;
  if (typeof span.traceId !== 'string' || !HEX32.test(span.traceId)) return undefined;
  if (typeof span.spanId !== 'string' || !HEX16.test(span.spanId)) return undefined;
  if (typeof span.name !== 'string' || typeof span.startTimeMs !== 'number') return undefined;
  if (typeof span.attributes !== 'object' || span.attributes === null) span.attributes = {};
  return span;
}

/** Thrown inside the binary decoder when a length or tag does not fit, caught at its top; preallocated, so a bad record costs no stack trace. */
const MALFORMED = new Error('malformed flight record');

/** Version 2: a cursor over one body. */
class BodyReader {
  constructor(
    private readonly buf: Buffer,
    public pos: number,
    private readonly end: number,
  ) {}

  private need(bytes: number): number {
    const at = this.pos;
    if (at + bytes > this.end) throw MALFORMED;
    this.pos = at + bytes;
    return at;
  }

  u8(): number {
    return this.buf[this.need(1)];
  }

  varint(): number {
    let value = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      const b = this.u8();
      value += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return value;
    }
    throw MALFORMED;
  }

  f64(): number {
    return this.buf.readDoubleLE(this.need(8));
  }

  id(bytes: number): string {
    const at = this.need(bytes);
    return this.buf.toString('hex', at, at + bytes);
  }

  string(): string {
    const header = this.varint();
    const bytes = Math.floor(header / 2);
    const at = this.need(bytes);
    if (header % 2 === 0) return this.buf.toString('utf8', at, at + bytes);
    if (bytes % 2 !== 0) throw MALFORMED;
    return this.buf.toString('utf16le', at, at + bytes);
  }

  attributes(count: number): Attributes {
    const out: Attributes = {};
    for (let i = 0; i < count; i++) {
      const key = this.string();
      const value = this.value(false) as AttributeValue;
      // An own property, as JSON.parse makes it; assigning would set the prototype.
      if (key === '__proto__') Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
      else out[key] = value;
    }
    return out;
  }

  optionalAttributes(): Attributes | undefined {
    const count = this.varint();
    return count === 0 ? undefined : this.attributes(count - 1);
  }

  value(inArray: boolean): AttributeValue | null {
    const tag = this.u8();
    switch (tag) {
      case VALUE_STRING:
        return this.string();
      case VALUE_INT: {
        const z = this.varint();
        if (z > 0xffffffff) throw MALFORMED;
        return (z >>> 1) ^ -(z & 1);
      }
      case VALUE_FLOAT:
        return this.f64();
      case VALUE_FALSE:
        return false;
      case VALUE_TRUE:
        return true;
      case VALUE_NULL:
        return null;
      case VALUE_ARRAY: {
        if (inArray) throw MALFORMED;
        const n = this.varint();
        const items: Array<string | number | boolean | null> = [];
        for (let i = 0; i < n; i++) items.push(this.value(true) as string | number | boolean | null);
        return items;
      }
      default:
        throw MALFORMED;
    }
  }
}

function decodeBinaryBody(buf: Buffer, start: number, end: number): Mutable<RecordedSpan> | undefined {
  try {
    const r = new BodyReader(buf, start, end);
    const flags = r.u8();
    const flags2 = r.u8();
    if ((flags2 & FLAG2_RESERVED) !== 0) return undefined;
    const traceId = r.id(16);
    const spanId = r.id(8);
    const parentSpanId = flags & FLAG_PARENT ? r.id(8) : undefined;
    const startTimeMs = r.f64();
    const endTimeMs = flags & FLAG_END ? r.f64() : undefined;
    const kind = flags & FLAG_KIND ? r.u8() : undefined;
    const statusCode = flags & FLAG_STATUS ? r.u8() : undefined;
    const name = r.string();
    const attributes = r.attributes(r.varint());
    const statusMessage = flags & FLAG_STATUS_MESSAGE ? r.string() : undefined;
    // Built key by key in version 1's key order, with only the keys the record holds, as JSON.parse gave them.
    const span = { traceId, spanId } as Mutable<RecordedSpan>;
    if (parentSpanId !== undefined) span.parentSpanId = parentSpanId;
    span.name = name;
    if (kind !== undefined) span.kind = kind;
    span.startTimeMs = startTimeMs;
    if (endTimeMs !== undefined) span.endTimeMs = endTimeMs;
    span.attributes = attributes;
    if (flags & FLAG_EVENTS) {
      const n = r.varint();
      const events: RecordedEvent[] = [];
      for (let i = 0; i < n; i++) {
        const eventName = r.string();
        const timeMs = r.f64();
        const eventAttributes = r.optionalAttributes();
        events.push(eventAttributes === undefined ? { name: eventName, timeMs } : { name: eventName, timeMs, attributes: eventAttributes });
      }
      span.events = events;
    }
    if (statusCode !== undefined) {
      if (statusCode > 2) return undefined;
      span.status = statusMessage === undefined ? { code: statusCode as 0 | 1 | 2 } : { code: statusCode as 0 | 1 | 2, message: statusMessage };
    } else if (statusMessage !== undefined) {
      return undefined;
    }
    if (flags2 & FLAG2_LINKS) {
      const n = r.varint();
      const links: RecordedLink[] = [];
      for (let i = 0; i < n; i++) {
        const linkTraceId = r.id(16);
        const linkSpanId = r.id(8);
        const linkAttributes = r.optionalAttributes();
        links.push(linkAttributes === undefined ? { traceId: linkTraceId, spanId: linkSpanId } : { traceId: linkTraceId, spanId: linkSpanId, attributes: linkAttributes });
      }
      span.links = links;
    }
    if (flags2 & FLAG2_RESOURCE) span.resource = r.attributes(r.varint());
    if (flags & FLAG_SCOPE) span.scope = r.string();
    if (flags & FLAG_SCOPE_VERSION) span.scopeVersion = r.string();
    return r.pos === end ? span : undefined;
  } catch {
    return undefined; // MALFORMED: a length or tag that does not fit
  }
}

/**
 * The log record in `buf[start, end)` (an `L` record body: after the type byte); undefined when it
 * is not a valid one. `defaultResource`: the segment header's, for records that carry none of their own.
 */
export function decodeLogRecordBody(buf: Buffer, start: number, end: number, defaultResource: Attributes | undefined): RecordedLog | undefined {
  try {
    const r = new BodyReader(buf, start, end);
    const flags = r.u8();
    const flags2 = r.u8();
    if ((flags2 & FLAG2_RESERVED) !== 0) return undefined;
    const log = { timeMs: r.f64() } as Mutable<RecordedLog>;
    if (flags & LOG_FLAG_TRACE_ID) log.traceId = r.id(16);
    if (flags & LOG_FLAG_SPAN_ID) log.spanId = r.id(8);
    if (flags & LOG_FLAG_OBSERVED_TIME) log.observedTimeMs = r.f64();
    if (flags & LOG_FLAG_SEVERITY_NUMBER) log.severityNumber = r.varint();
    log.attributes = r.attributes(r.varint());
    if (flags & LOG_FLAG_SEVERITY_TEXT) log.severityText = r.string();
    if (flags & LOG_FLAG_BODY) log.body = r.string();
    if (flags & LOG_FLAG_EVENT_NAME) log.eventName = r.string();
    if (flags2 & FLAG2_RESOURCE) log.resource = r.attributes(r.varint());
    else if (defaultResource !== undefined) log.resource = defaultResource;
    if (flags & LOG_FLAG_SCOPE) log.scope = r.string();
    if (flags2 & LOG_FLAG2_SCOPE_VERSION) log.scopeVersion = r.string();
    return r.pos === end ? log : undefined;
  } catch {
    return undefined; // MALFORMED: a length or tag that does not fit
  }
}
