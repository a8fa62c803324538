import {
  APPROVAL_DECISION_APPROVED,
  APPROVAL_DECISION_CANCELLED,
  APPROVAL_DECISION_DENIED,
  APPROVAL_KIND_COMMAND,
  APPROVAL_KIND_FILE_CHANGE,
  APPROVAL_KIND_PERMISSIONS,
  ATTR_APPROVAL_KIND,
  ATTR_APPROVAL_REQUEST_ID,
  ATTR_CANCEL_RESULT,
  ATTR_GEN_AI_TOOL_CALL_ID,
  ATTR_GEN_AI_TOOL_NAME,
  ATTR_HYDRATION_ITEMS,
  ATTR_ITEM_ID,
  ATTR_ITEM_STATUS,
  ATTR_SOURCE,
  ATTR_THREAD_ID,
  ATTR_TOOL_KIND,
  ATTR_TURN_STOP_REASON,
  CANCEL_RESULT_ALREADY_COMPLETED,
  CANCEL_RESULT_UNKNOWN,
  HYDRATION_TRIGGER_FORK,
  HYDRATION_TRIGGER_RESUME,
  HYDRATION_TRIGGER_START,
  PHASE_CANCEL,
  PHASE_ITEM_PROGRESS,
  PHASE_TOOL_CALL,
  PROGRESS_EVERY_MS,
  SOURCE_ACP,
  TURN_END_STATUS_COMPLETED,
  TURN_END_STATUS_FAILED,
  TURN_END_STATUS_INTERRUPTED,
  TURN_KIND_USER,
  type ApprovalKind,
  type TurnEndStatus,
} from '@stall-why/conventions';
import type { PhaseAttributes, PhaseHandle, TurnHandle } from '../turn-tracer.js';
import {
  ACP_AGENT_NOTIFICATION_METHODS,
  ACP_AGENT_REQUEST_METHODS,
  ACP_CLIENT_NOTIFICATION_METHODS,
  ACP_CLIENT_REQUEST_METHODS,
  ACP_SESSION_UPDATE_KINDS,
} from './acp-methods.js';
import {
  boundedSet,
  fieldsOf,
  JSONRPC_UNKNOWN,
  rpcErrorType,
  str,
  type JsonRpcDirection,
  type JsonRpcFields as Fields,
  type JsonRpcId,
  type JsonRpcVerdict,
} from './json-rpc-stream.js';
import { cancelResultOf, endApproval, JsonRpcTurnObserver, type JsonRpcTurnObserverOptions, type ObservedTurn } from './json-rpc-turn-observer.js';

export interface AcpObserverOptions extends JsonRpcTurnObserverOptions {
  /** Clock for messages that carry no time of their own (ACP messages carry none). Default `Date.now`. */
  readonly now?: () => number;
}

/** A prompt turn the observer is following (the shape the upstream proxy attributes model requests by). */
export interface ActiveAcpTurn {
  /** The ACP `sessionId`. */
  readonly threadId: string;
  readonly turnId: string;
  readonly turn: TurnHandle;
  /** Whether the agent has sent anything for the prompt yet. */
  readonly accepted: boolean;
  /** When the turn's last tool call completed, epoch ms. */
  readonly lastToolCompletedAtMs?: number;
}

const HYDRATION_TRIGGER_BY_METHOD: ReadonlyMap<string, string> = new Map([
  ['session/new', HYDRATION_TRIGGER_START],
  ['session/load', HYDRATION_TRIGGER_RESUME],
  ['session/resume', HYDRATION_TRIGGER_RESUME],
  ['session/fork', HYDRATION_TRIGGER_FORK],
]);
/** Streamed output runs, and the item type they are recorded as (the Codex item names the classifier knows). */
const ITEM_TYPE_BY_CHUNK: ReadonlyMap<string, string> = new Map([
  ['agent_message_chunk', 'agentMessage'],
  ['agent_thought_chunk', 'reasoning'],
]);
/** ACP tool kinds a person approves as a file change; `execute` is a command, the rest a permission. */
const FILE_CHANGE_TOOL_KINDS: ReadonlySet<string> = new Set(['edit', 'delete', 'move']);
/** `sessionUpdate` kinds that say nothing about progress (menus, modes, token counts). */
const STATUS_ONLY_UPDATES: ReadonlySet<string> = new Set(['available_commands_update', 'current_mode_update', 'config_option_update', 'session_info_update', 'usage_update']);

