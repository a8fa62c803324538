/**
 * One OTLP/JSON log record to a RecordedLog, decoded by @stall-why/flight-record's OTLP decoders.
 * Only what the classifier reads is kept: the attributes that `CodexLogMapper` reads, and no body.
 */
import { nanosToMs, otlpAttributes, otlpId, type Attributes, type RecordedLog } from '@stall-why/flight-record';
import { CODEX_LOG_ATTRIBUTES } from './codex-otel-logs.js';

type Json = Record<string, unknown>;
type MutableLog = { -readonly [K in keyof RecordedLog]: RecordedLog[K] };

/**
 * The RecordedLog of an OTLP log record, or a string saying what is missing. Its time is the
 * record's, or the observed time when the record's is 0 or absent (Codex sends 0).
 */
export function otlpLog(r: Json, resource: Attributes | undefined, scope: string | undefined): RecordedLog | string {
  const observed = nanosToMs(r.observedTimeUnixNano);
  const time = nanosToMs(r.timeUnixNano) ?? observed;
  if (time === undefined) return 'a log record with neither timeUnixNano nor observedTimeUnixNano';
  const log: MutableLog = { timeMs: time, attributes: otlpAttributes(r.attributes, CODEX_LOG_ATTRIBUTES) };
  const traceId = otlpId(r.traceId, 32);
  const spanId = otlpId(r.spanId, 16);
  if (traceId && !/^0+$/.test(traceId)) log.traceId = traceId;
  if (spanId && !/^0+$/.test(spanId)) log.spanId = spanId;
  if (observed !== undefined) log.observedTimeMs = observed;
  if (typeof r.severityNumber === 'number') log.severityNumber = r.severityNumber;
  if (typeof r.severityText === 'string' && r.severityText) log.severityText = r.severityText;
  if (typeof r.eventName === 'string' && r.eventName) log.eventName = r.eventName;
  if (resource) log.resource = resource;
  if (scope) log.scope = scope;
  return log;
}
