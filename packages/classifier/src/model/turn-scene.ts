/**
 * A turn as it stood at one moment: what had started by then, what was still open, what ended.
 * The rules read scenes, so the same rule judges a live turn (the moment is "now") and replays an
 * ended one (the moment is the end of its longest quiet stretch).
 */
import {
  ATTR_ERROR_TYPE,
  ATTR_GEN_AI_TOOL_CALL_ID,
  ATTR_GEN_AI_TOOL_NAME,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_RETRY_DELAY_MS,
  ATTR_ITEM_ID,
  ATTR_ITEM_TYPE,
  ATTR_RENDERER_ID,
  ATTR_SOURCE,
  ATTR_TOOL_APPROVAL_EXPECTED,
  ATTR_TOOL_KIND,
  ATTR_TURN_ERROR,
  ATTR_TURN_STATUS,
  ATTR_UPSTREAM_ATTEMPT,
  ATTR_UPSTREAM_CONTINUATION,
  PHASE_APPROVAL,
  PHASE_CANCEL,
  PHASE_COMPACTION,
  PHASE_CONTINUATION_REQUESTED,
  PHASE_FIRST_TOOL_ITEM,
  PHASE_ITEM,
  PHASE_RENDERER_ATTACHED,
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
  SOURCE_ACP,
  SOURCE_CODEX_OTEL,
  SOURCE_CODEX_OTEL_LOGS,
  SOURCE_ROLLOUT,
  TOOL_KIND_HOOK,
  TURN_END_STATUS_COMPLETED,
  TURN_END_STATUS_FAILED,
  TURN_END_STATUSES,
  type TurnEndStatus,
} from '@stall-why/conventions';
import { reconcileCodexPhases } from './codex-phase-reconciler.js';
import type { RecordedSpan } from '@stall-why/flight-record';
import type { Thresholds } from '../thresholds.js';
import { ATTEMPT_MILESTONES, OUTPUT_POINTS, isCompactionItemType, isModelOutputItemType, isToolItemType } from './phase-groups.js';
import type { Sight, ThreadTimeline, TurnTimeline } from './timeline.js';

/** A phase as it stood at the scene's moment. */
export interface PhaseView {
  readonly span: RecordedSpan;
  readonly start: number;
  /** When it ended; undefined while it was open at the scene's moment. */
  readonly end: number | undefined;
}

export interface AttemptView extends PhaseView {
  readonly number: number;
  readonly continuation: boolean;
  readonly requestSent?: number;
  readonly headers?: number;
  readonly statusCode?: number;
  /** The delay an error response asked for (Retry-After), as recorded on its headers milestone. */
  readonly retryAfterMs?: number;
  readonly firstByte?: number;
  readonly firstEvent?: number;
  readonly streamEnd?: number;
  readonly streamError?: number;
  readonly errorType?: string;
  /** Ended without a normal stream end (an error, a broken stream, an HTTP error status), or was retried. */
  readonly failed: boolean;
  /** The last milestone reached, and when. */
  readonly lastMilestone: { readonly name: string; readonly at: number };
}

export interface ToolView extends PhaseView {
  readonly toolName?: string;
  readonly callId?: string;
  /** The source says this call needs a person's approval (a rollout infers it from the policy). */
  readonly approvalExpected: boolean;
  /** A hook run (ATTR_TOOL_KIND hook): the turn waits for it, but its end is no tool result. */
  readonly hook: boolean;
  /**
   * Still open, but the model went on after it started (a request, a continuation, its output): the
   * call was handed back and the process it started runs in the background (Codex's `exec_command`
   * past its yield time, polled later with `write_stdin`). It is not what the turn waits on.
   */
  readonly background: boolean;
  /** When the model went on after this call started, if it did by the scene's moment. */
  readonly movedOnAt: number | undefined;
}

export interface RendererView {
  /** Renderer phases exist for this thread or globally. */
  readonly seen: boolean;
  /** Renderers attached at the scene's moment. */
  readonly attached: number;
  /** The last detach at or before the moment, when the last renderer left. */
  readonly lastDetach?: PhaseView;
  /** The first attach after the moment (up to the judged moment): the renderer came back. */
  readonly nextAttachMs?: number;
}

