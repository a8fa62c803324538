/**
 * Spans and log records as rows of the OpenTelemetry Collector clickhouseexporter's tables
 * (`otel_traces`, `otel_logs`), laid out as its `exporter_traces.go` / `exporter_logs.go` write them:
 * `Timestamp` the span's start, `Duration` in nanoseconds, SpanKind and StatusCode as pdata's
 * `String()` ("Server", "Error"), ServiceName from the resource, every attribute value a string.
 * Pending-span markers are ordinary spans here: they travel through the schema unchanged.
 */
import { ATTR_SERVICE_NAME } from '@stall-why/conventions';
import type { RecordedEvent, RecordedLink, RecordedLog, RecordedSpan, RecordedStatus } from '@stall-why/flight-record';
import { exporterAttributeMap, restoredAttributes } from './exporter-attributes.js';

/** pdata `SpanKind.String()`, by OpenTelemetry kind number (0 internal … 4 consumer). */
const SPAN_KIND_TEXT = ['Internal', 'Server', 'Client', 'Producer', 'Consumer'] as const;
/** pdata `StatusCode.String()`, by code (0 unset, 1 ok, 2 error). */
const STATUS_CODE_TEXT = ['Unset', 'Ok', 'Error'] as const;
/** The exporter's 2023 `database/sql` generation wrote these; both are read. */
const LEGACY_SPAN_KINDS: Readonly<Record<string, number>> = {
  SPAN_KIND_INTERNAL: 0, SPAN_KIND_SERVER: 1, SPAN_KIND_CLIENT: 2, SPAN_KIND_PRODUCER: 3, SPAN_KIND_CONSUMER: 4,
};
const LEGACY_STATUS_CODES: Readonly<Record<string, 0 | 1 | 2>> = { STATUS_CODE_UNSET: 0, STATUS_CODE_OK: 1, STATUS_CODE_ERROR: 2 };

/** The `StatusCode` text of an error, as the current exporter writes it and as its 2023 generation did. */
export const ERROR_STATUS_TEXTS: readonly string[] = [STATUS_CODE_TEXT[2], 'STATUS_CODE_ERROR'];

/** One `otel_traces` row as JSONEachRow carries it (the Nested columns flattened, as ClickHouse names them). */
export interface TraceRow {
  /** Written as ISO-8601 with nanoseconds; read back as epoch nanoseconds (`toUnixTimestamp64Nano`). */
  Timestamp: string;
  TraceId: string;
  SpanId: string;
  ParentSpanId: string;
  TraceState: string;
  SpanName: string;
  SpanKind: string;
  ServiceName: string;
  ResourceAttributes: Record<string, string>;
  ScopeName: string;
  ScopeVersion: string;
  SpanAttributes: Record<string, string>;
  /** Nanoseconds; a string when read (ClickHouse quotes 64-bit integers in JSON). */
  Duration: number | string;
  StatusCode: string;
  StatusMessage: string;
  'Events.Timestamp': string[];
  'Events.Name': string[];
  'Events.Attributes': Record<string, string>[];
  'Links.TraceId': string[];
  'Links.SpanId': string[];
  'Links.TraceState': string[];
  'Links.Attributes': Record<string, string>[];
}

/** One `otel_logs` row as JSONEachRow carries it. */
export interface LogRow {
  Timestamp: string;
  TraceId: string;
  SpanId: string;
  TraceFlags: number;
  SeverityText: string;
  SeverityNumber: number;
  ServiceName: string;
  Body: string;
  ResourceSchemaUrl: string;
  ResourceAttributes: Record<string, string>;
  ScopeSchemaUrl: string;
  ScopeName: string;
  ScopeVersion: string;
  ScopeAttributes: Record<string, string>;
  LogAttributes: Record<string, string>;
  EventName: string;
}

/**
 * An `otel_traces` row as read back with `TRACE_ROW_COLUMNS`: times as epoch nanoseconds, under
 * their own names (an alias named `Timestamp` would shadow the column in the query's WHERE).
 */
export type ReadTraceRow = Omit<TraceRow, 'Timestamp' | 'Events.Timestamp'> & { TimestampNs: string; EventTimesNs: string[] };

/** An `otel_logs` row as read back with `LOG_ROW_COLUMNS`. */
export type ReadLogRow = Pick<LogRow, 'TraceId' | 'SpanId' | 'SeverityText' | 'SeverityNumber' | 'Body' | 'ResourceAttributes' | 'ScopeName' | 'ScopeVersion' | 'LogAttributes' | 'EventName'> & { TimestampNs: string };

