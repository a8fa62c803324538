import { diag } from '@opentelemetry/api';
import {
  APPROVAL_DECISION_CANCELLED,
  APPROVAL_DECISION_ERROR,
  ATTR_APPROVAL_DECISION,
  ATTR_APPROVAL_KIND,
  ATTR_APPROVAL_REQUEST_ID,
  ATTR_CANCEL_RESULT,
  ATTR_ERROR_TYPE,
  ATTR_GEN_AI_TOOL_CALL_ID,
  ATTR_GEN_AI_TOOL_NAME,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HYDRATION_ITEMS,
  ATTR_ITEM_ID,
  ATTR_ITEM_STATUS,
  ATTR_ITEM_TYPE,
  ATTR_OBSERVER_UNKNOWN,
  ATTR_RENDERER_ID,
  ATTR_RENDERER_REASON,
  ATTR_RETRY_ATTEMPT,
  ATTR_RETRY_MAX,
  ATTR_RETRY_REASON,
  ATTR_RETRY_WILL_RETRY,
  ATTR_SOURCE,
  ATTR_THREAD_ID,
  ATTR_TOOL_EXIT_CODE,
  ATTR_TOOL_KIND,
  ATTR_TURN_ERROR,
  ATTR_TURN_KIND,
  CANCEL_RESULT_ALREADY_COMPLETED,
  CANCEL_RESULT_CANCELLED,
  CANCEL_RESULT_FAILED,
  CANCEL_RESULT_UNKNOWN,
  HYDRATION_TRIGGER_FORK,
  HYDRATION_TRIGGER_READ,
  HYDRATION_TRIGGER_RESUME,
  HYDRATION_TRIGGER_START,
  PHASE_APPROVAL,
  PHASE_CANCEL,
  PHASE_COMPACTION,
  PHASE_FIRST_ASSISTANT_ITEM,
  PHASE_FIRST_REASONING_ITEM,
  PHASE_FIRST_TOOL_ITEM,
  PHASE_ITEM,
  PHASE_RENDERER_ATTACHED,
  PHASE_RENDERER_DETACHED,
  PHASE_TOOL_CALL,
  TOOL_KIND_HOOK,
  PHASE_TURN_ACCEPTED,
  PHASE_TURN_ERROR,
  PHASE_UPSTREAM_RETRY,
  SOURCE_JSONRPC,
  TURN_END_STATUSES,
  TURN_END_STATUS_FAILED,
  TURN_END_STATUS_INTERRUPTED,
  TURN_KIND_COMPACTION,
  TURN_KIND_REVIEW,
  TURN_KIND_USER,
  type ApprovalKind,
  type TurnEndStatus,
  type TurnKind,
} from '@stall-why/conventions';
import type { PhaseAttributes, PhaseHandle, PhaseIds, TurnHandle, TurnTracer } from '../turn-tracer.js';
import { approvalDecision, approvalKind } from './approval-request.js';
import {
  CODEX_CLIENT_NOTIFICATION_METHODS,
  CODEX_CLIENT_REQUEST_METHODS,
  CODEX_DELTA_METHODS,
  CODEX_SERVER_NOTIFICATION_METHODS,
  CODEX_SERVER_REQUEST_METHODS,
} from './codex-methods.js';
import { exhaustedRetryReason, parseReconnecting, readCodexErrorInfo, retryReason } from './codex-error.js';
import { MethodHeadMatcher, responseAtHead } from './line-head.js';

/** Which way a message went between the client (a renderer) and the Codex app-server. */
export type JsonRpcDirection = 'client->server' | 'server->client';

export interface CodexJsonRpcObserverOptions {
  /** Where the phases go. */
  readonly turnTracer: TurnTracer;
  /** `stall_why.renderer.id` of the client. Default: the `clientInfo.name` it sends in `initialize`, else `client`. */
  readonly rendererId?: string;
  /** Clock for messages that carry no time of their own. Default `Date.now`. */
  readonly now?: () => number;
  /**
   * Longest line parsed, in bytes (UTF-16 units for strings). A longer line is counted as malformed
   * and only its head is read, so a huge `thread/resume` answer still ends its hydration. Default 64 MiB.
   */
  readonly maxLineBytes?: number;
  /** Most unanswered requests remembered per direction; beyond it the oldest is forgotten. Default 4096. */
  readonly maxPendingRequests?: number;
  /** Most turns tracked at once; beyond it the oldest is forgotten (its span stays open). Default 1024. */
  readonly maxTrackedTurns?: number;
  /** Most distinct unknown method names counted by name; the rest count under `(other)`. Default 256. */
  readonly maxUnknownMethodNames?: number;
}

