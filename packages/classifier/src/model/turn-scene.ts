/**
 * A turn as it stood at one moment: what had started by then, what was still open, what ended.
 * The rules read scenes, so the same rule judges a live turn (the moment is "now") and replays an
 * ended one (the moment is the end of its longest quiet stretch).
 */
import {
  ATTR_APPROVAL_DECISION,
  ATTR_APPROVAL_KIND,
  ATTR_CANCEL_RESULT,
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
  SOURCE_ROLLOUT,
  TOOL_KIND_HOOK,
  TURN_END_STATUS_COMPLETED,
  TURN_END_STATUS_FAILED,
  TURN_END_STATUSES,
  type TurnEndStatus,
} from '@stall-why/conventions';
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
  /** The moment the whole report is judged at (≥ at). */
  readonly now: number;
  readonly thresholds: Thresholds;
  readonly sight: Sight;
  /** Every span of the turn came from a Codex rollout. */
  readonly rolloutOnly: boolean;
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
  /** `turn.spans` values in insertion order: the cache is valid while they are the same objects. */
  readonly inserted: readonly RecordedSpan[];
  /** The spans in start order (stable: ties keep insertion order). */
  readonly sorted: readonly RecordedSpan[];
  /** What each span of `sorted` is, at the same index. */
  readonly infos: readonly SpanInfo[];
}

interface SpanInfo {
  /** The span's views: open (before its end), ended (from its end on; undefined while it has none). */
  readonly openView: PhaseView;
  readonly endedView: PhaseView | undefined;
  readonly compactionItem: boolean;
  readonly toolItem: boolean;
  readonly outputItem: boolean;
  readonly itemId: string;
  /** A tool call's `gen_ai.tool.call.id`, when it is a non-empty string or a number. */
  readonly toolCallId: string | undefined;
  /** `stall_why.source` says the span came from a Codex rollout. */
  readonly rolloutSource: boolean;
  /** Tool calls and tool items: the names a ToolView carries. */
  readonly toolName: string | undefined;
  readonly callId: string | undefined;
  readonly approvalExpected: boolean;
  /** Milestones: attempts whose span id is the parent id (start order), and the latest attempt started at or before it. */
  readonly parentAttempts: readonly RecordedSpan[];
  readonly previousAttempt: RecordedSpan | undefined;
}

const statics = new WeakMap<TurnTimeline, TurnStatics>();

function turnStatics(turn: TurnTimeline): TurnStatics {
  const cached = statics.get(turn);
  if (cached && cached.inserted.length === turn.spans.size) {
    let same = true;
    let i = 0;
    for (const s of turn.spans.values()) {
      if (s !== cached.inserted[i++]) {
        same = false;
        break;
      }
    }
    if (same) return cached;
  }
  const inserted = [...turn.spans.values()];
  const sorted = [...inserted].sort((a, b) => a.startTimeMs - b.startTimeMs);
  const attempts = sorted.filter((s) => s.name === PHASE_UPSTREAM_ATTEMPT);
  const infos: SpanInfo[] = [];
  for (const span of sorted) {
    const a = span.attributes;
    const type = str(a[ATTR_ITEM_TYPE]);
    const milestone = ATTEMPT_MILESTONES.has(span.name);
    let previousAttempt: RecordedSpan | undefined;
    if (milestone) for (const attempt of attempts) if (attempt.startTimeMs <= span.startTimeMs) previousAttempt = attempt;
    infos.push({
      openView: { span, start: span.startTimeMs, end: undefined },
      endedView: span.endTimeMs === undefined ? undefined : { span, start: span.startTimeMs, end: Math.max(span.endTimeMs, span.startTimeMs) },
      compactionItem: span.name === PHASE_ITEM && isCompactionItemType(type),
      toolItem: span.name === PHASE_ITEM && isToolItemType(type),
      outputItem: span.name === PHASE_ITEM && isModelOutputItemType(type),
      itemId: str(a[ATTR_ITEM_ID]) ?? '',
      toolCallId: str(a[ATTR_GEN_AI_TOOL_CALL_ID]),
      rolloutSource: a[ATTR_SOURCE] === SOURCE_ROLLOUT,
      toolName: str(a[ATTR_GEN_AI_TOOL_NAME]) ?? type,
      callId: str(a[ATTR_GEN_AI_TOOL_CALL_ID]) ?? str(a[ATTR_ITEM_ID]),
      approvalExpected: a[ATTR_TOOL_APPROVAL_EXPECTED] === true,
      parentAttempts: milestone && span.parentSpanId ? attempts.filter((x) => x.spanId === span.parentSpanId) : [],
      previousAttempt,
    });
  }
  const built = { inserted, sorted, infos };
  statics.set(turn, built);
  return built;
}