/** The columns of `ReadTraceRow`: each expression and the name it is read under. */
export const TRACE_ROW_FIELDS: readonly (readonly [expression: string, name: string])[] = [
  ['toUnixTimestamp64Nano(Timestamp)', 'TimestampNs'], ...['TraceId', 'SpanId', 'ParentSpanId', 'TraceState', 'SpanName', 'SpanKind', 'ServiceName',
    'ResourceAttributes', 'ScopeName', 'ScopeVersion', 'SpanAttributes', 'Duration', 'StatusCode', 'StatusMessage'].map((c) => [c, c] as const),
  ['arrayMap(t -> toString(toUnixTimestamp64Nano(t)), `Events.Timestamp`)', 'EventTimesNs'],
  ...['Events.Name', 'Events.Attributes', 'Links.TraceId', 'Links.SpanId', 'Links.TraceState', 'Links.Attributes'].map((c) => [`\`${c}\``, c] as const),
];

/** The columns of `ReadTraceRow`, as a SELECT list. */
export const TRACE_ROW_COLUMNS = TRACE_ROW_FIELDS.map(([expression, name]) => (expression === name || expression === `\`${name}\`` ? expression : `${expression} AS ${name}`)).join(', ');

/** The columns of `ReadLogRow`. */
export const LOG_ROW_COLUMNS = [
  'toUnixTimestamp64Nano(Timestamp) AS TimestampNs', 'TraceId', 'SpanId', 'SeverityText', 'SeverityNumber', 'ServiceName', 'Body',
  'ResourceAttributes', 'ScopeName', 'ScopeVersion', 'LogAttributes', 'EventName',
].join(', ');

/** Epoch ms (fractional) as the ISO-8601 text with nanoseconds that `date_time_input_format=best_effort` reads in UTC. */
export function isoNanos(ms: number): string {
  const whole = Math.floor(ms);
  const nanos = Math.round((ms - whole) * 1e6);
  return `${new Date(whole).toISOString().slice(0, 19)}.${String((whole % 1000) * 1e6 + nanos).padStart(9, '0')}Z`;
}

/** Epoch nanoseconds (decimal text, as ClickHouse quotes UInt64/Int64) as epoch ms, fractional, without losing microseconds. */
export function nanosTextToMs(text: string | number): number {
  const s = String(text);
  if (s.length <= 6) return Number(s) / 1e6;
  return Number(s.slice(0, -6)) + Number(s.slice(-6)) / 1e6;
}

/** The span's `otel_traces` row. */
export function traceRowOf(span: RecordedSpan): TraceRow {
  const events = span.events ?? [];
  const links = span.links ?? [];
  const end = span.endTimeMs ?? span.startTimeMs;
  return {
    Timestamp: isoNanos(span.startTimeMs),
    TraceId: span.traceId,
    SpanId: span.spanId,
    ParentSpanId: span.parentSpanId ?? '',
    TraceState: '',
    SpanName: span.name,
    SpanKind: SPAN_KIND_TEXT[span.kind ?? 0] ?? 'Unspecified',
    ServiceName: serviceNameOf(span.resource),
    ResourceAttributes: exporterAttributeMap(span.resource),
    ScopeName: span.scope ?? '',
    ScopeVersion: span.scopeVersion ?? '',
    SpanAttributes: exporterAttributeMap(span.attributes),
    Duration: Math.max(0, Math.round((end - span.startTimeMs) * 1e6)),
    StatusCode: STATUS_CODE_TEXT[span.status?.code ?? 0],
    StatusMessage: span.status?.message ?? '',
    'Events.Timestamp': events.map((e) => isoNanos(e.timeMs)),
    'Events.Name': events.map((e) => e.name),
    'Events.Attributes': events.map((e) => exporterAttributeMap(e.attributes)),
    'Links.TraceId': links.map((l) => l.traceId),
    'Links.SpanId': links.map((l) => l.spanId),
    'Links.TraceState': links.map(() => ''),
    'Links.Attributes': links.map((l) => exporterAttributeMap(l.attributes)),
  };
}

