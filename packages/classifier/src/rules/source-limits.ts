import {
  VERDICT_BACKEND_STALL,
  VERDICT_HEALTHY,
  VERDICT_POST_TOOL_CONTINUATION_LOST,
  VERDICT_TRANSPORT_RETRY,
  VERDICT_UNKNOWN,
  type Verdict,
} from '@stall-why/conventions';
import type { TurnScene } from '../model/turn-scene.js';

const UPSTREAM_VERDICTS: ReadonlySet<Verdict> = new Set([VERDICT_BACKEND_STALL, VERDICT_TRANSPORT_RETRY, VERDICT_POST_TOOL_CONTINUATION_LOST, VERDICT_UNKNOWN]);

function upstreamBlindness(scene: TurnScene): string {
  if (scene.codexTelemetryOnly && scene.attempts.some((a) => a.streamUnseen)) {
    return "over its WebSocket transport Codex's telemetry shows a model request when sent and when it completes or breaks, nothing between: a silent backend and a model thinking cannot be told apart until it does";
  }
  if (scene.codexTelemetryOnly) {
    return "Codex's telemetry shows a model request only once its response headers came (a log) or it ended (a span): before headers, backend_stall and transport_retry cannot be told apart";
  }
  if (scene.acpOnly) return 'an ACP transcript alone shows no upstream attempts: backend_stall and transport_retry cannot be told apart (record --upstream shows them)';
  return 'no upstream attempt spans: backend_stall and transport_retry cannot be told apart';
}

/** Lines that say what the turn's sources could not show, where it matters to the verdict. */
export function sourceLimits(scene: TurnScene, verdict: Verdict): string[] {
  const lines: string[] = [];
  if (scene.rolloutOnly) {
    lines.push('from a Codex rollout: no upstream request timings or retries, no renderer; approvals only where the rollout shows them, and items written only once finished');
  } else {
    if (!scene.seesUpstream && UPSTREAM_VERDICTS.has(verdict)) {
      lines.push(upstreamBlindness(scene));
    }
    if (!scene.renderer.seen && verdict !== VERDICT_HEALTHY) lines.push('no renderer phases: whether a client was attached cannot be seen');
  }
  if (scene.droppedSpans > 0) lines.push(`${scene.droppedSpans} older item and point spans of this turn were dropped to bound memory`);
  return lines;
}