export interface CodexJsonRpcObserverStats {
  /** Messages observed (deltas included), malformed lines excluded. */
  readonly messages: number;
  /** Lines that were not a JSON-RPC message: not JSON, cut in half, too long, not an object. */
  readonly malformed: number;
  /** Messages whose method the observer does not know (see `CODEX_*_METHODS`). */
  readonly unknownMethods: number;
  /** `unknownMethods` by method name (bounded by `maxUnknownMethodNames`). */
  readonly unknownByMethod: ReadonlyMap<string, number>;
  /** Streaming delta notifications, counted without parsing. */
  readonly deltas: number;
}

/** A turn the observer is following. `turnId` is `''` until the server names the turn. */
export interface ActiveCodexTurn {
  readonly threadId: string;
  readonly turnId: string;
  readonly turn: TurnHandle;
  /** Whether the server has accepted the turn (answered `turn/start` or sent `turn/started`). */
  readonly accepted: boolean;
  /** When the turn's last tool item completed (its result returned to the model), epoch ms. */
  readonly lastToolCompletedAtMs?: number;
}

type Fields = Record<string, unknown>;
type RequestId = string | number;

/** Item types that are a tool call: the model asked for something to be done and waits for its result. */
const TOOL_ITEM_TYPES: ReadonlySet<string> = new Set([
  'commandExecution', 'fileChange', 'mcpToolCall', 'dynamicToolCall', 'collabAgentToolCall',
  'webSearch', 'imageView', 'imageGeneration',
]);
const HYDRATION_TRIGGER_BY_METHOD: ReadonlyMap<string, string> = new Map([
  ['thread/start', HYDRATION_TRIGGER_START],
  ['thread/resume', HYDRATION_TRIGGER_RESUME],
  ['thread/fork', HYDRATION_TRIGGER_FORK],
  ['thread/read', HYDRATION_TRIGGER_READ],
]);
const TURN_KIND_BY_METHOD: ReadonlyMap<string, TurnKind> = new Map([
  ['turn/start', TURN_KIND_USER],
  ['thread/compact/start', TURN_KIND_COMPACTION],
  ['review/start', TURN_KIND_REVIEW],
]);
const OTHER_UNKNOWN = '(other)';
const DELTA_LINE = new MethodHeadMatcher(CODEX_DELTA_METHODS);
/** How many ended turn ids are remembered, to tell an interrupt that came too late. */
const RECENTLY_ENDED_TURNS = 256;

interface ItemState {
  readonly item: PhaseHandle;
  tool?: PhaseHandle;
  compaction?: PhaseHandle;
}

interface TurnState {
  readonly handle: TurnHandle;
  readonly threadId: string;
  readonly kind: TurnKind | undefined;
  turnId?: string;
  accepted: boolean;
  readonly items: Map<string, ItemState>;
  readonly approvals: Set<PhaseHandle>;
  /** Sync hook runs of the turn still going, by run id. */
  readonly hooks: Map<string, PhaseHandle>;
  sawAssistant: boolean;
  sawReasoning: boolean;
  sawTool: boolean;
  sawCompaction: boolean;
  lastToolCompletedAtMs?: number;
}

type ClientRequest =
  | { readonly kind: 'hydration'; readonly phase: PhaseHandle }
  | { readonly kind: 'turn'; readonly turn: TurnState }
  | { readonly kind: 'interrupt'; readonly turnId: string; readonly requestedAfterEnd: boolean };

type ServerRequest =
  | { readonly kind: 'approval'; readonly approvalKind: ApprovalKind; readonly phase: PhaseHandle }
  | { readonly kind: 'other' };

const isFields = (value: unknown): value is Fields => value !== null && typeof value === 'object' && !Array.isArray(value);
const fieldsOf = (value: unknown): Fields => (isFields(value) ? value : {});
const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
const num = (value: unknown): number | undefined => (typeof value === 'number' && Number.isFinite(value) ? value : undefined);
const isRequestId = (value: unknown): value is RequestId => typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value));

/** Inserts into a bounded map: when full, the oldest entry is forgotten first. */
function boundedSet<K, V>(map: Map<K, V>, key: K, value: V, max: number): void {
  if (!map.has(key) && map.size >= max) {
    const oldest = map.keys().next();
    if (!oldest.done) map.delete(oldest.value);
  }
  map.set(key, value);
}

/**
 * Watches the JSON-RPC stream between a client and the Codex app-server (protocol v2, as of Codex
 * 0.169) in both directions and emits stall-why phases through a `TurnTracer`. It holds no rules:
 * it maps each protocol event onto a phase, and the classifier decides what a wait means.
 *
 * It never throws into its host: lines it cannot parse are counted in `stats.malformed`, methods it
 * does not know in `stats.unknownMethods`. It never records prompt text, messages, reasoning,
 * commands or their output: only ids, types, statuses, counts and error classes.
 */
export class CodexJsonRpcObserver {
  private readonly tracer: TurnTracer;
  private readonly now: () => number;
  private readonly maxLineBytes: number;
  private readonly maxPending: number;
  private readonly maxTurns: number;
  private readonly maxUnknownNames: number;
  private rendererId: string | undefined;

