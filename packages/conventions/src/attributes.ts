/**
 * Attribute keys. OpenTelemetry semantic conventions are reused where they exist (`gen_ai.*`,
 * `http.*`, `server.*`, `error.type`); everything else lives under the `stall_why.` prefix.
 *
 * Keys are plain string constants so that the classifier, which must not depend on any
 * OpenTelemetry package, reads the same names the instrumentation writes.
 */

/** Prefix of every attribute, span and event name that stall-why defines itself. */
export const STALL_WHY_PREFIX = 'stall_why.';

// --- Reused OpenTelemetry semantic conventions ------------------------------------------------

/** The thread (conversation) a phase belongs to (semconv `gen_ai.conversation.id`). */
export const ATTR_THREAD_ID = 'gen_ai.conversation.id';
/** The GenAI operation of an upstream attempt, e.g. `chat` (semconv `gen_ai.operation.name`). */
export const ATTR_GEN_AI_OPERATION_NAME = 'gen_ai.operation.name';
/** The model requested upstream (semconv `gen_ai.request.model`). */
export const ATTR_GEN_AI_REQUEST_MODEL = 'gen_ai.request.model';
/** The model provider, e.g. `openai` (semconv `gen_ai.provider.name`). */
export const ATTR_GEN_AI_PROVIDER_NAME = 'gen_ai.provider.name';
/** The tool's name, e.g. `exec_command` (semconv `gen_ai.tool.name`). */
export const ATTR_GEN_AI_TOOL_NAME = 'gen_ai.tool.name';
/** The tool call's id as the model gave it, e.g. `call_1` (semconv `gen_ai.tool.call.id`). */
export const ATTR_GEN_AI_TOOL_CALL_ID = 'gen_ai.tool.call.id';
/** HTTP method of an upstream attempt (semconv `http.request.method`). */
export const ATTR_HTTP_REQUEST_METHOD = 'http.request.method';
/** HTTP status of an upstream attempt's response (semconv `http.response.status_code`). */
export const ATTR_HTTP_RESPONSE_STATUS_CODE = 'http.response.status_code';
/** How many times this request was sent before this attempt; 0 for the first (semconv `http.request.resend_count`). */
export const ATTR_HTTP_REQUEST_RESEND_COUNT = 'http.request.resend_count';
/** Host of the upstream model API (semconv `server.address`). */
export const ATTR_SERVER_ADDRESS = 'server.address';
/** Port of the upstream model API (semconv `server.port`). */
export const ATTR_SERVER_PORT = 'server.port';
/** Path of the upstream request, never its query string (semconv `url.path`). */
export const ATTR_URL_PATH = 'url.path';
/** A low-cardinality class of error: an exception name, an errno code, an HTTP status (semconv `error.type`). */
export const ATTR_ERROR_TYPE = 'error.type';
/** The name of the service that emitted the span (semconv resource attribute `service.name`). */
export const ATTR_SERVICE_NAME = 'service.name';
/** The instance of the service that emitted the span (semconv resource attribute `service.instance.id`). */
export const ATTR_SERVICE_INSTANCE_ID = 'service.instance.id';
/** The host the emitter runs on (semconv resource attribute `host.name`); the fleet report groups by it. */
export const ATTR_HOST_NAME = 'host.name';
/** The process id of the emitter (semconv resource attribute `process.pid`). */
export const ATTR_PROCESS_PID = 'process.pid';
/** The exit code of a process that exited (semconv `process.exit.code`). */
export const ATTR_PROCESS_EXIT_CODE = 'process.exit.code';

// --- stall-why attributes ---------------------------------------------------------------------