const sourceCache = new WeakMap<Set<string>, { size: number; names: string[] }>();

/** The turn's source names (`stall_why.source` values, not file paths), worked out again only when a source is added. */
function sourceNames(turn: TurnTimeline): string[] {
  const cached = sourceCache.get(turn.sources);
  if (cached && cached.size === turn.sources.size) return cached.names;
  const names = [...turn.sources].filter((s) => !s.includes('/') && !s.includes('\\'));
  sourceCache.set(turn.sources, { size: turn.sources.size, names });
  return names;
}

/** Builds the scene of a turn at moment `at` (the judged moment for a live view). */
export function turnScene(
  turn: TurnTimeline,
  thread: ThreadTimeline,
  globalRenderer: readonly RecordedSpan[],
  context: { at: number; now: number; thresholds: Thresholds; sight: Sight },
): TurnScene {
  const { at } = context;
  const { sorted, infos } = turnStatics(turn);
  // Views are shared by every scene of the turn (read-only): a replay allocates arrays, not views.
  const phases: PhaseView[] = [];
  const phaseInfos: SpanInfo[] = [];
  let allRollout = true;
  for (let k = 0; k < sorted.length; k++) {
    const s = sorted[k]!;
    if (s.startTimeMs > at) continue;
    const i = infos[k]!;
    phases.push(s.endTimeMs !== undefined && s.endTimeMs <= at ? i.endedView! : i.openView);
    phaseInfos.push(i);
    if (!i.rolloutSource) allRollout = false;
  }
  const attemptsSeen = attemptViews(phases, phaseInfos, at);
  const tools: ToolView[] = [];
  const outputs: PhaseView[] = [];
  const compactions: PhaseView[] = [];
  const retries: PhaseView[] = [];
  const continuationPoints: PhaseView[] = [];
  const approvals: PhaseView[] = [];
  const cancels: PhaseView[] = [];
  const errors: PhaseView[] = [];
  let toolIds: Set<string> | undefined;
  for (let k = 0; k < phases.length; k++) {
    const p = phases[k]!;
    if (p.span.name !== PHASE_TOOL_CALL) continue;
    const i = phaseInfos[k]!;
    tools.push(toolView(p, i));
    if (i.toolCallId) (toolIds ??= new Set()).add(i.toolCallId);
  }
  for (let k = 0; k < phases.length; k++) {
    const p = phases[k]!;
    const i = phaseInfos[k]!;
    const name = p.span.name;
    if (name === PHASE_COMPACTION || i.compactionItem) compactions.push(p);
    if (i.toolItem && !toolIds?.has(i.itemId)) tools.push(toolView(p, i));
    if (i.outputItem || OUTPUT_POINTS.has(name)) outputs.push(p);
    if (name === PHASE_UPSTREAM_RETRY) retries.push(p);
    else if (name === PHASE_CONTINUATION_REQUESTED) continuationPoints.push(p);
    else if (name === PHASE_APPROVAL) approvals.push(p);
    else if (name === PHASE_CANCEL) cancels.push(p);
    else if (name === PHASE_TURN_ERROR) errors.push(p);
  }
  tools.sort((a, b) => a.start - b.start);
  const attempts = markRetried(attemptsSeen, retries, at);
  const turnSpan = turn.turnSpan && turn.turnSpan.startTimeMs <= at ? turn.turnSpan : undefined;
  const endStatus = endStatusOf(turnSpan, at);
  const startMs = Math.min(turnSpan?.startTimeMs ?? Infinity, turn.firstMs);
  const endMs = endStatus !== undefined ? turnSpan!.endTimeMs : undefined;
  const hydrations: PhaseView[] = [];
  for (const h of thread.hydrations.values()) {
    if (h.startTimeMs <= at && (h.endTimeMs === undefined || h.endTimeMs >= startMs) && h.startTimeMs <= (endMs ?? at)) hydrations.push(view(h, at));
  }
  let lastActivityMs = startMs;
  for (const p of phases) lastActivityMs = Math.max(lastActivityMs, p.end ?? p.start);
  if (endMs !== undefined) lastActivityMs = Math.max(lastActivityMs, endMs);
  for (const h of hydrations) lastActivityMs = Math.max(lastActivityMs, Math.min(h.end ?? h.start, endMs ?? at));
  const sources = sourceNames(turn);
  const errorText = turnSpan?.attributes[ATTR_TURN_ERROR] ?? errors.map((e) => str(e.span.attributes[ATTR_ERROR_TYPE]) ?? str(e.span.attributes[ATTR_TURN_ERROR])).find(Boolean);
  const rolloutOnly =
    (sources.length > 0 && sources.every((s) => s === SOURCE_ROLLOUT)) || (phases.length > 0 && allRollout);
  return {
    at,
    now: context.now,
    thresholds: context.thresholds,
    sight: context.sight,
    rolloutOnly,
    seesUpstream: context.sight.upstream && !rolloutOnly,
    seesApprovals: context.sight.approvals && !rolloutOnly,
    threadId: turn.threadId,
    turnId: turn.turnId,
    turnSpan,
    startMs,
    endMs,
    endStatus,
    turnError: str(errorText),
    lastActivityMs,
    phases,
    attempts,
    retries,
    tools,
    continuations: [...continuationPoints, ...attempts.filter((a) => a.continuation)].sort((a, b) => a.start - b.start),
    outputs,
    compactions,
    approvals,
    hydrations,
    cancels,
    errors,
    // An ended turn's renderer is judged as it stood when the turn ended.
    renderer: rendererView([...thread.renderer.values(), ...globalRenderer], endMs ?? at, context.now, startMs),
    droppedSpans: turn.droppedSpans,
  };
}