/** The span behind an `otel_traces` row read with `TRACE_ROW_COLUMNS`. */
export function spanOfTraceRow(row: ReadTraceRow): RecordedSpan {
  const startTimeMs = nanosTextToMs(row.TimestampNs);
  const span: { -readonly [K in keyof RecordedSpan]: RecordedSpan[K] } = {
    traceId: row.TraceId,
    spanId: row.SpanId,
    name: row.SpanName,
    kind: spanKindOf(row.SpanKind),
    startTimeMs,
    endTimeMs: startTimeMs + nanosTextToMs(row.Duration),
    attributes: restoredAttributes(row.SpanAttributes),
  };
  if (row.ParentSpanId) span.parentSpanId = row.ParentSpanId;
  const status = statusOf(row.StatusCode, row.StatusMessage);
  if (status) span.status = status;
  if (Object.keys(row.ResourceAttributes).length > 0) span.resource = restoredAttributes(row.ResourceAttributes);
  if (row.ScopeName) span.scope = row.ScopeName;
  if (row.ScopeVersion) span.scopeVersion = row.ScopeVersion;
  const events = eventsOf(row);
  if (events.length) span.events = events;
  const links = linksOf(row);
  if (links.length) span.links = links;
  return span;
}

/** The log record's `otel_logs` row. */
export function logRowOf(log: RecordedLog): LogRow {
  return {
    Timestamp: isoNanos(log.timeMs),
    TraceId: log.traceId ?? '',
    SpanId: log.spanId ?? '',
    TraceFlags: 0,
    SeverityText: log.severityText ?? '',
    SeverityNumber: log.severityNumber ?? 0,
    ServiceName: serviceNameOf(log.resource),
    Body: log.body ?? '',
    ResourceSchemaUrl: '',
    ResourceAttributes: exporterAttributeMap(log.resource),
    ScopeSchemaUrl: '',
    ScopeName: log.scope ?? '',
    ScopeVersion: log.scopeVersion ?? '',
    ScopeAttributes: {},
    LogAttributes: exporterAttributeMap(log.attributes),
    EventName: log.eventName ?? '',
  };
}

/** The log record behind an `otel_logs` row read with `LOG_ROW_COLUMNS`. */
export function logOfLogRow(row: ReadLogRow): RecordedLog {
  const log: { -readonly [K in keyof RecordedLog]: RecordedLog[K] } = { timeMs: nanosTextToMs(row.TimestampNs), attributes: restoredAttributes(row.LogAttributes) };
  if (row.TraceId) log.traceId = row.TraceId;
  if (row.SpanId) log.spanId = row.SpanId;
  if (row.SeverityNumber > 0) log.severityNumber = Number(row.SeverityNumber);
  if (row.SeverityText) log.severityText = row.SeverityText;
  if (row.Body) log.body = row.Body;
  if (row.EventName) log.eventName = row.EventName;
  if (Object.keys(row.ResourceAttributes).length > 0) log.resource = restoredAttributes(row.ResourceAttributes);
  if (row.ScopeName) log.scope = row.ScopeName;
  if (row.ScopeVersion) log.scopeVersion = row.ScopeVersion;
  return log;
}

/** The exporter's `ServiceName`: the resource's `service.name`, else empty. */
function serviceNameOf(resource: RecordedSpan['resource']): string {
  const name = resource?.[ATTR_SERVICE_NAME];
  return name === undefined ? '' : String(name);
}

function spanKindOf(text: string): number {
  const current = (SPAN_KIND_TEXT as readonly string[]).indexOf(text);
  return current >= 0 ? current : LEGACY_SPAN_KINDS[text] ?? 0;
}

function statusOf(code: string, message: string): RecordedStatus | undefined {
  const current = (STATUS_CODE_TEXT as readonly string[]).indexOf(code);
  const n = current >= 0 ? current : LEGACY_STATUS_CODES[code] ?? 0;
  if (n === 0) return undefined;
  return message ? { code: n as 1 | 2, message } : { code: n as 1 | 2 };
}

function eventsOf(row: ReadTraceRow): RecordedEvent[] {
  return row['Events.Name'].map((name, i) => {
    const attributes = restoredAttributes(row['Events.Attributes'][i]);
    const timeMs = nanosTextToMs(row.EventTimesNs[i] ?? '0');
    return Object.keys(attributes).length ? { name, timeMs, attributes } : { name, timeMs };
  });
}

function linksOf(row: ReadTraceRow): RecordedLink[] {
  return row['Links.TraceId'].map((traceId, i) => {
    const attributes = restoredAttributes(row['Links.Attributes'][i]);
    const spanId = row['Links.SpanId'][i] ?? '';
    return Object.keys(attributes).length ? { traceId, spanId, attributes } : { traceId, spanId };
  });
}