/** Whether a span is a duration phase (`span`) or a point phase (`point`, zero duration). */
export const ATTR_PHASE_KIND = 'stall_why.phase.kind';
/** The id of the turn a phase belongs to. */
export const ATTR_TURN_ID = 'stall_why.turn.id';
/** Terminal status of a turn, set when the turn span ends: see `TURN_END_STATUS_*`. */
export const ATTR_TURN_STATUS = 'stall_why.turn.status';
/** Why a turn failed, as the server said it (capped, never prompt text). */
export const ATTR_TURN_ERROR = 'stall_why.turn.error';
/** Why the agent says a turn stopped, as its protocol names it (ACP `stopReason`: `end_turn`, `cancelled`, `refusal`, `max_tokens`, ...). */
export const ATTR_TURN_STOP_REASON = 'stall_why.turn.stop_reason';
/** What started a turn: see `TURN_KIND_*` (a user's request, a compaction, a review). */
export const ATTR_TURN_KIND = 'stall_why.turn.kind';
/** Which observer produced the phase: see `SOURCE_*`. */
export const ATTR_SOURCE = 'stall_why.source';
/**
 * The phase's turn is the one its trace holds, its id not known to the source (Codex's log events
 * carry no turn id): the turn is named `TURN_ID_TRACE_PREFIX` + trace id until a span of the same
 * trace names it, and then joins that turn. Boolean.
 */
export const ATTR_TURN_KEYED_BY_TRACE = 'stall_why.turn.keyed_by_trace';

/** Bytes of thread history read by a hydration. */
export const ATTR_HYDRATION_BYTES = 'stall_why.hydration.bytes';
/** Items of thread history loaded by a hydration. */
export const ATTR_HYDRATION_ITEMS = 'stall_why.hydration.items';
/** What caused a hydration: `start`, `resume`, `read`, `fork`. */
export const ATTR_HYDRATION_TRIGGER = 'stall_why.hydration.trigger';

/** The thread that spawned this one (a sub-agent's parent), on its turn spans. */
export const ATTR_THREAD_PARENT_ID = 'stall_why.thread.parent_id';
/** A sub-agent's name as its parent knows it (Codex's `agent_nickname`, else its `agent_path`), on its turn spans. */
export const ATTR_AGENT_NAME = 'stall_why.agent.name';

/** 1-based number of an upstream attempt within its logical request. */
export const ATTR_UPSTREAM_ATTEMPT = 'stall_why.upstream.attempt';
/** Whether an upstream attempt is the post-tool continuation of its turn. */
export const ATTR_UPSTREAM_CONTINUATION = 'stall_why.upstream.continuation';
/**
 * Whether the source records an upstream attempt's sending and its end but not the events streamed
 * between them (Codex logs a request over its WebSocket transport when it is sent and its response
 * when it completes, nothing in between): while it is open and silent, the model may be at work.
 * Boolean.
 */
export const ATTR_UPSTREAM_STREAM_UNSEEN = 'stall_why.upstream.stream_unseen';
/** Why an attempt is being retried or reconnected: see `RETRY_REASON_*`. */
export const ATTR_RETRY_REASON = 'stall_why.retry.reason';
/** Retry number as the server announced it (the `n` of "Reconnecting… n/m"). */
export const ATTR_RETRY_ATTEMPT = 'stall_why.retry.attempt';
/** Most retries the server will make (the `m` of "Reconnecting… n/m"). */
export const ATTR_RETRY_MAX = 'stall_why.retry.max';
/** Whether the server said it will retry after this error. */
export const ATTR_RETRY_WILL_RETRY = 'stall_why.retry.will_retry';
/** Delay before the next attempt, in milliseconds (Retry-After or backoff). */
export const ATTR_RETRY_DELAY_MS = 'stall_why.retry.delay_ms';
/** Number of SSE events an attempt received before it ended or broke. */
export const ATTR_UPSTREAM_EVENTS = 'stall_why.upstream.events';
/** Bytes an attempt received before it ended or broke. */
export const ATTR_UPSTREAM_BYTES = 'stall_why.upstream.bytes';

