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
  ATTR_ERROR_TYPE,
  ATTR_GEN_AI_TOOL_CALL_ID,
  ATTR_GEN_AI_TOOL_NAME,
  ATTR_ITEM_ID,
  ATTR_ITEM_TYPE,
  ATTR_PHASE_KIND,
  ATTR_RETRY_ATTEMPT,
  ATTR_RETRY_MAX,
  ATTR_RETRY_REASON,
  ATTR_SOURCE,
  ATTR_THREAD_ID,
  ATTR_TOOL_APPROVAL_EXPECTED,
  ATTR_TOOL_KIND,
  ATTR_TURN_ERROR,
  ATTR_TURN_ID,
  ATTR_TURN_STATUS,
  PHASE_COMPACTION,
  PHASE_ITEM,
  PHASE_KIND_POINT,
  PHASE_KIND_SPAN,
  PHASE_TOOL_CALL,
  PHASE_TURN,
  PHASE_TURN_ACCEPTED,
  PHASE_TURN_ERROR,
  PHASE_UPSTREAM_RETRY,
  RETRY_REASON_CONNECT_ERROR,
  RETRY_REASON_HTTP_STATUS,
  RETRY_REASON_STREAM_DISCONNECTED,
  RETRY_REASON_UNKNOWN,
  type RetryReason,
  SOURCE_ROLLOUT,
  TURN_END_STATUS_COMPLETED,
  TURN_END_STATUS_FAILED,
  TURN_END_STATUS_INTERRUPTED,
  type TurnEndStatus,
} from '@stall-why/conventions';
import type { Attributes, RecordedSpan } from '@stall-why/flight-record';
import { TraceInputError } from '../trace-input-error.js';
import { tornTailNote, type LineInfo } from './line-reader.js';
import { stableId } from './stable-id.js';

/** Rollout line types Codex 0.169 writes; any other is skipped and counted. */
export const ROLLOUT_LINE_TYPES: ReadonlySet<string> = new Set([
  'session_meta', 'turn_context', 'world_state', 'response_item', 'event_msg', 'token_usage_record', 'compacted',
]);

/** Lines up to this size are parsed whole when their payload is needed; longer ones by their head. */
export const ROLLOUT_PARSE_BYTES = 256 * 1024;
/** How much of a line's head the field scan looks at. */
const HEAD_BYTES = 8192;
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

/** `codex_error_info` is a bare string (`"other"`) or an object with one key (`{"http_connection_failed":{…}}`). */
function errorKind(info: unknown): string | undefined {
  if (typeof info === 'string') return info.slice(0, 64);
  if (info !== null && typeof info === 'object' && !Array.isArray(info)) return Object.keys(info)[0]?.slice(0, 64);
  return undefined;
}

