/**
 * One OTLP/JSON span (as the OTLP JSON encoding or a protobuf-JSON mapping writes it) to a
 * RecordedSpan; its values are decoded by @stall-why/flight-record's OTLP decoders, shared with
 * `stall-why collect`. Only what the classifier reads is kept: span attributes of the vocabulary
 * (`ATTR_*` of @stall-why/conventions), the status, the resource; events and links are not read.
 */
import * as conventions from '@stall-why/conventions';
import { nanosToMs, otlpAttributes, otlpId, otlpSpanKind, otlpStatusCode, type Attributes, type RecordedSpan } from '@stall-why/flight-record';

import { CODEX_ATTRIBUTES } from './codex-otel-spans.js';

type Json = Record<string, unknown>;

/**
 * The span attributes an importer keeps: the vocabulary's, and the few of the Codex app-server's own
 * spans that `codexOtelSpans` reads.
 */
export const VOCABULARY_ATTRIBUTES: ReadonlySet<string> = new Set([
  ...Object.entries(conventions).flatMap(([name, value]) => (name.startsWith('ATTR_') && typeof value === 'string' ? [value] : [])),
  ...CODEX_ATTRIBUTES,
]);

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

/**
 * A status without a message, one frozen object per code shared by every span that has it: most
 * spans carry `{"code":0}`, and a GB of OTLP lines holds millions of them alive in its turns.
 */
const STATUS_OF_CODE = [Object.freeze({ code: 0 as const }), Object.freeze({ code: 1 as const }), Object.freeze({ code: 2 as const })];

type MutableSpan = { -readonly [K in keyof RecordedSpan]: RecordedSpan[K] };

/** The RecordedSpan of decoded parts: built field by field in one order, so every OTLP path makes the same shapes. */
export function recordedOtlpSpan(p: OtlpSpanParts, resource: Attributes | undefined, scope: string | undefined): RecordedSpan {
  const span: MutableSpan = { traceId: p.traceId, spanId: p.spanId, name: p.name, startTimeMs: p.startTimeMs, attributes: p.attributes };
  if (p.parentSpanId) span.parentSpanId = p.parentSpanId;
  if (p.kind !== undefined) span.kind = p.kind;
  // An end before the start is a clock or writer fault, not an open span: it ended, at its start.
  if (p.endTimeMs !== undefined) span.endTimeMs = Math.max(p.endTimeMs, p.startTimeMs);
  if (p.statusCode !== undefined) span.status = p.statusMessage ? { code: p.statusCode, message: p.statusMessage } : STATUS_OF_CODE[p.statusCode];
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
      kind: otlpSpanKind(s.kind),
      startTimeMs: start,
      endTimeMs: nanosToMs(s.endTimeUnixNano),
      attributes: otlpAttributes(s.attributes, VOCABULARY_ATTRIBUTES),
      statusCode: st ? otlpStatusCode(st.code) : undefined,
      statusMessage: typeof st?.message === 'string' ? st.message : undefined,
    },
    resource,
    scope,
  );
}
