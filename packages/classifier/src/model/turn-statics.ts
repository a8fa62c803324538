/**
 * What the scenes of a turn share, whatever their moment: its spans in start order and what each one
 * is (worked out once per turn version), and which of them a replay's window holds.
 */
import {
  ATTR_GEN_AI_TOOL_CALL_ID,
  ATTR_GEN_AI_TOOL_NAME,
  ATTR_ITEM_ID,
  ATTR_ITEM_TYPE,
  ATTR_SOURCE,
  ATTR_TOOL_APPROVAL_EXPECTED,
  ATTR_TOOL_KIND,
  PHASE_APPROVAL,
  PHASE_CANCEL,
  PHASE_COMPACTION,
  PHASE_CONTINUATION_REQUESTED,
  PHASE_FIRST_TOOL_ITEM,
  PHASE_ITEM,
  PHASE_TOOL_CALL,
  PHASE_TURN_ERROR,
  PHASE_UPSTREAM_ATTEMPT,
  PHASE_UPSTREAM_FIRST_BYTE,
  PHASE_UPSTREAM_FIRST_EVENT,
  PHASE_UPSTREAM_HEADERS,
  PHASE_UPSTREAM_REQUEST_SENT,
  PHASE_UPSTREAM_RETRY,
  PHASE_UPSTREAM_STREAM_END,
  PHASE_UPSTREAM_STREAM_ERROR,
  PHASE_UPSTREAM_STREAM_PROGRESS,
  SOURCE_ROLLOUT,
  TOOL_KIND_HOOK,
} from '@stall-why/conventions';
import type { RecordedSpan } from '@stall-why/flight-record';
import { reconcileCodexPhases } from './codex-phase-reconciler.js';
import { ATTEMPT_MILESTONES, OUTPUT_POINTS, isCompactionItemType, isModelOutputItemType, isToolItemType } from './phase-groups.js';
import { ascending, firstAfter, inStartOrder, startsOf, upperBound } from './sorted-times.js';
import type { TurnTimeline } from './timeline.js';
import type { PhaseView } from './turn-scene.js';

/** Output this close after a call's start is of the same response, not the model going on without it. */
const SAME_RESPONSE_MS = 100;

/** An attribute's text: a non-empty string, or a number as text. */
export const attributeText = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : typeof v === 'number' ? String(v) : undefined);
const str = attributeText;

/**
 * What a scene needs of a turn's spans that does not depend on the moment: the spans in start order,
 * each item's kind, each tool's names, each milestone's candidate attempts. A turn is replayed at many
 * moments (every quiet stretch of an ended turn), so this is worked out once per turn, not per scene;
 * it is recomputed when the turn's spans change.
 */
export interface TurnStatics {
  /** `turn.version` when this was worked out: valid while it is the same. */
  readonly version: number;
  /** The spans in start order (stable: ties keep insertion order). */
  readonly sorted: readonly RecordedSpan[];
  /** What each span of `sorted` is, at the same index. */
  readonly infos: readonly SpanInfo[];
  /** Every start and end of the spans, ascending: the last boundary at a moment is a binary search. */
  readonly boundaries: Float64Array;
  /** Ends of the tool calls whose result goes back to the model (not hooks), ascending: a replay's window starts at the last one. */
  readonly toolEnds: Float64Array;
  /** Earliest start of a model output (item or point). */
  readonly firstOutputMs: number;
  /** Every span came from a Codex rollout. */
  readonly allRollout: boolean;
  /** Start times of `sorted`, for binary search. */
  readonly starts: Float64Array;
  /** Indices (ascending) of the spans with a duration or still open: the only ones a replay window keeps from before its horizon, besides milestones. */
  readonly durables: Int32Array;
  /** Per attempt, the indices of the milestones that may belong to it (by parent id, or as the latest attempt before them). */
  readonly milestonesOf: ReadonlyMap<RecordedSpan, readonly number[]>;
  /** The attempts, in start order: `SpanInfo.attemptIndex` - 1 is an attempt's place here. */
  readonly attempts: readonly RecordedSpan[];
}

