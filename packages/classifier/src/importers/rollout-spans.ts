/**
 * The spans a rollout turn is written as: the turn span, its items, tool calls, approvals,
 * compactions and points, each with the rollout's source, thread and turn, ids derived from the
 * turn's (stable across reads of the same file).
 */
import {
  ATTR_AGENT_NAME,
  ATTR_APPROVAL_DECISION,
  ATTR_APPROVAL_INFERRED,
  ATTR_APPROVAL_KIND,
  ATTR_ERROR_TYPE,
  ATTR_GEN_AI_TOOL_CALL_ID,
  ATTR_GEN_AI_TOOL_NAME,
  ATTR_ITEM_ID,
  ATTR_ITEM_TYPE,
  ATTR_PHASE_KIND,
  ATTR_RETRY_REASON,
  ATTR_SOURCE,
  ATTR_THREAD_ID,
  ATTR_THREAD_PARENT_ID,
  ATTR_TOOL_APPROVAL_EXPECTED,
  ATTR_TOOL_BACKGROUND_SESSION,
  ATTR_TOOL_KIND,
  ATTR_TURN_ERROR,
  ATTR_TURN_ID,
  ATTR_TURN_STATUS,
  PHASE_APPROVAL,
  PHASE_COMPACTION,
  PHASE_ITEM,
  PHASE_KIND_POINT,
  PHASE_KIND_SPAN,
  PHASE_TOOL_CALL,
  PHASE_TURN,
  PHASE_TURN_ERROR,
  RETRY_REASON_CONNECT_ERROR,
  RETRY_REASON_HTTP_STATUS,
  RETRY_REASON_STREAM_DISCONNECTED,
  type RetryReason,
  SOURCE_ROLLOUT,
  TURN_END_STATUS_FAILED,
  type TurnEndStatus,
} from '@stall-why/conventions';
import { redactSecrets, type Attributes, type RecordedSpan } from '@stall-why/flight-record';
import type { OpenTool, OpenTurn } from './rollout-turn.js';
import { stableIdAfter } from './stable-id.js';

/** Longest error text kept from a rollout (server messages, never prompt text). */
const MAX_ERROR_CHARS = 300;

/**
 * Codex error kinds (`codex_error_info`, snake_case in rollouts) that end a turn only after Codex
 * retried the model request: the wait was spent retrying. Any other kind (the context window, a usage
 * limit, credentials, a bad request) no retry would have helped.
 */
const EXHAUSTED_RETRY_REASONS: ReadonlyMap<string, RetryReason> = new Map([
  ['internal_server_error', RETRY_REASON_HTTP_STATUS],
  ['server_overloaded', RETRY_REASON_HTTP_STATUS],
  ['response_too_many_failed_attempts', RETRY_REASON_HTTP_STATUS],
  ['http_connection_failed', RETRY_REASON_CONNECT_ERROR],
  ['response_stream_connection_failed', RETRY_REASON_CONNECT_ERROR],
  ['response_stream_disconnected', RETRY_REASON_STREAM_DISCONNECTED],
]);

/** Writes the spans of one rollout file's turns. */
export class RolloutSpanWriter {
  /** Spans written so far. */
  count = 0;
  /** A sub-agent's rollout: the thread that spawned it and its name, put on its turn spans. */
  spawnedBy: { readonly parentThreadId: string; readonly agentName: string | undefined } | undefined;
  private seq = 0;

  constructor(
    /** The rollout's thread, as known when each span is written (its session_meta names it). */
    private readonly threadId: () => string | undefined,
    private readonly emit: (span: RecordedSpan) => void,
  ) {}

  /** The next number of the file's one sequence: ids the rollout does not give (`line3`, `turn4`) and point spans' ids. */
  nextSeq(): number {
    return ++this.seq;
  }

  /** The turn span: open (no `end`), or ended with its status and error. */
  turnSpan(turn: OpenTurn, end: number | undefined, status?: TurnEndStatus, error?: string): void {
    const attrs: Attributes = { [ATTR_PHASE_KIND]: PHASE_KIND_SPAN };
    if (status) attrs[ATTR_TURN_STATUS] = status;
    if (error) attrs[ATTR_TURN_ERROR] = redactSecrets(error).slice(0, MAX_ERROR_CHARS);
    if (this.spawnedBy) {
      attrs[ATTR_THREAD_PARENT_ID] = this.spawnedBy.parentThreadId;
      if (this.spawnedBy.agentName !== undefined) attrs[ATTR_AGENT_NAME] = this.spawnedBy.agentName;
    }
    this.out(turn, PHASE_TURN, turn.spanId, turn.start, end, attrs, status === TURN_END_STATUS_FAILED ? 2 : 0);
  }