  private readonly clientRequests = new Map<RequestId, ClientRequest>();
  private readonly serverRequests = new Map<RequestId, ServerRequest>();
  /** Every turn being followed, oldest first; turns without an id yet included. */
  private readonly turns = new Set<TurnState>();
  private readonly turnsById = new Map<string, TurnState>();
  private readonly cancels = new Map<string, PhaseHandle>();
  private readonly recentlyEnded = new Map<string, TurnEndStatus>();
  private readonly unknownCounts = new Map<string, number>();
  private counts = { messages: 0, malformed: 0, unknownMethods: 0, deltas: 0 };
  private closed = false;
  private warned = false;

  constructor(options: CodexJsonRpcObserverOptions) {
    this.tracer = options.turnTracer;
    this.rendererId = options.rendererId;
    this.now = options.now ?? Date.now;
    this.maxLineBytes = options.maxLineBytes ?? 64 * 1024 * 1024;
    this.maxPending = options.maxPendingRequests ?? 4096;
    this.maxTurns = options.maxTrackedTurns ?? 1024;
    this.maxUnknownNames = options.maxUnknownMethodNames ?? 256;
  }

  get stats(): CodexJsonRpcObserverStats {
    return { ...this.counts, unknownByMethod: this.unknownCounts };
  }

  /**
   * Observes one line of the stream (one JSON object, with or without its newline). Deltas are
   * counted from the line head without parsing; other lines are parsed. Never throws.
   */
  observeLine(direction: JsonRpcDirection, line: string | Uint8Array, timeMs?: number): void {
    if (this.closed) return;
    try {
      this.readLine(direction, line, timeMs);
    } catch (error) {
      this.internalError(error);
    }
  }

  private readLine(direction: JsonRpcDirection, line: string | Uint8Array, timeMs: number | undefined): void {
    const text = typeof line === 'string' || Buffer.isBuffer(line) ? line : Buffer.from(line.buffer, line.byteOffset, line.byteLength);
    if (text.length === 0) return;
    if (DELTA_LINE.matches(text)) {
      this.counts.messages++;
      this.counts.deltas++;
      return;
    }
    if (text.length > this.maxLineBytes) {
      this.observeOversized(direction, text, timeMs);
      return;
    }
    const source = typeof text === 'string' ? text : text.toString('utf8');
    let message: unknown;
    try {
      message = JSON.parse(source);
    } catch {
      // A blank line (a bare newline between messages) is framing, not a malformed message.
      if (source.trim().length > 0) this.noteMalformed();
      return;
    }
    this.observeMessage(direction, message, timeMs);
  }

  /** Observes one already parsed message. Never throws. */
  observeMessage(direction: JsonRpcDirection, message: unknown, timeMs?: number): void {
    if (this.closed) return;
    if (!isFields(message)) {
      this.noteMalformed();
      return;
    }
    try {
      this.dispatch(direction, message, timeMs ?? this.now());
    } catch (error) {
      this.internalError(error);
    }
  }

  /** A bug here must not take the proxied session down: counted like a line that could not be read, said once. */
  private internalError(error: unknown): void {
    this.counts.malformed++;
    if (this.warned) return;
    this.warned = true;
    diag.warn(`stall-why: the Codex JSON-RPC observer skipped a message it could not handle: ${String(error)}`);
  }

  /** Counts a line the caller could not frame (e.g. a half line left when the stream ended). */
  noteMalformed(): void {
    if (!this.closed) this.counts.malformed++;
  }

  /** The client (the renderer) went away, e.g. the proxy's stdin hit EOF. Open cancels become `unknown`. */
  rendererDetached(timeMs?: number, reason = 'closed'): void {
    if (this.closed) return;
    const time = timeMs ?? this.now();
    this.rendererPoint(PHASE_RENDERER_DETACHED, time, { [ATTR_RENDERER_REASON]: reason });
    for (const [turnId, cancel] of this.cancels) {
      cancel.end({ time, attributes: { [ATTR_CANCEL_RESULT]: CANCEL_RESULT_UNKNOWN } });
      this.cancels.delete(turnId);
    }
  }

  /** A client (a renderer) attached. Called by the observer itself on `initialize`. */
  rendererAttached(timeMs?: number): void {
    if (this.closed) return;
    this.rendererPoint(PHASE_RENDERER_ATTACHED, timeMs ?? this.now(), {});
  }

  /** The turns being followed, oldest first. */
  activeTurns(): ReadonlyArray<ActiveCodexTurn> {
    return [...this.turns].map((t) => ({
      threadId: t.threadId,
      turnId: t.turnId ?? '',
      turn: t.handle,
      accepted: t.accepted,
      ...(t.lastToolCompletedAtMs === undefined ? {} : { lastToolCompletedAtMs: t.lastToolCompletedAtMs }),
    }));
  }