/** A prompt turn: its `threadId` is the ACP `sessionId`, its `turnId` made up at the prompt (ACP names no turn). */
interface TurnState extends ObservedTurn {
  readonly turnId: string;
  /** The streamed message or thought being written, and its kind. */
  run?: { readonly chunk: string; readonly phase: PhaseHandle; progressAt: number };
  runs: number;
  /** Tool calls not yet completed, by `toolCallId` (client fs/terminal requests live in `pending`). */
  readonly tools: Map<string, PhaseHandle>;
  cancel?: PhaseHandle;
}

type PendingRequest =
  | { readonly kind: 'hydration'; readonly sessionId?: string; readonly phase: PhaseHandle }
  | { readonly kind: 'prompt'; readonly turn: TurnState }
  | { readonly kind: 'approval'; readonly phase: PhaseHandle; readonly optionKinds: ReadonlyMap<string, string> }
  | { readonly kind: 'client_tool'; readonly phase: PhaseHandle; readonly turn?: TurnState };

/**
 * Watches the Agent Client Protocol stream between a client (Zed, any ACP editor) and an agent
 * (codex-acp, claude-agent-acp, gemini-cli `--acp`, …) in both directions and emits stall-why phases
 * through a `TurnTracer`: `session/prompt` is the turn, its answer's `stopReason` (or error) its
 * end; `session/update`s are its output items and tool calls; `session/request_permission` is an
 * approval; `session/cancel` an interrupt; the client's `fs/*` and `terminal/*` work tool calls.
 * Agents order these differently (a permission before or after its `tool_call`, or with no
 * `tool_call` at all), so a tool call is opened by whichever names its id first.
 *
 * Like the Codex observer it shares `JsonRpcTurnObserver` with, it holds no rules, never throws into
 * its host and never records prompt text, messages, commands, paths or output.
 */
export class AcpObserver extends JsonRpcTurnObserver<PendingRequest, TurnState> {
  /** The prompt turn in flight per session, oldest first. */
  private readonly turns = new Map<string, TurnState>();
  /** Sessions whose history is being replayed (`session/load`), with the updates counted so far. */
  private readonly replays = new Map<string, { items: number }>();

  constructor(options: AcpObserverOptions) {
    super(options, { source: SOURCE_ACP, observerName: 'ACP observer' });
  }

  /** The prompt turns in flight, oldest first. */
  activeTurns(): ReadonlyArray<ActiveAcpTurn> {
    return this.describeTurns();
  }

  // --- Bookkeeping the shared core asks for ----------------------------------------------------

  protected override followedTurns(): Iterable<TurnState> {
    return this.turns.values();
  }

  protected override abandonCancels(time: number): void {
    for (const turn of this.turns.values()) {
      turn.cancel?.end({ time, attributes: { [ATTR_CANCEL_RESULT]: CANCEL_RESULT_UNKNOWN } });
      turn.cancel = undefined;
    }
  }

  protected override forgetTurns(): void {
    this.turns.clear();
    this.replays.clear();
  }

  // --- Dispatch ----------------------------------------------------------------------------

  protected override onMessage(direction: JsonRpcDirection, method: string, id: JsonRpcId | undefined, params: Fields, _message: Fields, time: number): JsonRpcVerdict<PendingRequest> {
    const isRequest = id !== undefined;
    if (direction === 'client->server') {
      if (!(isRequest ? ACP_CLIENT_REQUEST_METHODS : ACP_CLIENT_NOTIFICATION_METHODS).has(method)) return JSONRPC_UNKNOWN;
      if (!isRequest) {
        if (method === 'session/cancel') this.onCancel(str(params.sessionId), time);
        return undefined;
      }
      return this.onClientRequest(id, method, params, time);
    }
    if (!(isRequest ? ACP_AGENT_REQUEST_METHODS : ACP_AGENT_NOTIFICATION_METHODS).has(method)) return JSONRPC_UNKNOWN;
    if (!isRequest) {
      if (method === 'session/update') this.onUpdate(params, time);
      return undefined;
    }
    if (method === 'session/request_permission') return this.onPermission(id, params, time);
    return this.onClientTool(method, params, time);
  }

