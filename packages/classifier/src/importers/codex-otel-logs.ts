/**
 * The Codex app-server's own OpenTelemetry log events (its `[otel]` log export, Codex 0.169) mapped
 * onto the phase vocabulary. They are what shows a hung turn live: Codex sends its logs about once a
 * second, while a span is exported only once it ends, seconds later, and the span a turn hangs in
 * never while it hangs. What the events are and when they come was captured from the real binary:
 * test/corpus/codex-otel/README.md.
 *
 * Turns. A log record carries the conversation (`conversation.id`, the thread) and, when emitted
 * inside a span, the trace of that span; it carries no turn id. A turn is its trace (`turn/start`
 * roots one trace per turn, `thread/compact/start` one per compaction), so the phases of a log are
 * keyed by trace (`ATTR_TURN_KEYED_BY_TRACE`) and join the turn once a span of that trace names it.
 * `codex.sse_event` records carry no trace: they belong to the conversation's latest turn. Nor does any
 * record of a Codex that exports no traces (before its trace export, or with the log exporter alone):
 * then a person's prompt starts each turn, and the records after it belong to it.
 *
 * - `codex.user_prompt`: the turn accepted (its trace seen first). A turn of the conversation still
 *   open ends there: Codex runs one turn per thread at a time, and logs nothing when a turn ends.
 * - `codex.api_request`: an upstream attempt that got its response headers (`duration_ms` after it
 *   was sent), open until its stream ends; after a tool result, the continuation. One to
 *   `/responses/compact` is a remote compaction, done when logged.
 * - `codex.sse_event`: the first event of the open attempt; every 3 s of events after it, a progress
 *   point (a long answer still streams); `response.completed` its stream end; a record with
 *   `error.message` a broken stream. The next `codex.api_request` is then its retry.
 * - `codex.tool_decision`: a tool call started (Codex logs it once the call may run);
 *   `codex.tool_result` its result, `duration_ms` after it started.
 *
 * Over its WebSocket transport (a ChatGPT login's default since about 0.137, or a provider with
 * `supports_websockets`), Codex logs no `codex.api_request` for a model request:
 * - `codex.websocket_request`: an upstream attempt sent (`duration_ms` is the time the send took) with
 *   no response headers of its own. Codex 0.169 logs no event of its stream (0.137 logged each as
 *   `codex.websocket_event`), only `codex.sse_event` `response.completed` at its end, so the attempt is
 *   marked `ATTR_UPSTREAM_STREAM_UNSEEN`: silence while it is open may be the model at work. One sent
 *   while no turn of its conversation is open is the connection's warm-up (`generate: false`, at
 *   start-up), no turn's request.
 * - `codex.turn_ttft`: the turn's first token came, its open attempt's first event.
 * - `codex.websocket_event`: an event of the open attempt's stream (0.137); rate-limit notices aside.
 */
import {
  ATTR_ERROR_TYPE,
  ATTR_GEN_AI_TOOL_CALL_ID,
  ATTR_GEN_AI_TOOL_NAME,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_PHASE_KIND,
  ATTR_RETRY_REASON,
  ATTR_SOURCE,
  ATTR_THREAD_ID,
  ATTR_TURN_KEYED_BY_TRACE,
  ATTR_TURN_STATUS,
  ATTR_UPSTREAM_CONTINUATION,
  ATTR_UPSTREAM_EVENTS,
  ATTR_UPSTREAM_STREAM_UNSEEN,
  PHASE_KIND_POINT,
  PHASE_KIND_SPAN,
  PHASE_COMPACTION,
  PHASE_TOOL_CALL,
  PHASE_TURN,
  PHASE_TURN_ACCEPTED,
  PHASE_UPSTREAM_ATTEMPT,
  PHASE_UPSTREAM_FIRST_BYTE,
  PHASE_UPSTREAM_FIRST_EVENT,
  PHASE_UPSTREAM_HEADERS,
  PHASE_UPSTREAM_REQUEST_SENT,
  PHASE_UPSTREAM_RETRY,
  PHASE_UPSTREAM_STREAM_END,
  PHASE_UPSTREAM_STREAM_ERROR,
  PHASE_UPSTREAM_STREAM_PROGRESS,
  PROGRESS_EVERY_MS,
  RETRY_REASON_HTTP_STATUS,
  RETRY_REASON_STREAM_DISCONNECTED,
  SOURCE_CODEX_OTEL_LOGS,
  TURN_END_STATUS_COMPLETED,
  TURN_END_STATUS_FAILED,
  TURN_END_STATUS_INTERRUPTED,
  type TurnEndStatus,
} from '@stall-why/conventions';
import { redactSecrets, type Attributes, type RecordedLog, type RecordedSpan } from '@stall-why/flight-record';
import { InsertionBoundedMap } from '../model/insertion-bounded-map.js';
import { stableId } from './stable-id.js';

