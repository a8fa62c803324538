/**
 * Judges one turn: its status at the judged moment, and the verdict, confidence and evidence of the
 * rules. An open turn is judged by what it waits on now; an ended turn by the renderer, by the wait that
 * took the dominant share of it (its stretches replayed), by a stretch long enough to be stuck, by what
 * it waited on when it failed or was interrupted, or healthy when no wait dominated.
 */
import {
  ATTR_CANCEL_RESULT,
  TURN_STATE_IN_PROGRESS,
  TURN_END_STATUS_FAILED,
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
import { dominates } from './rules/dominance.js';
import { DOMINANCE_RULES, accountWaits, rendererDetached, sourceLimits, waitAtEnd, waitFinding, type Finding, type WaitAccount } from './rules/index.js';
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

const round2 = (n: number): number => Math.round(n * 100) / 100;

/** `tool_running took 8.2 s of the turn's 9.0 s (91 %)`. */
function shareText(spentMs: number, totalMs: number): string {
  return `${duration(spentMs)} of the turn's ${duration(totalMs)} (${Math.round((100 * spentMs) / Math.max(1, totalMs))} %)`;
}

/** The wait that took the dominant share of the turn (`dominates`), named with its longest stretch replayed. */
function dominantWait(scene: TurnScene, account: WaitAccount): Finding | undefined {
  const top = account.waits[0];
  if (!top || !dominates(scene, top.spentMs)) return undefined;
  const { longest } = top;
  const stretches = top.stretches > 1 ? ` in ${top.stretches} stretches from ${clockTime(top.firstMs)}` : ` from ${clockTime(top.firstMs)}`;
  return {
    verdict: top.verdict,
    // Replayed, not seen live: a little less sure than the rule was at the moment.
    confidence: round2(longest.finding.confidence * 0.9),
    evidence: [
      `${top.verdict} took ${shareText(top.spentMs, account.totalMs)}${stretches}; the longest stretch, ${duration(longest.to - longest.from)} until ${clockTime(longest.to)}, waiting:`,
      ...longest.finding.evidence,
    ],
  };
}

/** A stretch that reached the stuck threshold: the turn was stuck then, even if that wait did not dominate. */
function stuckStretch(scene: TurnScene, account: WaitAccount): Finding | undefined {
  const stuck = account.waits
    .filter((w) => w.longest.to - w.longest.from >= scene.thresholds.stuckAfterMs)
    .sort((a, b) => b.longest.to - b.longest.from - (a.longest.to - a.longest.from))[0];
  if (!stuck) return undefined;
  const { longest } = stuck;
  const endedIt = longest.to === scene.endMs ? `until the turn ended ${scene.endStatus}` : `until ${clockTime(longest.to)}`;
  return {
    verdict: stuck.verdict,
    confidence: round2(longest.finding.confidence * 0.9),
    evidence: [`quiet for ${duration(longest.to - longest.from)} from ${clockTime(longest.from)} ${endedIt}, waiting:`, ...longest.finding.evidence],
  };
}

function judgeEnded(scene: TurnScene, sceneAt: (at: number) => TurnScene): Finding {
  const renderer = rendererDetached(scene);
  if (renderer) return renderer;
  if (scene.endStatus === TURN_END_STATUS_FAILED) {
    const retries = DOMINANCE_RULES[0]!(scene);
    if (retries) return retries;
  }
  const account = accountWaits(scene, sceneAt);
  const named = dominantWait(scene, account) ?? stuckStretch(scene, account);
  if (named) return named;
  for (const rule of DOMINANCE_RULES) {
    const finding = rule(scene);
    if (finding) return finding;
  }
  const atEnd = waitAtEnd(scene, sceneAt);
  if (atEnd) return atEnd;
  const total = account.totalMs;
  if (scene.endStatus === TURN_END_STATUS_FAILED) {
    return { verdict: VERDICT_UNKNOWN, confidence: 0.3, evidence: [`the turn failed at ${clockTime(scene.endMs!)} after ${duration(total)}; no phase shows why`] };
  }
  const { slowPhaseMs, dominantShare } = scene.thresholds;
  const top = account.waits[0];
  const quiet = account.longestStretch;
  return {
    verdict: VERDICT_HEALTHY,
    confidence: scene.seesUpstream ? 0.9 : 0.75,
    evidence: [
      `${scene.endStatus} at ${clockTime(scene.endMs!)} after ${duration(total)}; longest quiet stretch ${duration(quiet.to - quiet.from)} (from ${clockTime(quiet.from)})`,
      top
        ? `no wait dominated: the largest, ${top.verdict}, took ${shareText(top.spentMs, total)} (a cause takes at least ${duration(slowPhaseMs)} and ${Math.round(dominantShare * 100)} %)`
        : 'no wait: the turn was at work throughout',
    ],
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