/**
 * The milestones of an attempt, in protocol order: a milestone's place among them is `SpanInfo.milestone`.
 * Each is its first of the name, but progress, which is its latest by the scene's moment.
 */
export const MILESTONE_ORDER = [
  PHASE_UPSTREAM_REQUEST_SENT,
  PHASE_UPSTREAM_HEADERS,
  PHASE_UPSTREAM_FIRST_BYTE,
  PHASE_UPSTREAM_FIRST_EVENT,
  PHASE_UPSTREAM_STREAM_END,
  PHASE_UPSTREAM_STREAM_ERROR,
  PHASE_UPSTREAM_STREAM_PROGRESS,
] as const;
export const [REQUEST_SENT, HEADERS, FIRST_BYTE, FIRST_EVENT, STREAM_END, STREAM_ERROR, STREAM_PROGRESS] = [0, 1, 2, 3, 4, 5, 6] as const;

/** Which of a scene's lists a phase goes to besides `phases`, tools, outputs and compactions (at most one of these). */
export const enum Group {
  None,
  Retry,
  Continuation,
  Approval,
  Cancel,
  Error,
}
const GROUP_OF: ReadonlyMap<string, Group> = new Map([
  [PHASE_UPSTREAM_RETRY, Group.Retry],
  [PHASE_CONTINUATION_REQUESTED, Group.Continuation],
  [PHASE_APPROVAL, Group.Approval],
  [PHASE_CANCEL, Group.Cancel],
  [PHASE_TURN_ERROR, Group.Error],
]);

export interface SpanInfo {
  /** The span's views: open (before its end), ended (from its end on; undefined while it has none). */
  readonly openView: PhaseView;
  readonly endedView: PhaseView | undefined;
  readonly compactionItem: boolean;
  readonly toolItem: boolean;
  readonly outputItem: boolean;
  /** Tool calls and tool items: the item id ('' otherwise, and when it has none). */
  readonly itemId: string;
  /** Tool calls and tool items: the names a ToolView carries. */
  readonly toolName: string | undefined;
  readonly callId: string | undefined;
  readonly approvalExpected: boolean;
  /** The source says no person can be asked about this call (its policy never asks). */
  readonly approvalRuledOut: boolean;
  /** Milestones: attempts whose span id is the parent id (start order), and the latest attempt started at or before it. */
  readonly parentAttempts: readonly RecordedSpan[];
  readonly previousAttempt: RecordedSpan | undefined;
  /** The same as places in `TurnStatics.attempts` (-1: none), and the milestone's place in `MILESTONE_ORDER` (-1: no milestone). */
  readonly parentAttemptNos: readonly number[];
  readonly previousAttemptNo: number;
  readonly milestone: number;
  /** An upstream attempt; a tool call; a compaction (span or item); model output (item or point). */
  readonly attempt: boolean;
  readonly toolCall: boolean;
  readonly compaction: boolean;
  readonly output: boolean;
  readonly group: Group;
  /** Attempts: their number by start order (1-based), when the span carries none. */
  readonly attemptIndex: number;
  /** Attempts: when the next attempt started, and the first retry announced at or after this one's start. */
  readonly nextAttemptStart: number;
  readonly firstRetryFrom: number;
  /** Tool items: when a tool call with the same id started (the item then repeats that call), else Infinity. */
  readonly sameCallStart: number;
  /** Tool calls and tool items: a hook run (`ATTR_TOOL_KIND` hook). */
  readonly hook: boolean;
  /** Tool calls and tool items: when the model first went on after the call started (Infinity if it never did). */
  readonly movedOnAt: number;
}

const statics = new WeakMap<TurnTimeline, TurnStatics>();

/** The last turn's statics: an ended turn's scenes are built one after another, and a WeakMap lookup per scene showed in profiles. */
let lastTurn: TurnTimeline | undefined;
let lastStatics: TurnStatics | undefined;

export function turnStatics(turn: TurnTimeline): TurnStatics {
  if (turn === lastTurn && lastStatics!.version === turn.version) return lastStatics!;
  const st = staticsOf(turn);
  lastTurn = turn;
  lastStatics = st;
  return st;
}