/** Codex log attributes read here (an importer may keep only these). */
export const CODEX_LOG_ATTRIBUTES: ReadonlySet<string> = new Set([
  'event.name', 'conversation.id', 'duration_ms', 'http.response.status_code', 'event.kind', 'error.message', 'call_id', 'tool_name', 'decision', 'success', 'endpoint',
]);

/** Whether a log record came from Codex's own telemetry (its log-only event scope, or a Codex service). */
export function isCodexLog(log: RecordedLog): boolean {
  if (log.scope === 'codex_otel.log_only') return true;
  const service = log.resource?.['service.name'];
  return typeof service === 'string' && service.startsWith('codex') && typeof log.attributes['event.name'] === 'string';
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);
/** Codex writes numbers as strings in some events and as ints in others. */
const num = (v: unknown): number | undefined => {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  return Number.isFinite(n) ? n : undefined;
};

/** The longest error text kept from a log (Codex's are one line). */
const MAX_ERROR_CHARS = 200;

interface LogTurn {
  readonly traceId: string;
  readonly threadId: string;
  readonly span: RecordedSpan;
  attempt?: { span: RecordedSpan; sawEvent: boolean; ended: boolean; failed: boolean; status?: number; events: number; progressAt: number };
  /** A tool returned since the last attempt began: the next attempt is the continuation. */
  toolReturned: boolean;
  /** How the latest attempt ended: what an inferred end of the turn says. */
  lastFailed: boolean;
  readonly tools: Map<string, RecordedSpan>;
  ended: boolean;
}

/** Maps one source's Codex log records, in the order they were written, onto vocabulary spans. */
export class CodexLogMapper {
  /** Most turns remembered: the oldest are forgotten (their phases were emitted already). */
  private static readonly MAX_TURNS = 1024;
  private readonly turns = new InsertionBoundedMap<string, LogTurn>(CodexLogMapper.MAX_TURNS);
  /** Conversation → its latest turn. */
  private readonly latest = new Map<string, LogTurn>();

  /** The vocabulary spans of one log record (none for a record that says nothing the rules read). */
  map(log: RecordedLog): RecordedSpan[] {
    const a = log.attributes;
    const threadId = str(a['conversation.id']);
    if (threadId === undefined) return [];
    const out: RecordedSpan[] = [];
    switch (a['event.name']) {
      case 'codex.user_prompt':
        this.turnOf(log.traceId ?? untracedTrace(threadId, log.timeMs), threadId, log.timeMs, out);
        break;
      case 'codex.api_request':
        if (isCompactEndpoint(a.endpoint)) this.remoteCompaction(this.turnOfRecord(log, threadId, out), log, out);
        else this.attemptHeaders(this.turnOfRecord(log, threadId, out), log, out);
        break;
      case 'codex.websocket_request': {
        const turn = this.openTurnOfRecord(log, threadId);
        if (turn) this.attemptSent(turn, log, out);
        break;
      }
      case 'codex.sse_event':
      case 'codex.websocket_event':
      case 'codex.turn_ttft': {
        const turn = this.latest.get(threadId);
        if (turn && !turn.ended) this.streamEvent(turn, log, out);
        break;
      }
      case 'codex.tool_decision':
      case 'codex.tool_result':
        this.tool(this.turnOfRecord(log, threadId, out), log, out);
        break;
    }
    return out;
  }

