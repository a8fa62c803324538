import { anyValue, nanosToMs, otlpAttributes, type Attributes, type RecordedLog } from '@stall-why/flight-record';
import { decodeOtlpProtobufLogsRequest } from './otlp-logs-proto.js';
import { forEachOtlpItem, parseOtlpRequestBody, toHexId, type Obj } from './otlp-request-body.js';

export interface DecodedLogsRequest {
  readonly logs: RecordedLog[];
  /** Entries of `logRecords` that are not log records at all (not objects). */
  readonly rejectedLogRecords: number;
}

/**
 * Decodes the body of an OTLP/HTTP logs request (`application/json` or `application/x-protobuf`)
 * into recorded log records, as sent: no bounds or redaction here (see recordableLog).
 * `receivedMs` stamps a record that carries neither a time nor an observed time, as an
 * OpenTelemetry Collector sets the observed time on receipt. Throws OtlpRequestError on a body
 * that is not such a request.
 */
export function decodeOtlpLogsRequest(body: Uint8Array, contentType: string, receivedMs: number): DecodedLogsRequest {
  const request = parseOtlpRequestBody(body, contentType, decodeOtlpProtobufLogsRequest);
  const logs: RecordedLog[] = [];
  let rejectedLogRecords = 0;
  forEachOtlpItem(request, 'ExportLogsServiceRequest', ['resourceLogs', 'scopeLogs', 'logRecords'], (l, resource, scope) => {
    if (typeof l !== 'object' || l === null) rejectedLogRecords++;
    else logs.push(toRecordedLog(l as Obj, resource, scope, receivedMs));
  });
  return { logs, rejectedLogRecords };
}

function toRecordedLog(l: Obj, resource: Attributes, scope: Obj, receivedMs: number): RecordedLog {
  const sentTimeMs = nanosToMs(l.timeUnixNano);
  const observedTimeMs = nanosToMs(l.observedTimeUnixNano) ?? (sentTimeMs === undefined ? receivedMs : undefined);
  // Codex 0.169 sends timeUnixNano "0" on every record: its observed time is the only clock.
  const timeMs = sentTimeMs ?? observedTimeMs!;
  const severityNumber = typeof l.severityNumber === 'number' && l.severityNumber > 0 ? l.severityNumber : undefined;
  return {
    traceId: toHexId(l.traceId, 16),
    spanId: toHexId(l.spanId, 8),
    timeMs,
    observedTimeMs,
    severityNumber,
    severityText: nonEmpty(l.severityText),
    body: bodyText(l.body),
    eventName: nonEmpty(l.eventName),
    attributes: otlpAttributes(l.attributes),
    resource,
    scope: nonEmpty(scope.name),
    scopeVersion: nonEmpty(scope.version),
  };
}

/** A string body as is; any other value as compact JSON (a key/value list as the JSON of its attributes). */
function bodyText(body: unknown): string | undefined {
  const value = anyValue(body);
  if (value === undefined) return undefined;
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function nonEmpty(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}
