/**
 * Codex's own telemetry tells a turn twice: its log events at once, its spans once they end (see
 * importers/codex-otel-logs.ts and codex-otel-spans.ts). This makes the two one account.
 *
 * When the spans arrive, they are the better account of the same moments, and the phases read from
 * the logs for them go:
 * - an attempt whose span Codex exported (the span covers the moment the log's request was sent),
 *   with its milestones and the retry announced as it was sent; what comes after the exported
 *   attempts is the live part only the logs show;
 * - a tool call whose span, with the same call id, is there.
 *
 * An approval read from Codex's `decide_request` span (a decision asked for, its answer not told)
 * is answered by what follows it: a tool call or a model request that starts after it, or the end of
 * the tool call it was asked in.
 */
import {
  ATTR_GEN_AI_TOOL_CALL_ID,
  ATTR_SOURCE,
  PHASE_APPROVAL,
  PHASE_TOOL_CALL,
  PHASE_UPSTREAM_ATTEMPT,
  PHASE_UPSTREAM_RETRY,
  SOURCE_CODEX_OTEL,
  SOURCE_CODEX_OTEL_LOGS,
} from '@stall-why/conventions';
import type { RecordedSpan } from '@stall-why/flight-record';

const UPSTREAM = 'stall_why.upstream.';

/** A turn's phases with Codex's two voices made one; other phases as they are. */
export function reconcileCodexPhases(spans: RecordedSpan[]): RecordedSpan[] {
  return withSettledApprovals(withoutSupersededLogPhases(spans));
}

/** The spans less the log-read phases that spans of the same moments supersede. */
function withoutSupersededLogPhases(spans: RecordedSpan[]): RecordedSpan[] {
  if (!spans.some((s) => s.attributes[ATTR_SOURCE] === SOURCE_CODEX_OTEL_LOGS)) return spans;
  const exported: RecordedSpan[] = [];
  const exportedCalls = new Set<unknown>();
  for (const s of spans) {
    if (s.attributes[ATTR_SOURCE] !== SOURCE_CODEX_OTEL) continue;
    if (s.name === PHASE_UPSTREAM_ATTEMPT && s.endTimeMs !== undefined) exported.push(s);
    else if (s.name === PHASE_TOOL_CALL) exportedCalls.add(s.attributes[ATTR_GEN_AI_TOOL_CALL_ID]);
  }
  if (exported.length === 0 && exportedCalls.size === 0) return spans;
  // A log's attempt starts when its request was sent, as far as the log can tell (a little after the
  // span's attempt began): an exported attempt that covers that moment is the same attempt.
  const superseded = new Set<string>();
  const supersededStarts = new Set<number>();
  for (const s of spans) {
    if (s.name !== PHASE_UPSTREAM_ATTEMPT || s.attributes[ATTR_SOURCE] !== SOURCE_CODEX_OTEL_LOGS) continue;
    if (exported.some((e) => e.startTimeMs <= s.startTimeMs && s.startTimeMs <= e.endTimeMs!)) {
      superseded.add(s.spanId);
      supersededStarts.add(s.startTimeMs);
    }
  }
  return spans.filter((s) => {
    if (s.attributes[ATTR_SOURCE] !== SOURCE_CODEX_OTEL_LOGS) return true;
    if (s.name === PHASE_TOOL_CALL) return !exportedCalls.has(s.attributes[ATTR_GEN_AI_TOOL_CALL_ID]);
    if (!s.name.startsWith(UPSTREAM)) return true;
    // The attempt, its milestones, and the retry announced as it was sent.
    return !superseded.has(s.spanId) && !(s.parentSpanId !== undefined && superseded.has(s.parentSpanId)) && !(s.name === PHASE_UPSTREAM_RETRY && supersededStarts.has(s.startTimeMs));
  });
}

function isDecidedApproval(s: RecordedSpan): boolean {
  return s.name === PHASE_APPROVAL && s.endTimeMs === undefined && s.attributes[ATTR_SOURCE] === SOURCE_CODEX_OTEL;
}

/** Open approvals read from `decide_request`, ended where what followed shows they were answered. */
function withSettledApprovals(spans: RecordedSpan[]): RecordedSpan[] {
  if (!spans.some(isDecidedApproval)) return spans;
  return spans.map((a) => {
    if (!isDecidedApproval(a)) return a;
    let answered = Infinity;
    for (const s of spans) {
      if (s.name !== PHASE_TOOL_CALL && s.name !== PHASE_UPSTREAM_ATTEMPT) continue;
      if (s.startTimeMs > a.startTimeMs) answered = Math.min(answered, s.startTimeMs);
      else if (s.name === PHASE_TOOL_CALL && s.endTimeMs !== undefined && s.endTimeMs >= a.startTimeMs) answered = Math.min(answered, s.endTimeMs);
    }
    return answered === Infinity ? a : { ...a, endTimeMs: answered };
  });
}
