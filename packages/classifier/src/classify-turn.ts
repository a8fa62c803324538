/**
 * Judges one turn: its status at the judged moment, and the verdict, confidence and evidence of the
 * rules. An open turn is judged by what it waits on now, from its first millisecond (`in_progress`
 * below the stuck threshold, `stuck` from it); an open turn whose writer is gone is `abandoned`,
 * judged by what it waited on when the writer stopped. An ended turn is judged by the renderer, by the
 * wait that took the dominant share of it (its stretches replayed; the model at work is never a wait),
 * by a stretch long enough to be abnormal, by what it waited on when it failed or was interrupted, or
 * healthy.
 */
import {
  ATTR_AGENT_NAME,
  ATTR_CANCEL_RESULT,
  ATTR_PROCESS_EXIT_CODE,
  ATTR_PROCESS_PID,
  ATTR_PROCESS_SIGNAL,
  ATTR_THREAD_PARENT_ID,
  ATTR_TOOL_BACKGROUND_SESSION,
  ATTR_WRITER_STOP_REASON,
  TURN_STATE_ABANDONED,
  TURN_STATE_IN_PROGRESS,
  TURN_END_STATUS_FAILED,
  TURN_END_STATUS_INTERRUPTED,
  TURN_STATE_STUCK,
  VERDICT_HEALTHY,
  VERDICT_TOOL_RUNNING,
  VERDICT_TRANSPORT_RETRY,
  VERDICT_UNKNOWN,
  WRITER_STOP_REASON_PROCESS_GONE,
  WRITER_STOP_REASON_SERVER_EXIT,
  WRITER_STOP_REASON_SHUTDOWN,
  type TurnState,
} from '@stall-why/conventions';
import type { RecordedSpan } from '@stall-why/flight-record';
import type { Sight, SourceWriter, ThreadTimeline, TurnTimeline } from './model/timeline.js';
import { ANONYMOUS_SOURCE } from './model/timeline-builder.js';
import { previousTurnOf, turnScene, type TurnScene } from './model/turn-scene.js';
import { phaseBars } from './phase-bars.js';
import { serviceNameOf } from './service-name.js';
import type { TurnReport } from './report.js';
import { dominates } from './rules/dominance.js';
import { DOMINANCE_RULES, accountWaits, acpQuirkLines, emptyEndAfterSilence, rendererDetached, sourceLimits, waitAtEnd, waitFinding, type Finding, type WaitAccount } from './rules/index.js';
import type { Thresholds } from './thresholds.js';
import { clockTime, duration, isoTime } from './time-text.js';
import { phaseName, quietText, toolText } from './rules/phase-text.js';

export interface JudgeContext {
  readonly now: number;
  readonly thresholds: Thresholds;
  readonly sight: Sight;
  /** Renderer phases with no thread id: a client that renders every thread. */
  readonly globalRenderer: readonly RecordedSpan[];
  /** What is known of the writers of the input's sources (files, directories), by source. */
  readonly writers?: ReadonlyMap<string, SourceWriter>;
}

/** Below the stuck threshold, a wait that may be the model at work is named with no more than this confidence. */
const AT_WORK_CONFIDENCE = 0.5;
/** Stuck, below `silentModelMs`, on a wait that may be the model at work: no verdict on it is surer than this. */
const THINKING_CONFIDENCE = 0.6;
/** From a source that records only ended spans, no verdict on an open turn is surer than this. */
const BLIND_CONFIDENCE = 0.5;

