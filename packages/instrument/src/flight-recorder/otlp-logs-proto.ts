/*
 * The OTLP logs messages (opentelemetry-proto v1.x: collector/logs/v1/logs_service.proto,
 * logs/v1/logs.proto; Copyright The OpenTelemetry Authors, Apache License 2.0) that an OTLP/HTTP
 * logs receiver needs, in the style of otlp-trace-proto.ts, whose common messages (Resource,
 * InstrumentationScope, AnyValue, KeyValue) they share. `body` is an AnyValue; ids are bytes.
 */
import protobuf from 'protobufjs';
import { field, OTLP_TRACE_MESSAGES, repeated } from './otlp-trace-proto.js';

/** The logs service's messages, by name; the common ones come from OTLP_TRACE_MESSAGES. */
export const OTLP_LOGS_MESSAGES = {
  ExportLogsServiceRequest: { fields: { resourceLogs: repeated('ResourceLogs', 1) } },
  ResourceLogs: { fields: { resource: field('Resource', 1), scopeLogs: repeated('ScopeLogs', 2), schemaUrl: field('string', 3) } },
  ScopeLogs: { fields: { scope: field('InstrumentationScope', 1), logRecords: repeated('LogRecord', 2), schemaUrl: field('string', 3) } },
  LogRecord: {
    fields: {
      timeUnixNano: field('fixed64', 1),
      severityNumber: field('int32', 2),
      severityText: field('string', 3),
      body: field('AnyValue', 5),
      attributes: repeated('KeyValue', 6),
      droppedAttributesCount: field('uint32', 7),
      flags: field('fixed32', 8),
      traceId: field('bytes', 9),
      spanId: field('bytes', 10),
      observedTimeUnixNano: field('fixed64', 11),
      eventName: field('string', 12),
    },
  },
  ExportLogsServiceResponse: { fields: {} },
};

const root = protobuf.Root.fromJSON({ nested: { ...OTLP_TRACE_MESSAGES, ...OTLP_LOGS_MESSAGES } });
const requestType = root.lookupType('ExportLogsServiceRequest');

/** Decodes an OTLP ExportLogsServiceRequest (protobuf) into the OTLP/JSON object shape (ids as bytes, 64-bit times as decimal strings). */
export function decodeOtlpProtobufLogsRequest(body: Uint8Array): unknown {
  return requestType.toObject(requestType.decode(body), { longs: String });
}
