/**
 * Codex rollouts (`$CODEX_HOME/sessions/YYYY/MM/DD/rollout-*.jsonl`, one JSON object per line) mapped onto
 * the phase vocabulary, as spans with `stall_why.source` = `rollout`. Only the head of a line is
 * looked at unless its payload is needed and small: a rollout bloated with inline images and tool
 * output is read at disk speed, its payloads never materialised.
 *
 * What a rollout cannot show, and the evidence says: upstream request timings (only a rate-limit
 * snapshot per response, `token_count`), renderers, approval requests, and lines Codex had not
 * flushed yet.
 */
import {
  APPROVAL_KIND_COMMAND,
  APPROVAL_KIND_FILE_CHANGE,
  APPROVAL_KIND_USER_INPUT,
  ATTR_PHASE_KIND,
  ATTR_RETRY_ATTEMPT,
  ATTR_RETRY_MAX,
  ATTR_RETRY_REASON,
  PHASE_CANCEL,
  PHASE_KIND_SPAN,
  PHASE_TURN_ACCEPTED,
  PHASE_UPSTREAM_RETRY,
  RETRY_REASON_STREAM_DISCONNECTED,
  RETRY_REASON_UNKNOWN,
  TURN_END_STATUS_COMPLETED,
  TURN_END_STATUS_FAILED,
  TURN_END_STATUS_INTERRUPTED,
  type TurnEndStatus,
} from '@stall-why/conventions';
import type { RecordedSpan } from '@stall-why/flight-record';
import { TraceInputError } from '../trace-input-error.js';
import type { LineInfo } from './line-reader.js';
import {
  ABORTED_OUTPUT,
  APPROVED_PREFIX,
  BACKGROUND_SESSION,
  INJECTED_CONTEXT,
  NO_ANSWER,
  REJECTED,
  TOKEN_COUNT_WITHOUT_USAGE,
  errorKind,
  field,
  headErrorKind,
  payloadString,
  runSeconds,
} from './rollout-line-head.js';
import { ROLLOUT_HEAD_BYTES, ROLLOUT_PARSE_BYTES, RolloutLines } from './rollout-lines.js';
import { ForkedHistory } from './rollout-fork.js';
import { ApprovalSettings, approvalBeforeRun, approvedPrefix, closeApproval, inferredApproval, rejectedApproval } from './rollout-approvals.js';
import { RolloutSpanWriter } from './rollout-spans.js';
import { RolloutCallTiming } from './rollout-call-timing.js';
import { BATCH_MS, type OpenTurn } from './rollout-turn.js';
import { INTER_AGENT_MESSAGE } from '../model/phase-groups.js';
import { idPrefix, stableId, stableIdAfter } from './stable-id.js';

/** A person's input written twice (a response item, a user_message event) lands this close together. */
const SAME_INPUT_MS = 1_000;
/** `compacted` and `context_compacted` this close together are one compaction. */
const SAME_COMPACTION_MS = 1_000;
/** The tool the model calls to ask the person questions and wait for the answers (0.11x Plan mode). */
const REQUEST_USER_INPUT = 'request_user_input';
/** Rate-limit snapshots (`token_count` without usage) this close together are of one request. */
const SAME_REQUEST_MS = 100;
/** A turn_aborted this soon after a rejected call is the rejection stopping the turn. */
const REJECTION_ABORT_MS = 5_000;