export interface TurnScene {
  readonly at: number;
  /**
   * A replay of an ended turn at one of its quiet stretches (not the judged moment). A replay may
   * hold only the phases the wait rules can look at then (see `turnScene`): what is open, and
   * what started or ended since the last tool result.
   */
  readonly replay: boolean;
  /** The moment the whole report is judged at (≥ at). */
  readonly now: number;
  readonly thresholds: Thresholds;
  readonly sight: Sight;
  /** Every span of the turn came from a Codex rollout. */
  readonly rolloutOnly: boolean;
  /**
   * Every span of the turn came from Codex's own telemetry (its log events and spans): it logs a
   * model request only at its response headers, exports a span only once it ends, and marks no turn
   * end until its turn span is exported.
   */
  readonly codexTelemetryOnly: boolean;
  /**
   * Every span of the turn came from the ACP observer (`stall-why record` on an ACP agent without
   * `--upstream`): the prompt, its updates and answer, no model request. ACP agents send nothing
   * while their upstream stalls, retries or backs off.
   */
  readonly acpOnly: boolean;
  /** Upstream attempts of this turn would have been recorded (the input has them, the turn is not rollout-only). */
  readonly seesUpstream: boolean;
  /** Approval requests of this turn would have been recorded. */
  readonly seesApprovals: boolean;
  readonly threadId: string | null;
  readonly turnId: string | null;
  readonly turnSpan: RecordedSpan | undefined;
  readonly startMs: number;
  /** When the turn ended, if it had by the moment. */
  readonly endMs: number | undefined;
  readonly endStatus: TurnEndStatus | undefined;
  readonly turnError: string | undefined;
  /** The last phase boundary at or before the moment. */
  readonly lastActivityMs: number;
  /** When the turn's first model output began (an output item or point), if it had by the moment. */
  readonly firstOutputMs: number | undefined;
  /** Some span of the turn was recorded while open: the source shows what is open (see `TurnTimeline.recordsOpen`). */
  readonly recordsOpen: boolean;
  /** Every phase of the turn (not the turn span), in start order. */
  readonly phases: readonly PhaseView[];
  readonly attempts: readonly AttemptView[];
  readonly retries: readonly PhaseView[];
  readonly tools: readonly ToolView[];
  readonly continuations: readonly PhaseView[];
  /** Model output: output items and first-item points. */
  readonly outputs: readonly PhaseView[];
  readonly compactions: readonly PhaseView[];
  readonly approvals: readonly PhaseView[];
  /** Thread hydrations that overlap the turn up to the moment. */
  readonly hydrations: readonly PhaseView[];
  readonly cancels: readonly PhaseView[];
  readonly errors: readonly PhaseView[];
  readonly renderer: RendererView;
  readonly droppedSpans: number;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : typeof v === 'number' ? String(v) : undefined);

function view(span: RecordedSpan, at: number): PhaseView {
  const end = span.endTimeMs !== undefined && span.endTimeMs <= at ? Math.max(span.endTimeMs, span.startTimeMs) : undefined;
  return { span, start: span.startTimeMs, end };
}

/** The turn's status as its turn span says: undefined while open at the moment. */
function endStatusOf(turnSpan: RecordedSpan | undefined, at: number): TurnEndStatus | undefined {
  if (!turnSpan || turnSpan.endTimeMs === undefined || turnSpan.endTimeMs > at) return undefined;
  const status = turnSpan.attributes[ATTR_TURN_STATUS];
  if (typeof status === 'string' && (TURN_END_STATUSES as readonly string[]).includes(status)) return status as TurnEndStatus;
  return turnSpan.status?.code === 2 ? TURN_END_STATUS_FAILED : TURN_END_STATUS_COMPLETED;
}

/**
 * What a scene needs of a turn's spans that does not depend on the moment: the spans in start order,
 * each item's kind, each tool's names, each milestone's candidate attempts. A turn is replayed at many
 * moments (every quiet stretch of an ended turn), so this is worked out once per turn, not per scene;
 * it is recomputed when the turn's spans change.
 */
