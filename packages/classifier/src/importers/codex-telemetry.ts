/**
 * What one source holds of the Codex app-server's own telemetry (its spans and its log events) as
 * vocabulary spans; any other span goes on as it is, any other log record says nothing. One per
 * source, fed in the order the source holds its records: its log mapping keeps the turns it is in.
 */
import type { RecordedLog, RecordedSpan } from '@stall-why/flight-record';
import { CodexLogMapper, isCodexLog } from './codex-otel-logs.js';
import { codexOtelSpans, isCodexSpan } from './codex-otel-spans.js';

export class CodexTelemetryMapper {
  private readonly logs = new CodexLogMapper();

  /** The phase spans of a span: itself, or what a Codex span says in the vocabulary. */
  span(span: RecordedSpan): RecordedSpan[] {
    return isCodexSpan(span) ? codexOtelSpans(span) : [span];
  }

  /** The phase spans of a log record: what a Codex event says, or nothing. */
  log(log: RecordedLog): RecordedSpan[] {
    return isCodexLog(log) ? this.logs.map(log) : [];
  }
}