/** An open turn: what it waits on at the scene's moment, named from its first millisecond. */
function judgeOpen(scene: TurnScene, abandoned: boolean): Finding {
  const quietMs = scene.at - scene.lastActivityMs;
  const stuck = quietMs >= scene.thresholds.stuckAfterMs;
  const wait = scene.recordsOpen ? waitFinding(scene) : blindWait(scene);
  const renderer = rendererDetached(scene);
  // The renderer left first (the turn was not yet stuck when it did): nobody receives the turn, whatever
  // the backend does now. A renderer that left a turn already stuck is a consequence, not the cause.
  const leftFirst = renderer !== undefined && scene.renderer.lastDetach!.start - scene.lastActivityMs < scene.thresholds.stuckAfterMs;
  // A source blind to open spans is "unknown" because it cannot see, not because nothing waits: there a
  // renderer explains the turn only if it left first.
  if (renderer && (leftFirst || (scene.recordsOpen && (!stuck || wait.verdict === VERDICT_UNKNOWN)))) {
    return { ...renderer, evidence: [...renderer.evidence, ...wait.evidence.map((l) => `meanwhile: ${l}`)] };
  }
  const quietLine = abandoned
    ? `no phase boundary for ${duration(quietMs)} before that (last at ${clockTime(scene.lastActivityMs)})`
    : `${quietText(scene)}; ${stuck ? 'stuck' : 'in progress: stuck'} after ${duration(scene.thresholds.stuckAfterMs)}`;
  const evidence = [...wait.evidence, quietLine];
  if (renderer) evidence.push(renderer.evidence[0]!);
  // Not yet stuck, and the wait may be the model thinking or writing: named, with the doubt in the confidence.
  // Stuck on a wait that may be the model at work: a model at high effort can think for minutes
  // without a word, so until `silentModelMs` of silence the doubt stays in the confidence.
  const thinking = stuck && wait.atWork && quietMs < scene.thresholds.silentModelMs && wait.confidence > THINKING_CONFIDENCE;
  if (thinking) evidence.push(`a model at high effort can think for minutes without a word: until ${duration(scene.thresholds.silentModelMs)} of silence this may still be the model at work`);
  const confidence = !stuck && wait.atWork ? Math.min(wait.confidence, AT_WORK_CONFIDENCE) : thinking ? THINKING_CONFIDENCE : wait.confidence;
  return { ...wait, confidence, evidence };
}

/**
 * An open turn read from a source that records spans only when they end (a standard OTLP exporter):
 * the phase the turn waits on is open, so it is not in the source. Ended spans can still show a
 * renderer that left (a point) and failed attempts with nothing after them; anything else is unknown.
 */