/** A user-role message whose first text is a tag or heading Codex writes: `<environment_context>`, `<user_instructions>`, `# AGENTS.md instructions`, `<turn_aborted>`. */
const INJECTED_CONTEXT = /"content"\s*:\s*\[\s*\{\s*"type"\s*:\s*"input_text"\s*,\s*"text"\s*:\s*"(?:<(?:environment_context|user_instructions|turn_aborted|user_shell_command)>|# AGENTS\.md)/;

const TOKEN_COUNT_WITHOUT_USAGE = /"type"\s*:\s*"token_count"\s*,\s*"info"\s*:\s*null/;
const HEADER = /^\{"timestamp":"([^"]+)",(?:"ordinal":\d+,)?"type":"([A-Za-z_]+)"(?:,"payload":\{"type":"([A-Za-z_]+)")?/;
const fieldPatterns = new Map<string, RegExp>();
/** The first string value of `name` in a line's head, JSON escapes undone; read without parsing the line. */
const field = (head: string, name: string): string | undefined => {
  let pattern = fieldPatterns.get(name);
  if (pattern === undefined) {
    pattern = new RegExp(`"${name}"\\s*:\\s*"((?:[^"\\\\]|\\\\.){0,400})"`);
    fieldPatterns.set(name, pattern);
  }
  const raw = pattern.exec(head)?.[1];
  if (raw === undefined || !raw.includes('\\')) return raw;
  try {
    return JSON.parse(`"${raw}"`) as string;
  } catch {
    return raw;
  }
};

/** `codex_error_info` read from a line's head when the line is not parsed (see `errorKind`). */
const headErrorKind = (head: string): string | undefined =>
  field(head, 'codex_error_info') ?? /"codex_error_info"\s*:\s*\{\s*"([a-z_]+)"/.exec(head)?.[1];

interface OpenTool {
  readonly spanId: string;
  readonly start: number;
  readonly name: string;
  readonly callId: string;
  readonly approvalExpected: boolean;
}

interface OpenTurn {
  readonly turnId: string;
  readonly traceId: string;
  readonly spanId: string;
  readonly start: number;
  approvalPolicy: string | undefined;
  userSeen: boolean;
  failed: boolean;
  error: string | undefined;
  compactionStart: number | undefined;
  /** token_count lines since the last response item: a second one is a request repeated with no output. */
  requestsWithoutOutput: number;
  lastTs: number;
  readonly tools: Map<string, OpenTool>;
}

/** Maps the lines of one rollout file onto spans, line by line. */
export class RolloutImporter {
  private threadId: string | undefined;
  private turn: OpenTurn | undefined;
  private seq = 0;
  /** Lines whose type is not a known rollout line type. */
  skipped = 0;
  spans = 0;
  /** Items and events seen while no turn was open (before the first task_started, or in a rollout that marks none). */
  private outsideTurns = 0;
  private turnsSeen = 0;
  /** The latest timestamp of any line: when the rollout was last written (an open turn's writer is judged by it). */
  lastLineMs: number | undefined;
  /** The line number of a last line cut short, if any. */
  private tornTail: number | undefined;

  constructor(
    private readonly file: string,
    private readonly emit: (span: RecordedSpan) => void,
  ) {
    const m = /rollout-.*?([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.jsonl$/i.exec(file);
    this.threadId = m?.[1];
  }

  line(buf: Buffer, info: LineInfo): void {
    if (info.length === 0) return;
    // UTF-8, so the messages taken from the head (errors) keep their characters; a character cut at the end is harmless.
    const head = buf.toString('utf8', 0, Math.min(buf.length, HEAD_BYTES));
    const m = HEADER.exec(head) ?? (info.lastByte === 0x7d ? this.otherKeyOrder(buf, info) : undefined);
    if (!m || info.lastByte !== 0x7d) {
      this.invalid(buf, info);
      return;
    }
    const ts = Date.parse(m[1]!);
    if (!Number.isFinite(ts)) throw new TraceInputError(this.file, info.lineNo, `bad timestamp "${m[1]}" in a rollout line`);
    if (this.lastLineMs === undefined || ts > this.lastLineMs) this.lastLineMs = ts;
    const type = m[2]!;
    const sub = m[3];
    if (!ROLLOUT_LINE_TYPES.has(type)) {
      this.skipped++;
      return;
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
        this.threadId = field(head, 'id') ?? this.threadId;
        break;
      case 'turn_context':
        if (this.turn) this.turn.approvalPolicy = field(head, 'approval_policy') ?? this.turn.approvalPolicy;
        break;
      case 'response_item':
        if (!this.turn) this.outsideTurns++;
        this.responseItem(sub, head, ts);
        break;
      case 'event_msg':
        this.event(sub, head, parse, ts);
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
  }

  /** What the report should say about this rollout beyond its turns. */
  notes(): string[] {
    const notes: string[] = [];
    if (this.tornTail !== undefined) notes.push(tornTailNote(this.tornTail));
    if (this.turnsSeen === 0 && this.outsideTurns > 0) notes.push(`${this.outsideTurns} items and events but no turn start (task_started): older Codex versions did not write them, so no turn can be judged`);
    return notes;
  }

  /** Emits what is still open (a stuck turn, a running tool) as open spans. */
  finish(): void {
    const turn = this.turn;
    if (!turn) return;
    for (const tool of turn.tools.values()) this.toolSpan(turn, tool, undefined);
    if (turn.compactionStart !== undefined) this.compactionSpan(turn, turn.compactionStart, undefined);
    this.out(turn, PHASE_TURN, turn.spanId, turn.start, undefined, { [ATTR_PHASE_KIND]: PHASE_KIND_SPAN });
    this.turn = undefined;
  }

  /**
   * A rollout line whose keys are not in the order Codex 0.169 writes them (another version, a tool
   * that rewrote the file): parsed whole when small enough, and read the same way.
   */
  private otherKeyOrder(buf: Buffer, info: LineInfo): [string, string, string, string | undefined] | undefined {
    if (info.truncated || info.length > ROLLOUT_PARSE_BYTES) return undefined;
    let o: unknown;
    try {
      o = JSON.parse(buf.toString('utf8'));
    } catch {
      return undefined;
    }
    if (o === null || typeof o !== 'object') return undefined;
    const { timestamp, type, payload } = o as { timestamp?: unknown; type?: unknown; payload?: { type?: unknown } };
    if (typeof timestamp !== 'string' || typeof type !== 'string' || !/^[A-Za-z_]+$/.test(type)) return undefined;
    const sub = payload !== null && typeof payload === 'object' && typeof payload.type === 'string' ? payload.type : undefined;
    return ['', timestamp, type, sub];
  }

  private invalid(buf: Buffer, info: LineInfo): void {
    // A live rollout is appended line by line: its last line may be half-written. Judged up to the line before.
    if (info.atEof && info.lastByte !== 0x7d) {
      this.tornTail = info.lineNo;
      return;
    }
    if (!info.truncated) {
      try {
        const o = JSON.parse(buf.toString('utf8')) as Record<string, unknown>;
        if (o && typeof o === 'object' && (typeof o.timestamp !== 'string' || typeof o.type !== 'string')) {
          throw new TraceInputError(this.file, info.lineNo, 'not a rollout line: no "timestamp" and "type"');
        }
      } catch (error) {
        if (error instanceof TraceInputError) throw error;
        throw new TraceInputError(this.file, info.lineNo, `invalid JSON in a rollout line: ${(error as Error).message}`);
      }
    }
    throw new TraceInputError(this.file, info.lineNo, 'not a rollout line: it does not start with {"timestamp":…,"type":…}');
  }

  private startTurn(turnId: string, ts: number): void {
    if (this.turn) {
      // A turn with no end line, followed by another: its end was lost (a crash, an unflushed write).
      this.endTurn(ts, TURN_END_STATUS_INTERRUPTED, 'no end recorded in the rollout; a later turn started');
    }
    const threadId = this.threadId ?? 'unknown-thread';
    this.turnsSeen++;
    this.turn = {
      turnId,
      traceId: stableId(`${threadId}/${turnId}`, 32),
      spanId: stableId(`${threadId}/${turnId}/turn`, 16),
      start: ts,
      approvalPolicy: undefined,
      userSeen: false,
      failed: false,
      error: undefined,
      compactionStart: undefined,
      requestsWithoutOutput: 0,
      lastTs: ts,
      tools: new Map(),
    };
    this.point(this.turn, PHASE_TURN_ACCEPTED, ts, {});
  }

  private endTurn(ts: number, status: TurnEndStatus, error?: string): void {
    const turn = this.turn!;
    for (const tool of turn.tools.values()) this.toolSpan(turn, tool, ts);
    if (turn.compactionStart !== undefined) this.compactionSpan(turn, turn.compactionStart, ts);
    const attrs: Attributes = { [ATTR_PHASE_KIND]: PHASE_KIND_SPAN, [ATTR_TURN_STATUS]: status };
    const err = error ?? turn.error;
    if (err) attrs[ATTR_TURN_ERROR] = err.slice(0, MAX_ERROR_CHARS);
    this.out(turn, PHASE_TURN, turn.spanId, turn.start, ts, attrs, status === TURN_END_STATUS_FAILED ? 2 : 0);
    this.turn = undefined;
  }

  private responseItem(sub: string | undefined, head: string, ts: number): void {
    const turn = this.turn;
    if (!turn) return;
    turn.requestsWithoutOutput = 0;
    const id = field(head, 'id') ?? `line${++this.seq}`;
    switch (sub) {
      case 'message': {
        const role = field(head, 'role');
        // Context Codex adds as a user message (environment, AGENTS.md, a note that the last turn was aborted) is not the person's.
        if (role === 'user' && !INJECTED_CONTEXT.test(head)) {
          turn.userSeen = true;
          this.item(turn, 'userMessage', id, ts, ts);
        } else if (role === 'assistant') {
          this.maybeCompactionTurn(turn);
          this.item(turn, 'agentMessage', id, ts, ts);
        }
        break;
      }
      case 'reasoning':
        this.item(turn, 'reasoning', id, ts, ts);
        break;
      case 'function_call':
      case 'custom_tool_call':
      case 'local_shell_call': {
        const callId = field(head, 'call_id') ?? id;
        const name = field(head, 'name') ?? sub;
        const policy = turn.approvalPolicy;
        const approvalExpected = policy !== undefined && policy !== 'never' && (head.includes('require_escalated') || policy === 'untrusted');
        turn.tools.set(callId, { spanId: stableId(`${turn.traceId}/tool/${callId}`, 16), start: ts, name, callId, approvalExpected });
        break;
      }
      case 'function_call_output':
      case 'custom_tool_call_output': {
        const callId = field(head, 'call_id');
        const tool = callId ? turn.tools.get(callId) : undefined;
        if (tool) {
          this.toolSpan(turn, tool, ts);
          turn.tools.delete(tool.callId);
        }
        break;
      }
      case 'web_search_call':
      case 'tool_search_call': {
        const tool = { spanId: stableId(`${turn.traceId}/tool/${id}`, 16), start: ts, name: sub, callId: id, approvalExpected: false };
        this.toolSpan(turn, tool, ts);
        break;
      }
    }
  }

  private event(sub: string | undefined, head: string, parse: () => Record<string, unknown> | undefined, ts: number): void {
    switch (sub) {
      // Codex names these TurnStarted/TurnComplete inside and accepts `turn_*` as aliases when it reads a rollout.
      case 'task_started':
      case 'turn_started':
        this.startTurn(field(head, 'turn_id') ?? `turn${++this.seq}`, ts);
        return;
      case 'task_complete':
      case 'turn_complete': {
        if (!this.turn) return;
        const payload = parse()?.payload as Record<string, unknown> | undefined;
        const error = payload?.error as { message?: unknown; codex_error_info?: unknown } | undefined | null;
        if (error && typeof error === 'object') {
          this.turn.failed = true;
          this.turn.error = typeof error.message === 'string' ? error.message : 'error';
          this.errorPoint(this.turn, ts, this.turn.error, errorKind(error.codex_error_info));
        } else if (!payload && /"error"\s*:\s*\{/.test(head)) {
          this.turn.failed = true;
          this.turn.error = field(head, 'message') ?? 'error';
          this.errorPoint(this.turn, ts, this.turn.error, headErrorKind(head));
        }
        this.endTurn(ts, this.turn.failed ? TURN_END_STATUS_FAILED : TURN_END_STATUS_COMPLETED);
        return;
      }
      case 'turn_aborted':
        if (this.turn) this.endTurn(ts, TURN_END_STATUS_INTERRUPTED, `aborted: ${field(head, 'reason') ?? 'unknown reason'}`);
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
          return;
        }
        if (++turn.requestsWithoutOutput >= 2) {
          this.point(turn, PHASE_UPSTREAM_RETRY, ts, { [ATTR_RETRY_REASON]: RETRY_REASON_UNKNOWN, [ATTR_RETRY_ATTEMPT]: turn.requestsWithoutOutput - 1 });
        }
        return;
      case 'error': {
        const message = field(head, 'message') ?? 'error';
        turn.error = message;
        turn.failed = true;
        this.errorPoint(turn, ts, message, headErrorKind(head));
        return;
      }
      case 'stream_error': {
        const message = field(head, 'message') ?? '';
        const nm = /(\d+)\/(\d+)/.exec(message);
        this.point(turn, PHASE_UPSTREAM_RETRY, ts, {
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
          this.item(turn, itemType === 'AgentMessage' ? 'agentMessage' : 'reasoning', id, start, end);
        }
        return;
      }
      case 'context_compacted':
        this.compacted(ts);
        return;
    }
  }

  /** The server's error in the turn; a transport failure it stopped retrying says why it was retrying. */
  private errorPoint(turn: OpenTurn, ts: number, message: string, kind: string | undefined): void {
    const reason = kind === undefined ? undefined : EXHAUSTED_RETRY_REASONS.get(kind);
    this.point(turn, PHASE_TURN_ERROR, ts, {
      [ATTR_TURN_ERROR]: message.slice(0, MAX_ERROR_CHARS),
      ...(kind ? { [ATTR_ERROR_TYPE]: kind } : {}),
      ...(reason ? { [ATTR_RETRY_REASON]: reason } : {}),
    });
  }

  // A manual compaction runs as a turn with no user message: the first sign of a model request in such
  // a turn opens its compaction.
  private maybeCompactionTurn(turn: OpenTurn): void {
    if (!turn.userSeen && turn.compactionStart === undefined && turn.tools.size === 0) turn.compactionStart = turn.start;
  }

  private compacted(ts: number, startedAt?: number): void {
    const turn = this.turn;
    if (!turn) return;
    // An automatic compaction inside a user turn: it began after the line before it.
    const start = turn.compactionStart ?? startedAt ?? turn.lastTs;
    turn.compactionStart = undefined;
    this.compactionSpan(turn, start, ts);
  }

  private compactionSpan(turn: OpenTurn, start: number, end: number | undefined): void {
    this.out(turn, PHASE_COMPACTION, stableId(`${turn.traceId}/compaction/${start}`, 16), start, end, { [ATTR_PHASE_KIND]: PHASE_KIND_SPAN });
  }

  private toolSpan(turn: OpenTurn, tool: OpenTool, end: number | undefined): void {
    const attrs: Attributes = {
      [ATTR_PHASE_KIND]: PHASE_KIND_SPAN,
      [ATTR_GEN_AI_TOOL_NAME]: tool.name,
      [ATTR_GEN_AI_TOOL_CALL_ID]: tool.callId,
      [ATTR_TOOL_KIND]: 'function_call',
    };
    if (tool.approvalExpected) attrs[ATTR_TOOL_APPROVAL_EXPECTED] = true;
    this.out(turn, PHASE_TOOL_CALL, tool.spanId, tool.start, end, attrs);
  }

  private item(turn: OpenTurn, type: string, id: string, start: number, end: number): void {
    const attrs: Attributes = { [ATTR_ITEM_TYPE]: type, [ATTR_ITEM_ID]: id, [ATTR_PHASE_KIND]: start === end ? PHASE_KIND_POINT : PHASE_KIND_SPAN };
    this.out(turn, PHASE_ITEM, stableId(`${turn.traceId}/item/${id}`, 16), start, end, attrs);
  }

  private point(turn: OpenTurn, name: string, ts: number, attrs: Attributes): void {
    this.out(turn, name, stableId(`${turn.traceId}/${name}/${++this.seq}`, 16), ts, ts, { ...attrs, [ATTR_PHASE_KIND]: PHASE_KIND_POINT });
  }

  private out(turn: OpenTurn, name: string, spanId: string, start: number, end: number | undefined, attrs: Attributes, statusCode: 0 | 2 = 0): void {
    this.spans++;
    this.emit({
      traceId: turn.traceId,
      spanId,
      ...(name === PHASE_TURN ? {} : { parentSpanId: turn.spanId }),
      name,
      startTimeMs: start,
      ...(end === undefined ? {} : { endTimeMs: end }),
      attributes: { ...attrs, [ATTR_SOURCE]: SOURCE_ROLLOUT, [ATTR_THREAD_ID]: this.threadId ?? 'unknown-thread', [ATTR_TURN_ID]: turn.turnId },
      ...(statusCode ? { status: { code: statusCode } } : {}),
      scope: 'codex-rollout',
    });
  }
}
