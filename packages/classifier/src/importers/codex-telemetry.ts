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

  /**
   * Emits the phase spans of a span: itself, or what a Codex span says in the vocabulary. A callback,
   * not an array: every span of every input passes here, and most are their own phase.
   */
  span(span: RecordedSpan, emit: (phase: RecordedSpan) => void): void {
    if (!isCodexSpan(span)) emit(span);
    else for (const phase of codexOtelSpans(span)) emit(phase);
  }

  /** Emits the phase spans of a log record: what a Codex event says, or nothing. */
  log(log: RecordedLog, emit: (phase: RecordedSpan) => void): void {
    if (isCodexLog(log)) for (const phase of this.logs.map(log)) emit(phase);
  }
}