function blindWait(scene: TurnScene): Finding {
  const limit = 'this source records spans only when they end (a standard OTLP exporter): the phase the turn waits on now (a tool, an approval, a model request) is open, so it is not in it';
  const seen = waitFinding(scene);
  if (seen.verdict === VERDICT_TRANSPORT_RETRY) {
    return { ...seen, confidence: Math.min(seen.confidence, BLIND_CONFIDENCE), evidence: [...seen.evidence, limit] };
  }
  const last = scene.phases.filter((p) => p.end !== undefined).reduce<(typeof scene.phases)[number] | undefined>((a, p) => (!a || p.end! >= a.end! ? p : a), undefined);
  return {
    verdict: VERDICT_UNKNOWN,
    confidence: 0.3,
    evidence: [
      limit,
      last ? `the last ended phase, ${phaseName(last.span.name)}, ended at ${clockTime(last.end!)}` : `nothing ended since the turn started at ${clockTime(scene.startMs)}`,
      `what the ended spans alone suggest, unconfirmed: ${seen.evidence[0]}`,
    ],
    atWork: true,
  };
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

/** A stretch in one wait that reached `slowStretchMs`: abnormal for that wait, even if it did not dominate. */
function stuckStretch(scene: TurnScene, account: WaitAccount): Finding | undefined {
  const stuck = account.waits
    .filter((w) => !w.longest.finding.inferred && w.longest.to - w.longest.from >= scene.thresholds.slowStretchMs)
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

/** `model working 91 s (longest 60 s, until 12:01:10 (reasoning item))`: time the model spent, which is no wait. */
function modelWorkText(account: WaitAccount): string | undefined {
  const longest = account.longestModelWork;
  if (!longest || account.modelWorkMs <= 0) return undefined;
  return `model working ${duration(account.modelWorkMs)} of the turn (thinking, writing or a request this source cannot see; longest ${duration(longest.to - longest.from)}, until ${clockTime(longest.to)}): not a wait`;
}

function judgeEnded(scene: TurnScene, sceneAt: (at: number) => TurnScene): Finding {
  const renderer = rendererDetached(scene);
  if (renderer) return renderer;
  if (scene.endStatus === TURN_END_STATUS_FAILED) {
    const retries = DOMINANCE_RULES[0]!(scene);
    if (retries) return retries;
  }
  const account = accountWaits(scene, sceneAt);
  // An interrupted turn is explained by what it waited on when the person stopped it, not by a wait
  // it had already got past: a turn stopped while the model worked was stopped by choice.
  if (scene.endStatus === TURN_END_STATUS_INTERRUPTED) return waitAtEnd(scene, sceneAt) ?? healthyEnded(scene, account);
  // An ACP prompt ended with nothing after a long silence completed, but delivered nothing: the silence is the cause.
  const named = dominantWait(scene, account) ?? stuckStretch(scene, account) ?? emptyEndAfterSilence(scene);
  if (named) return named;
  for (const rule of DOMINANCE_RULES) {
    const finding = rule(scene);
    if (finding) return finding;
  }
  const atEnd = waitAtEnd(scene, sceneAt);
  if (atEnd) return atEnd;
  if (scene.endStatus === TURN_END_STATUS_FAILED) {
    return { verdict: VERDICT_UNKNOWN, confidence: 0.3, evidence: [`the turn failed at ${clockTime(scene.endMs!)} after ${duration(account.totalMs)}; no phase shows why`] };
  }
  return healthyEnded(scene, account);
}

/** An ended turn nothing held up: the largest wait and the work, in numbers. */
function healthyEnded(scene: TurnScene, account: WaitAccount): Finding {
  const total = account.totalMs;
  const { slowPhaseMs, dominantShare } = scene.thresholds;
  const top = account.waits[0];
  const quiet = account.longestStretch;
  const work = modelWorkText(account);
  const interrupted = scene.endStatus === TURN_END_STATUS_INTERRUPTED ? ['interrupted while the turn was at work: a person\'s choice, not a stall'] : [];
  return {
    verdict: VERDICT_HEALTHY,
    confidence: scene.seesUpstream ? 0.9 : 0.75,
    evidence: [
      `${scene.endStatus} at ${clockTime(scene.endMs!)} after ${duration(total)}; longest quiet stretch ${duration(quiet.to - quiet.from)} (from ${clockTime(quiet.from)})`,
      top
        ? `no wait dominated: the largest, ${top.verdict}, took ${shareText(top.spentMs, total)} (a cause takes at least ${duration(slowPhaseMs)} and ${Math.round(dominantShare * 100)} %)`
        : 'no wait: the turn was at work throughout',
      ...(work ? [work] : []),
      ...(account.toolWorkMs > 0 ? [`tools ran ${shareText(account.toolWorkMs, total)}: work, not a wait (they returned and the turn went on)`] : []),
      ...interrupted,
    ],
  };
}

function contextLines(scene: TurnScene): string[] {
  const lines: string[] = [];
  for (const t of scene.tools) {
    const session = t.span.attributes[ATTR_TOOL_BACKGROUND_SESSION];
    if (t.end !== undefined && typeof session === 'string') {
      lines.push(`${toolText(t)} returned at ${clockTime(t.end)} with its process still running in the background (session ${session}); not what the turn waits on`);
    }
    if (!t.background) continue;
    lines.push(`${toolText(t)} still running in the background since ${clockTime(t.start)}: it was handed back to the model, which went on at ${clockTime(t.movedOnAt!)}; not what the turn waits on`);
  }
  if (scene.turnError) lines.push(`the server reported: ${scene.turnError}`);
  for (const c of scene.cancels) {
    const result = c.span.attributes[ATTR_CANCEL_RESULT];
    lines.push(`stop requested at ${clockTime(c.start)}: ${c.end === undefined ? 'no result yet' : `result ${typeof result === 'string' ? result : 'unrecorded'}`}`);
  }
  if (!scene.turnSpan) lines.push('the turn span itself was not recorded (evicted, or the recording began mid-turn): its start and end are inferred');
  return lines;
}

/** Why the writer of a turn's sources is known to have stopped, and when; undefined while it may still write. */
export interface WriterGone {
  readonly atMs: number;
  readonly text: string;
}

function stopText(stop: RecordedSpan): string {
  const a = stop.attributes;
  const pid = typeof a[ATTR_PROCESS_PID] === 'number' ? ` ${a[ATTR_PROCESS_PID]}` : '';
  switch (a[ATTR_WRITER_STOP_REASON]) {
    case WRITER_STOP_REASON_SERVER_EXIT: {
      const code = a[ATTR_PROCESS_EXIT_CODE];
      const signal = a[ATTR_PROCESS_SIGNAL];
      const how = typeof signal === 'string' ? `killed by ${signal}` : typeof code === 'number' ? `exit code ${code}` : 'exited';
      return `the wrapped server${pid} exited at ${clockTime(stop.startTimeMs)} (${how})`;
    }
    case WRITER_STOP_REASON_SHUTDOWN:
      return `the flight recorder${pid ? ` of process${pid}` : ''} was shut down at ${clockTime(stop.startTimeMs)}`;
    case WRITER_STOP_REASON_PROCESS_GONE:
      return `the process${pid} that wrote the recording no longer runs (its last record at ${clockTime(stop.startTimeMs)})`;
    default:
      return `the writer stopped at ${clockTime(stop.startTimeMs)}`;
  }
}

/**
 * Whether what wrote an open turn is gone: a stop recorded in one of its sources after the turn began,
 * or its sources not written for `abandonedAfterMs`.
 */
export function writerGone(turn: TurnTimeline, startMs: number, context: JudgeContext): WriterGone | undefined {
  if (!context.writers) return undefined;
  let lastWriteMs = -Infinity;
  let stop: RecordedSpan | undefined;
  for (const source of [...turn.sources, ANONYMOUS_SOURCE]) {
    const writer = context.writers.get(source);
    if (!writer) continue;
    lastWriteMs = Math.max(lastWriteMs, writer.lastWriteMs);
    for (const s of writer.stops) {
      if (s.startTimeMs >= startMs && s.startTimeMs <= context.now && (!stop || s.startTimeMs < stop.startTimeMs)) stop = s;
    }
  }
  if (stop) return { atMs: stop.startTimeMs, text: stopText(stop) };
  if (Number.isFinite(lastWriteMs) && context.now - lastWriteMs >= context.thresholds.abandonedAfterMs) {
    return {
      atMs: lastWriteMs,
      text: `its source was last written at ${isoTime(lastWriteMs).replace('T', ' ').slice(0, 19)}Z, ${duration(context.now - lastWriteMs)} before the judged moment (abandoned after ${duration(context.thresholds.abandonedAfterMs)}): the writer is presumed gone`,
    };
  }
  return undefined;
}

/** The report entry of one turn at the judged moment; without its waterfall (`phases` empty) when `bars` is false. */
export function judgeTurn(turn: TurnTimeline, thread: ThreadTimeline, context: JudgeContext, bars = true): TurnReport {
  const sceneAt = (at: number, replay = true, window = true): TurnScene =>
    turnScene(turn, thread, context.globalRenderer, { at, now: context.now, thresholds: context.thresholds, sight: context.sight, replay, window });
  let scene = sceneAt(context.now, false);
  const ended = scene.endMs !== undefined;
  const gone = ended ? undefined : writerGone(turn, scene.startMs, context);
  // An abandoned turn is judged as it stood when its writer stopped (in the past tense), whole: its waterfall shows every phase.
  if (gone) scene = sceneAt(Math.max(scene.startMs, Math.min(context.now, gone.atMs)), true, false);
  let finding = ended ? judgeEnded(scene, sceneAt) : judgeOpen(scene, gone !== undefined);
  let status: TurnState;
  if (ended) status = scene.endStatus!;
  else if (gone) status = TURN_STATE_ABANDONED;
  else status = context.now - scene.lastActivityMs >= context.thresholds.stuckAfterMs ? TURN_STATE_STUCK : TURN_STATE_IN_PROGRESS;
  if (gone) {
    finding = {
      ...finding,
      confidence: Math.round(finding.confidence * 0.8 * 100) / 100,
      evidence: [`the turn never ended: ${gone.text}; it was left waiting:`, ...finding.evidence],
    };
  }
  const service = serviceNameOf([turn.turnSpan, ...turn.spans.values()]);
  const spawn = spawnOf(turn.turnSpan);
  const waitingOnSubAgents = !ended && finding.verdict === VERDICT_TOOL_RUNNING && scene.tools.some((t) => t.end === undefined && !t.background && SUB_AGENT_WAITS.has(t.toolName ?? ''));
  return {
    threadId: turn.threadId,
    turnId: turn.turnId,
    ...(service === undefined ? {} : { service }),
    status,
    verdict: finding.verdict,
    confidence: finding.confidence,
    startedAt: isoTime(scene.startMs),
    lastActivityAt: isoTime(scene.lastActivityMs),
    stuckForMs: ended || gone ? null : Math.max(0, Math.round(context.now - scene.lastActivityMs)),
    evidence: [
      ...finding.evidence,
      ...contextLines(scene),
      // The turn before is looked up only for an ACP prompt that ended empty: a scan of the thread's turns.
      ...(ended ? acpQuirkLines(scene, () => previousTurnOf(thread, turn, scene.startMs)) : []),
      ...sourceLimits(scene, finding.verdict),
    ],
    endedAt: ended ? isoTime(scene.endMs!) : null,
    sources: [...turn.sources].sort(),
    phases: bars ? phaseBars(scene) : [],
    ...spawn,
    ...(waitingOnSubAgents ? { waitingOnSubAgents } : {}),
  };
}

/** Codex's tools that wait for the sub-agents a turn spawned. */
const SUB_AGENT_WAITS: ReadonlySet<string> = new Set(['wait_agent']);

/** A sub-agent turn's parent thread and name, from its turn span. */
function spawnOf(turnSpan: RecordedSpan | undefined): { parentThreadId?: string; agentName?: string } {
  const parent = turnSpan?.attributes[ATTR_THREAD_PARENT_ID];
  if (typeof parent !== 'string') return {};
  const name = turnSpan!.attributes[ATTR_AGENT_NAME];
  return typeof name === 'string' ? { parentThreadId: parent, agentName: name } : { parentThreadId: parent };
}
