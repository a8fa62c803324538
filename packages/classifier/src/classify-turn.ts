/**
 * Judges one turn: its status at the judged moment, and the verdict, confidence and evidence of the
 * rules. An open turn is judged by what it waits on now; an ended turn by the renderer, by the wait of
 * its longest quiet stretch replayed, by what dominated it, or healthy.
 */
import {
  ATTR_CANCEL_RESULT,
  TURN_STATE_IN_PROGRESS,
  TURN_STATE_STUCK,
  VERDICT_BACKEND_STALL,
  VERDICT_HEALTHY,
  VERDICT_POST_TOOL_CONTINUATION_LOST,
  VERDICT_UNKNOWN,
  type TurnState,
  type Verdict,
} from '@stall-why/conventions';
import type { RecordedSpan } from '@stall-why/flight-record';
import type { Sight, ThreadTimeline, TurnTimeline } from './model/timeline.js';
import { turnScene, type TurnScene } from './model/turn-scene.js';
import { phaseBars } from './phase-bars.js';
import type { TurnReport } from './report.js';
import { DOMINANCE_RULES, WAIT_RULES, rendererDetached, sourceLimits, type Finding } from './rules/index.js';
import type { Thresholds } from './thresholds.js';
import { clockTime, duration, isoTime } from './time-text.js';

export interface JudgeContext {
  readonly now: number;
  readonly thresholds: Thresholds;
  readonly sight: Sight;
  /** Renderer phases with no thread id: a client that renders every thread. */
  readonly globalRenderer: readonly RecordedSpan[];
}

/** Waits that, below the stuck threshold, are just a turn at work. */
const ORDINARY_WAITS: ReadonlySet<Verdict> = new Set([VERDICT_BACKEND_STALL, VERDICT_POST_TOOL_CONTINUATION_LOST, VERDICT_UNKNOWN]);

/** The first wait rule that applies to the scene, or unknown. */
export function waitFinding(scene: TurnScene): Finding {
  for (const rule of WAIT_RULES) {
    const finding = rule(scene);
    if (finding) return finding;
  }
  return {
    verdict: VERDICT_UNKNOWN,
    confidence: 0.2,
    evidence: [`nothing open and no rule matches; last phase at ${clockTime(scene.lastActivityMs)}`],
  };
}

function judgeOpen(scene: TurnScene): Finding {
  const quietMs = scene.at - scene.lastActivityMs;
  const stuck = quietMs >= scene.thresholds.stuckAfterMs;
  const wait = waitFinding(scene);
  const renderer = rendererDetached(scene);
  // The renderer left first (the turn was not yet stuck when it did): nobody receives the turn, whatever
  // the backend does now. A renderer that left a turn already stuck is a consequence, not the cause.
  const leftFirst = renderer !== undefined && scene.renderer.lastDetach!.start - scene.lastActivityMs < scene.thresholds.stuckAfterMs;
  if (renderer && (leftFirst || !stuck || wait.verdict === VERDICT_UNKNOWN)) {
    return { ...renderer, evidence: [...renderer.evidence, ...wait.evidence.map((l) => `meanwhile: ${l}`)] };
  }
  const quietLine = `no phase boundary for ${duration(quietMs)} (last at ${clockTime(scene.lastActivityMs)}); stuck after ${duration(scene.thresholds.stuckAfterMs)}`;
  if (!stuck && ORDINARY_WAITS.has(wait.verdict)) {
    return { verdict: VERDICT_HEALTHY, confidence: 0.6, evidence: [`in progress: ${wait.evidence[0]}`, quietLine] };
  }
  const evidence = [...wait.evidence, quietLine];
  if (renderer) evidence.push(renderer.evidence[0]!);
  return { ...wait, evidence };
}

/** The longest stretch of an ended turn with no phase boundary: [from, to]. */
function longestQuiet(scene: TurnScene): { from: number; to: number } {
  const end = scene.endMs ?? scene.at;
  const marks = [scene.startMs, end];
  for (const p of scene.phases) marks.push(p.start, ...(p.end !== undefined ? [p.end] : []));
  for (const h of scene.hydrations) marks.push(h.start, ...(h.end !== undefined ? [h.end] : []));
  const sorted = marks.filter((m) => m >= scene.startMs && m <= end).sort((a, b) => a - b);
  let best = { from: scene.startMs, to: scene.startMs };
  for (let i = 1; i < sorted.length; i++) if (sorted[i]! - sorted[i - 1]! > best.to - best.from) best = { from: sorted[i - 1]!, to: sorted[i]! };
  return best;
}