  /**
   * Releases the observer's state. It ends nothing: a turn that was stuck when the stream stopped
   * stays an open span, which is what the flight recorder must show. Later calls are ignored.
   */
  close(_timeMs?: number): void {
    this.closed = true;
    this.clientRequests.clear();
    this.serverRequests.clear();
    this.turns.clear();
    this.turnsById.clear();
    this.cancels.clear();
    this.recentlyEnded.clear();
  }

  // --- Dispatch ----------------------------------------------------------------------------

  private dispatch(direction: JsonRpcDirection, message: Fields, time: number): void {
    const method = str(message.method);
    const id = message.id;
    if (method === undefined) {
      if (isRequestId(id) && ('result' in message || 'error' in message)) {
        this.counts.messages++;
        if (direction === 'server->client') this.onServerAnswer(id, message, time);
        else this.onClientAnswer(id, message, time);
      } else {
        this.counts.malformed++;
      }
      return;
    }
    this.counts.messages++;
    const isRequest = isRequestId(id);
    const params = fieldsOf(message.params);
    if (direction === 'client->server') {
      const known = isRequest ? CODEX_CLIENT_REQUEST_METHODS : CODEX_CLIENT_NOTIFICATION_METHODS;
      if (!known.has(method)) return this.countUnknown(method);
      if (isRequest) this.onClientRequest(id, method, params, time);
      return;
    }
    const emitted = num(message.emittedAtMs) ?? time;
    if (isRequest) {
      if (!CODEX_SERVER_REQUEST_METHODS.has(method)) return this.countUnknown(method);
      this.onServerRequest(id, method, params, num(params.startedAtMs) ?? emitted);
      return;
    }
    if (CODEX_DELTA_METHODS.has(method)) {
      this.counts.deltas++;
      return;
    }
    if (!CODEX_SERVER_NOTIFICATION_METHODS.has(method)) return this.countUnknown(method);
    this.onServerNotification(method, params, emitted);
  }

  private countUnknown(method: string): void {
    this.counts.unknownMethods++;
    const key = this.unknownCounts.has(method) || this.unknownCounts.size < this.maxUnknownNames ? method.slice(0, 200) : OTHER_UNKNOWN;
    this.unknownCounts.set(key, (this.unknownCounts.get(key) ?? 0) + 1);
  }

  /** A line too long to parse: counted as malformed, but if it answers a request, the request is resolved. */
  private observeOversized(direction: JsonRpcDirection, line: string | Buffer, timeMs: number | undefined): void {
    this.counts.malformed++;
    const head = responseAtHead(line);
    if (!head) return;
    const answer = head.isError ? { error: { code: 'oversized' } } : { result: undefined };
    if (direction === 'server->client') this.onServerAnswer(head.id, answer, timeMs ?? this.now());
    else this.onClientAnswer(head.id, answer, timeMs ?? this.now());
  }

  // --- Client → server ----------------------------------------------------------------------

  private onClientRequest(id: RequestId, method: string, params: Fields, time: number): void {
    if (method === 'initialize') {
      this.rendererId ??= str(fieldsOf(params.clientInfo).name)?.slice(0, 128) ?? 'client';
      this.rendererAttached(time);
      return;
    }
    const trigger = HYDRATION_TRIGGER_BY_METHOD.get(method);
    if (trigger !== undefined) {
      const phase = this.tracer.startHydration({
        threadId: str(params.threadId), trigger, time, attributes: { [ATTR_SOURCE]: SOURCE_JSONRPC },
      });
      boundedSet(this.clientRequests, id, { kind: 'hydration', phase }, this.maxPending);
      return;
    }
    const kind = TURN_KIND_BY_METHOD.get(method);
    const threadId = str(params.threadId);
    if (kind !== undefined && threadId !== undefined) {
      boundedSet(this.clientRequests, id, { kind: 'turn', turn: this.startTurn(threadId, undefined, kind, time) }, this.maxPending);
      return;
    }
    if (method === 'turn/interrupt') this.onInterrupt(id, threadId, str(params.turnId), time);
  }

  private onInterrupt(id: RequestId, threadId: string | undefined, turnId: string | undefined, time: number): void {
    if (turnId === undefined) return;
    const turn = this.turnsById.get(turnId);
    const ids = { threadId: threadId ?? turn?.threadId, turnId };
    const phase = this.tracer.startPhase(PHASE_CANCEL, ids, { time, attributes: { [ATTR_SOURCE]: SOURCE_JSONRPC } }, turn?.handle.context);
    this.cancels.get(turnId)?.end({ time, attributes: { [ATTR_CANCEL_RESULT]: CANCEL_RESULT_UNKNOWN } });
    boundedSet(this.cancels, turnId, phase, this.maxPending);
    boundedSet(this.clientRequests, id, { kind: 'interrupt', turnId, requestedAfterEnd: this.recentlyEnded.has(turnId) }, this.maxPending);
  }