  /** The server's error in the turn; a transport failure it stopped retrying says why it was retrying. */
  errorPoint(turn: OpenTurn, ts: number, message: string, kind: string | undefined): void {
    const reason = kind === undefined ? undefined : EXHAUSTED_RETRY_REASONS.get(kind);
    this.point(turn, PHASE_TURN_ERROR, ts, {
      [ATTR_TURN_ERROR]: redactSecrets(message).slice(0, MAX_ERROR_CHARS),
      ...(kind ? { [ATTR_ERROR_TYPE]: kind } : {}),
      ...(reason ? { [ATTR_RETRY_REASON]: reason } : {}),
    });
  }

  /** The approval span of a call (one per call: its id is the call's). */
  approvalSpan(turn: OpenTurn, callId: string, approval: { start: number; kind: string }, end: number | undefined, decision?: string, inferred = false): void {
    const attrs: Attributes = { [ATTR_PHASE_KIND]: PHASE_KIND_SPAN, [ATTR_APPROVAL_KIND]: approval.kind };
    if (decision) attrs[ATTR_APPROVAL_DECISION] = decision;
    if (inferred) attrs[ATTR_APPROVAL_INFERRED] = true;
    this.out(turn, PHASE_APPROVAL, stableIdAfter(turn.ids, `approval/${callId}`), approval.start, end, attrs);
  }

  /** A compaction (its id is its start: Codex writes one compaction twice). */
  compactionSpan(turn: OpenTurn, start: number, end: number | undefined): void {
    this.out(turn, PHASE_COMPACTION, stableIdAfter(turn.ids, `compaction/${start}`), start, end, { [ATTR_PHASE_KIND]: PHASE_KIND_SPAN });
  }

  /** A tool call, open (no `end`) or ended by its output. */
  toolSpan(turn: OpenTurn, tool: OpenTool, end: number | undefined, backgroundSession?: string): void {
    const attrs: Attributes = {
      [ATTR_PHASE_KIND]: PHASE_KIND_SPAN,
      [ATTR_GEN_AI_TOOL_NAME]: tool.name,
      [ATTR_GEN_AI_TOOL_CALL_ID]: tool.callId,
      [ATTR_TOOL_KIND]: 'function_call',
    };
    if (backgroundSession) attrs[ATTR_TOOL_BACKGROUND_SESSION] = backgroundSession;
    if (tool.approvalExpected) attrs[ATTR_TOOL_APPROVAL_EXPECTED] = true;
    else if (tool.approvalRuledOut) attrs[ATTR_TOOL_APPROVAL_EXPECTED] = false;
    this.out(turn, PHASE_TOOL_CALL, tool.spanId, tool.start, end, attrs);
  }

  /** A model or user item: a point when written at once, a span when its start and end are known. */
  item(turn: OpenTurn, type: string, id: string, start: number, end: number): void {
    const attrs: Attributes = { [ATTR_ITEM_TYPE]: type, [ATTR_ITEM_ID]: id, [ATTR_PHASE_KIND]: start === end ? PHASE_KIND_POINT : PHASE_KIND_SPAN };
    this.out(turn, PHASE_ITEM, stableIdAfter(turn.ids, `item/${id}`), start, end, attrs);
  }

  // `attrs` is always the caller's own new object: completed here rather than copied into another
  // (one span per item, tool call and point: hundreds of thousands in a long rollout).
  point(turn: OpenTurn, name: string, ts: number, attrs: Attributes): void {
    attrs[ATTR_PHASE_KIND] = PHASE_KIND_POINT;
    this.out(turn, name, stableIdAfter(turn.ids, `${name}/${this.nextSeq()}`), ts, ts, attrs);
  }

  /** Any span of the turn, with the rollout's source, thread and turn added to `attrs` (the caller's own object). */
  out(turn: OpenTurn, name: string, spanId: string, start: number, end: number | undefined, attrs: Attributes, statusCode: 0 | 2 = 0): void {
    this.count++;
    attrs[ATTR_SOURCE] = SOURCE_ROLLOUT;
    attrs[ATTR_THREAD_ID] = this.threadId() ?? 'unknown-thread';
    attrs[ATTR_TURN_ID] = turn.turnId;
    // Built key by key, in the order the other importers give (no spreads of optional parts).
    const span: Mutable<RecordedSpan> = { traceId: turn.traceId, spanId } as Mutable<RecordedSpan>;
    if (name !== PHASE_TURN) span.parentSpanId = turn.spanId;
    span.name = name;
    span.startTimeMs = start;
    if (end !== undefined) span.endTimeMs = end;
    span.attributes = attrs;
    if (statusCode) span.status = { code: statusCode };
    span.scope = 'codex-rollout';
    this.emit(span);
  }
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
