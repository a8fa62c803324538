/**
 * @stall-why/classifier: reads span timelines and labels each stuck turn with a verdict,
 * confidence and evidence. The core (`classifySpans`) is pure: data in, data out; `analyzeTraces`
 * is the I/O edge that reads files.
 */
export type * from './report.js';
export { DEFAULT_THRESHOLDS, resolveThresholds, type Thresholds } from './thresholds.js';
export { TRACE_FORMATS, detectFormat, type TraceFormat } from './trace-format.js';
export { TraceInputError } from './trace-input-error.js';
export { classifySpans, SpanClassifier, type ClassifyOptions, type Classification } from './classify-spans.js';
export { DEFAULT_TIMELINE_LIMITS, type TimelineLimits } from './model/timeline-limits.js';
export { THREAD_PHASES } from './model/phase-groups.js';
export { analyzeTraces, DEFAULT_HEAP_LIMIT_MB, DEFAULT_ISOLATE_ABOVE_BYTES, DEFAULT_MAX_LINE_BYTES, type AnalyzeOptions, type Analysis } from './analyze-traces.js';
export { clockTime, duration, isoTime } from './time-text.js';
export { CodexTelemetryMapper } from './importers/codex-telemetry.js';
export { EndedTurnVerdicts } from './ended-turn-verdicts.js';
