import { appendFileSync, closeSync, openSync } from 'node:fs';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { JsonTraceSerializer } from '@opentelemetry/otlp-transformer';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';

/**
 * Writes spans as OTLP JSON lines: one `ExportTraceServiceRequest` per line, as the OpenTelemetry
 * Collector's file exporter does, so the file can be read by `stall-why` or replayed into a
 * collector. An example of exporting, not a core API: production setups send OTLP to a collector.
 */
export class OtlpJsonLinesFileExporter implements SpanExporter {
  private fd: number | undefined;

  constructor(readonly path: string) {
    this.fd = openSync(path, 'a');
  }

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    if (this.fd === undefined) return resultCallback({ code: ExportResultCode.FAILED, error: new Error('exporter is shut down') });
    try {
      const line = JsonTraceSerializer.serializeRequest(spans);
      if (line) appendFileSync(this.fd, Buffer.concat([Buffer.from(line), Buffer.from('\n')]));
      resultCallback({ code: ExportResultCode.SUCCESS });
    } catch (error) {
      resultCallback({ code: ExportResultCode.FAILED, error: error as Error });
    }
  }

  async shutdown(): Promise<void> {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  async forceFlush(): Promise<void> {}
}
