import {
  APPROVAL_DECISION_CANCELLED,
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
  ATTR_RETRY_ATTEMPT,
  ATTR_RETRY_MAX,
  ATTR_RETRY_REASON,
  ATTR_RETRY_WILL_RETRY,
  ATTR_SOURCE,
  ATTR_THREAD_ID,
  ATTR_TOOL_EXIT_CODE,
  ATTR_TOOL_KIND,
  ATTR_TURN_ERROR,
  CANCEL_RESULT_ALREADY_COMPLETED,
  CANCEL_RESULT_FAILED,
  CANCEL_RESULT_UNKNOWN,
  HYDRATION_TRIGGER_FORK,
  HYDRATION_TRIGGER_READ,
  HYDRATION_TRIGGER_RESUME,
  HYDRATION_TRIGGER_START,
  PHASE_CANCEL,
  PHASE_COMPACTION,
  PHASE_ITEM_PROGRESS,
  PHASE_TOOL_CALL,
  PROGRESS_EVERY_MS,
  TOOL_KIND_HOOK,
  PHASE_TURN_ERROR,
  PHASE_UPSTREAM_RETRY,
  SOURCE_JSONRPC,
  TURN_END_STATUSES,
  TURN_END_STATUS_FAILED,
  TURN_KIND_COMPACTION,
  TURN_KIND_REVIEW,
  TURN_KIND_USER,
  type ApprovalKind,
  type TurnEndStatus,
  type TurnKind,
} from '@stall-why/conventions';
import type { PhaseAttributes, PhaseHandle, PhaseIds, TurnHandle } from '../turn-tracer.js';
import { approvalDecision, approvalKind } from './approval-request.js';
import {
  CODEX_CLIENT_NOTIFICATION_METHODS,
  CODEX_CLIENT_REQUEST_METHODS,
  CODEX_DELTA_METHODS,
  CODEX_SERVER_NOTIFICATION_METHODS,
  CODEX_SERVER_REQUEST_METHODS,
} from './codex-methods.js';
import { exhaustedRetryReason, parseReconnecting, readCodexErrorInfo, retryReason } from './codex-error.js';
import {
  boundedSet,
  fieldsOf,
  isFields,
  isRequestId,
  JSONRPC_DELTA,
  JSONRPC_UNKNOWN,
  num,
  rpcErrorType,
  str,
  type JsonRpcDirection,
  type JsonRpcFields as Fields,
  type JsonRpcId as RequestId,
  type JsonRpcStreamStats,
  type JsonRpcVerdict,
} from './json-rpc-stream.js';
import { cancelResultOf, endApproval, JsonRpcTurnObserver, type JsonRpcTurnObserverOptions, type ObservedTurn } from './json-rpc-turn-observer.js';

export interface CodexJsonRpcObserverOptions extends JsonRpcTurnObserverOptions {}

/** What the observer has counted (see `JsonRpcStreamStats`; deltas are those of `CODEX_DELTA_METHODS`). */
export type CodexJsonRpcObserverStats = JsonRpcStreamStats;

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
/** How many ended turn ids are remembered, to tell an interrupt that came too late. */
const RECENTLY_ENDED_TURNS = 256;

interface ItemState {
  readonly item: PhaseHandle;
  /** When its last progress point was recorded (or it started). */
  progressAt: number;
  tool?: PhaseHandle;
  compaction?: PhaseHandle;
}

/** A turn: its `turnId` is set once the server names it (the `turn/start` answer, or `turn/started`). */
interface TurnState extends ObservedTurn {
  readonly kind: TurnKind | undefined;
  turnId?: string;
  readonly items: Map<string, ItemState>;
  /** Sync hook runs of the turn still going, by run id. */
  readonly hooks: Map<string, PhaseHandle>;
  sawCompaction: boolean;
}

type ClientRequest =
  | { readonly kind: 'hydration'; readonly phase: PhaseHandle }
  | { readonly kind: 'turn'; readonly turn: TurnState }
  | { readonly kind: 'interrupt'; readonly turnId: string; readonly requestedAfterEnd: boolean };

type ServerRequest =
  | { readonly kind: 'approval'; readonly approvalKind: ApprovalKind; readonly phase: PhaseHandle }
  | { readonly kind: 'other' };

/** What is remembered of a request until its answer, either way. */
type PendingRequest = ClientRequest | ServerRequest;

/**
 * Watches the JSON-RPC stream between a client and the Codex app-server (protocol v2, as of Codex
 * 0.169) in both directions and emits stall-why phases through a `TurnTracer`. It holds no rules:
 * it maps each protocol event onto a phase, and the classifier decides what a wait means.
 *
 * It never throws into its host: lines it cannot parse are counted in `stats.malformed`, methods it
 * does not know in `stats.unknownMethods`. It never records prompt text, messages, reasoning,
 * commands or their output: only ids, types, statuses, counts and error classes.
 */