function judgeEnded(scene: TurnScene, sceneAt: (at: number) => TurnScene): Finding {
  const renderer = rendererDetached(scene);
  if (renderer) return renderer;
  if (scene.endStatus === 'failed') {
    const retries = DOMINANCE_RULES[0]!(scene);
    if (retries) return retries;
  }
  const quiet = longestQuiet(scene);
  if (quiet.to - quiet.from >= scene.thresholds.stuckAfterMs) {
    // Just before the boundary that ended the stretch: what the turn waited on during it.
    const replay = waitFinding(sceneAt(quiet.to - 0.001));
    if (replay.verdict !== VERDICT_UNKNOWN) {
      const endedIt = quiet.to === scene.endMs ? `until the turn ended ${scene.endStatus}` : `until ${clockTime(quiet.to)}`;
      return {
        verdict: replay.verdict,
        confidence: Math.round(replay.confidence * 0.9 * 100) / 100,
        evidence: [`quiet for ${duration(quiet.to - quiet.from)} from ${clockTime(quiet.from)} ${endedIt}, waiting:`, ...replay.evidence],
      };
    }
  }
  for (const rule of DOMINANCE_RULES) {
    const finding = rule(scene);
    if (finding) return finding;
  }
  const total = duration((scene.endMs ?? scene.at) - scene.startMs);
  if (scene.endStatus === 'failed') {
    return { verdict: VERDICT_UNKNOWN, confidence: 0.3, evidence: [`the turn failed at ${clockTime(scene.endMs!)} after ${total}; no phase shows why`] };
  }
  return {
    verdict: VERDICT_HEALTHY,
    confidence: scene.seesUpstream ? 0.9 : 0.75,
    evidence: [`${scene.endStatus} at ${clockTime(scene.endMs!)} after ${total}; longest quiet stretch ${duration(quiet.to - quiet.from)} (from ${clockTime(quiet.from)})`],
  };
}

function contextLines(scene: TurnScene): string[] {
  const lines: string[] = [];
  if (scene.turnError) lines.push(`the server reported: ${scene.turnError}`);
  for (const c of scene.cancels) {
    const result = c.span.attributes[ATTR_CANCEL_RESULT];
    lines.push(`stop requested at ${clockTime(c.start)}: ${c.end === undefined ? 'no result yet' : `result ${typeof result === 'string' ? result : 'unrecorded'}`}`);
  }
  if (!scene.turnSpan) lines.push('the turn span itself was not recorded (evicted, or the recording began mid-turn): its start and end are inferred');
  return lines;
}

/** The report entry of one turn at the judged moment. */
export function judgeTurn(turn: TurnTimeline, thread: ThreadTimeline, context: JudgeContext): TurnReport {
  const sceneAt = (at: number): TurnScene =>
    turnScene(turn, thread, context.globalRenderer, { at, now: context.now, thresholds: context.thresholds, sight: context.sight });
  const scene = sceneAt(context.now);
  const ended = scene.endMs !== undefined;
  const finding = ended ? judgeEnded(scene, sceneAt) : judgeOpen(scene);
  let status: TurnState;
  if (ended) status = scene.endStatus!;
  else status = context.now - scene.lastActivityMs >= context.thresholds.stuckAfterMs ? TURN_STATE_STUCK : TURN_STATE_IN_PROGRESS;
  return {
    threadId: turn.threadId,
    turnId: turn.turnId,
    status,
    verdict: finding.verdict,
    confidence: finding.confidence,
    startedAt: isoTime(scene.startMs),
    lastActivityAt: isoTime(scene.lastActivityMs),
    stuckForMs: ended ? null : Math.max(0, Math.round(context.now - scene.lastActivityMs)),
    evidence: [...finding.evidence, ...contextLines(scene), ...sourceLimits(scene, finding.verdict)],
    endedAt: ended ? isoTime(scene.endMs!) : null,
    sources: [...turn.sources].sort(),
    phases: phaseBars(scene),
  };
}