  /** The server answered one of the client's requests. */
  private onServerAnswer(id: RequestId, message: Fields, time: number): void {
    const request = this.clientRequests.get(id);
    if (request === undefined) return;
    this.clientRequests.delete(id);
    const error = message.error;
    const failed = error !== undefined && error !== null;
    const result = fieldsOf(message.result);
    if (request.kind === 'hydration') {
      if (failed) return request.phase.fail(rpcErrorType(error), { time });
      const thread = fieldsOf(result.thread);
      request.phase.end({ time, attributes: { [ATTR_THREAD_ID]: str(thread.id), [ATTR_HYDRATION_ITEMS]: countItems(thread.turns) } });
      return;
    }
    if (request.kind === 'turn') {
      const turn = request.turn;
      if (failed) {
        this.endTurn(turn, TURN_END_STATUS_FAILED, time, `${turnRequestMethod(turn)} ${rpcErrorType(error)}: ${str(fieldsOf(error).message) ?? ''}`);
        return;
      }
      const turnId = str(fieldsOf(result.turn).id);
      if (turnId !== undefined) {
        this.nameTurn(turn, turnId);
        this.accept(turn, time);
      }
      return;
    }
    const cancel = this.cancels.get(request.turnId);
    if (cancel === undefined) return;
    if (request.requestedAfterEnd) {
      cancel.end({ time, attributes: { [ATTR_CANCEL_RESULT]: CANCEL_RESULT_ALREADY_COMPLETED } });
      this.cancels.delete(request.turnId);
    } else if (failed) {
      cancel.fail(rpcErrorType(error), { time, attributes: { [ATTR_CANCEL_RESULT]: CANCEL_RESULT_FAILED } });
      this.cancels.delete(request.turnId);
    }
    // A successful answer only says the interrupt was taken: its result is the turn's `turn/completed`.
  }

  // --- Server → client requests and their answers ---------------------------------------------

  private onServerRequest(id: RequestId, method: string, params: Fields, time: number): void {
    const kind = approvalKind(method);
    if (kind === undefined) {
      // `item/tool/call` and the others wait on the client, not a person; their items carry the phases.
      boundedSet(this.serverRequests, id, { kind: 'other' }, this.maxPending);
      return;
    }
    const threadId = str(params.threadId) ?? str(params.conversationId);
    const turn = this.turnFor(threadId, str(params.turnId), time, false);
    const attributes: PhaseAttributes = {
      [ATTR_SOURCE]: SOURCE_JSONRPC,
      [ATTR_APPROVAL_KIND]: kind,
      [ATTR_APPROVAL_REQUEST_ID]: String(id),
      [ATTR_ITEM_ID]: str(params.itemId) ?? str(params.callId),
    };
    const phase = this.tracer.startPhase(PHASE_APPROVAL, this.idsOf(turn, threadId, str(params.turnId)), { time, attributes }, turn?.handle.context);
    turn?.approvals.add(phase);
    boundedSet(this.serverRequests, id, { kind: 'approval', approvalKind: kind, phase }, this.maxPending);
  }

  /** The client answered one of the server's requests. */
  private onClientAnswer(id: RequestId, message: Fields, time: number): void {
    const request = this.serverRequests.get(id);
    if (request === undefined) return;
    this.serverRequests.delete(id);
    if (request.kind !== 'approval') return;
    const error = message.error;
    if (error !== undefined && error !== null) {
      request.phase.fail(rpcErrorType(error), { time, attributes: { [ATTR_APPROVAL_DECISION]: APPROVAL_DECISION_ERROR } });
    } else {
      request.phase.end({ time, attributes: { [ATTR_APPROVAL_DECISION]: approvalDecision(request.approvalKind, message.result) } });
    }
  }

  // --- Server notifications -------------------------------------------------------------------

  private onServerNotification(method: string, params: Fields, time: number): void {
    switch (method) {
      case 'turn/started':
        return this.onTurnStarted(params, time);
      case 'turn/completed':
        return this.onTurnCompleted(params, time);
      case 'item/started':
        return this.onItemStarted(params, num(params.startedAtMs) ?? time);
      case 'item/completed':
        return this.onItemCompleted(params, num(params.completedAtMs) ?? time);
      case 'error':
        return this.onError(params, time);
      case 'thread/compacted':
        return this.onThreadCompacted(params, time);
      case 'serverRequest/resolved':
        return this.onServerRequestResolved(params, time);
      case 'hook/started':
        return this.onHookStarted(params, time);
      case 'hook/completed':
        return this.onHookCompleted(params, time);
      default:
        return;
    }
  }

  private onTurnStarted(params: Fields, time: number): void {
    const threadId = str(params.threadId);
    const turnId = str(fieldsOf(params.turn).id);
    if (threadId === undefined || turnId === undefined) return;
    const turn = this.turnFor(threadId, turnId, time, true);
    if (turn) this.accept(turn, time);
  }

