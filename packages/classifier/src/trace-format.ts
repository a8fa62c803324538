/** The trace formats the classifier reads. */
export type TraceFormat = 'flight-recorder' | 'otlp-json' | 'codex-rollout' | 'chrome-trace';

export const TRACE_FORMATS: readonly TraceFormat[] = ['flight-recorder', 'otlp-json', 'codex-rollout', 'chrome-trace'];

/** Default `heapLimitMb` of `analyzeTraces`: 64. */
export const DEFAULT_HEAP_LIMIT_MB = 64;
/** Default `isolateAboveBytes` of `analyzeTraces`: 16 MiB. */
export const DEFAULT_ISOLATE_ABOVE_BYTES = 16 * 1024 * 1024;

/** Default `maxLineBytes` of `analyzeTraces`: the longest line or single JSON value read, 64 MiB. */
export const DEFAULT_MAX_LINE_BYTES = 64 * 1024 * 1024;

/** How many leading bytes `detectFormat` looks at; `analyzeTraces` reads this much of each file. */
export const DETECT_BYTES = 4096;

const latin1 = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');

const ROLLOUT_TYPE = /"type"\s*:\s*"(?:session_meta|turn_context|world_state|response_item|event_msg|token_usage_record|compacted)"/;

/**
 * The format of a file from its first bytes (up to `DETECT_BYTES`), by content, never by name:
 * - a Codex rollout line starts `{"timestamp":…,"type":…` (with `ordinal` since 0.16x) and names a
 *   rollout line type (in another key order, its first line has both); a mid-2025 rollout starts with
 *   its session header `{"id":…,"timestamp":…,"instructions":…}`;
 * - OTLP JSON has `resourceSpans` (or `resourceLogs`) near the start;
 * - a Chrome trace is `{"traceEvents":[…` or a bare array of events with `"ph":`;
 * - a flight-recorder segment is binary: detected on the directory, not here.
 * Undefined when nothing fits.
 */
export function detectFormat(firstBytes: Uint8Array): TraceFormat | undefined {
  const head = latin1(firstBytes.subarray(0, DETECT_BYTES));
  const start = head.search(/\S/);
  if (start < 0) return undefined;
  const text = head.slice(start);
  if (text[0] === '{') {
    if (/^\{\s*"timestamp"\s*:\s*"[^"]*"\s*,\s*("ordinal"\s*:\s*\d+\s*,\s*)?"type"\s*:\s*"[a-z_]+"/.test(text)) return 'codex-rollout';
    // Another key order (another Codex version, a tool that rewrote the file): a rollout line type and a timestamp in the first line.
    const firstLine = text.slice(0, text.indexOf('\n') >>> 0);
    if (ROLLOUT_TYPE.test(firstLine) && /"timestamp"\s*:\s*"/.test(firstLine) && !/"resourceSpans"|"resourceLogs"|"traceEvents"/.test(firstLine)) return 'codex-rollout';
    // Mid-2025 Codex: a session header, then bare items (`{"record_type":"state"}`, `{"type":"message",…}`).
    if (/^\{\s*"id"\s*:\s*"[^"]*"\s*,\s*"timestamp"\s*:\s*"[^"]*"\s*,\s*"instructions"\s*:/.test(text)) return 'codex-rollout';
    if (/^\{\s*"resource(Spans|Logs)"\s*:/.test(text) || /"resource(Spans|Logs)"\s*:\s*\[/.test(text)) return 'otlp-json';
    if (/^\{\s*"traceEvents"\s*:/.test(text) || /"traceEvents"\s*:\s*\[/.test(text)) return 'chrome-trace';
    return undefined;
  }
  if (text[0] === '[' && /^\[\s*(\]|\{[^]*"ph"\s*:)/.test(text)) return 'chrome-trace';
  return undefined;
}
