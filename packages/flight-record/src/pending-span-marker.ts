/**
 * Pending-span markers (the approach of Pydantic Logfire): OTLP exporters send a span only once it has
 * ended, so the span a stuck turn waits in never reaches an OTLP backend. A recorder that knows a span
 * is open sends a marker instead: a zero-duration span in the same trace, child of the open span,
 * starting when it started, with its name and attributes and `stall_why.pending`. Every importer turns
 * a marker back into the open span; the real span, once it ends and is sent, supersedes it (an ended
 * record beats an open one). An OTel Collector passes markers through unchanged.
 */
import { ATTR_PENDING, ATTR_PENDING_PARENT_SPAN_ID, ATTR_PENDING_SEEN_AT } from '@stall-why/conventions';
import type { Attributes, RecordedSpan } from './recorded-span.js';

/**
 * `node:crypto`'s `createHash('sha256')`, loaded on first use: a reader of markers never makes one,
 * and loading the module costs about 2 ms of the CLI's start-up (issue 14).
 */
function sha256(): import('node:crypto').Hash {
  return process.getBuiltinModule('node:crypto').createHash('sha256');
}

/** The marker for `span`, open when `seenAtMs`: the same marker id each time, so re-sending it is idempotent. */
export function pendingSpanMarker(span: RecordedSpan, seenAtMs: number): RecordedSpan {
  const attributes: Attributes = { ...span.attributes, [ATTR_PENDING]: true, [ATTR_PENDING_SEEN_AT]: seenAtMs };
  if (span.parentSpanId) attributes[ATTR_PENDING_PARENT_SPAN_ID] = span.parentSpanId;
  const marker: { -readonly [K in keyof RecordedSpan]: RecordedSpan[K] } = {
    traceId: span.traceId,
    spanId: sha256().update(`${span.traceId}/${span.spanId}/pending`).digest('hex').slice(0, 16),
    parentSpanId: span.spanId,
    name: span.name,
    startTimeMs: span.startTimeMs,
    endTimeMs: span.startTimeMs,
    attributes,
  };
  if (span.kind !== undefined) marker.kind = span.kind;
  if (span.resource) marker.resource = span.resource;
  if (span.scope) marker.scope = span.scope;
  if (span.scopeVersion) marker.scopeVersion = span.scopeVersion;
  return marker;
}

/** Whether a span is a pending-span marker. */
export function isPendingSpanMarker(span: RecordedSpan): boolean {
  return span.attributes[ATTR_PENDING] === true && span.parentSpanId !== undefined;
}

/** The open span a marker stands for (its marker attributes taken off), or the span itself when it is no marker. */
export function openSpanOfMarker(span: RecordedSpan): RecordedSpan {
  if (!isPendingSpanMarker(span)) return span;
  const { [ATTR_PENDING]: _pending, [ATTR_PENDING_SEEN_AT]: _seen, [ATTR_PENDING_PARENT_SPAN_ID]: parent, ...attributes } = span.attributes;
  const open: { -readonly [K in keyof RecordedSpan]: RecordedSpan[K] } = { traceId: span.traceId, spanId: span.parentSpanId!, name: span.name, startTimeMs: span.startTimeMs, attributes };
  if (typeof parent === 'string' && parent.length > 0) open.parentSpanId = parent;
  if (span.kind !== undefined) open.kind = span.kind;
  if (span.resource) open.resource = span.resource;
  if (span.scope) open.scope = span.scope;
  if (span.scopeVersion) open.scopeVersion = span.scopeVersion;
  return open;
}
