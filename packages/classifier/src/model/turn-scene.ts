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
  ATTR_ITEM_ID,
  ATTR_ITEM_TYPE,
  ATTR_RENDERER_ID,
  ATTR_SOURCE,
  ATTR_TOOL_APPROVAL_EXPECTED,
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
  readonly firstByte?: number;
  readonly firstEvent?: number;
  readonly streamEnd?: number;
  readonly streamError?: number;
  readonly errorType?: string;
  /** Ended without a normal stream end (an error, a broken stream, an HTTP error status). */
  readonly failed: boolean;
  /** The last milestone reached, and when. */
  readonly lastMilestone: { readonly name: string; readonly at: number };
}

export interface ToolView extends PhaseView {
  readonly toolName?: string;
  readonly callId?: string;
  /** The source says this call needs a person's approval (a rollout infers it from the policy). */
  readonly approvalExpected: boolean;
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

/** Builds the scene of a turn at moment `at` (the judged moment for a live view). */
export function turnScene(
  turn: TurnTimeline,
  thread: ThreadTimeline,
  globalRenderer: readonly RecordedSpan[],
  context: { at: number; now: number; thresholds: Thresholds; sight: Sight },
): TurnScene {
  const { at } = context;
  const spans = [...turn.spans.values()].filter((s) => s.startTimeMs <= at).sort((a, b) => a.startTimeMs - b.startTimeMs);
  const phases = spans.map((s) => view(s, at));
  const attempts = attemptViews(phases, at);
  const tools: ToolView[] = [];
  const outputs: PhaseView[] = [];
  const compactions: PhaseView[] = [];
  const byName = (name: string): PhaseView[] => phases.filter((p) => p.span.name === name);
  const toolIds = new Set<string>();
  for (const p of phases) {
    if (p.span.name === PHASE_TOOL_CALL) {
      tools.push(toolView(p));
      const id = str(p.span.attributes[ATTR_GEN_AI_TOOL_CALL_ID]);
      if (id) toolIds.add(id);
    }
  }
  for (const p of phases) {
    const type = str(p.span.attributes[ATTR_ITEM_TYPE]);
    if (p.span.name === PHASE_COMPACTION || (p.span.name === PHASE_ITEM && isCompactionItemType(type))) compactions.push(p);
    if (p.span.name === PHASE_ITEM && isToolItemType(type) && !toolIds.has(str(p.span.attributes[ATTR_ITEM_ID]) ?? '')) tools.push(toolView(p));
    if ((p.span.name === PHASE_ITEM && isModelOutputItemType(type)) || OUTPUT_POINTS.has(p.span.name)) outputs.push(p);
  }
  tools.sort((a, b) => a.start - b.start);
  const turnSpan = turn.turnSpan && turn.turnSpan.startTimeMs <= at ? turn.turnSpan : undefined;
  const endStatus = endStatusOf(turnSpan, at);
  const startMs = Math.min(turnSpan?.startTimeMs ?? Infinity, turn.firstMs);
  const endMs = endStatus !== undefined ? turnSpan!.endTimeMs : undefined;
  const hydrations = [...thread.hydrations.values()]
    .filter((h) => h.startTimeMs <= at && (h.endTimeMs === undefined || h.endTimeMs >= startMs) && h.startTimeMs <= (endMs ?? at))
    .map((h) => view(h, at));
  let lastActivityMs = startMs;
  for (const p of phases) lastActivityMs = Math.max(lastActivityMs, p.end ?? p.start);
  if (endMs !== undefined) lastActivityMs = Math.max(lastActivityMs, endMs);
  for (const h of hydrations) lastActivityMs = Math.max(lastActivityMs, Math.min(h.end ?? h.start, endMs ?? at));
  const sources = [...turn.sources].filter((s) => !s.includes('/') && !s.includes('\\'));
  const errorText = turnSpan?.attributes[ATTR_TURN_ERROR] ?? byName(PHASE_TURN_ERROR).map((e) => str(e.span.attributes[ATTR_ERROR_TYPE]) ?? str(e.span.attributes[ATTR_TURN_ERROR])).find(Boolean);
  const rolloutOnly =
    (sources.length > 0 && sources.every((s) => s === SOURCE_ROLLOUT)) || (spans.length > 0 && spans.every((s) => s.attributes[ATTR_SOURCE] === SOURCE_ROLLOUT));
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
    retries: byName(PHASE_UPSTREAM_RETRY),
    tools,
    continuations: [...byName(PHASE_CONTINUATION_REQUESTED), ...attempts.filter((a) => a.continuation)].sort((a, b) => a.start - b.start),
    outputs,
    compactions,
    approvals: byName(PHASE_APPROVAL),
    hydrations,
    cancels: byName(PHASE_CANCEL),
    errors: byName(PHASE_TURN_ERROR),
    // An ended turn's renderer is judged as it stood when the turn ended.
    renderer: rendererView([...thread.renderer.values(), ...globalRenderer], endMs ?? at, context.now, startMs),
    droppedSpans: turn.droppedSpans,
  };
}