export class CodexJsonRpcObserver extends JsonRpcTurnObserver<PendingRequest, TurnState> {
  /** Every turn being followed, oldest first; turns without an id yet included. */
  private readonly turns = new Set<TurnState>();
  private readonly turnsById = new Map<string, TurnState>();
  private readonly cancels = new Map<string, PhaseHandle>();
  private readonly recentlyEnded = new Map<string, TurnEndStatus>();

  constructor(options: CodexJsonRpcObserverOptions) {
    super(options, { source: SOURCE_JSONRPC, observerName: 'Codex JSON-RPC observer', deltaHeads: CODEX_DELTA_METHODS });
  }

  override get stats(): CodexJsonRpcObserverStats {
    return super.stats;
  }

  /** The turns being followed, oldest first. */
  activeTurns(): ReadonlyArray<ActiveCodexTurn> {
    return this.describeTurns();
  }

  // --- Bookkeeping the shared core asks for ----------------------------------------------------

  protected override followedTurns(): Iterable<TurnState> {
    return this.turns;
  }

  protected override abandonCancels(time: number): void {
    for (const [turnId, cancel] of this.cancels) {
      cancel.end({ time, attributes: { [ATTR_CANCEL_RESULT]: CANCEL_RESULT_UNKNOWN } });
      this.cancels.delete(turnId);
    }
  }

  protected override forgetTurns(): void {
    this.turns.clear();
    this.turnsById.clear();
    this.cancels.clear();
    this.recentlyEnded.clear();
  }

  // --- Dispatch ----------------------------------------------------------------------------

  protected override onMessage(direction: JsonRpcDirection, method: string, id: RequestId | undefined, params: Fields, message: Fields, time: number): JsonRpcVerdict<PendingRequest> {
    const isRequest = id !== undefined;
    if (direction === 'client->server') {
      const known = isRequest ? CODEX_CLIENT_REQUEST_METHODS : CODEX_CLIENT_NOTIFICATION_METHODS;
      if (!known.has(method)) return JSONRPC_UNKNOWN;
      return isRequest ? this.onClientRequest(method, params, time) : undefined;
    }
    const emitted = num(message.emittedAtMs) ?? time;
    if (isRequest) {
      if (!CODEX_SERVER_REQUEST_METHODS.has(method)) return JSONRPC_UNKNOWN;
      return this.onServerRequest(id, method, params, num(params.startedAtMs) ?? emitted);
    }
    if (CODEX_DELTA_METHODS.has(method)) return JSONRPC_DELTA;
    if (!CODEX_SERVER_NOTIFICATION_METHODS.has(method)) return JSONRPC_UNKNOWN;
    this.onServerNotification(method, params, emitted);
    return undefined;
  }

  /**
   * A delta of an item still being written: a progress point on the item at most every
   * `PROGRESS_EVERY_MS`, so a long answer (or a command printing) is not a turn gone quiet.
   */
  protected override onDeltaSample(params: Fields, time: number): void {
    const turnId = str(params.turnId);
    const itemId = str(params.itemId);
    const state = turnId === undefined || itemId === undefined ? undefined : this.turnsById.get(turnId)?.items.get(itemId);
    if (!state || time - state.progressAt < PROGRESS_EVERY_MS) return;
    state.progressAt = time;
    state.item.mark(PHASE_ITEM_PROGRESS, { time, attributes: { [ATTR_SOURCE]: SOURCE_JSONRPC, [ATTR_ITEM_ID]: itemId } });
  }

  protected override onAnswer(request: PendingRequest, message: Fields, time: number): void {
    if (request.kind === 'approval' || request.kind === 'other') this.onClientAnswer(request, message, time);
    else this.onServerAnswer(request, message, time);
  }

  // --- Client → server ----------------------------------------------------------------------

  private onClientRequest(method: string, params: Fields, time: number): ClientRequest | undefined {
    if (method === 'initialize') {
      this.clientInitialized(params, time);
      return undefined;
    }
    const trigger = HYDRATION_TRIGGER_BY_METHOD.get(method);
    if (trigger !== undefined) {
      const phase = this.tracer.startHydration({
        threadId: str(params.threadId), trigger, time, attributes: { [ATTR_SOURCE]: SOURCE_JSONRPC },
      });
      return { kind: 'hydration', phase };
    }
    const kind = TURN_KIND_BY_METHOD.get(method);
    const threadId = str(params.threadId);
    if (kind !== undefined && threadId !== undefined) return { kind: 'turn', turn: this.startTurn(threadId, undefined, kind, time) };
    if (method === 'turn/interrupt') return this.onInterrupt(threadId, str(params.turnId), time);
    return undefined;
  }