  protected override onAnswer(request: PendingRequest, message: Fields, time: number): void {
    const error = message.error;
    const failed = error !== undefined && error !== null;
    const result = fieldsOf(message.result);
    switch (request.kind) {
      case 'hydration': {
        const sessionId = request.sessionId ?? str(result.sessionId);
        const replay = sessionId === undefined ? undefined : this.replays.get(sessionId);
        if (sessionId !== undefined) this.replays.delete(sessionId);
        if (failed) return request.phase.fail(rpcErrorType(error), { time });
        return request.phase.end({ time, attributes: { [ATTR_THREAD_ID]: sessionId, [ATTR_HYDRATION_ITEMS]: replay?.items } });
      }
      case 'prompt':
        if (failed) return this.endTurn(request.turn, TURN_END_STATUS_FAILED, time, undefined, `session/prompt ${rpcErrorType(error)}: ${errorText(error)}`);
        return this.endTurn(request.turn, stopStatus(str(result.stopReason)), time, str(result.stopReason)?.slice(0, 64), undefined);
      case 'approval':
        return endApproval(request.phase, message, time, (answer) => permissionDecision(fieldsOf(answer), request.optionKinds));
      case 'client_tool':
        if (failed) request.phase.fail(rpcErrorType(error), { time, attributes: { [ATTR_ITEM_STATUS]: 'failed' } });
        else request.phase.end({ time, attributes: { [ATTR_ITEM_STATUS]: 'completed' } });
        if (request.turn) request.turn.lastToolCompletedAtMs = time;
        return;
    }
  }

  // --- Client → agent ----------------------------------------------------------------------

  private onClientRequest(id: JsonRpcId, method: string, params: Fields, time: number): PendingRequest | undefined {
    if (method === 'initialize') {
      this.clientInitialized(params, time);
      return undefined;
    }
    const trigger = HYDRATION_TRIGGER_BY_METHOD.get(method);
    if (trigger !== undefined) {
      const sessionId = str(params.sessionId);
      const phase = this.tracer.startHydration({ threadId: sessionId, trigger, time, attributes: { [ATTR_SOURCE]: SOURCE_ACP } });
      if (sessionId !== undefined) boundedSet(this.replays, sessionId, { items: 0 }, this.rpc.maxPending);
      return { kind: 'hydration', sessionId, phase };
    }
    const sessionId = str(params.sessionId);
    if (method === 'session/prompt' && sessionId !== undefined) return { kind: 'prompt', turn: this.startTurn(sessionId, id, time) };
    return undefined;
  }

  /** `session/cancel` is a notification: its result is the prompt's own answer (`cancelled`, or whatever came first). */
  private onCancel(sessionId: string | undefined, time: number): void {
    if (sessionId === undefined) return;
    const turn = this.turns.get(sessionId);
    const attributes = { [ATTR_SOURCE]: SOURCE_ACP };
    if (turn === undefined) {
      this.tracer.startPhase(PHASE_CANCEL, { threadId: sessionId }, { time, attributes }).end({ time, attributes: { [ATTR_CANCEL_RESULT]: CANCEL_RESULT_ALREADY_COMPLETED } });
      return;
    }
    turn.cancel?.end({ time, attributes: { [ATTR_CANCEL_RESULT]: CANCEL_RESULT_UNKNOWN } });
    turn.cancel = this.childPhase(turn, PHASE_CANCEL, time, attributes);
  }

  // --- Agent → client ----------------------------------------------------------------------

  private onUpdate(params: Fields, time: number): void {
    const sessionId = str(params.sessionId);
    const update = fieldsOf(params.update);
    const kind = str(update.sessionUpdate);
    if (sessionId === undefined || kind === undefined) return this.rpc.noteMalformed();
    if (!ACP_SESSION_UPDATE_KINDS.has(kind)) return this.rpc.countUnknown(`session/update ${kind}`);
    if (kind.endsWith('_chunk')) this.rpc.noteDelta();
    const turn = this.turns.get(sessionId);
    if (turn === undefined) {
      // Outside a prompt: a `session/load` replaying history (its answer may come in the middle of
      // it: gemini-cli 0.61), or menus after `session/new`. Neither is a turn.
      const replay = this.replays.get(sessionId);
      if (replay !== undefined && !STATUS_ONLY_UPDATES.has(kind)) replay.items++;
      return;
    }
    if (STATUS_ONLY_UPDATES.has(kind)) return;
    // ACP has no acceptance message: the agent's first word on the prompt is the sign it took it.
    this.accept(turn, time);
    const itemType = ITEM_TYPE_BY_CHUNK.get(kind);
    if (itemType !== undefined) return this.onChunk(turn, kind, itemType, time);
    this.endRun(turn, time, 'completed');
    if (kind === 'tool_call' || kind === 'tool_call_update') this.onToolUpdate(turn, update, time);
  }