  /**
   * The turn of a record: its trace's. A record with no trace (Codex before its trace export, or
   * one configured with the log exporter alone, writes none) belongs to the conversation's latest
   * turn while it is open, as a person's prompt starts each turn; one before any prompt was read
   * starts a turn of its own there.
   */
  private turnOfRecord(log: RecordedLog, threadId: string, out: RecordedSpan[]): LogTurn {
    if (log.traceId) return this.turnOf(log.traceId, threadId, log.timeMs, out);
    const latest = this.latest.get(threadId);
    return latest && !latest.ended ? latest : this.turnOf(untracedTrace(threadId, log.timeMs), threadId, log.timeMs, out);
  }

  /** The open turn a record of a request belongs to (its trace's, else the conversation's latest), if one is open. */
  private openTurnOfRecord(log: RecordedLog, threadId: string): LogTurn | undefined {
    const turn = (log.traceId ? this.turns.get(log.traceId) : undefined) ?? this.latest.get(threadId);
    return turn && !turn.ended ? turn : undefined;
  }

  // The turn of a trace, begun (with its accepted point) the first time the trace is seen; the
  // conversation's previous turn, if still open, ends there.
  private turnOf(traceId: string, threadId: string, at: number, out: RecordedSpan[]): LogTurn {
    const known = this.turns.get(traceId);
    if (known) return known;
    const previous = this.latest.get(threadId);
    if (previous && !previous.ended) this.endTurn(previous, at, out);
    const base = { traceId, threadId };
    const span = this.phase(base, PHASE_TURN, at, undefined, 'turn');
    const turn: LogTurn = { ...base, span, toolReturned: false, lastFailed: false, tools: new Map(), ended: false };
    this.turns.set(traceId, turn);
    this.latest.set(threadId, turn);
    out.push(span, this.point(turn, PHASE_TURN_ACCEPTED, at));
    return turn;
  }

  // Codex logs no turn end; the next turn's start is one. How it ended is inferred from its last
  // attempt (an interrupt looks like a completion here: the turn's own span, when exported, says).
  private endTurn(turn: LogTurn, at: number, out: RecordedSpan[]): void {
    turn.ended = true;
    if (turn.attempt && !turn.attempt.ended) this.endAttempt(turn, at, out);
    for (const [id, tool] of turn.tools) turn.tools.set(id, ended(tool, at, out));
    const status: TurnEndStatus = turn.lastFailed ? TURN_END_STATUS_FAILED : turn.attempt ? TURN_END_STATUS_COMPLETED : TURN_END_STATUS_INTERRUPTED;
    out.push({ ...turn.span, endTimeMs: Math.max(at, turn.span.startTimeMs), attributes: { ...turn.span.attributes, [ATTR_TURN_STATUS]: status } });
  }

  /** `codex.api_request`: an attempt logged at its response headers, `duration_ms` after it was sent. */
  private attemptHeaders(turn: LogTurn, log: RecordedLog, out: RecordedSpan[]): void {
    const at = log.timeMs;
    const status = num(log.attributes['http.response.status_code']);
    this.beginAttempt(turn, log, {}, out);
    out.push(this.point(turn, PHASE_UPSTREAM_HEADERS, at, status !== undefined ? { [ATTR_HTTP_RESPONSE_STATUS_CODE]: status } : {}));
    turn.attempt!.status = status;
    if (status !== undefined && status >= 400) this.failAttempt(turn, at, `HTTP ${status}`, out);
  }

  /**
   * `codex.api_request` to `/responses/compact`: the server compacted the thread's history (Codex's
   * remote compaction, OpenAI providers). The answer is one JSON body, no stream, so the record
   * comes when the compaction is done, `duration_ms` after it was asked for; it is no model request.
   */
  private remoteCompaction(turn: LogTurn, log: RecordedLog, out: RecordedSpan[]): void {
    const at = log.timeMs;
    out.push(this.phase(turn, PHASE_COMPACTION, startOf(log), at, `compaction/${log.spanId ?? at}`));
  }