  private onTurnCompleted(params: Fields, time: number): void {
    const turnInfo = fieldsOf(params.turn);
    const turnId = str(turnInfo.id);
    const status = str(turnInfo.status);
    if (turnId === undefined || !TURN_END_STATUSES.includes(status as TurnEndStatus)) {
      this.counts.malformed++;
      return;
    }
    const turn = this.turnsById.get(turnId);
    const error = isFields(turnInfo.error) ? str(turnInfo.error.message) : undefined;
    if (turn) this.endTurn(turn, status as TurnEndStatus, time, error);
    else this.resolveCancel(turnId, status as TurnEndStatus, time);
  }

  private onItemStarted(params: Fields, time: number): void {
    const item = fieldsOf(params.item);
    const itemId = str(item.id);
    const turn = this.turnFor(str(params.threadId), str(params.turnId), time, true);
    if (turn === undefined || itemId === undefined) return;
    this.startItem(turn, item, itemId, num(item.startedAtMs) ?? time);
  }

  private startItem(turn: TurnState, item: Fields, itemId: string, time: number): ItemState {
    const type = str(item.type) ?? 'unknown';
    const base = { [ATTR_SOURCE]: SOURCE_JSONRPC, [ATTR_ITEM_TYPE]: type, [ATTR_ITEM_ID]: itemId };
    const state: ItemState = { item: this.childPhase(turn, PHASE_ITEM, time, base) };
    boundedSet(turn.items, itemId, state, this.maxPending);
    if (type === 'agentMessage' && !turn.sawAssistant) {
      turn.sawAssistant = true;
      this.childPoint(turn, PHASE_FIRST_ASSISTANT_ITEM, time, base);
    } else if (type === 'reasoning' && !turn.sawReasoning) {
      turn.sawReasoning = true;
      this.childPoint(turn, PHASE_FIRST_REASONING_ITEM, time, base);
    } else if (type === 'contextCompaction') {
      turn.sawCompaction = true;
      state.compaction = this.childPhase(turn, PHASE_COMPACTION, time, base);
    } else if (TOOL_ITEM_TYPES.has(type)) {
      if (!turn.sawTool) {
        turn.sawTool = true;
        this.childPoint(turn, PHASE_FIRST_TOOL_ITEM, time, base);
      }
      state.tool = this.childPhase(turn, PHASE_TOOL_CALL, time, {
        [ATTR_SOURCE]: SOURCE_JSONRPC,
        [ATTR_GEN_AI_TOOL_NAME]: toolName(type, item),
        [ATTR_GEN_AI_TOOL_CALL_ID]: itemId,
        [ATTR_TOOL_KIND]: type,
        [ATTR_ITEM_ID]: itemId,
      });
    }
    return state;
  }

  private onItemCompleted(params: Fields, time: number): void {
    const item = fieldsOf(params.item);
    const itemId = str(item.id);
    const turn = this.turnFor(str(params.threadId), str(params.turnId), time, true);
    if (turn === undefined || itemId === undefined) return;
    // An item seen only at completion (the observer attached late) still gets its span.
    const state = turn.items.get(itemId) ?? this.startItem(turn, item, itemId, num(item.startedAtMs) ?? time);
    turn.items.delete(itemId);
    const status = str(item.status);
    const statusAttrs = { [ATTR_ITEM_STATUS]: status };
    state.compaction?.end({ time, attributes: statusAttrs });
    if (state.tool) {
      state.tool.end({ time, attributes: { ...statusAttrs, [ATTR_TOOL_EXIT_CODE]: num(item.exitCode) } });
      turn.lastToolCompletedAtMs = time;
    }
    state.item.end({ time, attributes: statusAttrs });
  }

  private onError(params: Fields, time: number): void {
    const threadId = str(params.threadId);
    const turn = this.turnFor(threadId, str(params.turnId), time, true);
    const error = fieldsOf(params.error);
    const info = readCodexErrorInfo(error.codexErrorInfo);
    const message = str(error.message) ?? '';
    const common = { [ATTR_SOURCE]: SOURCE_JSONRPC, [ATTR_ERROR_TYPE]: info.key, [ATTR_HTTP_RESPONSE_STATUS_CODE]: info.httpStatusCode };
    const ids = this.idsOf(turn, threadId, str(params.turnId));
    if (params.willRetry === true) {
      const count = parseReconnecting(message);
      this.tracer.point(PHASE_UPSTREAM_RETRY, ids, {
        time,
        attributes: {
          ...common,
          [ATTR_RETRY_REASON]: retryReason(info),
          [ATTR_RETRY_WILL_RETRY]: true,
          [ATTR_RETRY_ATTEMPT]: count?.attempt,
          [ATTR_RETRY_MAX]: count?.max,
        },
      }, turn?.handle.context);
    } else {
      this.tracer.point(PHASE_TURN_ERROR, ids, {
        time,
        attributes: { ...common, [ATTR_TURN_ERROR]: message, [ATTR_RETRY_REASON]: exhaustedRetryReason(info) },
      }, turn?.handle.context);
    }
  }

