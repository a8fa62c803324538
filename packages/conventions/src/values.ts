/**
 * Enumerated attribute values. Each group is a set of `const` strings plus a union type.
 */

// --- ATTR_PHASE_KIND ------------------------------------------------------------------------

/** A phase with a duration: its span starts when the phase starts and ends when it ends. */
export const PHASE_KIND_SPAN = 'span';
/** A point phase: a zero-duration span, ended at once so it reaches a flight recorder immediately. */
export const PHASE_KIND_POINT = 'point';
export type PhaseKind = typeof PHASE_KIND_SPAN | typeof PHASE_KIND_POINT;

// --- ATTR_TURN_STATUS (what the server reports when a turn ends) ----------------------------

/** The turn finished normally. */
export const TURN_END_STATUS_COMPLETED = 'completed';
/** The turn ended with an error. */
export const TURN_END_STATUS_FAILED = 'failed';
/** The turn was interrupted by the user or aborted by the server. */
export const TURN_END_STATUS_INTERRUPTED = 'interrupted';
export type TurnEndStatus =
  | typeof TURN_END_STATUS_COMPLETED
  | typeof TURN_END_STATUS_FAILED
  | typeof TURN_END_STATUS_INTERRUPTED;
export const TURN_END_STATUSES: readonly TurnEndStatus[] = [
  TURN_END_STATUS_COMPLETED,
  TURN_END_STATUS_FAILED,
  TURN_END_STATUS_INTERRUPTED,
];

// --- ATTR_TURN_KIND ------------------------------------------------------------------------

/** A turn the user asked for (Codex `turn/start`). */
export const TURN_KIND_USER = 'user';
/** A turn that compacts the thread's context (Codex `thread/compact/start`). */
export const TURN_KIND_COMPACTION = 'compaction';
/** A review turn (Codex `review/start`). */
export const TURN_KIND_REVIEW = 'review';
export type TurnKind = typeof TURN_KIND_USER | typeof TURN_KIND_COMPACTION | typeof TURN_KIND_REVIEW;

// --- ATTR_HYDRATION_TRIGGER ----------------------------------------------------------------

/** A new thread was started. */
export const HYDRATION_TRIGGER_START = 'start';
/** A stored thread was resumed (its history read and loaded). */
export const HYDRATION_TRIGGER_RESUME = 'resume';
/** A stored thread was read without loading it for turns. */
export const HYDRATION_TRIGGER_READ = 'read';
/** A thread was forked from another's history. */
export const HYDRATION_TRIGGER_FORK = 'fork';

// --- ATTR_CANCEL_RESULT --------------------------------------------------------------------

/** The turn stopped because of the cancel. */
export const CANCEL_RESULT_CANCELLED = 'cancelled';
/** The cancel was acknowledged locally but the remote work goes on. */
export const CANCEL_RESULT_STILL_RUNNING = 'still_running';
/** The turn had already completed when the cancel arrived. */
export const CANCEL_RESULT_ALREADY_COMPLETED = 'already_completed';
/** The cancel request itself failed. */
export const CANCEL_RESULT_FAILED = 'failed';
/** Nobody is left to tell: the observer detached before an answer came. */
export const CANCEL_RESULT_UNKNOWN = 'unknown';
export type CancelResult =
  | typeof CANCEL_RESULT_CANCELLED
  | typeof CANCEL_RESULT_STILL_RUNNING
  | typeof CANCEL_RESULT_ALREADY_COMPLETED
  | typeof CANCEL_RESULT_FAILED
  | typeof CANCEL_RESULT_UNKNOWN;

// --- ATTR_RETRY_REASON ---------------------------------------------------------------------

/** The connection failed or closed before response headers. */
export const RETRY_REASON_CONNECT_ERROR = 'connect_error';
/** The response stream broke after headers (Codex: "Reconnecting… n/m"). */
export const RETRY_REASON_STREAM_DISCONNECTED = 'stream_disconnected';
/** The upstream answered with a retryable HTTP status (429, 5xx). */
export const RETRY_REASON_HTTP_STATUS = 'http_status';
/** No data arrived within the client's idle timeout. */
export const RETRY_REASON_TIMEOUT = 'timeout';
/** The server announced a retry without saying why. */
export const RETRY_REASON_UNKNOWN = 'unknown';
export type RetryReason =
  | typeof RETRY_REASON_CONNECT_ERROR
  | typeof RETRY_REASON_STREAM_DISCONNECTED
  | typeof RETRY_REASON_HTTP_STATUS
  | typeof RETRY_REASON_TIMEOUT
  | typeof RETRY_REASON_UNKNOWN;