/** The item's type as the server names it: `agentMessage`, `reasoning`, `commandExecution`, ... */
export const ATTR_ITEM_TYPE = 'stall_why.item.type';
/** The item's id. */
export const ATTR_ITEM_ID = 'stall_why.item.id';
/** The item's terminal status as the server reported it, e.g. `completed`, `failed`, `declined`. */
export const ATTR_ITEM_STATUS = 'stall_why.item.status';
/** The kind of a tool call: `commandExecution`, `mcpToolCall`, `fileChange`, `dynamicToolCall`, `function_call`, ..., or `hook` (`TOOL_KIND_HOOK`) */
export const ATTR_TOOL_KIND = 'stall_why.tool.kind';
/** A tool's exit code, when it has one. */
export const ATTR_TOOL_EXIT_CODE = 'stall_why.tool.exit_code';
/**
 * Whether a tool call needs a person's approval under its turn's approval policy: set by importers
 * that cannot see the approval request itself (a Codex rollout), from the policy and the call's arguments.
 * `false` when the policy rules an approval out (`never`); absent when the importer cannot tell.
 */
export const ATTR_TOOL_APPROVAL_EXPECTED = 'stall_why.tool.approval_expected';

/** What an approval asks for: see `APPROVAL_KIND_*`. */
export const ATTR_APPROVAL_KIND = 'stall_why.approval.kind';
/** How an approval was resolved: see `APPROVAL_DECISION_*`. */
export const ATTR_APPROVAL_DECISION = 'stall_why.approval.decision';
/** The JSON-RPC id of the server→client request that asked for approval. */
export const ATTR_APPROVAL_REQUEST_ID = 'stall_why.approval.request_id';

/** Identifies one renderer (a client displaying the thread), e.g. a connection or process id. */
export const ATTR_RENDERER_ID = 'stall_why.renderer.id';
/** Why a renderer detached: `closed`, `eof`, `error`, `timeout`. */
export const ATTR_RENDERER_REASON = 'stall_why.renderer.reason';

/** Outcome of a stop/cancel request: see `CANCEL_RESULT_*`. */
export const ATTR_CANCEL_RESULT = 'stall_why.cancel.result';

/**
 * A tool call returned to the model while the process it started runs on in the background (Codex's
 * `exec_command` past its yield time: "Process running with session ID 23152"): that session's id.
 */
export const ATTR_TOOL_BACKGROUND_SESSION = 'stall_why.tool.background_session';
/**
 * The approval was read from indirect signs, not seen as a request (a rollout's escalated call written
 * only once approved and run): its start holds the model's own work too. Boolean.
 */
export const ATTR_APPROVAL_INFERRED = 'stall_why.approval.inferred';
/**
 * Marks a pending-span marker: a zero-duration span that stands for a span still open when it was
 * exported (standard OTLP exporters send only ended spans). Its parent is the open span (same trace);
 * its start is the open span's start. Importers turn it back into the open span; the real span, once
 * it ends, supersedes it. Boolean.
 */
export const ATTR_PENDING = 'stall_why.pending';
/** A pending-span marker: the open span's own parent span id (the marker's parent is the open span). */
export const ATTR_PENDING_PARENT_SPAN_ID = 'stall_why.pending.parent_span_id';
/** A pending-span marker: when the span was last known to be open (epoch ms): the export that sent the marker. */
export const ATTR_PENDING_SEEN_AT = 'stall_why.pending.seen_at_ms';
/** Why the writer of a recording stopped: see `WRITER_STOP_REASON_*`. */
export const ATTR_WRITER_STOP_REASON = 'stall_why.writer.stop_reason';
/** The signal that ended a process (`SIGKILL`), when a signal did. */
export const ATTR_PROCESS_SIGNAL = 'stall_why.process.signal';

/** Count of protocol messages an observer could not parse or did not know. */
export const ATTR_OBSERVER_UNKNOWN = 'stall_why.observer.unknown_messages';
/** Marks an attribute value that was replaced by a placeholder (a data URI, a base64 blob, a capped string). */
export const ATTR_REDACTED = 'stall_why.redacted';