/** Maps the lines of one rollout file onto spans, line by line. */
export class RolloutImporter {
  private threadId: string | undefined;
  private turn: OpenTurn | undefined;
  private readonly writer: RolloutSpanWriter;
  /** How the file's lines are framed (each version's shape, a torn last line). */
  private readonly lines: RolloutLines;
  /** The file's own session_meta was read: it names the thread (see `dispatch`). */
  private sessionMetaSeen = false;
  private readonly forkedHistory = new ForkedHistory();
  /** Items and events seen while no turn was open (before the first task_started, or in a rollout that marks none). */
  private outsideTurns = 0;
  private turnsSeen = 0;
  private inferredTurns = 0;
  /** Turns the person rolled back (`thread_rolled_back`, 0.139+: backed out to edit a prompt and send it again). */
  private rolledBackTurns = 0;
  /** The rollout marks its turns (task_started): none is inferred from then on. */
  private explicitTurns = false;
  /** Who the session's calls ask before they run (policy, reviewer, sandbox, saved prefixes). */
  private readonly approvalSettings = new ApprovalSettings();
  /** The latest line that was not bookkeeping (token_count, turn_context), and when the batch before it ended. */
  private lastMeaningfulTs: number | undefined;
  private batchBefore: number | undefined;
  /** When calls ran, in versions that write a call only with its output. */
  private readonly callTiming = new RolloutCallTiming();
  /** When the last `compacted` or `context_compacted` was read: Codex writes both for one compaction. */
  private lastCompactionEnd: number | undefined;