  /** `codex.websocket_request`: an attempt logged once sent, its stream unseen until it completes. */
  private attemptSent(turn: LogTurn, log: RecordedLog, out: RecordedSpan[]): void {
    this.beginAttempt(turn, log, { [ATTR_UPSTREAM_STREAM_UNSEEN]: true }, out);
    if (log.attributes.success === false || log.attributes.success === 'false') {
      this.failAttempt(turn, log.timeMs, errorText(log) ?? 'the request could not be sent', out);
    }
  }

  // A new attempt, sent `duration_ms` before the record: the one still open ends there, and follows a failed one as its retry.
  private beginAttempt(turn: LogTurn, log: RecordedLog, extra: Attributes, out: RecordedSpan[]): void {
    const at = log.timeMs;
    const sent = startOf(log);
    if (turn.attempt && !turn.attempt.ended) this.endAttempt(turn, sent, out);
    // After a broken stream or an error status, the next request is its retry.
    const previous = turn.attempt;
    if (previous?.failed) {
      const reason = (previous.status ?? 0) >= 400 ? RETRY_REASON_HTTP_STATUS : RETRY_REASON_STREAM_DISCONNECTED;
      out.push(this.point(turn, PHASE_UPSTREAM_RETRY, sent, { [ATTR_RETRY_REASON]: reason }));
    }
    const span = this.phase(turn, PHASE_UPSTREAM_ATTEMPT, sent, undefined, `attempt/${log.spanId ?? at}`, turn.toolReturned ? { [ATTR_UPSTREAM_CONTINUATION]: true, ...extra } : extra);
    turn.attempt = { span, sawEvent: false, ended: false, failed: false, events: 0, progressAt: -Infinity };
    turn.toolReturned = false;
    out.push(span, this.point(turn, PHASE_UPSTREAM_REQUEST_SENT, sent));
  }

  private streamEvent(turn: LogTurn, log: RecordedLog, out: RecordedSpan[]): void {
    const attempt = turn.attempt;
    if (!attempt || attempt.ended) return;
    const at = log.timeMs;
    const error = errorText(log);
    if (error !== undefined) {
      this.failAttempt(turn, at, error, out);
      return;
    }
    // The turn's first token is an event of its open attempt, whatever its kind; a rate-limit notice is none.
    const kind = log.attributes['event.name'] === 'codex.turn_ttft' ? 'first_token' : str(log.attributes['event.kind']);
    if (kind === undefined || kind === 'codex.rate_limits') return;
    attempt.events++;
    if (!attempt.sawEvent) {
      attempt.sawEvent = true;
      attempt.progressAt = at;
      out.push(this.point(turn, PHASE_UPSTREAM_FIRST_BYTE, at), this.point(turn, PHASE_UPSTREAM_FIRST_EVENT, at));
    } else if (at - attempt.progressAt >= PROGRESS_EVERY_MS && kind !== 'response.completed') {
      // Codex logs every event of an HTTP stream: a long answer says, every few seconds, that it still streams.
      attempt.progressAt = at;
      out.push(this.point(turn, PHASE_UPSTREAM_STREAM_PROGRESS, at, { [ATTR_UPSTREAM_EVENTS]: attempt.events }));
    }
    if (kind === 'response.completed') {
      turn.lastFailed = false;
      out.push(this.point(turn, PHASE_UPSTREAM_STREAM_END, at));
      this.endAttempt(turn, at, out);
    }
  }

  private failAttempt(turn: LogTurn, at: number, error: string, out: RecordedSpan[]): void {
    turn.attempt!.failed = true;
    turn.lastFailed = true;
    out.push(this.point(turn, PHASE_UPSTREAM_STREAM_ERROR, at, { [ATTR_ERROR_TYPE]: error }));
    this.endAttempt(turn, at, out);
  }

