import {
  ATTR_RENDERER_ID,
  ATTR_RENDERER_REASON,
  ATTR_SOURCE,
  PHASE_RENDERER_ATTACHED,
  PHASE_RENDERER_DETACHED,
} from '@stall-why/conventions';
import type { PhaseAttributes, PhaseHandle, TurnHandle, TurnTracer } from '../turn-tracer.js';
import {
  fieldsOf,
  JsonRpcStream,
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

/**
 * The protocol-independent half of a turn observer on a JSON-RPC stream (Codex app-server, ACP):
 * the public surface over the `JsonRpcStream` core and the renderer's points. A subclass maps its protocol's methods onto these (`onMessage`, `onAnswer`) and keeps
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
      { onMessage: (...args) => this.onMessage(...args), onAnswer: (request, message, time) => this.onAnswer(request, message, time) },
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

  // --- Emitting ------------------------------------------------------------------------------

  protected childPhase(turn: Turn, name: string, time: number, attributes: PhaseAttributes): PhaseHandle {
    return this.tracer.startPhase(name, { threadId: turn.threadId, turnId: turn.turnId }, { time, attributes }, turn.handle.context);
  }

  protected childPoint(turn: Turn, name: string, time: number, attributes: PhaseAttributes): void {
    this.tracer.point(name, { threadId: turn.threadId, turnId: turn.turnId }, { time, attributes }, turn.handle.context);
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
