import { TraceFlags } from '@opentelemetry/api';
import type { LogAttributes, SeverityNumber } from '@opentelemetry/api-logs';
import type { ReadableLogRecord } from '@opentelemetry/sdk-logs';
import type { RecordedLog } from '@stall-why/flight-record';
import { SharedResources } from './shared-resources.js';
import { msToHrTime } from './span-record-encoding.js';

type Scope = ReadableLogRecord['instrumentationScope'];

/**
 * Turns recorded log records back into ReadableLogRecords for an OTLP log exporter. Records with
 * equal resource attributes share one Resource, and equal scopes one scope object: the OTLP logs
 * serializer groups by object identity of both.
 */
export class RecordedLogConverter {
  private readonly resources = new SharedResources();
  private readonly scopes = new Map<string, Scope>();

  toReadableLogRecord(log: RecordedLog): ReadableLogRecord {
    return {
      hrTime: msToHrTime(log.timeMs),
      hrTimeObserved: msToHrTime(log.observedTimeMs ?? log.timeMs),
      // OTLP sends an empty span id for a record with a trace and no span; the serializer does the same with ''.
      spanContext: log.traceId ? { traceId: log.traceId, spanId: log.spanId ?? '', traceFlags: TraceFlags.SAMPLED } : undefined,
      severityNumber: log.severityNumber as SeverityNumber | undefined,
      severityText: log.severityText,
      body: log.body,
      eventName: log.eventName,
      resource: this.resources.resourceFor(log.resource),
      instrumentationScope: this.scopeFor(log.scope, log.scopeVersion),
      attributes: log.attributes as LogAttributes,
      droppedAttributesCount: 0,
    };
  }

  private scopeFor(name: string | undefined, version: string | undefined): Scope {
    const key = `${name ?? ''}\n${version ?? ''}`;
    let scope = this.scopes.get(key);
    if (!scope) {
      if (this.scopes.size > 64) this.scopes.clear();
      scope = { name: name ?? 'stall-why', version };
      this.scopes.set(key, scope);
    }
    return scope;
  }
}