  /** Consecutive chunks of one kind are one item: a message or a thought, as Codex's items are. */
  private onChunk(turn: TurnState, chunk: string, itemType: string, time: number): void {
    const run = turn.run;
    if (run?.chunk === chunk) {
      // A long message or thought says, every few seconds, that it is still being written.
      if (time - run.progressAt >= PROGRESS_EVERY_MS) {
        run.progressAt = time;
        run.phase.mark(PHASE_ITEM_PROGRESS, { time, attributes: { [ATTR_SOURCE]: SOURCE_ACP } });
      }
      return;
    }
    this.endRun(turn, time, 'completed');
    turn.runs++;
    turn.run = { chunk, phase: this.startItemPhase(turn, itemType, `item-${turn.runs}`, time).phase, progressAt: time };
  }

  private endRun(turn: TurnState, time: number, status: string): void {
    turn.run?.phase.end({ time, attributes: { [ATTR_ITEM_STATUS]: status } });
    turn.run = undefined;
  }

  private onToolUpdate(turn: TurnState, update: Fields, time: number): void {
    const toolCallId = str(update.toolCallId);
    if (toolCallId === undefined) return;
    const tool = this.toolCall(turn, toolCallId, update, time);
    const status = str(update.status);
    if (status !== 'completed' && status !== 'failed') return;
    tool.end({ time, attributes: { [ATTR_ITEM_STATUS]: status } });
    turn.tools.delete(toolCallId);
    turn.lastToolCompletedAtMs = time;
  }

  /** The tool call's span, opened by whichever message names the id first: `tool_call`, an update, or a permission request. */
  private toolCall(turn: TurnState, toolCallId: string, toolCall: Fields, time: number): PhaseHandle {
    const known = turn.tools.get(toolCallId);
    if (known !== undefined) return known;
    const kind = str(toolCall.kind) ?? 'other';
    const id = toolCallId.slice(0, 128);
    const tool = this.startToolCall(turn, {
      // Never the title: it holds the command line or the path.
      name: (str(fieldsOf(fieldsOf(fieldsOf(toolCall._meta).claudeCode)).toolName) ?? kind).slice(0, 64),
      callId: id,
      kind: kind.slice(0, 64),
      itemId: id,
    }, time, { [ATTR_SOURCE]: SOURCE_ACP, [ATTR_ITEM_ID]: id });
    boundedSet(turn.tools, toolCallId, tool, this.rpc.maxPending);
    return tool;
  }

  private onPermission(id: JsonRpcId, params: Fields, time: number): PendingRequest {
    const sessionId = str(params.sessionId);
    const turn = sessionId === undefined ? undefined : this.turns.get(sessionId);
    const toolCall = fieldsOf(params.toolCall);
    const toolCallId = str(toolCall.toolCallId);
    // gemini-cli 0.61 announces a shell command only here: no `tool_call` ever comes for it.
    if (turn !== undefined && toolCallId !== undefined) {
      this.accept(turn, time);
      this.endRun(turn, time, 'completed');
      this.toolCall(turn, toolCallId, toolCall, time);
    }
    const attributes: PhaseAttributes = {
      [ATTR_SOURCE]: SOURCE_ACP,
      [ATTR_APPROVAL_KIND]: approvalKindOf(str(toolCall.kind)),
      [ATTR_APPROVAL_REQUEST_ID]: String(id).slice(0, 128),
      [ATTR_ITEM_ID]: toolCallId?.slice(0, 128),
    };
    const phase = this.startApproval(turn, { threadId: sessionId }, time, attributes);
    return { kind: 'approval', phase, optionKinds: optionKinds(params.options) };
  }

  /** `fs/*` and `terminal/*`: the agent waits on the client's own tool work. */
  private onClientTool(method: string, params: Fields, time: number): PendingRequest {
    const sessionId = str(params.sessionId);
    const turn = sessionId === undefined ? undefined : this.turns.get(sessionId);
    const attributes: PhaseAttributes = {
      [ATTR_SOURCE]: SOURCE_ACP,
      [ATTR_GEN_AI_TOOL_NAME]: method,
      [ATTR_TOOL_KIND]: method.slice(0, method.indexOf('/')),
      [ATTR_GEN_AI_TOOL_CALL_ID]: str(params.terminalId)?.slice(0, 128),
    };
    if (turn !== undefined) {
      this.accept(turn, time);
      this.endRun(turn, time, 'completed');
    }
    const phase = this.startPhaseIn(turn, PHASE_TOOL_CALL, { threadId: sessionId }, time, attributes);
    return { kind: 'client_tool', phase, turn };
  }