function toolView(p: PhaseView, i: SpanInfo): ToolView {
  return { span: p.span, start: p.start, end: p.end, toolName: i.toolName, callId: i.callId, approvalExpected: i.approvalExpected, hook: p.span.attributes[ATTR_TOOL_KIND] === TOOL_KIND_HOOK };
}

// Milestones are point phases under their attempt (parent link); without links, a milestone belongs
// to the latest attempt that started at or before it. Of several attempts with the parent's span id,
// the last started by the moment.
function attemptViews(phases: readonly PhaseView[], infos: readonly SpanInfo[], at: number): AttemptView[] {
  const attemptPhases: PhaseView[] = [];
  const bySpan = new Map<RecordedSpan, PhaseView>();
  for (const p of phases) {
    if (p.span.name !== PHASE_UPSTREAM_ATTEMPT) continue;
    attemptPhases.push(p);
    bySpan.set(p.span, p);
  }
  if (attemptPhases.length === 0) return [];
  // Per attempt, the first milestone of each name (in start order).
  const firsts = new Map<PhaseView, Map<string, PhaseView>>(attemptPhases.map((a) => [a, new Map()]));
  for (let k = 0; k < phases.length; k++) {
    const p = phases[k]!;
    if (!ATTEMPT_MILESTONES.has(p.span.name)) continue;
    const i = infos[k]!;
    let ownerSpan: RecordedSpan | undefined;
    for (const candidate of i.parentAttempts) if (candidate.startTimeMs <= at) ownerSpan = candidate;
    ownerSpan ??= i.previousAttempt;
    const owner = ownerSpan && bySpan.get(ownerSpan);
    if (!owner) continue;
    const marks = firsts.get(owner)!;
    if (!marks.has(p.span.name)) marks.set(p.span.name, p);
  }
  return attemptPhases.map((a, index): AttemptView => {
    const marks = firsts.get(a)!;
    const requestSent = marks.get(PHASE_UPSTREAM_REQUEST_SENT)?.start;
    const headersMark = marks.get(PHASE_UPSTREAM_HEADERS);
    const headers = headersMark?.start;
    const retryAfter = headersMark?.span.attributes[ATTR_RETRY_DELAY_MS];
    const firstByte = marks.get(PHASE_UPSTREAM_FIRST_BYTE)?.start;
    const firstEvent = marks.get(PHASE_UPSTREAM_FIRST_EVENT)?.start;
    const streamEnd = marks.get(PHASE_UPSTREAM_STREAM_END)?.start;
    const streamErrorMark = marks.get(PHASE_UPSTREAM_STREAM_ERROR);
    const streamError = streamErrorMark?.start;
    const attrs = a.span.attributes;
    const statusCode = typeof attrs[ATTR_HTTP_RESPONSE_STATUS_CODE] === 'number' ? (attrs[ATTR_HTTP_RESPONSE_STATUS_CODE] as number) : undefined;
    const errorType = str(attrs[ATTR_ERROR_TYPE]) ?? str(streamErrorMark?.span.attributes[ATTR_ERROR_TYPE]);
    const ended = a.end !== undefined;
    const failed =
      streamError !== undefined || (ended && (a.span.status?.code === 2 || (statusCode !== undefined && statusCode >= 400) || (streamEnd === undefined && errorType !== undefined)));
    // The last milestone reached by the moment, in protocol order.
    let lastName = PHASE_UPSTREAM_ATTEMPT;
    let lastAt = a.start;
    if (requestSent !== undefined && requestSent <= at && requestSent >= lastAt) [lastName, lastAt] = [PHASE_UPSTREAM_REQUEST_SENT, requestSent];
    if (headers !== undefined && headers <= at && headers >= lastAt) [lastName, lastAt] = [PHASE_UPSTREAM_HEADERS, headers];
    if (firstByte !== undefined && firstByte <= at && firstByte >= lastAt) [lastName, lastAt] = [PHASE_UPSTREAM_FIRST_BYTE, firstByte];
    if (firstEvent !== undefined && firstEvent <= at && firstEvent >= lastAt) [lastName, lastAt] = [PHASE_UPSTREAM_FIRST_EVENT, firstEvent];
    const attemptNumber = typeof attrs[ATTR_UPSTREAM_ATTEMPT] === 'number' ? (attrs[ATTR_UPSTREAM_ATTEMPT] as number) : index + 1;
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

/**
 * An attempt that ended and was followed by a retry announcement (before the next attempt began)
 * failed, whatever its status line said: Codex 0.169 retries a `response.failed` that came in an
 * HTTP 200 stream, and the proxy announces a repeated request as a retry of the one before it.
 */
function markRetried(attempts: AttemptView[], retries: readonly PhaseView[], at: number): AttemptView[] {
  if (retries.length === 0) return attempts;
  return attempts.map((a, i) => {
    if (a.failed || a.end === undefined) return a;
    const until = attempts[i + 1]?.start ?? at;
    return retries.some((r) => r.start >= a.start && r.start <= until) ? { ...a, failed: true } : a;
  });
}

function rendererView(points: readonly RecordedSpan[], at: number, now: number, turnStart: number): RendererView {
  if (points.length === 0) return { seen: false, attached: 0 };
  const sorted = [...points].sort((a, b) => a.startTimeMs - b.startTimeMs);
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