  private endAttempt(turn: LogTurn, at: number, out: RecordedSpan[]): void {
    const attempt = turn.attempt!;
    attempt.ended = true;
    attempt.span = ended(attempt.span, at, out);
  }

  private tool(turn: LogTurn, log: RecordedLog, out: RecordedSpan[]): void {
    const a = log.attributes;
    const callId = str(a.call_id);
    if (callId === undefined) return;
    const at = log.timeMs;
    let span = turn.tools.get(callId);
    if (a['event.name'] === 'codex.tool_decision') {
      if (span) return;
      span = this.phase(turn, PHASE_TOOL_CALL, at, undefined, `tool/${callId}`, { [ATTR_GEN_AI_TOOL_NAME]: str(a.tool_name) ?? 'tool', [ATTR_GEN_AI_TOOL_CALL_ID]: callId });
      turn.tools.set(callId, span);
      out.push(span);
      return;
    }
    // The result: its duration says when the call began, if its decision was not logged.
    span ??= this.phase(turn, PHASE_TOOL_CALL, startOf(log), undefined, `tool/${callId}`, { [ATTR_GEN_AI_TOOL_NAME]: str(a.tool_name) ?? 'tool', [ATTR_GEN_AI_TOOL_CALL_ID]: callId });
    turn.tools.delete(callId);
    ended(span, at, out);
    turn.toolReturned = true;
  }

  private phase(turn: { traceId: string; threadId: string }, name: string, start: number, end: number | undefined, key: string, extra: Attributes = {}): RecordedSpan {
    return {
      traceId: turn.traceId,
      spanId: stableId(`${turn.traceId}/${key}`, 16),
      name,
      startTimeMs: start,
      ...(end !== undefined ? { endTimeMs: end } : {}),
      attributes: {
        [ATTR_SOURCE]: SOURCE_CODEX_OTEL_LOGS,
        [ATTR_THREAD_ID]: turn.threadId,
        [ATTR_TURN_KEYED_BY_TRACE]: true,
        [ATTR_PHASE_KIND]: PHASE_KIND_SPAN,
        ...extra,
      },
    };
  }

  // A point of the turn; one of its open attempt (a milestone) is that attempt's child.
  private point(turn: LogTurn, name: string, at: number, extra: Attributes = {}): RecordedSpan {
    const span = this.phase(turn, name, at, at, `${name}/${at}`, { ...extra, [ATTR_PHASE_KIND]: PHASE_KIND_POINT });
    const attempt = turn.attempt?.span;
    return attempt && name.startsWith('stall_why.upstream.') && name !== PHASE_UPSTREAM_RETRY ? { ...span, parentSpanId: attempt.spanId } : span;
  }
}

/** When the work a record tells of began: `duration_ms` before the record (Codex logs it when done). */
function startOf(log: RecordedLog): number {
  return log.timeMs - Math.max(0, num(log.attributes.duration_ms) ?? 0);
}

/** A record's `error.message`, credentials redacted, cut to one line's worth. */
function errorText(log: RecordedLog): string | undefined {
  const error = str(log.attributes['error.message']);
  return error === undefined ? undefined : redactSecrets(error).slice(0, MAX_ERROR_CHARS);
}

/** Codex's remote compaction endpoint (`/responses/compact`, under any base path). */
function isCompactEndpoint(endpoint: unknown): boolean {
  return typeof endpoint === 'string' && endpoint.endsWith('/compact');
}

/** The trace a turn of records with no trace is keyed by: its conversation and first moment. */
function untracedTrace(threadId: string, at: number): string {
  return stableId(`${threadId}/untraced/${at}`, 32);
}

/** The end record of an open phase, pushed to `out`. */
function ended(span: RecordedSpan, at: number, out: RecordedSpan[]): RecordedSpan {
  const done = { ...span, endTimeMs: Math.max(at, span.startTimeMs) };
  out.push(done);
  return done;
}
