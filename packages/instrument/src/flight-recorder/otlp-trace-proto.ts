/*
 * The few messages of the OpenTelemetry protocol (opentelemetry-proto v1.x:
 * collector/trace/v1/trace_service.proto, trace/v1/trace.proto, common/v1/common.proto,
 * resource/v1/resource.proto; Copyright The OpenTelemetry Authors, Apache License 2.0) that an
 * OTLP/HTTP traces receiver needs, as a protobufjs JSON descriptor. Field names are the proto3 JSON
 * names, so a decoded request has the same keys as an OTLP/JSON one. Enums are read as int32
 * (same wire encoding); `oneof`s are left out because decoding does not need them.
 */
import protobuf from 'protobufjs';

/** A repeated field of a protobufjs JSON descriptor (otlp-logs-proto.ts describes its messages with these too). */
export const repeated = (type: string, id: number) => ({ type, id, rule: 'repeated' });
/** A singular field of a protobufjs JSON descriptor. */
export const field = (type: string, id: number) => ({ type, id });

/**
 * The messages, by name. Exported so another signal's messages (otlp-logs-proto.ts; the corpus's
 * capture script decodes both) are added to these instead of writing the shared ones again.
 */
export const OTLP_TRACE_MESSAGES = {
  ExportTraceServiceRequest: { fields: { resourceSpans: repeated('ResourceSpans', 1) } },
  ResourceSpans: { fields: { resource: field('Resource', 1), scopeSpans: repeated('ScopeSpans', 2), schemaUrl: field('string', 3) } },
  ScopeSpans: { fields: { scope: field('InstrumentationScope', 1), spans: repeated('Span', 2), schemaUrl: field('string', 3) } },
  Span: {
    fields: {
      traceId: field('bytes', 1),
      spanId: field('bytes', 2),
      traceState: field('string', 3),
      parentSpanId: field('bytes', 4),
      name: field('string', 5),
      kind: field('int32', 6),
      startTimeUnixNano: field('fixed64', 7),
      endTimeUnixNano: field('fixed64', 8),
      attributes: repeated('KeyValue', 9),
      droppedAttributesCount: field('uint32', 10),
      events: repeated('Event', 11),
      droppedEventsCount: field('uint32', 12),
      links: repeated('Link', 13),
      droppedLinksCount: field('uint32', 14),
      status: field('Status', 15),
      flags: field('fixed32', 16),
    },
  },
  Event: {
    fields: { timeUnixNano: field('fixed64', 1), name: field('string', 2), attributes: repeated('KeyValue', 3), droppedAttributesCount: field('uint32', 4) },
  },
  Link: {
    fields: {
      traceId: field('bytes', 1), spanId: field('bytes', 2), traceState: field('string', 3), attributes: repeated('KeyValue', 4),
      droppedAttributesCount: field('uint32', 5), flags: field('fixed32', 6),
    },
  },
  Status: { fields: { message: field('string', 2), code: field('int32', 3) } },
  Resource: { fields: { attributes: repeated('KeyValue', 1), droppedAttributesCount: field('uint32', 2) } },
  InstrumentationScope: {
    fields: { name: field('string', 1), version: field('string', 2), attributes: repeated('KeyValue', 3), droppedAttributesCount: field('uint32', 4) },
  },
  AnyValue: {
    fields: {
      stringValue: field('string', 1), boolValue: field('bool', 2), intValue: field('int64', 3), doubleValue: field('double', 4),
      arrayValue: field('ArrayValue', 5), kvlistValue: field('KeyValueList', 6), bytesValue: field('bytes', 7),
    },
  },
  ArrayValue: { fields: { values: repeated('AnyValue', 1) } },
  KeyValueList: { fields: { values: repeated('KeyValue', 1) } },
  KeyValue: { fields: { key: field('string', 1), value: field('AnyValue', 2) } },
  ExportTraceServiceResponse: { fields: {} },
};

const root = protobuf.Root.fromJSON({ nested: OTLP_TRACE_MESSAGES });
const requestType = root.lookupType('ExportTraceServiceRequest');

/** Decodes an OTLP ExportTraceServiceRequest (protobuf) into the OTLP/JSON object shape (ids as bytes, 64-bit times as decimal strings). */
export function decodeOtlpProtobufRequest(body: Uint8Array): unknown {
  return requestType.toObject(requestType.decode(body), { longs: String });
}
