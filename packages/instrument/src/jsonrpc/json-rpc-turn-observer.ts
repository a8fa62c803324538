import {
  APPROVAL_DECISION_CANCELLED,
  APPROVAL_DECISION_ERROR,
  ATTR_APPROVAL_DECISION,
  ATTR_GEN_AI_TOOL_CALL_ID,
  ATTR_GEN_AI_TOOL_NAME,
  ATTR_ITEM_ID,
  ATTR_ITEM_TYPE,
  ATTR_OBSERVER_UNKNOWN,
  ATTR_RENDERER_ID,
  ATTR_RENDERER_REASON,
  ATTR_SOURCE,
  ATTR_TOOL_KIND,
  ATTR_TURN_KIND,
  CANCEL_RESULT_ALREADY_COMPLETED,
  CANCEL_RESULT_CANCELLED,
  PHASE_APPROVAL,
  PHASE_FIRST_ASSISTANT_ITEM,
  PHASE_FIRST_REASONING_ITEM,
  PHASE_FIRST_TOOL_ITEM,
  PHASE_ITEM,
  PHASE_RENDERER_ATTACHED,
  PHASE_RENDERER_DETACHED,
  PHASE_TOOL_CALL,
  PHASE_TURN_ACCEPTED,
  TURN_END_STATUS_INTERRUPTED,
  type TurnEndStatus,
  type TurnKind,
} from '@stall-why/conventions';
import type { PhaseAttributes, PhaseHandle, PhaseIds, TurnHandle, TurnTracer } from '../turn-tracer.js';
import {
  fieldsOf,
  JsonRpcStream,
  rpcErrorType,
  str,
  type JsonRpcBounds,
  type JsonRpcDirection,
  type JsonRpcFields,
  type JsonRpcId,
  type JsonRpcStreamStats,
  type JsonRpcVerdict,
} from './json-rpc-stream.js';

/** The options every turn observer takes, whichever protocol it reads. */
export interface JsonRpcTurnObserverOptions extends JsonRpcBounds {
  /** Where the phases go. */
  readonly turnTracer: TurnTracer;
  /** `stall_why.renderer.id` of the client. Default: the `clientInfo.name` it sends in `initialize`, else `client`. */
  readonly rendererId?: string;
  /** Clock for messages that carry no time of their own. Default `Date.now`. */
  readonly now?: () => number;
}

/** What a protocol tells the shared core about itself. */
export interface JsonRpcProtocolIdentity {
  /** `stall_why.source` of the phases the shared core emits. */
  readonly source: string;
  /** Named once in the `diag.warn` of an internal error. */
  readonly observerName: string;
  /** Notification lines counted as deltas from their first bytes, never parsed. */
  readonly deltaHeads?: Iterable<string>;
}

/** What every protocol keeps of a turn it follows; each adds its own open items and tools. */
export interface ObservedTurn {
  readonly handle: TurnHandle;
  /** The thread (an ACP `sessionId`). */
  readonly threadId: string;
  /** Undefined until the server names the turn. */
  readonly turnId?: string;
  /** Whether the server (or agent) has taken the turn. */
  accepted: boolean;
  /** Approval requests of the turn, ended as cancelled when the turn ends unanswered. */
  readonly approvals: Set<PhaseHandle>;
  /** Whether the first message, reasoning and tool points were emitted: each comes once a turn. */
  sawAssistant: boolean;
  sawReasoning: boolean;
  sawTool: boolean;
  /** When the turn's last tool call completed, epoch ms. */
  lastToolCompletedAtMs?: number;
}

/** A turn as `activeTurns()` shows it: the shape of `ActiveAcpTurn` and `ActiveCodexTurn`. */
export interface ActiveJsonRpcTurn {
  readonly threadId: string;
  readonly turnId: string;
  readonly turn: TurnHandle;
  readonly accepted: boolean;
  readonly lastToolCompletedAtMs?: number;
}