function toolView(p: PhaseView): ToolView {
  const a = p.span.attributes;
  return {
    ...p,
    toolName: str(a[ATTR_GEN_AI_TOOL_NAME]) ?? str(a[ATTR_ITEM_TYPE]),
    callId: str(a[ATTR_GEN_AI_TOOL_CALL_ID]) ?? str(a[ATTR_ITEM_ID]),
    approvalExpected: a[ATTR_TOOL_APPROVAL_EXPECTED] === true,
  };
}

// Milestones are point phases under their attempt (parent link); without links, a milestone belongs
// to the latest attempt that started at or before it.
function attemptViews(phases: readonly PhaseView[], at: number): AttemptView[] {
  const attemptPhases = phases.filter((p) => p.span.name === PHASE_UPSTREAM_ATTEMPT);
  const milestones = new Map<PhaseView, PhaseView[]>(attemptPhases.map((a) => [a, []]));
  const bySpanId = new Map(attemptPhases.map((a) => [a.span.spanId, a]));
  for (const p of phases) {
    if (!ATTEMPT_MILESTONES.has(p.span.name)) continue;
    let owner = p.span.parentSpanId ? bySpanId.get(p.span.parentSpanId) : undefined;
    if (!owner) owner = [...attemptPhases].reverse().find((a) => a.start <= p.start);
    if (owner) milestones.get(owner)!.push(p);
  }
  return attemptPhases.map((a, index) => {
    const marks = milestones.get(a)!;
    const first = (name: string): number | undefined => marks.find((m) => m.span.name === name)?.start;
    const attrs = a.span.attributes;
    const statusCode = typeof attrs[ATTR_HTTP_RESPONSE_STATUS_CODE] === 'number' ? (attrs[ATTR_HTTP_RESPONSE_STATUS_CODE] as number) : undefined;
    const streamEnd = first(PHASE_UPSTREAM_STREAM_END);
    const streamError = first(PHASE_UPSTREAM_STREAM_ERROR);
    const errorType = str(attrs[ATTR_ERROR_TYPE]) ?? str(marks.find((m) => m.span.name === PHASE_UPSTREAM_STREAM_ERROR)?.span.attributes[ATTR_ERROR_TYPE]);
    const ended = a.end !== undefined;
    const failed =
      streamError !== undefined || (ended && (a.span.status?.code === 2 || (statusCode !== undefined && statusCode >= 400) || (streamEnd === undefined && errorType !== undefined)));
    const order: Array<[string, number | undefined]> = [
      [PHASE_UPSTREAM_REQUEST_SENT, first(PHASE_UPSTREAM_REQUEST_SENT)],
      [PHASE_UPSTREAM_HEADERS, first(PHASE_UPSTREAM_HEADERS)],
      [PHASE_UPSTREAM_FIRST_BYTE, first(PHASE_UPSTREAM_FIRST_BYTE)],
      [PHASE_UPSTREAM_FIRST_EVENT, first(PHASE_UPSTREAM_FIRST_EVENT)],
    ];
    let lastMilestone = { name: PHASE_UPSTREAM_ATTEMPT, at: a.start };
    for (const [name, t] of order) if (t !== undefined && t <= at && t >= lastMilestone.at) lastMilestone = { name, at: t };
    const attemptNumber = typeof attrs[ATTR_UPSTREAM_ATTEMPT] === 'number' ? (attrs[ATTR_UPSTREAM_ATTEMPT] as number) : index + 1;
    return {
      ...a,
      number: attemptNumber,
      continuation: attrs[ATTR_UPSTREAM_CONTINUATION] === true,
      requestSent: first(PHASE_UPSTREAM_REQUEST_SENT),
      headers: first(PHASE_UPSTREAM_HEADERS),
      statusCode,
      firstByte: first(PHASE_UPSTREAM_FIRST_BYTE),
      firstEvent: first(PHASE_UPSTREAM_FIRST_EVENT),
      streamEnd,
      streamError,
      errorType,
      failed,
      lastMilestone,
    };
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