// --- ATTR_APPROVAL_KIND / ATTR_APPROVAL_DECISION ------------------------------------------

/** Approval to run a command. */
export const APPROVAL_KIND_COMMAND = 'command';
/** Approval to apply a file change. */
export const APPROVAL_KIND_FILE_CHANGE = 'file_change';
/** Approval of wider permissions. */
export const APPROVAL_KIND_PERMISSIONS = 'permissions';
/** A question to the user that blocks the tool. */
export const APPROVAL_KIND_USER_INPUT = 'user_input';
/** An MCP server's elicitation request. */
export const APPROVAL_KIND_ELICITATION = 'elicitation';
export type ApprovalKind =
  | typeof APPROVAL_KIND_COMMAND
  | typeof APPROVAL_KIND_FILE_CHANGE
  | typeof APPROVAL_KIND_PERMISSIONS
  | typeof APPROVAL_KIND_USER_INPUT
  | typeof APPROVAL_KIND_ELICITATION;

/** The person approved. */
export const APPROVAL_DECISION_APPROVED = 'approved';
/** The person denied. */
export const APPROVAL_DECISION_DENIED = 'denied';
/** The request was withdrawn or the turn ended before an answer. */
export const APPROVAL_DECISION_CANCELLED = 'cancelled';
/** The client answered with an error. */
export const APPROVAL_DECISION_ERROR = 'error';

// --- ATTR_TOOL_KIND ---------------------------------------------------------------------------

/**
 * A hook: a handler the server runs at a point of the turn (before a model request, around a tool
 * call, when a prompt is submitted) and waits for. Its end is no tool result: no continuation follows it.
 */
export const TOOL_KIND_HOOK = 'hook';

/** How a turn known only by its trace (`ATTR_TURN_KEYED_BY_TRACE`) is named until its id is known. */
export const TURN_ID_TRACE_PREFIX = 'trace:';

// --- ATTR_SOURCE ---------------------------------------------------------------------------

/** Emitted in-process through the TurnTracer API. */
export const SOURCE_API = 'api';
/** Emitted by the node:http / Express / Fastify middleware. */
export const SOURCE_HTTP = 'http';
/** Emitted by the fetch/undici model-call instrumentation. */
export const SOURCE_FETCH = 'fetch';
/** Emitted by the JSON-RPC observer (Codex app-server protocol). */
export const SOURCE_JSONRPC = 'jsonrpc';
/** Emitted by the ACP observer (Agent Client Protocol: Zed and other editors and their agents). */
export const SOURCE_ACP = 'acp';
/** Emitted by the upstream HTTP proxy of `stall-why record`. */
export const SOURCE_UPSTREAM_PROXY = 'upstream_proxy';
/** Synthesised from a Codex rollout file. */
export const SOURCE_ROLLOUT = 'rollout';
/** Mapped from the Codex app-server's own OpenTelemetry spans (its `[otel]` trace export). */
export const SOURCE_CODEX_OTEL = 'codex_otel';
/**
 * Mapped from the Codex app-server's own OpenTelemetry log events (its `[otel]` log export): they
 * arrive within about a second, while its spans come only once they end.
 */
export const SOURCE_CODEX_OTEL_LOGS = 'codex_otel_logs';

// --- ATTR_WRITER_STOP_REASON -------------------------------------------------------------------

/** The flight recorder was shut down (its processor's `shutdown()`). */
export const WRITER_STOP_REASON_SHUTDOWN = 'shutdown';
/** The server that `stall-why record` wraps exited (`ATTR_PROCESS_EXIT_CODE`, `ATTR_PROCESS_SIGNAL`). */
export const WRITER_STOP_REASON_SERVER_EXIT = 'server_exit';
/** The process that wrote the recording no longer runs (found by its pid on the same host). */
export const WRITER_STOP_REASON_PROCESS_GONE = 'process_gone';
export type WriterStopReason = typeof WRITER_STOP_REASON_SHUTDOWN | typeof WRITER_STOP_REASON_SERVER_EXIT | typeof WRITER_STOP_REASON_PROCESS_GONE;
