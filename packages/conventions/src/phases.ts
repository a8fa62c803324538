/**
 * Phase span names. A phase is one stage of an agent turn. Duration phases are spans that start
 * when the stage starts and end when it ends (an open span is a stage still under way). Point
 * phases are zero-duration spans, ended at once, so that they reach a flight recorder the moment
 * they happen (a span event on an open span would only be written when that span ends, which for
 * a stuck turn is never).
 *
 * Every phase span carries `ATTR_THREAD_ID` and, inside a turn, `ATTR_TURN_ID`, so a reader can
 * group phases without relying on parent links (which break across processes and proxies).
 */
import {
  ATTR_AGENT_NAME,
  ATTR_APPROVAL_DECISION,
  ATTR_APPROVAL_KIND,
  ATTR_APPROVAL_REQUEST_ID,
  ATTR_CANCEL_RESULT,
  ATTR_ERROR_TYPE,
  ATTR_GEN_AI_REQUEST_MODEL,
  ATTR_GEN_AI_TOOL_CALL_ID,
  ATTR_GEN_AI_TOOL_NAME,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_REQUEST_RESEND_COUNT,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HYDRATION_BYTES,
  ATTR_HYDRATION_ITEMS,
  ATTR_HYDRATION_TRIGGER,
  ATTR_ITEM_ID,
  ATTR_ITEM_STATUS,
  ATTR_ITEM_TYPE,
  ATTR_RENDERER_ID,
  ATTR_RENDERER_REASON,
  ATTR_RETRY_ATTEMPT,
  ATTR_RETRY_DELAY_MS,
  ATTR_RETRY_MAX,
  ATTR_RETRY_REASON,
  ATTR_RETRY_WILL_RETRY,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  ATTR_TOOL_EXIT_CODE,
  ATTR_TOOL_KIND,
  ATTR_TURN_ERROR,
  ATTR_TURN_KIND,
  ATTR_TURN_STATUS,
  ATTR_TURN_STOP_REASON,
  ATTR_UPSTREAM_ATTEMPT,
  ATTR_UPSTREAM_BYTES,
  ATTR_THREAD_PARENT_ID,
  ATTR_UPSTREAM_CONTINUATION,
  ATTR_UPSTREAM_STREAM_UNSEEN,
  ATTR_UPSTREAM_EVENTS,
  ATTR_URL_PATH,
  ATTR_WRITER_STOP_REASON,
  ATTR_PROCESS_EXIT_CODE,
  ATTR_PROCESS_SIGNAL,
  ATTR_PROCESS_PID,
} from './attributes.js';
import { PHASE_KIND_POINT, PHASE_KIND_SPAN, type PhaseKind } from './values.js';

// --- Turn ---------------------------------------------------------------------------------

/** The whole turn: from the server accepting the user's request to its terminal status (`ATTR_TURN_STATUS`). */
export const PHASE_TURN = 'stall_why.turn';
/** The app-server accepted the user's request for a turn. */
export const PHASE_TURN_ACCEPTED = 'stall_why.turn.accepted';
/** The server reported an error inside a turn that it will not retry (the turn may still go on). */
export const PHASE_TURN_ERROR = 'stall_why.turn.error';

// --- Thread ------------------------------------------------------------------------------

/** Loading or resuming a thread's history (`ATTR_HYDRATION_BYTES`, `ATTR_HYDRATION_ITEMS`). */
export const PHASE_THREAD_HYDRATION = 'stall_why.thread.hydration';

// --- Upstream model request ----------------------------------------------------------------

/** One attempt at a model request: from request sent to stream end or error (`ATTR_UPSTREAM_ATTEMPT`). */
export const PHASE_UPSTREAM_ATTEMPT = 'stall_why.upstream.attempt';
/** The attempt's request was sent. */
export const PHASE_UPSTREAM_REQUEST_SENT = 'stall_why.upstream.request_sent';
/** The attempt's response headers arrived (`ATTR_HTTP_RESPONSE_STATUS_CODE`). */
export const PHASE_UPSTREAM_HEADERS = 'stall_why.upstream.headers';
/** The first byte of the attempt's response body arrived. */
export const PHASE_UPSTREAM_FIRST_BYTE = 'stall_why.upstream.first_byte';
/** The first streamed event (Responses API / SSE) of the attempt arrived. */
export const PHASE_UPSTREAM_FIRST_EVENT = 'stall_why.upstream.first_event';
/**
 * Events were still arriving on the attempt's open stream (a point at most every few seconds while
 * they flow, with the counts so far): a long answer being written is not a stream gone silent.
 */
export const PHASE_UPSTREAM_STREAM_PROGRESS = 'stall_why.upstream.stream_progress';
/**
 * How often, at most, a writer marks a stream or an item still going (`PHASE_UPSTREAM_STREAM_PROGRESS`,
 * `PHASE_ITEM_PROGRESS`): a tenth of the default stuck threshold (30 s), so a turn is never stuck while
 * its answer streams, at one point per 3 s of stream.
 */
