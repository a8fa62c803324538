/**
 * The Codex app-server's own OpenTelemetry spans (its `[otel]` trace export, Codex 0.169) mapped onto
 * the phase vocabulary, so an unmodified Codex is judged from what it exports. What its spans are,
 * and when they arrive, was captured from the real binary: test/corpus/codex-otel/README.md.
 *
 * - `session_task.turn` (`turn.id`; the thread in a string `thread.id`) is the turn; `session_task.compact`
 *   a compaction turn, `codex.compaction` its compaction. No span carries an error status and nothing
 *   marks how a turn ended: a turn whose span has no token usage was interrupted, one that used no
 *   tokens failed, any other completed.
 * - `emit_turn_start_lifecycle` (`turn_id`), `codex.turn_input` and `run_turn` (`turn.id`,
 *   `conversation.id`): the turn accepted. Codex exports a parent only after its children (a tracing
 *   span closes when its last child does), so only `emit_turn_start_lifecycle`, a leaf that ends within
 *   milliseconds of `turn/start`, shows a hung turn (unknown: what it waits in is open) from the first
 *   batch Codex exports.
 * - `try_run_sampling_request` (`turn_id`): one upstream attempt; `stream_request` its request sent;
 *   `receiving_stream` starts at its response headers; the first `handle_responses` that names an
 *   output item (`from`) marks its first event, `codex.response.receive_wait_ms` after it began;
 *   `handle_response_stream_error` a broken stream, and the backoff it waits a retry.
 * - A span with `codex.tool.phase` = `dispatch` (`exec_command`, …: `tool_name`, `call_id`) is a tool call.
 *
 * Codex exports a span only once it has ended: while a turn hangs, the span it waits in is not in the
 * export (`TurnTimeline.recordsOpen` stays false and an open turn is judged unknown). An approval shows
 * only as `decide_request`, a root span of its own trace with no turn or call id, when a decision is
 * asked for: read as an approval open until what follows answers it, in the turn open at that moment.
 */
import {
  ATTR_GEN_AI_TOOL_CALL_ID,
  ATTR_GEN_AI_TOOL_NAME,
  ATTR_PHASE_KIND,
  ATTR_RETRY_REASON,
  ATTR_SOURCE,
  ATTR_THREAD_ID,
  ATTR_TURN_ID,
  ATTR_TURN_KIND,
  ATTR_TURN_STATUS,
  PHASE_APPROVAL,
  PHASE_COMPACTION,
  PHASE_KIND_POINT,
  PHASE_KIND_SPAN,
  PHASE_TOOL_CALL,
  PHASE_TURN,
  PHASE_TURN_ACCEPTED,
  PHASE_UPSTREAM_ATTEMPT,
  PHASE_UPSTREAM_FIRST_BYTE,
  PHASE_UPSTREAM_FIRST_EVENT,
  PHASE_UPSTREAM_HEADERS,
  PHASE_UPSTREAM_REQUEST_SENT,
  PHASE_UPSTREAM_RETRY,
  PHASE_UPSTREAM_STREAM_ERROR,
  RETRY_REASON_STREAM_DISCONNECTED,
  SOURCE_CODEX_OTEL,
  TURN_END_STATUS_COMPLETED,
  TURN_END_STATUS_FAILED,
  TURN_END_STATUS_INTERRUPTED,
  TURN_KIND_COMPACTION,
  type TurnEndStatus,
} from '@stall-why/conventions';
import type { Attributes, RecordedSpan } from '@stall-why/flight-record';
import { stableId } from './stable-id.js';

/**
 * Codex's tool dispatch spans are named after the tool: the built-in tools of Codex 0.169 (another
 * tool's span is not read: the OTLP importers skip foreign spans by name before reading them).
 */
const CODEX_TOOL_SPANS = ['exec_command', 'write_stdin', 'shell', 'local_shell', 'apply_patch', 'view_image', 'update_plan', 'web_search'];

/** Codex span names read here; the OTLP importers skip every other foreign span unread. */
export const CODEX_SPAN_NAMES: ReadonlySet<string> = new Set([
  'session_task.turn', 'session_task.compact', 'codex.compaction', 'codex.turn_input', 'emit_turn_start_lifecycle', 'run_turn', 'try_run_sampling_request', 'stream_request',
  'receiving_stream', 'handle_responses', 'handle_response_stream_error', 'decide_request', ...CODEX_TOOL_SPANS,
]);

/** Codex attribute keys read here, kept by the OTLP importers on the spans above. */
export const CODEX_ATTRIBUTES: ReadonlySet<string> = new Set([
  'turn.id', 'turn_id', 'conversation.id', 'thread.id', 'tool_name', 'call_id', 'codex.tool.phase', 'aborted',
  'codex.turn.token_usage.total_tokens', 'codex.response.receive_wait_ms', 'from',
]);

const TOKENS = 'codex.turn.token_usage.total_tokens';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);