  /**
   * A sync hook run of a turn (a handler Codex runs before a model request, around a tool, when a
   * prompt is submitted) holds the turn until it finishes: a tool call of kind hook. Async runs hold
   * nothing, and thread-scope runs (session start) belong to no turn.
   */
  private onHookStarted(params: Fields, time: number): void {
    const run = fieldsOf(params.run);
    const id = str(run.id);
    if (id === undefined || str(run.executionMode) === 'async' || str(run.scope) === 'thread') return;
    const turn = this.turnFor(str(params.threadId), str(params.turnId), time, false);
    if (turn === undefined) return;
    turn.hooks.get(id)?.end({ time });
    const hook = this.childPhase(turn, PHASE_TOOL_CALL, time, {
      [ATTR_SOURCE]: SOURCE_JSONRPC,
      [ATTR_GEN_AI_TOOL_NAME]: (str(run.eventName) ?? 'unknown').slice(0, 64),
      [ATTR_GEN_AI_TOOL_CALL_ID]: id.slice(0, 128),
      [ATTR_TOOL_KIND]: TOOL_KIND_HOOK,
    });
    boundedSet(turn.hooks, id, hook, this.maxPending);
  }

  private onHookCompleted(params: Fields, time: number): void {
    const run = fieldsOf(params.run);
    const id = str(run.id);
    const turn = this.turnFor(str(params.threadId), str(params.turnId), time, false);
    if (turn === undefined || id === undefined) return;
    const hook = turn.hooks.get(id);
    if (hook === undefined) return;
    turn.hooks.delete(id);
    hook.end({ time, attributes: { [ATTR_ITEM_STATUS]: str(run.status) } });
  }

  /** The deprecated whole-thread notification: ends the turn's compaction, or marks one that had no item. */
  private onThreadCompacted(params: Fields, time: number): void {
    const turn = this.turnFor(str(params.threadId), str(params.turnId), time, false);
    if (turn === undefined || turn.sawCompaction) return;
    turn.sawCompaction = true;
    this.childPhase(turn, PHASE_COMPACTION, time, { [ATTR_SOURCE]: SOURCE_JSONRPC }).end({ time });
  }

  /** The server withdrew one of its requests; an approval nobody answered is cancelled. */
  private onServerRequestResolved(params: Fields, time: number): void {
    const id = params.requestId;
    if (!isRequestId(id)) return;
    const request = this.serverRequests.get(id);
    this.serverRequests.delete(id);
    if (request?.kind === 'approval') request.phase.end({ time, attributes: { [ATTR_APPROVAL_DECISION]: APPROVAL_DECISION_CANCELLED } });
  }

  // --- Turns -----------------------------------------------------------------------------------

  private startTurn(threadId: string, turnId: string | undefined, kind: TurnKind | undefined, time: number): TurnState {
    if (this.turns.size >= this.maxTurns) {
      const oldest = this.turns.values().next();
      if (!oldest.done) this.forget(oldest.value);
    }
    const handle = this.tracer.startTurn({
      threadId, turnId, time, attributes: { [ATTR_SOURCE]: SOURCE_JSONRPC, [ATTR_TURN_KIND]: kind },
    });
    const turn: TurnState = {
      handle, threadId, kind, accepted: false, items: new Map(), approvals: new Set(), hooks: new Map(),
      sawAssistant: false, sawReasoning: false, sawTool: false, sawCompaction: false,
    };
    this.turns.add(turn);
    if (turnId !== undefined) this.nameTurn(turn, turnId);
    return turn;
  }

  private nameTurn(turn: TurnState, turnId: string): void {
    if (turn.turnId === turnId) return;
    turn.turnId = turnId;
    turn.handle.identify({ turnId });
    this.turnsById.set(turnId, turn);
  }

  /**
   * The turn a notification belongs to. An unknown turn id is matched to a turn the client asked
   * for on that thread whose id the server has not given yet (a compaction turn's id first appears
   * in `turn/started`); failing that, with `adopt`, the turn is followed from here on (the observer
   * attached mid-turn, or the server started the turn itself).
   */
  private turnFor(threadId: string | undefined, turnId: string | undefined, time: number, adopt: boolean): TurnState | undefined {
    if (turnId === undefined) {
      if (threadId === undefined) return undefined;
      let latest: TurnState | undefined;
      for (const turn of this.turns) if (turn.threadId === threadId) latest = turn;
      return latest;
    }
    const known = this.turnsById.get(turnId);
    if (known !== undefined || threadId === undefined || this.recentlyEnded.has(turnId)) return known;
    for (const turn of this.turns) {
      if (turn.turnId === undefined && turn.threadId === threadId) {
        this.nameTurn(turn, turnId);
        return turn;
      }
    }
    return adopt ? this.startTurn(threadId, turnId, undefined, time) : undefined;
  }

