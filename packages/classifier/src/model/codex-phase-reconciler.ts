/**
 * Codex's own telemetry tells a turn twice: its log events at once, its spans once they end (see
 * importers/codex-otel-logs.ts and codex-otel-spans.ts). This makes the two one account.
 *
 * When the spans arrive, they are the better account of the same moments, and the phases read from
 * the logs for them go:
 * - upstream phases up to the end of the last attempt Codex exported (its attempts end, and are
 *   exported, in order: what comes after is the live part only the logs show);
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
  SOURCE_CODEX_OTEL,
  SOURCE_CODEX_OTEL_LOGS,
} from '@stall-why/conventions';
import type { RecordedSpan } from '@stall-why/flight-record';

/** A log's times are whole milliseconds (`duration_ms`): its attempt may seem to start this much before the span's. */
const LOG_ROUNDING_MS = 5;
const UPSTREAM = 'stall_why.upstream.';

/** A turn's phases with Codex's two voices made one; other phases as they are. */
export function reconcileCodexPhases(spans: RecordedSpan[]): RecordedSpan[] {
  return withSettledApprovals(withoutSupersededLogPhases(spans));
}

/** The spans less the log-read phases that spans of the same moments supersede. */
function withoutSupersededLogPhases(spans: RecordedSpan[]): RecordedSpan[] {
  if (!spans.some((s) => s.attributes[ATTR_SOURCE] === SOURCE_CODEX_OTEL_LOGS)) return spans;
  let exportedUntil = -Infinity;
  const exportedCalls = new Set<unknown>();
  for (const s of spans) {
    if (s.attributes[ATTR_SOURCE] !== SOURCE_CODEX_OTEL) continue;
    if (s.name === PHASE_UPSTREAM_ATTEMPT && s.endTimeMs !== undefined) exportedUntil = Math.max(exportedUntil, s.endTimeMs);
    else if (s.name === PHASE_TOOL_CALL) exportedCalls.add(s.attributes[ATTR_GEN_AI_TOOL_CALL_ID]);
  }
  if (exportedUntil === -Infinity && exportedCalls.size === 0) return spans;
  return spans.filter((s) => {
    if (s.attributes[ATTR_SOURCE] !== SOURCE_CODEX_OTEL_LOGS) return true;
    if (s.name.startsWith(UPSTREAM)) return s.startTimeMs > exportedUntil + LOG_ROUNDING_MS;
    if (s.name === PHASE_TOOL_CALL) return !exportedCalls.has(s.attributes[ATTR_GEN_AI_TOOL_CALL_ID]);
    return true;
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