interface TurnStatics {
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

/** The milestones of an attempt, in protocol order: a milestone's place among them is `SpanInfo.milestone`. */
const MILESTONE_ORDER = [
  PHASE_UPSTREAM_REQUEST_SENT,
  PHASE_UPSTREAM_HEADERS,
  PHASE_UPSTREAM_FIRST_BYTE,
  PHASE_UPSTREAM_FIRST_EVENT,
  PHASE_UPSTREAM_STREAM_END,
  PHASE_UPSTREAM_STREAM_ERROR,
] as const;
const [REQUEST_SENT, HEADERS, FIRST_BYTE, FIRST_EVENT, STREAM_END, STREAM_ERROR] = [0, 1, 2, 3, 4, 5] as const;

/** Which of a scene's lists a phase goes to besides `phases`, tools, outputs and compactions (at most one of these). */
const enum Group {
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

interface SpanInfo {
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

function turnStatics(turn: TurnTimeline): TurnStatics {
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
      movedOnAt: span.name === PHASE_TOOL_CALL || toolItem ? firstAfter(modelMoves, span.startTimeMs) : Infinity,
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
 * The spans in start order, stably: a turn's spans mostly come in that order already (the sort is
 * then skipped: it showed in profiles of a 1 GB OTLP input, issue 14).
 */
function inStartOrder(spans: RecordedSpan[]): RecordedSpan[] {
  for (let k = 1; k < spans.length; k++) {
    if (!(spans[k - 1]!.startTimeMs <= spans[k]!.startTimeMs)) return spans.sort((a, b) => a.startTimeMs - b.startTimeMs);
  }
  return spans;
}

/** Shifts an insertion sort may make per value before the typed array's own sort takes over. */
const INSERTION_SHIFTS_PER_VALUE = 8;

/**
 * Sorts numbers ascending in place, as `Float64Array.prototype.sort` does: a turn's boundaries are
 * nearly in order (each end near its start), and an insertion sort of them is linear; values far
 * from their place, or NaN, are left to the typed array's sort.
 */
function ascending(values: Float64Array): Float64Array {
  let budget = values.length * INSERTION_SHIFTS_PER_VALUE;
  for (let k = 1; k < values.length; k++) {
    const v = values[k]!;
    if (v !== v) return values.sort();
    let j = k - 1;
    while (j >= 0 && values[j]! > v) {
      values[j + 1] = values[j]!;
      j--;
      if (--budget < 0) {
        values[j + 1] = v;
        return values.sort();
      }
    }
    values[j + 1] = v;
  }
  return values;
}

function startsOf(sorted: readonly RecordedSpan[]): Float64Array {
  const starts = new Float64Array(sorted.length);
  for (let k = 0; k < sorted.length; k++) starts[k] = sorted[k]!.startTimeMs;
  return starts;
}

/**
 * In an ascending array, the index of the first value above `at` (`strict`: at or above it); the
 * length when there is none. The one binary search the scene's lookups share.
 */
function upperBound(values: Float64Array, at: number, strict = false): number {
  let lo = 0;
  let hi = values.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (strict ? values[mid]! < at : values[mid]! <= at) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The first value of an ascending array greater than `at`, or Infinity. */
const firstAfter = (values: Float64Array, at: number): number => values[upperBound(values, at)] ?? Infinity;

/** The largest value of an ascending array that is at most `at`, or undefined. */
const lastAtMost = (values: Float64Array, at: number): number | undefined => values[upperBound(values, at) - 1];

/**
 * The indices of the spans in a replay's window, in start order: spans from before the horizon that
 * were still open at it (with the milestones of such attempts), then every span started since.
 */
function windowIndices(st: TurnStatics, at: number, horizon: number): number[] {
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

/** The error type or text of the first error phase that has one. */
function firstErrorText(errors: readonly PhaseView[]): string | undefined {
  for (const e of errors) {
    const text = str(e.span.attributes[ATTR_ERROR_TYPE]) ?? str(e.span.attributes[ATTR_TURN_ERROR]);
    if (text !== undefined) return text;
  }
  return undefined;
}

/** Adds the span `k` of the turn to a scene at `at`, with its view then. */
function addPhase(st: TurnStatics, k: number, at: number, phases: PhaseView[], phaseInfos: SpanInfo[]): void {
  const s = st.sorted[k]!;
  const i = st.infos[k]!;
  phases.push(s.endTimeMs !== undefined && s.endTimeMs <= at ? i.endedView! : i.openView);
  phaseInfos.push(i);
}

/** Which observers saw a turn: every one of its `stall_why.source` values is of the kind. */
interface SourceKinds {
  readonly size: number;
  readonly rollout: boolean;
  readonly codexTelemetry: boolean;
  readonly acp: boolean;
}

const sourceCache = new WeakMap<Set<string>, SourceKinds>();

/** What the turn's source names (`stall_why.source` values) say, worked out again only when one is added. */
function sourceKinds(turn: TurnTimeline): SourceKinds {
  const cached = sourceCache.get(turn.sourceNames);
  if (cached && cached.size === turn.sourceNames.size) return cached;
  const names = [...turn.sourceNames];
  const all = (kind: (name: string) => boolean): boolean => names.length > 0 && names.every(kind);
  const kinds: SourceKinds = {
    size: names.length,
    rollout: all((s) => s === SOURCE_ROLLOUT),
    codexTelemetry: all((s) => s === SOURCE_CODEX_OTEL || s === SOURCE_CODEX_OTEL_LOGS),
    acp: all((s) => s === SOURCE_ACP),
  };
  sourceCache.set(turn.sourceNames, kinds);
  return kinds;
}

/**
 * Builds the scene of a turn at moment `at` (the judged moment for a live view). With `replay`, the
 * scene holds only what the wait rules can look at then: phases open at `at`, and phases that started
 * or ended at or after the last tool result before it (the rules look back no further: a request
 * chain begins at the last completed step, a continuation follows the last result). A turn with
 * thousands of boundaries is then replayed at every one of them in about linear time, and the wait of
 * each stretch is the one the whole scene would give (`test/replay-window.test.ts` checks it).
 */
export function turnScene(
  turn: TurnTimeline,
  thread: ThreadTimeline,
  globalRenderer: readonly RecordedSpan[],
  context: { at: number; now: number; thresholds: Thresholds; sight: Sight; replay?: boolean; window?: boolean },
): TurnScene {
  const { at } = context;
  const st = turnStatics(turn);
  const { sorted } = st;
  // A replay holds only its window unless told otherwise (the test that checks the window against the whole scene).
  const horizon = context.replay && context.window !== false ? (lastAtMost(st.toolEnds, at) ?? -Infinity) : -Infinity;
  // Views are shared by every scene of the turn (read-only): a replay allocates arrays, not views.
  const phases: PhaseView[] = [];
  const phaseInfos: SpanInfo[] = [];
  if (horizon === -Infinity) {
    for (let k = 0; k < sorted.length && sorted[k]!.startTimeMs <= at; k++) addPhase(st, k, at, phases, phaseInfos);
  } else {
    for (const k of windowIndices(st, at, horizon)) addPhase(st, k, at, phases, phaseInfos);
  }
  const attempts = attemptViews(phases, phaseInfos, at, st.attempts);
  const tools: ToolView[] = [];
  const outputs: PhaseView[] = [];
  const compactions: PhaseView[] = [];
  const retries: PhaseView[] = [];
  const continuationPoints: PhaseView[] = [];
  const approvals: PhaseView[] = [];
  const cancels: PhaseView[] = [];
  const errors: PhaseView[] = [];
  // By `Group`, in its order (None has no list).
  const groups = [undefined, retries, continuationPoints, approvals, cancels, errors];
  for (let k = 0; k < phases.length; k++) {
    const p = phases[k]!;
    const i = phaseInfos[k]!;
    if (i.toolCall || (i.toolItem && i.sameCallStart > at)) tools.push(toolView(p, i, at));
    if (i.compaction) compactions.push(p);
    if (i.output) outputs.push(p);
    if (i.group !== Group.None) groups[i.group]!.push(p);
  }
  tools.sort((a, b) => a.start - b.start);
  const turnSpan = turn.turnSpan && turn.turnSpan.startTimeMs <= at ? turn.turnSpan : undefined;
  const endStatus = endStatusOf(turnSpan, at);
  const startMs = Math.min(turnSpan?.startTimeMs ?? Infinity, turn.firstMs);
  const endMs = endStatus !== undefined ? turnSpan!.endTimeMs : undefined;
  const hydrations: PhaseView[] = [];
  for (const h of thread.hydrations.values()) {
    if (h.startTimeMs <= at && (h.endTimeMs === undefined || h.endTimeMs >= startMs) && h.startTimeMs <= (endMs ?? at)) hydrations.push(view(h, at));
  }
  let lastActivityMs = Math.max(startMs, lastAtMost(st.boundaries, at) ?? -Infinity);
  if (endMs !== undefined) lastActivityMs = Math.max(lastActivityMs, endMs);
  for (const h of hydrations) lastActivityMs = Math.max(lastActivityMs, Math.min(h.end ?? h.start, endMs ?? at));
  const sources = sourceKinds(turn);
  const errorText = turnSpan?.attributes[ATTR_TURN_ERROR] ?? firstErrorText(errors);
  const rolloutOnly = sources.rollout || st.allRollout;
  const codexTelemetryOnly = sources.codexTelemetry;
  const acpOnly = sources.acp;
  return {
    at,
    replay: context.replay === true,
    now: context.now,
    thresholds: context.thresholds,
    sight: context.sight,
    rolloutOnly,
    codexTelemetryOnly,
    acpOnly,
    // While a turn of Codex's telemetry is open, a request waiting for its headers is not seen.
    seesUpstream: context.sight.upstream && !rolloutOnly && !(codexTelemetryOnly && endStatus === undefined),
    seesApprovals: context.sight.approvals && !rolloutOnly,
    threadId: turn.threadId,
    turnId: turn.turnId,
    turnSpan,
    startMs,
    endMs,
    endStatus,
    turnError: str(errorText),
    lastActivityMs,
    firstOutputMs: st.firstOutputMs <= at ? st.firstOutputMs : undefined,
    recordsOpen: turn.recordsOpen,
    phases,
    attempts,
    retries,
    tools,
    continuations: continuationsOf(continuationPoints, attempts),
    outputs,
    compactions,
    approvals,
    hydrations,
    cancels,
    errors,
    // An ended turn's renderer is judged as it stood when the turn ended.
    renderer: rendererView(thread, globalRenderer, endMs ?? at, context.now, startMs),
    droppedSpans: turn.droppedSpans,
  };
}

/** Continuation points and continuation attempts, in start order. */
function continuationsOf(points: PhaseView[], attempts: readonly AttemptView[]): readonly PhaseView[] {
  for (const a of attempts) if (a.continuation) points.push(a);
  return points.length > 1 ? points.sort((a, b) => a.start - b.start) : points;
}

/** The last phase of a list (in its order) still open at the scene's moment: a loop, not a filtered copy per replayed stretch. */
export function lastOpen<P extends PhaseView>(phases: readonly P[]): P | undefined {
  for (let k = phases.length - 1; k >= 0; k--) if (phases[k]!.end === undefined) return phases[k];
  return undefined;
}

/** How the turn before another one in its thread ended (the latest turn span ended at or before its start). */
export interface PreviousTurn {
  readonly endStatus: TurnEndStatus;
  readonly endMs: number;
}

/** The turn of `thread` that ended last at or before `startMs`, other than `turn`, by its turn span. */
export function previousTurnOf(thread: ThreadTimeline, turn: TurnTimeline, startMs: number): PreviousTurn | undefined {
  let found: PreviousTurn | undefined;
  for (const other of thread.turns.values()) {
    const end = other.turnSpan?.endTimeMs;
    if (other === turn || end === undefined || end > startMs || (found && found.endMs >= end)) continue;
    found = { endStatus: endStatusOf(other.turnSpan, end)!, endMs: end };
  }
  return found;
}

function toolView(p: PhaseView, i: SpanInfo, at: number): ToolView {
  const movedOnAt = i.movedOnAt <= at ? i.movedOnAt : undefined;
  const background = p.end === undefined && !i.hook && movedOnAt !== undefined;
  return { span: p.span, start: p.start, end: p.end, toolName: i.toolName, callId: i.callId, approvalExpected: i.approvalExpected, hook: i.hook, background, movedOnAt };
}

// Milestones are point phases under their attempt (parent link); without links, a milestone belongs
// to the latest attempt that started at or before it. Of several attempts with the parent's span id,
// the last started by the moment.
function attemptViews(phases: readonly PhaseView[], infos: readonly SpanInfo[], at: number, turnAttempts: readonly RecordedSpan[]): AttemptView[] {
  const attemptPhases: PhaseView[] = [];
  const attemptInfos: SpanInfo[] = [];
  // Each of the turn's attempts' place in this scene's (-1: not in it).
  let placeOf: number[] | undefined;
  for (let k = 0; k < phases.length; k++) {
    const i = infos[k]!;
    if (!i.attempt) continue;
    // A plain array: a typed array's buffer costs more to make than this few places.
    placeOf ??= new Array<number>(turnAttempts.length).fill(-1);
    placeOf[i.attemptIndex - 1] = attemptPhases.length;
    attemptPhases.push(phases[k]!);
    attemptInfos.push(i);
  }
  if (placeOf === undefined) return [];
  // Per attempt, the first milestone of each name (in start order), flat: attempt place × MILESTONE_ORDER.
  const marks: (PhaseView | undefined)[] = new Array(attemptPhases.length * MILESTONE_ORDER.length).fill(undefined);
  for (let k = 0; k < phases.length; k++) {
    const i = infos[k]!;
    if (i.milestone < 0) continue;
    let owner = -1;
    for (const n of i.parentAttemptNos) if (turnAttempts[n]!.startTimeMs <= at) owner = n;
    if (owner < 0) owner = i.previousAttemptNo;
    const place = owner < 0 ? -1 : placeOf[owner]!;
    if (place < 0) continue;
    const slot = place * MILESTONE_ORDER.length + i.milestone;
    marks[slot] ??= phases[k]!;
  }
  return attemptPhases.map((a, index): AttemptView => {
    const first = index * MILESTONE_ORDER.length;
    const requestSent = marks[first + REQUEST_SENT]?.start;
    const headersMark = marks[first + HEADERS];
    const headers = headersMark?.start;
    const retryAfter = headersMark?.span.attributes[ATTR_RETRY_DELAY_MS];
    const firstByte = marks[first + FIRST_BYTE]?.start;
    const firstEvent = marks[first + FIRST_EVENT]?.start;
    const streamEnd = marks[first + STREAM_END]?.start;
    const streamErrorMark = marks[first + STREAM_ERROR];
    const streamError = streamErrorMark?.start;
    const attrs = a.span.attributes;
    const statusCode = typeof attrs[ATTR_HTTP_RESPONSE_STATUS_CODE] === 'number' ? (attrs[ATTR_HTTP_RESPONSE_STATUS_CODE] as number) : undefined;
    const errorType = str(attrs[ATTR_ERROR_TYPE]) ?? str(streamErrorMark?.span.attributes[ATTR_ERROR_TYPE]);
    const ended = a.end !== undefined;
    const info = attemptInfos[index]!;
    // An attempt that ended and was followed by a retry announcement (before the next attempt began)
    // failed, whatever its status line said: Codex 0.169 retries a `response.failed` that came in an
    // HTTP 200 stream, and the proxy announces a repeated request as a retry of the one before it.
    const retried = ended && info.firstRetryFrom <= Math.min(info.nextAttemptStart, at);
    const failed =
      retried ||
      streamError !== undefined ||
      (ended && (a.span.status?.code === 2 || (statusCode !== undefined && statusCode >= 400) || (streamEnd === undefined && errorType !== undefined)));
    // The last milestone reached by the moment, in protocol order.
    let lastName = PHASE_UPSTREAM_ATTEMPT;
    let lastAt = a.start;
    if (requestSent !== undefined && requestSent <= at && requestSent >= lastAt) [lastName, lastAt] = [PHASE_UPSTREAM_REQUEST_SENT, requestSent];
    if (headers !== undefined && headers <= at && headers >= lastAt) [lastName, lastAt] = [PHASE_UPSTREAM_HEADERS, headers];
    if (firstByte !== undefined && firstByte <= at && firstByte >= lastAt) [lastName, lastAt] = [PHASE_UPSTREAM_FIRST_BYTE, firstByte];
    if (firstEvent !== undefined && firstEvent <= at && firstEvent >= lastAt) [lastName, lastAt] = [PHASE_UPSTREAM_FIRST_EVENT, firstEvent];
    const attemptNumber = typeof attrs[ATTR_UPSTREAM_ATTEMPT] === 'number' ? (attrs[ATTR_UPSTREAM_ATTEMPT] as number) : info.attemptIndex;
    return {
      span: a.span,
      start: a.start,
      end: a.end,
      number: attemptNumber,
      continuation: attrs[ATTR_UPSTREAM_CONTINUATION] === true,
      requestSent,
      headers,
      statusCode,
      retryAfterMs: typeof retryAfter === 'number' ? retryAfter : undefined,
      firstByte,
      firstEvent,
      streamEnd,
      streamError,
      errorType,
      failed,
      lastMilestone: { name: lastName, at: lastAt },
    };
  });
}

const rendererCache = new WeakMap<ThreadTimeline, { size: number; global: readonly RecordedSpan[]; sorted: readonly RecordedSpan[] }>();

/** The thread's renderer points and the global ones, in time order: sorted once per thread, not per replay. */
function rendererPoints(thread: ThreadTimeline, global: readonly RecordedSpan[]): readonly RecordedSpan[] {
  const cached = rendererCache.get(thread);
  if (cached && cached.size === thread.renderer.size && cached.global === global) return cached.sorted;
  const sorted = [...thread.renderer.values(), ...global].sort((a, b) => a.startTimeMs - b.startTimeMs);
  rendererCache.set(thread, { size: thread.renderer.size, global, sorted });
  return sorted;
}

/** A thread with no renderer phases: shared by its scenes (read-only). */
const NO_RENDERER: RendererView = Object.freeze({ seen: false, attached: 0 });

function rendererView(thread: ThreadTimeline, global: readonly RecordedSpan[], at: number, now: number, turnStart: number): RendererView {
  const sorted = rendererPoints(thread, global);
  if (sorted.length === 0) return NO_RENDERER;
  const attached = new Set<string>();
  let lastDetach: PhaseView | undefined;
  let anonymous = 0;
  for (const p of sorted) {
    if (p.startTimeMs > at) break;
    const id = str(p.attributes[ATTR_RENDERER_ID]);
    if (p.name === PHASE_RENDERER_ATTACHED) {
      if (id) attached.add(id);
      else anonymous++;
    } else {
      if (id && attached.has(id)) attached.delete(id);
      else if (anonymous > 0) anonymous--;
      // A detach of a renderer attached before the recording began: it was attached until now.
      if (attached.size + anonymous === 0) lastDetach = view(p, at);
    }
  }
  const count = attached.size + anonymous;
  const nextAttach = sorted.find((p) => p.name === PHASE_RENDERER_ATTACHED && p.startTimeMs > at && p.startTimeMs <= now);
  // A renderer that left before the turn began did not leave this turn (someone started it).
  const leftThisTurn = lastDetach !== undefined && lastDetach.start >= turnStart;
  return { seen: true, attached: count, lastDetach: count === 0 && leftThisTurn ? lastDetach : undefined, nextAttachMs: nextAttach?.startTimeMs };
}