/** Whether a span came from Codex (its instrumentation scope or service), not another app with a span of the same name. */
export function isCodexSpan(span: RecordedSpan): boolean {
  if (!CODEX_SPAN_NAMES.has(span.name)) return false;
  const service = span.resource?.['service.name'];
  return span.scope === 'codex-app-server' || (typeof service === 'string' && service.startsWith('codex'));
}

/** How a Codex turn span says the turn ended (see the module comment). */
function endStatus(a: Attributes): TurnEndStatus {
  const tokens = a[TOKENS];
  if (tokens === undefined) return TURN_END_STATUS_INTERRUPTED;
  return Number(tokens) === 0 ? TURN_END_STATUS_FAILED : TURN_END_STATUS_COMPLETED;
}

/** The vocabulary spans of one Codex span (none for a span that says nothing the rules read). */
export function codexOtelSpans(span: RecordedSpan): RecordedSpan[] {
  const a = span.attributes;
  const turnId = str(a['turn.id']) ?? str(a.turn_id);
  // `thread.id` is Codex's thread only as a string uuid (an int one is a worker thread's number).
  const threadId = str(a['conversation.id']) ?? (typeof a['thread.id'] === 'string' && UUID.test(a['thread.id']) ? a['thread.id'] : undefined);
  const ids: Attributes = { [ATTR_SOURCE]: SOURCE_CODEX_OTEL };
  if (turnId) ids[ATTR_TURN_ID] = turnId;
  if (threadId) ids[ATTR_THREAD_ID] = threadId;
  const as = (name: string, attributes: Attributes, kind = PHASE_KIND_SPAN): RecordedSpan => ({
    ...span,
    name,
    attributes: { ...ids, ...attributes, [ATTR_PHASE_KIND]: kind },
  });
  const point = (name: string, at: number, attributes: Attributes = {}): RecordedSpan => ({
    traceId: span.traceId,
    spanId: stableId(`${span.spanId}/${name}`, 16),
    parentSpanId: span.name === 'try_run_sampling_request' ? span.spanId : span.parentSpanId,
    name,
    startTimeMs: at,
    endTimeMs: at,
    attributes: { ...ids, ...attributes, [ATTR_PHASE_KIND]: PHASE_KIND_POINT },
    ...(span.resource ? { resource: span.resource } : {}),
    ...(span.scope ? { scope: span.scope } : {}),
  });
  switch (span.name) {
    case 'session_task.turn':
      if (!turnId || span.endTimeMs === undefined) return [];
      return [as(PHASE_TURN, { [ATTR_TURN_STATUS]: endStatus(a) })];
    case 'session_task.compact':
      if (!turnId || span.endTimeMs === undefined) return [];
      return [as(PHASE_TURN, { [ATTR_TURN_STATUS]: endStatus(a), [ATTR_TURN_KIND]: TURN_KIND_COMPACTION })];
    case 'codex.compaction':
      return turnId ? [as(PHASE_COMPACTION, {})] : [];
    case 'emit_turn_start_lifecycle':
    case 'codex.turn_input':
    case 'run_turn':
      return turnId ? [point(PHASE_TURN_ACCEPTED, span.startTimeMs)] : [];
    case 'try_run_sampling_request':
      return turnId ? [as(PHASE_UPSTREAM_ATTEMPT, {})] : [];
    case 'stream_request':
      return [point(PHASE_UPSTREAM_REQUEST_SENT, span.startTimeMs)];
    case 'receiving_stream':
      // Codex reads the body once the response headers came.
      return [point(PHASE_UPSTREAM_HEADERS, span.startTimeMs), point(PHASE_UPSTREAM_FIRST_BYTE, span.startTimeMs)];
    case 'handle_responses': {
      const wait = a['codex.response.receive_wait_ms'];
      if (!str(a.from) || typeof wait !== 'number') return [];
      return [point(PHASE_UPSTREAM_FIRST_EVENT, span.startTimeMs + wait)];
    }
    case 'decide_request': {
      // An approval was decided on (Codex's guardian asks), its answer not told: open until what
      // follows answers it (model/codex-phase-reconciler.ts). It names no turn: it joins the turn
      // open at that moment.
      const { endTimeMs: _told, ...asked } = as(PHASE_APPROVAL, {});
      return [asked];
    }
    case 'handle_response_stream_error': {
      const out = [point(PHASE_UPSTREAM_STREAM_ERROR, span.startTimeMs)];
      // It lasts the backoff before the next attempt; the last one, after which Codex gives up, lasts nothing.
      if ((span.endTimeMs ?? span.startTimeMs) - span.startTimeMs >= 1) {
        out.push(point(PHASE_UPSTREAM_RETRY, span.startTimeMs, { [ATTR_RETRY_REASON]: RETRY_REASON_STREAM_DISCONNECTED }));
      }
      return out;
    }
    default:
      if (a['codex.tool.phase'] !== 'dispatch' || !turnId) return [];
      return [as(PHASE_TOOL_CALL, { [ATTR_GEN_AI_TOOL_NAME]: str(a.tool_name) ?? span.name, ...(str(a.call_id) ? { [ATTR_GEN_AI_TOOL_CALL_ID]: a.call_id! } : {}) })];
  }
}
