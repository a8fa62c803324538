/**
 * A turn as it stood at one moment: what had started by then, what was still open, what ended.
 * The rules read scenes, so the same rule judges a live turn (the moment is "now") and replays an
 * ended one (the moment is the end of its longest quiet stretch).
 */
import {
  ATTR_ERROR_TYPE,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_RETRY_DELAY_MS,
  ATTR_TURN_ERROR,
  ATTR_TURN_STATUS,
  ATTR_UPSTREAM_ATTEMPT,
  ATTR_UPSTREAM_CONTINUATION,
  ATTR_UPSTREAM_EVENTS,
  ATTR_UPSTREAM_STREAM_UNSEEN,
  PHASE_UPSTREAM_ATTEMPT,
  PHASE_UPSTREAM_FIRST_BYTE,
  PHASE_UPSTREAM_FIRST_EVENT,
  PHASE_UPSTREAM_HEADERS,
  PHASE_UPSTREAM_REQUEST_SENT,
  PHASE_UPSTREAM_STREAM_PROGRESS,
  SOURCE_ACP,
  SOURCE_CODEX_OTEL,
  SOURCE_CODEX_OTEL_LOGS,
  SOURCE_ROLLOUT,
  TURN_END_STATUS_COMPLETED,
  TURN_END_STATUS_FAILED,
  TURN_END_STATUSES,
  type TurnEndStatus,
} from '@stall-why/conventions';
import type { RecordedSpan } from '@stall-why/flight-record';
import type { Thresholds } from '../thresholds.js';
import { rendererView } from './renderer-view.js';
import { lastAtMost } from './sorted-times.js';
import { FIRST_BYTE, FIRST_EVENT, Group, HEADERS, MILESTONE_ORDER, REQUEST_SENT, STREAM_END, STREAM_ERROR, STREAM_PROGRESS, attributeText as str, turnStatics, windowIndices, type SpanInfo, type TurnStatics } from './turn-statics.js';
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
  /** The source records its sending and end, not its stream's events (`ATTR_UPSTREAM_STREAM_UNSEEN`). */
  readonly streamUnseen: boolean;
  readonly requestSent?: number;
  readonly headers?: number;
  readonly statusCode?: number;
  /** The delay an error response asked for (Retry-After), as recorded on its headers milestone. */
  readonly retryAfterMs?: number;
  readonly firstByte?: number;
  readonly firstEvent?: number;
  /** The latest point saying events still came on its open stream, by the scene's moment, and their count then. */
  readonly lastProgress?: number;
  readonly progressEvents?: number;
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
  /** The source says no person can be asked about this call (its policy never asks). */
  readonly approvalRuledOut: boolean;
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

/** A phase as it stands at `at`: ended only if its end is at or before it. */
export function view(span: RecordedSpan, at: number): PhaseView {
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
  return { span: p.span, start: p.start, end: p.end, toolName: i.toolName, callId: i.callId, approvalExpected: i.approvalExpected, approvalRuledOut: i.approvalRuledOut, hook: i.hook, background, movedOnAt };
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
    // Phases are in start order, all by the moment: the last progress point wins, the first of any other.
    if (i.milestone === STREAM_PROGRESS) marks[slot] = phases[k]!;
    else marks[slot] ??= phases[k]!;
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
    const progressMark = marks[first + STREAM_PROGRESS];
    const progressEvents = progressMark?.span.attributes[ATTR_UPSTREAM_EVENTS];
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
    if (progressMark !== undefined && progressMark.start >= lastAt) [lastName, lastAt] = [PHASE_UPSTREAM_STREAM_PROGRESS, progressMark.start];
    const attemptNumber = typeof attrs[ATTR_UPSTREAM_ATTEMPT] === 'number' ? (attrs[ATTR_UPSTREAM_ATTEMPT] as number) : info.attemptIndex;
    return {
      span: a.span,
      start: a.start,
      end: a.end,
      number: attemptNumber,
      continuation: attrs[ATTR_UPSTREAM_CONTINUATION] === true,
      streamUnseen: attrs[ATTR_UPSTREAM_STREAM_UNSEEN] === true,
      requestSent,
      headers,
      statusCode,
      retryAfterMs: typeof retryAfter === 'number' ? retryAfter : undefined,
      firstByte,
      firstEvent,
      lastProgress: progressMark?.start,
      progressEvents: typeof progressEvents === 'number' ? progressEvents : undefined,
      streamEnd,
      streamError,
      errorType,
      failed,
      lastMilestone: { name: lastName, at: lastAt },
    };
  });
}