export const PROGRESS_EVERY_MS = 3_000;
/** The attempt's stream ended normally. */
export const PHASE_UPSTREAM_STREAM_END = 'stall_why.upstream.stream_end';
/** The attempt's stream broke or the request failed (`ATTR_ERROR_TYPE`). */
export const PHASE_UPSTREAM_STREAM_ERROR = 'stall_why.upstream.stream_error';
/** A retry or reconnect was announced (`ATTR_RETRY_REASON`, `ATTR_RETRY_ATTEMPT`, `ATTR_RETRY_MAX`). */
export const PHASE_UPSTREAM_RETRY = 'stall_why.upstream.retry';

// --- Items and tools -------------------------------------------------------------------------

/** One item of a turn, from started to completed (`ATTR_ITEM_TYPE`, `ATTR_ITEM_ID`). */
export const PHASE_ITEM = 'stall_why.item';
/**
 * The item was still being written (its deltas came: a point at most every few seconds while they
 * do): a long answer, or a command printing, is not a turn gone quiet.
 */
export const PHASE_ITEM_PROGRESS = 'stall_why.item.progress';
/** The turn's first assistant output item started. */
export const PHASE_FIRST_ASSISTANT_ITEM = 'stall_why.item.first_assistant';
/** The turn's first reasoning item started. */
export const PHASE_FIRST_REASONING_ITEM = 'stall_why.item.first_reasoning';
/** The turn's first tool item started. */
export const PHASE_FIRST_TOOL_ITEM = 'stall_why.item.first_tool';
/** A tool call: started when the tool starts, ended when its result is returned (`ATTR_GEN_AI_TOOL_NAME`). */
export const PHASE_TOOL_CALL = 'stall_why.tool.call';
/** After a tool result, the continuation request to the model was sent. */
export const PHASE_CONTINUATION_REQUESTED = 'stall_why.continuation.requested';

// --- Compaction, approval, renderer, cancel -----------------------------------------------

/** Context compaction, from started to completed. */
export const PHASE_COMPACTION = 'stall_why.compaction';
/** An approval asked of a person, from requested to resolved (`ATTR_APPROVAL_KIND`, `ATTR_APPROVAL_DECISION`). */
export const PHASE_APPROVAL = 'stall_why.approval';
/** A renderer (a client that displays the thread) attached. */
export const PHASE_RENDERER_ATTACHED = 'stall_why.renderer.attached';
/** A renderer detached (`ATTR_RENDERER_REASON`). */
export const PHASE_RENDERER_DETACHED = 'stall_why.renderer.detached';
/** A stop/cancel request, from requested to its result (`ATTR_CANCEL_RESULT`). */
export const PHASE_CANCEL = 'stall_why.cancel';

// --- The recording itself -------------------------------------------------------------------

/**
 * What wrote the recording stopped (`ATTR_WRITER_STOP_REASON`): the recorder shut down, the wrapped
 * server exited (`ATTR_PROCESS_EXIT_CODE`, `ATTR_PROCESS_SIGNAL`), or the writing process is gone.
 * Turns of the same source still open then are abandoned, not stuck for ever. Carries no thread id.
 */
export const PHASE_WRITER_STOPPED = 'stall_why.writer.stopped';

/** What the phase vocabulary says about one span name. */
export interface PhaseDescriptor {
  readonly name: string;
  readonly kind: PhaseKind;
  /** One line: what the phase means. */
  readonly meaning: string;
  /** Attributes that the phase carries besides the thread and turn ids. */
  readonly attributes: readonly string[];
}

const d = (name: string, kind: PhaseKind, meaning: string, attributes: string[] = []): PhaseDescriptor =>
  Object.freeze({ name, kind, meaning, attributes: Object.freeze(attributes) });