  private accept(turn: TurnState, time: number): void {
    if (turn.accepted) return;
    turn.accepted = true;
    this.childPoint(turn, PHASE_TURN_ACCEPTED, time, { [ATTR_SOURCE]: SOURCE_JSONRPC });
  }

  /** Ends the turn and whatever of it is still open: items and tools with the turn's status, approvals as cancelled. */
  private endTurn(turn: TurnState, status: TurnEndStatus, time: number, error: string | undefined): void {
    for (const state of turn.items.values()) {
      const attributes = { [ATTR_ITEM_STATUS]: status };
      state.compaction?.end({ time, attributes });
      state.tool?.end({ time, attributes });
      state.item.end({ time, attributes });
    }
    for (const approval of turn.approvals) {
      approval.end({ time, attributes: { [ATTR_APPROVAL_DECISION]: APPROVAL_DECISION_CANCELLED } });
    }
    for (const hook of turn.hooks.values()) hook.end({ time, attributes: { [ATTR_ITEM_STATUS]: status } });
    if (turn.turnId !== undefined) this.resolveCancel(turn.turnId, status, time);
    const unknown = this.counts.unknownMethods + this.counts.malformed;
    turn.handle.endTurn(status, { time, error, attributes: { [ATTR_OBSERVER_UNKNOWN]: unknown > 0 ? unknown : undefined } });
    this.forget(turn);
    if (turn.turnId !== undefined) boundedSet(this.recentlyEnded, turn.turnId, status, RECENTLY_ENDED_TURNS);
  }

  private resolveCancel(turnId: string, status: TurnEndStatus, time: number): void {
    const cancel = this.cancels.get(turnId);
    if (cancel === undefined) return;
    this.cancels.delete(turnId);
    const result = status === TURN_END_STATUS_INTERRUPTED ? CANCEL_RESULT_CANCELLED : CANCEL_RESULT_ALREADY_COMPLETED;
    cancel.end({ time, attributes: { [ATTR_CANCEL_RESULT]: result } });
  }

  /** Stops following a turn; its open spans stay open. */
  private forget(turn: TurnState): void {
    this.turns.delete(turn);
    if (turn.turnId !== undefined && this.turnsById.get(turn.turnId) === turn) this.turnsById.delete(turn.turnId);
  }

  // --- Emitting ------------------------------------------------------------------------------

  private idsOf(turn: TurnState | undefined, threadId?: string, turnId?: string): PhaseIds {
    return { threadId: turn?.threadId ?? threadId, turnId: turn?.turnId ?? turnId };
  }

  private childPhase(turn: TurnState, name: string, time: number, attributes: PhaseAttributes): PhaseHandle {
    return this.tracer.startPhase(name, this.idsOf(turn), { time, attributes }, turn.handle.context);
  }

  private childPoint(turn: TurnState, name: string, time: number, attributes: PhaseAttributes): void {
    this.tracer.point(name, this.idsOf(turn), { time, attributes }, turn.handle.context);
  }

  /** A renderer point under every followed turn (so each stuck turn shows its renderer left), or one on its own. */
  private rendererPoint(name: string, time: number, extra: PhaseAttributes): void {
    const attributes = { [ATTR_SOURCE]: SOURCE_JSONRPC, [ATTR_RENDERER_ID]: this.rendererId ?? 'client', ...extra };
    if (this.turns.size === 0) {
      this.tracer.point(name, {}, { time, attributes });
      return;
    }
    for (const turn of this.turns) this.childPoint(turn, name, time, attributes);
  }
}

/** The request that started a turn, named in the error of a turn the server refused. */
function turnRequestMethod(turn: TurnState): string {
  return turn.kind === TURN_KIND_COMPACTION ? 'thread/compact/start' : turn.kind === TURN_KIND_REVIEW ? 'review/start' : 'turn/start';
}

/** A JSON-RPC error as a low-cardinality `error.type`: `jsonrpc.<code>`. */
function rpcErrorType(error: unknown): string {
  const code = fieldsOf(error).code;
  return typeof code === 'number' || typeof code === 'string' ? `jsonrpc.${String(code).slice(0, 32)}` : 'jsonrpc.error';
}

/** Items in a thread's `turns` (what a hydration loaded), or undefined when the answer carries no turns. */
function countItems(turns: unknown): number | undefined {
  if (!Array.isArray(turns)) return undefined;
  let items = 0;
  for (const turn of turns) {
    const list = fieldsOf(turn).items;
    if (Array.isArray(list)) items += list.length;
  }
  return items;
}

/** `gen_ai.tool.name`: the tool's own name where the item carries one (MCP, dynamic, collab), else the item type. */
function toolName(type: string, item: Fields): string {
  return str(item.tool) ?? type;
}