/** An output item's span, with the attributes the protocol reuses for the phases it opens beside it. */
export interface ItemPhase {
  readonly phase: PhaseHandle;
  readonly attributes: PhaseAttributes;
}

/** The ids of a tool call, already bounded (the tool's name, never its command line or path). */
export interface ToolCallIds {
  readonly name: string;
  readonly callId: string;
  readonly kind: string;
  readonly itemId: string;
}

/**
 * The protocol-independent half of a turn observer on a JSON-RPC stream (Codex app-server, ACP):
 * the public surface over the `JsonRpcStream` core, the renderer's points, and the bookkeeping every
 * protocol does the same way for a turn: its start and acceptance, the first message, reasoning and
 * tool points, tool and approval spans, and its end with the count of messages the observer could
 * not read. A subclass maps its protocol's methods onto these (`onMessage`, `onAnswer`) and keeps
 * the turns it follows in whatever shape its protocol names them by.
 *
 * Like the stream core, it never throws into its host and records no prompt text, messages,
 * commands, paths or output.
 */
export abstract class JsonRpcTurnObserver<Pending, Turn extends ObservedTurn> {
  protected readonly tracer: TurnTracer;
  protected readonly rpc: JsonRpcStream<Pending>;
  private readonly source: string;
  private rendererId: string | undefined;

  protected constructor(options: JsonRpcTurnObserverOptions, protocol: JsonRpcProtocolIdentity) {
    this.tracer = options.turnTracer;
    this.rendererId = options.rendererId;
    this.source = protocol.source;
    this.rpc = new JsonRpcStream<Pending>(
      {
        onMessage: (...args) => this.onMessage(...args),
        onAnswer: (request, message, time) => this.onAnswer(request, message, time),
        onDeltaSample: (params, time) => this.onDeltaSample(params, time),
      },
      { ...options, observerName: protocol.observerName, deltaHeads: protocol.deltaHeads },
    );
  }

  get stats(): JsonRpcStreamStats {
    return this.rpc.stats;
  }

  /**
   * One line of the stream (one JSON object, with or without its newline). Deltas the protocol
   * names are counted from the line head without parsing; other lines are parsed. Never throws.
   */
  observeLine(direction: JsonRpcDirection, line: string | Uint8Array, timeMs?: number): void {
    this.rpc.observeLine(direction, line, timeMs);
  }

  /** One already parsed message. Never throws. */
  observeMessage(direction: JsonRpcDirection, message: unknown, timeMs?: number): void {
    this.rpc.observeMessage(direction, message, timeMs);
  }

  /** Counts a line the caller could not frame (e.g. a half line left when the stream ended). */
  noteMalformed(): void {
    this.rpc.noteMalformed();
  }

  /** The client (the renderer) went away, e.g. the proxy's stdin hit EOF. Open cancels become `unknown`. */
  rendererDetached(timeMs?: number, reason = 'closed'): void {
    if (this.rpc.closed) return;
    const time = this.rpc.clock(timeMs);
    this.rendererPoint(PHASE_RENDERER_DETACHED, time, { [ATTR_RENDERER_REASON]: reason });
    this.abandonCancels(time);
  }

  /** A client (a renderer) attached. Called by the observer itself on `initialize`. */
  rendererAttached(timeMs?: number): void {
    if (this.rpc.closed) return;
    this.rendererPoint(PHASE_RENDERER_ATTACHED, this.rpc.clock(timeMs), {});
  }

  /**
   * Releases the observer's state. It ends nothing: a turn that was stuck when the stream stopped
   * stays an open span, which is what the flight recorder must show. Later calls are ignored.
   */
  close(_timeMs?: number): void {
    this.rpc.close();
    this.forgetTurns();
  }

  // --- What a protocol supplies ----------------------------------------------------------------