/** Every phase, in the order a turn usually meets them. The docs table is generated from this list. */
export const PHASES: readonly PhaseDescriptor[] = Object.freeze([
  d(PHASE_THREAD_HYDRATION, PHASE_KIND_SPAN, "Loading or resuming a thread's history.", [
    ATTR_HYDRATION_TRIGGER, ATTR_HYDRATION_BYTES, ATTR_HYDRATION_ITEMS,
  ]),
  d(PHASE_TURN, PHASE_KIND_SPAN, 'The whole turn, from accepted to its terminal status.', [ATTR_TURN_STATUS, ATTR_TURN_ERROR, ATTR_TURN_KIND, ATTR_TURN_STOP_REASON, ATTR_THREAD_PARENT_ID, ATTR_AGENT_NAME]),
  d(PHASE_TURN_ACCEPTED, PHASE_KIND_POINT, "The app-server accepted the user's request."),
  d(PHASE_UPSTREAM_ATTEMPT, PHASE_KIND_SPAN, 'One attempt at a model request, from sent to stream end or error.', [
    ATTR_UPSTREAM_ATTEMPT, ATTR_HTTP_REQUEST_RESEND_COUNT, ATTR_UPSTREAM_CONTINUATION, ATTR_UPSTREAM_STREAM_UNSEEN, ATTR_HTTP_REQUEST_METHOD,
    ATTR_SERVER_ADDRESS, ATTR_SERVER_PORT, ATTR_URL_PATH, ATTR_HTTP_RESPONSE_STATUS_CODE, ATTR_GEN_AI_REQUEST_MODEL, ATTR_ERROR_TYPE,
  ]),
  d(PHASE_UPSTREAM_REQUEST_SENT, PHASE_KIND_POINT, "The attempt's request was sent."),
  d(PHASE_UPSTREAM_HEADERS, PHASE_KIND_POINT, "The attempt's response headers arrived; on an error status, the Retry-After it asked for.", [ATTR_HTTP_RESPONSE_STATUS_CODE, ATTR_RETRY_DELAY_MS]),
  d(PHASE_UPSTREAM_FIRST_BYTE, PHASE_KIND_POINT, "The first byte of the attempt's response body arrived."),
  d(PHASE_UPSTREAM_FIRST_EVENT, PHASE_KIND_POINT, 'The first streamed (SSE) event of the attempt arrived.'),
  d(PHASE_UPSTREAM_STREAM_PROGRESS, PHASE_KIND_POINT, "Events were still arriving on the attempt's open stream (at most one point every few seconds while they flow).", [ATTR_UPSTREAM_EVENTS, ATTR_UPSTREAM_BYTES]),
  d(PHASE_UPSTREAM_STREAM_END, PHASE_KIND_POINT, "The attempt's stream ended normally.", [ATTR_UPSTREAM_EVENTS, ATTR_UPSTREAM_BYTES]),
  d(PHASE_UPSTREAM_STREAM_ERROR, PHASE_KIND_POINT, "The attempt's stream broke or the request failed.", [ATTR_ERROR_TYPE]),
  d(PHASE_UPSTREAM_RETRY, PHASE_KIND_POINT, 'A retry or reconnect was announced.', [
    ATTR_RETRY_REASON, ATTR_RETRY_ATTEMPT, ATTR_RETRY_MAX, ATTR_RETRY_WILL_RETRY, ATTR_RETRY_DELAY_MS, ATTR_ERROR_TYPE,
  ]),
  d(PHASE_ITEM, PHASE_KIND_SPAN, 'One item of the turn, from started to completed.', [ATTR_ITEM_TYPE, ATTR_ITEM_ID, ATTR_ITEM_STATUS]),
  d(PHASE_ITEM_PROGRESS, PHASE_KIND_POINT, "The item was still being written: its deltas came (at most one point every few seconds while they do).", [ATTR_ITEM_ID]),
  d(PHASE_FIRST_REASONING_ITEM, PHASE_KIND_POINT, "The turn's first reasoning item started."),
  d(PHASE_FIRST_ASSISTANT_ITEM, PHASE_KIND_POINT, "The turn's first assistant output item started."),
  d(PHASE_FIRST_TOOL_ITEM, PHASE_KIND_POINT, "The turn's first tool item started."),
  d(PHASE_TOOL_CALL, PHASE_KIND_SPAN, 'A tool call, from started to its result returned.', [
    ATTR_GEN_AI_TOOL_NAME, ATTR_GEN_AI_TOOL_CALL_ID, ATTR_TOOL_KIND, ATTR_TOOL_EXIT_CODE,
  ]),
  d(PHASE_CONTINUATION_REQUESTED, PHASE_KIND_POINT, 'After a tool result, the continuation request to the model was sent.'),
  d(PHASE_COMPACTION, PHASE_KIND_SPAN, 'Context compaction, from started to completed.'),
  d(PHASE_APPROVAL, PHASE_KIND_SPAN, 'An approval asked of a person, from requested to resolved.', [
    ATTR_APPROVAL_KIND, ATTR_APPROVAL_DECISION, ATTR_APPROVAL_REQUEST_ID,
  ]),
  d(PHASE_RENDERER_ATTACHED, PHASE_KIND_POINT, 'A renderer (a client that displays the thread) attached.', [ATTR_RENDERER_ID]),
  d(PHASE_RENDERER_DETACHED, PHASE_KIND_POINT, 'A renderer detached.', [ATTR_RENDERER_ID, ATTR_RENDERER_REASON]),
  d(PHASE_CANCEL, PHASE_KIND_SPAN, 'A stop/cancel request, from requested to its result.', [ATTR_CANCEL_RESULT]),
  d(PHASE_WRITER_STOPPED, PHASE_KIND_POINT, 'What wrote the recording stopped: the recorder shut down, the wrapped server exited, or the writing process is gone.', [
    ATTR_WRITER_STOP_REASON, ATTR_PROCESS_EXIT_CODE, ATTR_PROCESS_SIGNAL, ATTR_PROCESS_PID,
  ]),
  d(PHASE_TURN_ERROR, PHASE_KIND_POINT, 'The server reported an error inside the turn that it will not retry; when it gave up retrying a transport failure, why it was retrying.', [ATTR_ERROR_TYPE, ATTR_TURN_ERROR, ATTR_RETRY_REASON]),
]);

const byName = new Map(PHASES.map((p) => [p.name, p]));

/** The descriptor of a phase span name, or undefined for a span that is not a stall-why phase. */
export function phaseDescriptor(name: string): PhaseDescriptor | undefined {
  return byName.get(name);
}