function staticsOf(turn: TurnTimeline): TurnStatics {
  const cached = statics.get(turn);
  if (cached && cached.version === turn.version) return cached;
  const sorted = inStartOrder(reconcileCodexPhases([...turn.spans.values()]));
  const attempts = sorted.filter((s) => s.name === PHASE_UPSTREAM_ATTEMPT);
  const retryStarts = sorted.filter((s) => s.name === PHASE_UPSTREAM_RETRY).map((s) => s.startTimeMs);
  const callStarts = new Map<string, number>();
  for (const span of sorted) {
    const id = span.name === PHASE_TOOL_CALL ? str(span.attributes[ATTR_GEN_AI_TOOL_CALL_ID]) : undefined;
    if (id !== undefined && !callStarts.has(id)) callStarts.set(id, span.startTimeMs);
  }
  // When the model did something of its own (a request, a continuation, output that is not a tool call):
  // a tool call still open after the first such moment past its start was handed back (background).
  // Not within SAME_RESPONSE_MS of its start: that output came with the call (a rollout stamps a
  // response's items as it writes them, its reasoning at times after the call's).
  const modelMoves = ascending(new Float64Array(
    sorted
      .filter((s) => {
        if (s.name === PHASE_UPSTREAM_ATTEMPT || s.name === PHASE_CONTINUATION_REQUESTED) return true;
        if (s.name === PHASE_ITEM) {
          const type = str(s.attributes[ATTR_ITEM_TYPE]);
          return isModelOutputItemType(type) && !isToolItemType(type);
        }
        return OUTPUT_POINTS.has(s.name) && s.name !== PHASE_FIRST_TOOL_ITEM;
      })
      .map((s) => s.startTimeMs),
  ));
  const infos: SpanInfo[] = [];
  const durables: number[] = [];
  const milestonesOf = new Map<RecordedSpan, number[]>();
  const boundaries: number[] = [];
  const toolEnds: number[] = [];
  let firstOutputMs = Infinity;
  let allRollout = true;
  let attemptNo = 0;
  for (const span of sorted) {
    const a = span.attributes;
    const toolCall = span.name === PHASE_TOOL_CALL;
    // Only items and tools are read for their type and names: attribute lookups of every span showed in profiles (issue 14).
    const type = toolCall || span.name === PHASE_ITEM ? str(a[ATTR_ITEM_TYPE]) : undefined;
    const milestone = ATTEMPT_MILESTONES.has(span.name);
    const isAttempt = span.name === PHASE_UPSTREAM_ATTEMPT;
    let previousAttemptNo = -1;
    if (milestone) for (let n = 0; n < attempts.length; n++) if (attempts[n]!.startTimeMs <= span.startTimeMs) previousAttemptNo = n;
    const parentAttemptNos: number[] = [];
    if (milestone && span.parentSpanId) for (let n = 0; n < attempts.length; n++) if (attempts[n]!.spanId === span.parentSpanId) parentAttemptNos.push(n);
    const toolItem = span.name === PHASE_ITEM && isToolItemType(type);
    const outputItem = span.name === PHASE_ITEM && isModelOutputItemType(type);
    const tool = toolCall || toolItem;
    const itemId = tool ? (str(a[ATTR_ITEM_ID]) ?? '') : '';
    const hook = tool && a[ATTR_TOOL_KIND] === TOOL_KIND_HOOK;
    const sameCallStart = toolItem ? (callStarts.get(itemId) ?? Infinity) : Infinity;
    if (isAttempt) attemptNo++;
    infos.push({
      openView: { span, start: span.startTimeMs, end: undefined },
      endedView: span.endTimeMs === undefined ? undefined : { span, start: span.startTimeMs, end: Math.max(span.endTimeMs, span.startTimeMs) },
      compactionItem: span.name === PHASE_ITEM && isCompactionItemType(type),
      toolItem,
      outputItem,
      itemId,
      toolName: tool ? (str(a[ATTR_GEN_AI_TOOL_NAME]) ?? type) : undefined,
      callId: tool ? (str(a[ATTR_GEN_AI_TOOL_CALL_ID]) ?? str(a[ATTR_ITEM_ID])) : undefined,
      approvalExpected: tool && a[ATTR_TOOL_APPROVAL_EXPECTED] === true,
      approvalRuledOut: tool && a[ATTR_TOOL_APPROVAL_EXPECTED] === false,
      parentAttempts: parentAttemptNos.map((n) => attempts[n]!),
      previousAttempt: previousAttemptNo < 0 ? undefined : attempts[previousAttemptNo],
      parentAttemptNos,
      previousAttemptNo,
      milestone: milestone ? MILESTONE_ORDER.indexOf(span.name as (typeof MILESTONE_ORDER)[number]) : -1,
      attempt: isAttempt,
      toolCall,
      compaction: span.name === PHASE_COMPACTION || (span.name === PHASE_ITEM && isCompactionItemType(type)),
      output: outputItem || OUTPUT_POINTS.has(span.name),
      group: GROUP_OF.get(span.name) ?? Group.None,
      attemptIndex: attemptNo,
      nextAttemptStart: isAttempt ? (attempts[attemptNo]?.startTimeMs ?? Infinity) : Infinity,
      firstRetryFrom: isAttempt ? (retryStarts.find((r) => r >= span.startTimeMs) ?? Infinity) : Infinity,
      sameCallStart,
      hook,
      movedOnAt: span.name === PHASE_TOOL_CALL || toolItem ? firstAfter(modelMoves, span.startTimeMs + SAME_RESPONSE_MS) : Infinity,
    });
    boundaries.push(span.startTimeMs);
    if (span.endTimeMs !== undefined) boundaries.push(Math.max(span.endTimeMs, span.startTimeMs));
    const k = infos.length - 1;
    if (span.endTimeMs === undefined || span.endTimeMs > span.startTimeMs) durables.push(k);
    if (milestone) {
      const info = infos[k]!;
      for (const owner of [...info.parentAttempts, ...(info.previousAttempt ? [info.previousAttempt] : [])]) {
        const list = milestonesOf.get(owner);
        if (list) list.push(k);
        else milestonesOf.set(owner, [k]);
      }
    }
    // Tool items that repeat a call are left out: the window must start no later than any tool end the rules see.
    if (span.endTimeMs !== undefined && !hook && (span.name === PHASE_TOOL_CALL || (toolItem && sameCallStart === Infinity))) {
      toolEnds.push(Math.max(span.endTimeMs, span.startTimeMs));
    }
    if (outputItem || OUTPUT_POINTS.has(span.name)) firstOutputMs = Math.min(firstOutputMs, span.startTimeMs);
    if (a[ATTR_SOURCE] !== SOURCE_ROLLOUT) allRollout = false;
  }
  const built: TurnStatics = {
    version: turn.version,
    sorted,
    infos,
    boundaries: ascending(new Float64Array(boundaries)),
    toolEnds: ascending(new Float64Array(toolEnds)),
    firstOutputMs,
    allRollout: sorted.length > 0 && allRollout,
    starts: startsOf(sorted),
    durables: Int32Array.from(durables),
    milestonesOf,
    attempts,
  };
  statics.set(turn, built);
  return built;
}

/**
 * The indices of the spans in a replay's window, in start order: spans from before the horizon that
 * were still open at it (with the milestones of such attempts), then every span started since.
 */
export function windowIndices(st: TurnStatics, at: number, horizon: number): number[] {
  const first = upperBound(st.starts, horizon, true);
  const out: number[] = [];
  let milestones = false;
  for (const k of st.durables) {
    if (k >= first) break;
    const s = st.sorted[k]!;
    if (s.endTimeMs !== undefined && s.endTimeMs < horizon) continue;
    out.push(k);
    for (const m of st.milestonesOf.get(s) ?? []) {
      if (m < first) {
        out.push(m);
        milestones = true;
      }
    }
  }
  if (milestones) {
    out.sort((a, b) => a - b);
    // A milestone may be listed under two candidate attempts.
    let w = 0;
    for (let r = 0; r < out.length; r++) if (r === 0 || out[r] !== out[r - 1]) out[w++] = out[r]!;
    out.length = w;
  }
  for (let k = first; k < st.sorted.length && st.sorted[k]!.startTimeMs <= at; k++) out.push(k);
  return out;
}