  private onInterrupt(threadId: string | undefined, turnId: string | undefined, time: number): ClientRequest | undefined {
    if (turnId === undefined) return undefined;
    const turn = this.turnsById.get(turnId);
    const ids = { threadId: threadId ?? turn?.threadId, turnId };
    const phase = this.tracer.startPhase(PHASE_CANCEL, ids, { time, attributes: { [ATTR_SOURCE]: SOURCE_JSONRPC } }, turn?.handle.context);
    this.cancels.get(turnId)?.end({ time, attributes: { [ATTR_CANCEL_RESULT]: CANCEL_RESULT_UNKNOWN } });
    boundedSet(this.cancels, turnId, phase, this.rpc.maxPending);
    return { kind: 'interrupt', turnId, requestedAfterEnd: this.recentlyEnded.has(turnId) };
  }

  /** The server answered one of the client's requests. */
  private onServerAnswer(request: ClientRequest, message: Fields, time: number): void {
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

  private onServerRequest(id: RequestId, method: string, params: Fields, time: number): ServerRequest {
    const kind = approvalKind(method);
    // `item/tool/call` and the others wait on the client, not a person; their items carry the phases.
    if (kind === undefined) return { kind: 'other' };
    const threadId = str(params.threadId) ?? str(params.conversationId);
    const turn = this.turnFor(threadId, str(params.turnId), time, false);
    const attributes: PhaseAttributes = {
      [ATTR_SOURCE]: SOURCE_JSONRPC,
      [ATTR_APPROVAL_KIND]: kind,
      [ATTR_APPROVAL_REQUEST_ID]: String(id),
      [ATTR_ITEM_ID]: str(params.itemId) ?? str(params.callId),
    };
    const phase = this.startApproval(turn, { threadId, turnId: str(params.turnId) }, time, attributes);
    return { kind: 'approval', approvalKind: kind, phase };
  }

  /** The client answered one of the server's requests. */
  private onClientAnswer(request: ServerRequest, message: Fields, time: number): void {
    if (request.kind !== 'approval') return;
    endApproval(request.phase, message, time, (result) => approvalDecision(request.approvalKind, result));
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
      this.rpc.noteMalformed();
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
    const { phase, attributes } = this.startItemPhase(turn, type, itemId, time);
    const state: ItemState = { item: phase, progressAt: time };
    boundedSet(turn.items, itemId, state, this.rpc.maxPending);
    if (type === 'contextCompaction') {
      turn.sawCompaction = true;
      state.compaction = this.childPhase(turn, PHASE_COMPACTION, time, attributes);
    } else if (TOOL_ITEM_TYPES.has(type)) {
      state.tool = this.startToolCall(turn, { name: toolName(type, item), callId: itemId, kind: type, itemId }, time, attributes);
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
    boundedSet(turn.hooks, id, hook, this.rpc.maxPending);
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
    const request = this.rpc.takePending('server->client', id);
    if (request?.kind === 'approval') request.phase.end({ time, attributes: { [ATTR_APPROVAL_DECISION]: APPROVAL_DECISION_CANCELLED } });
  }

  // --- Turns -----------------------------------------------------------------------------------

  private startTurn(threadId: string, turnId: string | undefined, kind: TurnKind | undefined, time: number): TurnState {
    if (this.turns.size >= this.rpc.maxTurns) {
      const oldest = this.turns.values().next();
      if (!oldest.done) this.forget(oldest.value);
    }
    const turn: TurnState = { ...this.openTurn(threadId, turnId, kind, time), kind, items: new Map(), hooks: new Map(), sawCompaction: false };
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

  /** Ends the turn and whatever of it is still open: items and tools with the turn's status, approvals as cancelled. */
  private endTurn(turn: TurnState, status: TurnEndStatus, time: number, error: string | undefined): void {
    for (const state of turn.items.values()) {
      const attributes = { [ATTR_ITEM_STATUS]: status };
      state.compaction?.end({ time, attributes });
      state.tool?.end({ time, attributes });
      state.item.end({ time, attributes });
    }
    this.cancelApprovals(turn, time);
    for (const hook of turn.hooks.values()) hook.end({ time, attributes: { [ATTR_ITEM_STATUS]: status } });
    if (turn.turnId !== undefined) this.resolveCancel(turn.turnId, status, time);
    this.endTurnSpan(turn, status, time, error);
    this.forget(turn);
    if (turn.turnId !== undefined) boundedSet(this.recentlyEnded, turn.turnId, status, RECENTLY_ENDED_TURNS);
  }

  private resolveCancel(turnId: string, status: TurnEndStatus, time: number): void {
    const cancel = this.cancels.get(turnId);
    if (cancel === undefined) return;
    this.cancels.delete(turnId);
    cancel.end({ time, attributes: { [ATTR_CANCEL_RESULT]: cancelResultOf(status) } });
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
}

/** The request that started a turn, named in the error of a turn the server refused. */
function turnRequestMethod(turn: TurnState): string {
  return turn.kind === TURN_KIND_COMPACTION ? 'thread/compact/start' : turn.kind === TURN_KIND_REVIEW ? 'review/start' : 'turn/start';
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