  /** A request (`id` set) or notification: see `JsonRpcProtocol.onMessage`. */
  protected abstract onMessage(direction: JsonRpcDirection, method: string, id: JsonRpcId | undefined, params: JsonRpcFields, message: JsonRpcFields, time: number): JsonRpcVerdict<Pending>;
  /** The answer to a request remembered from `onMessage`. */
  protected abstract onAnswer(request: Pending, message: JsonRpcFields, time: number): void;
  /** A delta, parsed at most once a second (see `DELTA_SAMPLE_MS`): by default nothing. */
  protected onDeltaSample(_params: JsonRpcFields, _time: number): void {}
  /** The turns being followed, oldest first. */
  protected abstract followedTurns(): Iterable<Turn>;
  /** The client left: every open cancel ends with the result `unknown`. */
  protected abstract abandonCancels(time: number): void;
  /** Drops every followed turn (on close); their spans stay as they are. */
  protected abstract forgetTurns(): void;

  // --- Turns -----------------------------------------------------------------------------------

  /** `activeTurns()` of either protocol: a turn not yet named by the server shows `turnId` `''`. */
  protected describeTurns(): ActiveJsonRpcTurn[] {
    return [...this.followedTurns()].map((t) => ({
      threadId: t.threadId,
      turnId: t.turnId ?? '',
      turn: t.handle,
      accepted: t.accepted,
      ...(t.lastToolCompletedAtMs === undefined ? {} : { lastToolCompletedAtMs: t.lastToolCompletedAtMs }),
    }));
  }

  /** A client's `initialize`: it names the renderer (unless the options did) and attaches it. */
  protected clientInitialized(params: JsonRpcFields, time: number): void {
    this.rendererId ??= str(fieldsOf(params.clientInfo).name)?.slice(0, 128) ?? 'client';
    this.rendererAttached(time);
  }

  /** Starts a turn's span, and the state every protocol keeps of it; the turn is not named yet. */
  protected openTurn(threadId: string, turnId: string | undefined, kind: TurnKind | undefined, time: number): ObservedTurn {
    const handle = this.tracer.startTurn({
      threadId, turnId, time, attributes: { [ATTR_SOURCE]: this.source, [ATTR_TURN_KIND]: kind },
    });
    return { handle, threadId, accepted: false, approvals: new Set(), sawAssistant: false, sawReasoning: false, sawTool: false };
  }

  /** The turn's acceptance point, once. */
  protected accept(turn: Turn, time: number): void {
    if (turn.accepted) return;
    turn.accepted = true;
    this.childPoint(turn, PHASE_TURN_ACCEPTED, time, { [ATTR_SOURCE]: this.source });
  }

  /** Ends what is left of the turn's approvals: nobody answered them before the turn ended. */
  protected cancelApprovals(turn: Turn, time: number): void {
    for (const approval of turn.approvals) {
      approval.end({ time, attributes: { [ATTR_APPROVAL_DECISION]: APPROVAL_DECISION_CANCELLED } });
    }
  }

  /**
   * Ends the turn's span, with how many messages the observer could not read so far: they tell a
   * turn the observer followed whole from one whose stream it may have misread.
   */
  protected endTurnSpan(turn: Turn, status: TurnEndStatus, time: number, error: string | undefined, attributes: PhaseAttributes = {}): void {
    const unknown = this.rpc.unreadMessages;
    turn.handle.endTurn(status, { time, error, attributes: { ...attributes, [ATTR_OBSERVER_UNKNOWN]: unknown > 0 ? unknown : undefined } });
  }

  // --- Items, tools and approvals --------------------------------------------------------------

  /** An output item's span; the turn's first message and first reasoning also get their points. */
  protected startItemPhase(turn: Turn, itemType: string, itemId: string, time: number): ItemPhase {
    const attributes = { [ATTR_SOURCE]: this.source, [ATTR_ITEM_TYPE]: itemType, [ATTR_ITEM_ID]: itemId };
    const phase = this.childPhase(turn, PHASE_ITEM, time, attributes);
    if (itemType === 'agentMessage' && !turn.sawAssistant) {
      turn.sawAssistant = true;
      this.childPoint(turn, PHASE_FIRST_ASSISTANT_ITEM, time, attributes);
    } else if (itemType === 'reasoning' && !turn.sawReasoning) {
      turn.sawReasoning = true;
      this.childPoint(turn, PHASE_FIRST_REASONING_ITEM, time, attributes);
    }
    return { phase, attributes };
  }