  // --- Turns -----------------------------------------------------------------------------------

  private startTurn(sessionId: string, requestId: JsonRpcId, time: number): TurnState {
    const running = this.turns.get(sessionId);
    // A second prompt on a session before the first was answered (claude-agent-acp queues them): the first stays followed by its request.
    if (running !== undefined) this.turns.delete(sessionId);
    if (this.turns.size >= this.rpc.maxTurns) {
      const oldest = this.turns.keys().next();
      if (!oldest.done) this.turns.delete(oldest.value);
    }
    // ACP names no turn: the prompt's request id and start time do (ids restart in each agent process).
    const turnId = `prompt-${String(requestId).slice(0, 64)}-${Math.round(time)}`;
    const turn: TurnState = { ...this.openTurn(sessionId, turnId, TURN_KIND_USER, time), turnId, runs: 0, tools: new Map() };
    this.turns.set(sessionId, turn);
    return turn;
  }

  /** Ends the turn and what is still open of it: items and tools with the turn's status, approvals as cancelled. */
  private endTurn(turn: TurnState, status: TurnEndStatus, time: number, stopReason: string | undefined, error: string | undefined): void {
    this.endRun(turn, time, status);
    for (const tool of turn.tools.values()) tool.end({ time, attributes: { [ATTR_ITEM_STATUS]: status } });
    this.cancelApprovals(turn, time);
    turn.cancel?.end({ time, attributes: { [ATTR_CANCEL_RESULT]: cancelResultOf(status) } });
    this.endTurnSpan(turn, status, time, error, { [ATTR_TURN_STOP_REASON]: stopReason });
    if (this.turns.get(turn.threadId) === turn) this.turns.delete(turn.threadId);
  }
}

/** `cancelled` is an interrupted turn; every other stop reason (`end_turn`, `refusal`, `max_tokens`, …) a completed one. */
function stopStatus(stopReason: string | undefined): TurnEndStatus {
  return stopReason === 'cancelled' ? TURN_END_STATUS_INTERRUPTED : TURN_END_STATUS_COMPLETED;
}

function approvalKindOf(toolKind: string | undefined): ApprovalKind {
  if (toolKind === 'execute') return APPROVAL_KIND_COMMAND;
  return toolKind !== undefined && FILE_CHANGE_TOOL_KINDS.has(toolKind) ? APPROVAL_KIND_FILE_CHANGE : APPROVAL_KIND_PERMISSIONS;
}

/** The permission options' kinds by id (`allow_once`, `allow_always`, `reject_once`, `reject_always`). */
function optionKinds(options: unknown): ReadonlyMap<string, string> {
  const kinds = new Map<string, string>();
  if (!Array.isArray(options)) return kinds;
  for (const option of options.slice(0, 16)) {
    const id = str(fieldsOf(option).optionId);
    const kind = str(fieldsOf(option).kind);
    if (id !== undefined && kind !== undefined) kinds.set(id, kind);
  }
  return kinds;
}

/** `selected` an allow option: approved; a reject option: denied; `cancelled` (the prompt was cancelled): cancelled. */
function permissionDecision(result: Fields, optionKinds: ReadonlyMap<string, string>): string {
  const outcome = fieldsOf(result.outcome);
  if (str(outcome.outcome) !== 'selected') return APPROVAL_DECISION_CANCELLED;
  const kind = optionKinds.get(str(outcome.optionId) ?? '');
  return kind?.startsWith('reject') ? APPROVAL_DECISION_DENIED : APPROVAL_DECISION_APPROVED;
}

/** The agent's error message, with the detail agents put in `data` (codex-acp `data.message`, gemini `data.details`). */
function errorText(error: unknown): string {
  const fields = fieldsOf(error);
  const data = fieldsOf(fields.data);
  const detail = str(data.message) ?? str(data.details);
  const message = str(fields.message) ?? '';
  return detail === undefined ? message : `${message}: ${detail}`;
}