  constructor(
    private readonly file: string,
    emit: (span: RecordedSpan) => void,
  ) {
    this.writer = new RolloutSpanWriter(() => this.threadId, emit);
    this.lines = new RolloutLines(file);
    const m = /rollout-.*?([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.jsonl$/i.exec(file);
    this.threadId = m?.[1];
  }

  /** Spans written so far. */
  get spans(): number {
    return this.writer.count;
  }

  /** Lines whose type is not a known rollout line type. */
  get skipped(): number {
    return this.lines.skipped;
  }

  /** The latest timestamp of any line: when the rollout was last written (an open turn's writer is judged by it). */
  get lastLineMs(): number | undefined {
    return this.lines.lastLineMs;
  }

  line(buf: Buffer, info: LineInfo): void {
    const line = this.lines.read(buf, info);
    if (!line) return;
    if (line.shape === 'legacy-header') {
      this.threadId = field(line.head, 'id') ?? this.threadId;
      return;
    }
    if (line.shape === 'current' && this.forkedHistory.skips(line.sub, line.head, line.ordinal, line.ts, info.lineNo)) return;
    this.dispatch(line.type, line.sub, line.head, buf, info, line.ts);
  }

  /** One line whose timestamp, type and payload type are read. */
  private dispatch(type: string, sub: string | undefined, head: string, buf: Buffer, info: LineInfo, ts: number): void {
    const bookkeeping = type === 'turn_context' || sub === 'token_count' || type === 'session_meta';
    if (!bookkeeping) {
      if (this.lastMeaningfulTs === undefined || ts - this.lastMeaningfulTs > BATCH_MS) this.batchBefore = this.lastMeaningfulTs;
    }
    const parse = (): Record<string, unknown> | undefined => {
      if (info.truncated || info.length > ROLLOUT_PARSE_BYTES) return undefined;
      try {
        return JSON.parse(buf.toString('utf8')) as Record<string, unknown>;
      } catch (error) {
        throw new TraceInputError(this.file, info.lineNo, `invalid JSON in a rollout line: ${(error as Error).message}`);
      }
    };
    switch (type) {
      case 'session_meta':
        // The first is the file's own: a session forked from another (a sub-agent) writes its parent's
        // next, with the parent's history after it.
        if (!this.sessionMetaSeen) {
          this.threadId = field(head, 'id') ?? this.threadId;
          this.forkedHistory.ownSession(head, buf);
          // A sub-agent names the thread that spawned it (`source.subagent.thread_spawn`).
          const parentThreadId = field(head, 'parent_thread_id');
          if (parentThreadId !== undefined) this.writer.spawnedBy = { parentThreadId, agentName: field(head, 'agent_nickname') ?? field(head, 'agent_path') };
        } else {
          this.forkedHistory.otherSession(ts, info.lineNo);
        }
        this.sessionMetaSeen = true;
        break;
      case 'turn_context':
        this.approvalSettings.read(head);
        if (this.turn) this.requestContext(this.turn, ts);
        break;
      case 'response_item':
        this.responseItem(sub, head, ts, info.lineNo, parse);
        if (!this.turn) this.outsideTurns++;
        break;
      case 'event_msg':
        this.event(sub, head, info.length <= ROLLOUT_HEAD_BYTES, parse, ts, info.lineNo);
        if (!this.turn && sub !== 'task_complete' && sub !== 'turn_complete' && sub !== 'turn_aborted') this.outsideTurns++;
        break;
      case 'token_usage_record':
        if (this.turn) this.turn.requestsWithoutOutput = 0;
        break;
      case 'compacted':
        this.compacted(ts);
        break;
    }
    if (this.turn) this.turn.lastTs = Math.max(this.turn.lastTs, ts);
    if (!bookkeeping) this.lastMeaningfulTs = ts;
  }

  /** What the report should say about this rollout beyond its turns. */
  notes(): string[] {
    const notes: string[] = [];
    for (const note of [this.lines.tornTailNote(), this.forkedHistory.note(), this.lines.legacyNote()]) if (note) notes.push(note);
    if (this.rolledBackTurns > 0) {
      notes.push(`the person rolled back ${this.rolledBackTurns} turn${this.rolledBackTurns > 1 ? 's' : ''} (thread_rolled_back: backed out to edit a prompt and send it again); they are listed as they ran, most of them interrupted`);
    }
    if (this.inferredTurns > 0) {
      notes.push(`${this.inferredTurns} turn${this.inferredTurns > 1 ? 's' : ''} inferred from message boundaries (this Codex version writes no task_started): ids "inferred-L<line>" name the line each began at; a turn ends at its answer, at turn_aborted, or when the next one begins`);
    }
    if (this.turnsSeen === 0 && this.outsideTurns > 0) notes.push(`${this.outsideTurns} items and events but no turn: no user message or turn start`);
    return notes;
  }

  /** Emits what is still open (a stuck turn, a running tool) as open spans. */
  finish(): void {
    const turn = this.turn;
    if (!turn) return;
    // An inferred turn whose last item is the model's answer, with nothing open, has ended: nothing marks it otherwise.
    if (turn.inferred && (turn.failed || (turn.answeredAt !== undefined && turn.tools.size === 0))) {
      this.endInferredTurn(turn.lastTs);
      return;
    }
    for (const [callId, approval] of turn.approvals) this.writer.approvalSpan(turn, callId, approval, undefined);
    for (const tool of turn.tools.values()) this.writer.toolSpan(turn, tool, undefined);
    const unwritten = this.callTiming.unwrittenCall(turn, this.lastMeaningfulTs, this.approvalSettings.policy);
    if (unwritten) this.writer.toolSpan(turn, unwritten, undefined);
    if (turn.compactionStart !== undefined) this.writer.compactionSpan(turn, turn.compactionStart, undefined);
    this.writer.turnSpan(turn, undefined);
    this.turn = undefined;
  }

  private startTurn(turnId: string, ts: number, inferred = false): void {
    if (this.turn?.inferred) this.endInferredTurn(ts);
    else if (this.turn) {
      // A turn with no end line, followed by another: its end was lost (a crash, an unflushed write).
      this.endTurn(ts, TURN_END_STATUS_INTERRUPTED, 'no end recorded in the rollout; a later turn started');
    }
    const threadId = this.threadId ?? 'unknown-thread';
    this.turnsSeen++;
    if (inferred) this.inferredTurns++;
    const traceId = stableId(`${threadId}/${turnId}`, 32);
    this.turn = {
      turnId,
      traceId,
      spanId: stableId(`${threadId}/${turnId}/turn`, 16),
      ids: idPrefix(`${traceId}/`),
      start: ts,
      inferred,
      modelSeen: false,
      answeredAt: undefined,
      approvals: new Map(),
      userSeen: false,
      failed: false,
      error: undefined,
      compactionStart: undefined,
      requestsWithoutOutput: 0,
      contextsWithoutOutput: 0,
      compacted: false,
      lastTs: ts,
      tools: new Map(),
    };
    this.writer.point(this.turn, PHASE_TURN_ACCEPTED, ts, {});
  }

  /**
   * Ends an inferred turn: failed if the server reported an error; completed at its answer when the
   * model's last item was an assistant message; else interrupted when the next turn began (`nextStart`).
   */
  private endInferredTurn(nextStart: number): void {
    const turn = this.turn!;
    if (turn.failed) this.endTurn(turn.lastTs, TURN_END_STATUS_FAILED);
    else if (turn.answeredAt !== undefined && turn.tools.size === 0) this.endTurn(turn.answeredAt, TURN_END_STATUS_COMPLETED);
    else this.endTurn(nextStart, TURN_END_STATUS_INTERRUPTED, 'no answer recorded; a later turn began');
  }

  private endTurn(ts: number, status: TurnEndStatus, error?: string): void {
    const turn = this.turn!;
    for (const [callId, approval] of turn.approvals) this.writer.approvalSpan(turn, callId, approval, ts);
    for (const tool of turn.tools.values()) this.writer.toolSpan(turn, tool, ts);
    if (turn.compactionStart !== undefined) this.writer.compactionSpan(turn, turn.compactionStart, ts);
    this.writer.turnSpan(turn, ts, status, error ?? turn.error);
    this.turn = undefined;
  }

  /** A person's message: a turn begins here when the rollout marks none (older versions), unless it is the same input written twice. */
  private userInput(ts: number, lineNo: number): void {
    if (this.explicitTurns) return;
    // Codex writes a person's input twice (a response item and a user_message event), a millisecond apart.
    if (this.turn?.inferred && !this.turn.modelSeen && ts - this.turn.start <= SAME_INPUT_MS) return;
    this.startTurn(`inferred-L${lineNo}`, ts, true);
  }

  private responseItem(sub: string | undefined, head: string, ts: number, lineNo: number, parse: () => Record<string, unknown> | undefined): void {
    const role = sub === 'message' ? field(head, 'role') : undefined;
    const userMessage = role === 'user' && !INJECTED_CONTEXT.test(head);
    if (userMessage) this.userInput(ts, lineNo);
    const turn = this.turn;
    if (!turn) return;
    turn.requestsWithoutOutput = 0;
    // Anything from the model or a tool (not a person's or the server's message) answers the last request.
    if ((sub !== 'message' && sub !== 'agent_message') || role === 'assistant') turn.contextsWithoutOutput = 0;
    const id = field(head, 'id') ?? `line${this.writer.nextSeq()}`;
    if (sub === 'reasoning' || sub === 'function_call' || sub === 'custom_tool_call' || sub === 'local_shell_call' || sub === 'web_search_call') {
      turn.modelSeen = true;
      turn.answeredAt = undefined;
    }
    switch (sub) {
      case 'message': {
        // Context Codex adds as a user message (environment, AGENTS.md, a note that the last turn was aborted) is not the person's.
        if (userMessage) {
          turn.userSeen = true;
          this.writer.item(turn, 'userMessage', id, ts, ts);
        } else if (role === 'assistant') {
          this.maybeCompactionTurn(turn);
          turn.modelSeen = true;
          turn.answeredAt = ts;
          this.writer.item(turn, 'agentMessage', id, ts, ts);
        } else if (role === 'developer' && APPROVED_PREFIX.test(head)) {
          this.approvalSettings.savePrefixes(field(head, 'text') ?? '');
          approvedPrefix(this.writer, turn, ts);
        }
        break;
      }
      case 'agent_message':
        // Another agent's message (0.144's multi-agent sessions): the input of a sub-agent's turn, or news
        // a parent's turn goes on from. Not the model's output, and no compaction's either.
        turn.userSeen = true;
        this.writer.item(turn, INTER_AGENT_MESSAGE, id, ts, ts);
        break;
      case 'reasoning':
        this.writer.item(turn, 'reasoning', id, ts, ts);
        break;
      case 'function_call':
      case 'custom_tool_call':
      case 'local_shell_call': {
        // Codex writes `call_id` after the arguments: past the head of a call with long arguments.
        const callId = field(head, 'call_id') ?? payloadString(parse(), 'call_id') ?? id;
        const name = field(head, 'name') ?? sub;
        // The model asking the person a question (Plan mode's request_user_input): a wait on a person until its output, no tool.
        if (name === REQUEST_USER_INPUT) {
          if (!turn.approvals.has(callId)) turn.approvals.set(callId, { start: ts, kind: APPROVAL_KIND_USER_INPUT });
          break;
        }
        const approval = this.approvalSettings.call(name, head, () => parse()?.payload as Record<string, unknown> | undefined);
        const before = this.batchBefore ?? turn.start;
        const responseEnd = this.callTiming.responseEndSince(this.lastMeaningfulTs);
        turn.tools.set(callId, { spanId: stableIdAfter(turn.ids, `tool/${callId}`), start: ts, name, callId, ...approval, before, responseEnd });
        break;
      }
      case 'function_call_output':
      case 'custom_tool_call_output': {
        const callId = field(head, 'call_id');
        let tool = callId ? turn.tools.get(callId) : undefined;
        if (tool) {
          if (REJECTED.test(head)) {
            rejectedApproval(this.writer, turn, tool, ts);
          } else {
            const runMs = (): number | undefined => {
              const seconds = runSeconds(head, parse);
              return seconds === undefined ? undefined : seconds * 1000;
            };
            inferredApproval(this.writer, turn, tool, ts, runMs);
            // An interrupted call's wall time counts its wait too: it does not tell the approval from the run.
            if (tool.approvalExpected && !ABORTED_OUTPUT.test(head)) tool = approvalBeforeRun(this.writer, turn, tool, ts, runMs);
          }
          tool = this.callTiming.ran(tool, ts);
          this.writer.toolSpan(turn, tool, ts, BACKGROUND_SESSION.exec(head)?.[1]);
          turn.tools.delete(tool.callId);
        }
        if (callId) closeApproval(this.writer, turn, callId, ts);
        break;
      }
      case 'web_search_call':
      case 'tool_search_call': {
        const tool = { spanId: stableIdAfter(turn.ids, `tool/${id}`), start: ts, name: sub, callId: id, approvalExpected: false, approvalKind: APPROVAL_KIND_COMMAND, before: ts, responseEnd: undefined };
        this.writer.toolSpan(turn, tool, ts);
        break;
      }
    }
  }

  /** `whole`: `head` is the whole line. */
  private event(sub: string | undefined, head: string, whole: boolean, parse: () => Record<string, unknown> | undefined, ts: number, lineNo: number): void {
    switch (sub) {
      // Codex names these TurnStarted/TurnComplete inside and accepts `turn_*` as aliases when it reads a rollout.
      case 'task_started':
      case 'turn_started':
        this.explicitTurns = true;
        this.startTurn(field(head, 'turn_id') ?? `turn${this.writer.nextSeq()}`, ts);
        return;
      case 'user_message':
        this.userInput(ts, lineNo);
        return;
      // 0.14x: settings the person changed, written before the next turn or in the middle of one (a
      // switch to `never` mid-turn: later calls ask nobody).
      case 'thread_settings_applied':
        this.approvalSettings.read(head);
        return;
      case 'thread_rolled_back': {
        const turns = Number(/"num_turns"\s*:\s*(\d+)/.exec(head)?.[1] ?? 1);
        this.rolledBackTurns += Number.isSafeInteger(turns) ? turns : 1;
        return;
      }
      case 'task_complete':
      case 'turn_complete': {
        if (!this.turn) return;
        // Parsed only for its error: most turns end without one, and a line seen whole without the key has none.
        const payload = (whole && !head.includes('"error"') ? undefined : parse()?.payload) as Record<string, unknown> | undefined;
        const error = payload?.error as { message?: unknown; codex_error_info?: unknown } | undefined | null;
        if (error && typeof error === 'object') {
          this.turn.failed = true;
          this.turn.error = typeof error.message === 'string' ? error.message : 'error';
          this.writer.errorPoint(this.turn, ts, this.turn.error, errorKind(error.codex_error_info));
        } else if (!payload && /"error"\s*:\s*\{/.test(head)) {
          this.turn.failed = true;
          this.turn.error = field(head, 'message') ?? 'error';
          this.writer.errorPoint(this.turn, ts, this.turn.error, headErrorKind(head));
        } else if (!this.turn.modelSeen && !this.turn.compacted && this.turn.tools.size === 0 && NO_ANSWER.test(head)) {
          // Nothing from the model, no answer, and yet "complete": Codex gave up on the turn with an error it
          // writes only in its fuller logging mode (0.10x–0.12x): a failure, its cause unknown to the rollout.
          this.turn.failed = true;
          this.turn.error = 'ended with no answer and nothing from the model (the rollout does not record why)';
        }
        this.endTurn(ts, this.turn.failed ? TURN_END_STATUS_FAILED : TURN_END_STATUS_COMPLETED);
        return;
      }
      case 'turn_aborted':
        if (!this.turn) return;
        // Rejecting a call stops the turn in these versions: the stop was asked when the person said no.
        if (this.turn.rejectedAt !== undefined && ts - this.turn.rejectedAt <= REJECTION_ABORT_MS) {
          this.writer.out(this.turn, PHASE_CANCEL, stableIdAfter(this.turn.ids, 'cancel'), this.turn.rejectedAt, ts, { [ATTR_PHASE_KIND]: PHASE_KIND_SPAN });
        }
        this.endTurn(ts, TURN_END_STATUS_INTERRUPTED, `aborted: ${field(head, 'reason') ?? 'unknown reason'}`);
        return;
    }
    const turn = this.turn;
    if (!turn) return;
    switch (sub) {
      case 'token_count':
        this.maybeCompactionTurn(turn);
        // Codex 0.169 writes a token_count with usage (`info`) after a response that completed, and one
        // with `"info":null` (a rate-limit snapshot) for a response stream that did not: a second of
        // those with no output in between is the same request sent again.
        if (!TOKEN_COUNT_WITHOUT_USAGE.test(head)) {
          turn.requestsWithoutOutput = 0;
          this.callTiming.tokenCount(head, ts);
          return;
        }
        // Since 0.10x one request writes a snapshot per rate limit (`codex`, then a model's own) in the same moment.
        if (turn.lastSnapshotAt !== undefined && ts - turn.lastSnapshotAt <= SAME_REQUEST_MS) return;
        turn.lastSnapshotAt = ts;
        if (++turn.requestsWithoutOutput >= 2) {
          this.writer.point(turn, PHASE_UPSTREAM_RETRY, ts, { [ATTR_RETRY_REASON]: RETRY_REASON_UNKNOWN, [ATTR_RETRY_ATTEMPT]: turn.requestsWithoutOutput - 1 });
        }
        return;
      case 'error': {
        const message = field(head, 'message') ?? 'error';
        turn.error = message;
        turn.failed = true;
        this.writer.errorPoint(turn, ts, message, headErrorKind(head));
        return;
      }
      case 'stream_error': {
        const message = field(head, 'message') ?? '';
        const nm = /(\d+)\/(\d+)/.exec(message);
        this.writer.point(turn, PHASE_UPSTREAM_RETRY, ts, {
          [ATTR_RETRY_REASON]: RETRY_REASON_STREAM_DISCONNECTED,
          ...(nm ? { [ATTR_RETRY_ATTEMPT]: Number(nm[1]), [ATTR_RETRY_MAX]: Number(nm[2]) } : {}),
        });
        return;
      }
      case 'item_started':
      case 'item_completed': {
        const payload = parse()?.payload as { item?: { type?: string; id?: string }; started_at_ms?: number; completed_at_ms?: number } | undefined;
        const itemType = payload?.item?.type ?? /"item"\s*:\s*\{\s*"type"\s*:\s*"([A-Za-z]+)"/.exec(head)?.[1];
        if (itemType === 'ContextCompaction') {
          if (sub === 'item_started') turn.compactionStart ??= payload?.started_at_ms ?? ts;
          else this.compacted(payload?.completed_at_ms ?? ts, payload?.started_at_ms);
          return;
        }
        const id = payload?.item?.id;
        const start = payload?.started_at_ms;
        const end = payload?.completed_at_ms;
        if (sub === 'item_completed' && id && typeof start === 'number' && typeof end === 'number' && (itemType === 'AgentMessage' || itemType === 'Reasoning')) {
          this.writer.item(turn, itemType === 'AgentMessage' ? 'agentMessage' : 'reasoning', id, start, end);
        }
        return;
      }
      case 'context_compacted':
        this.compacted(ts);
        return;
      case 'exec_approval_request':
      case 'apply_patch_approval_request':
      case 'request_permissions': {
        const callId = field(head, 'call_id') ?? `approval${this.writer.nextSeq()}`;
        if (!turn.approvals.has(callId)) turn.approvals.set(callId, { start: ts, kind: sub === 'apply_patch_approval_request' ? APPROVAL_KIND_FILE_CHANGE : APPROVAL_KIND_COMMAND });
        return;
      }
      case 'exec_command_begin': {
        // The command runs: an approval asked for it was granted.
        const callId = field(head, 'call_id');
        if (callId) closeApproval(this.writer, turn, callId, ts);
        return;
      }
    }
  }

  /**
   * Codex (0.4x on) writes a turn_context before each model request: one written again with nothing
   * from the model since the last (no item, no output) is the same request sent again, a retry (0.106
   * writes five in 8 s, then ends the turn with no answer).
   */
  private requestContext(turn: OpenTurn, ts: number): void {
    if (++turn.contextsWithoutOutput >= 2) {
      this.writer.point(turn, PHASE_UPSTREAM_RETRY, ts, { [ATTR_RETRY_REASON]: RETRY_REASON_UNKNOWN, [ATTR_RETRY_ATTEMPT]: turn.contextsWithoutOutput - 1 });
    }
  }

  // A manual compaction runs as a turn with no user message: the first sign of a model request in such
  // a turn opens its compaction.
  private maybeCompactionTurn(turn: OpenTurn): void {
    if (!turn.userSeen && turn.compactionStart === undefined && turn.tools.size === 0) turn.compactionStart = turn.start;
  }

  private compacted(ts: number, startedAt?: number): void {
    const turn = this.turn;
    if (!turn) return;
    // Codex writes `compacted` and `context_compacted` for one compaction, in the same millisecond.
    if (this.lastCompactionEnd !== undefined && ts - this.lastCompactionEnd <= SAME_COMPACTION_MS && turn.compactionStart === undefined) return;
    this.lastCompactionEnd = ts;
    // An automatic compaction inside a user turn began when the turn's last step did (a tool's output,
    // the model's item): the bookkeeping lines written just before `compacted` are not its start.
    const start = turn.compactionStart ?? startedAt ?? this.lastMeaningfulTs ?? turn.lastTs;
    turn.compactionStart = undefined;
    turn.compacted = true;
    this.writer.compactionSpan(turn, Math.max(turn.start, Math.min(start, ts)), ts);
  }

}