  /** A tool call's span; the turn's first tool call also gets its point, with the attributes the protocol gives it. */
  protected startToolCall(turn: Turn, tool: ToolCallIds, time: number, firstToolAttributes: PhaseAttributes): PhaseHandle {
    if (!turn.sawTool) {
      turn.sawTool = true;
      this.childPoint(turn, PHASE_FIRST_TOOL_ITEM, time, firstToolAttributes);
    }
    return this.childPhase(turn, PHASE_TOOL_CALL, time, {
      [ATTR_SOURCE]: this.source,
      [ATTR_GEN_AI_TOOL_NAME]: tool.name,
      [ATTR_GEN_AI_TOOL_CALL_ID]: tool.callId,
      [ATTR_TOOL_KIND]: tool.kind,
      [ATTR_ITEM_ID]: tool.itemId,
    });
  }

  /** An approval request's span: under its turn when the observer follows it, else on its own with the ids the request named. */
  protected startApproval(turn: Turn | undefined, ids: PhaseIds, time: number, attributes: PhaseAttributes): PhaseHandle {
    const phase = this.startPhaseIn(turn, PHASE_APPROVAL, ids, time, attributes);
    turn?.approvals.add(phase);
    return phase;
  }

  // --- Emitting ------------------------------------------------------------------------------

  protected childPhase(turn: Turn, name: string, time: number, attributes: PhaseAttributes): PhaseHandle {
    return this.tracer.startPhase(name, { threadId: turn.threadId, turnId: turn.turnId }, { time, attributes }, turn.handle.context);
  }

  protected childPoint(turn: Turn, name: string, time: number, attributes: PhaseAttributes): void {
    this.tracer.point(name, { threadId: turn.threadId, turnId: turn.turnId }, { time, attributes }, turn.handle.context);
  }

  /** A phase under the turn when there is one, else on its own with the ids the message named. */
  protected startPhaseIn(turn: Turn | undefined, name: string, ids: PhaseIds, time: number, attributes: PhaseAttributes): PhaseHandle {
    return turn ? this.childPhase(turn, name, time, attributes) : this.tracer.startPhase(name, ids, { time, attributes });
  }

  /** A renderer point under every followed turn (so each stuck turn shows its renderer left), or one on its own. */
  private rendererPoint(name: string, time: number, extra: PhaseAttributes): void {
    const attributes = { [ATTR_SOURCE]: this.source, [ATTR_RENDERER_ID]: this.rendererId ?? 'client', ...extra };
    let underTurn = false;
    for (const turn of this.followedTurns()) {
      underTurn = true;
      this.childPoint(turn, name, time, attributes);
    }
    if (!underTurn) this.tracer.point(name, {}, { time, attributes });
  }
}

/** What a cancel came to once its turn ended: an interrupted turn is the cancel's doing; any other end came first. */
export function cancelResultOf(status: TurnEndStatus): string {
  return status === TURN_END_STATUS_INTERRUPTED ? CANCEL_RESULT_CANCELLED : CANCEL_RESULT_ALREADY_COMPLETED;
}

/** An approval's answer: an error ends it as `error`, a result with the decision the protocol reads from it. */
export function endApproval(phase: PhaseHandle, message: JsonRpcFields, time: number, decide: (result: unknown) => string): void {
  const error = message.error;
  if (error !== undefined && error !== null) {
    phase.fail(rpcErrorType(error), { time, attributes: { [ATTR_APPROVAL_DECISION]: APPROVAL_DECISION_ERROR } });
  } else {
    phase.end({ time, attributes: { [ATTR_APPROVAL_DECISION]: decide(message.result) } });
  }
}
