import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { context as otelContext, type Tracer, type TracerProvider } from '@opentelemetry/api';
import { ATTR_RENDERER_REASON, SOURCE_HTTP, TURN_END_STATUS_FAILED, type TurnEndStatus } from '@stall-why/conventions';
import { TurnTracer, type TurnHandle } from '../turn-tracer.js';
import { turnStatusFromHttp } from './http-turn-status.js';

/** The ids of the turn an HTTP request carries. */
export interface HttpTurnIds {
  readonly threadId?: string;
  /** Default: a random UUID. */
  readonly turnId?: string;
}

/** Options shared by the node:http, Express and Fastify adapters. */
export interface HttpTurnOptions {
  /** The TurnTracer to emit with. Default: one made with `tracer` and `stall_why.source` = `http`. */
  readonly turnTracer?: TurnTracer;
  /** OpenTelemetry tracer for the default TurnTracer. Default: `tracerProvider`'s. */
  readonly tracer?: Tracer;
  /** Tracer provider for the default TurnTracer, e.g. the one holding a `FlightRecorderProcessor`. Default: the global one. */
  readonly tracerProvider?: TracerProvider;
  /**
   * Which requests are turns and what their ids are. Return `undefined` for a request that is not
   * a turn (a health check, a static file): it is not traced. Default: every request is a turn
   * with a random turn id and no thread id.
   */
  readonly resolveTurn?: (req: IncomingMessage) => HttpTurnIds | undefined;
  /** Terminal status from the response status code. Default `turnStatusFromHttp` (2xx completed, 499 interrupted, 4xx/5xx failed). */
  readonly turnStatus?: (statusCode: number) => TurnEndStatus;
  /**
   * What to do with the turn when the client's connection closes before the response ended.
   * Default `undefined`: emit `renderer.detached` and keep the turn open, because the backend
   * usually goes on (the turn ends when the app ends it or ends its response). Give a status,
   * e.g. `interrupted`, for a server that aborts its work when the client goes.
   */
  readonly clientGoneStatus?: TurnEndStatus;
  /** The renderer id of a request's client. Default `<remote address>:<remote port>`. */
  readonly rendererId?: (req: IncomingMessage) => string;
}

/**
 * Where a request keeps its turn. A symbol property rather than a WeakMap: a WeakMap entry per
 * request made every garbage collection of a busy server walk its ephemerons.
 */
const TURN = Symbol('stall-why turn');
type TurnCarrier = IncomingMessage & { [TURN]?: TurnHandle };

/** The turn the stall-why middleware opened for this request, if any (works for node:http, Express and Fastify's `request.raw`). */
export function getTurn(req: IncomingMessage): TurnHandle | undefined {
  return (req as TurnCarrier)[TURN];
}

const defaultResolveTurn = (): HttpTurnIds => ({});
const defaultRendererId = (req: IncomingMessage): string => `${req.socket?.remoteAddress ?? 'unknown'}:${req.socket?.remotePort ?? 0}`;

/**
 * Builds the per-request function of the HTTP adapters from their options. Resolving the options
 * once (not per request) keeps the request path to a WeakMap set and three listeners.
 */
export function createHttpTurnStarter(options: HttpTurnOptions = {}): (req: IncomingMessage, res: ServerResponse) => TurnHandle | undefined {
  const turnTracer = options.turnTracer ?? new TurnTracer({ tracer: options.tracer, tracerProvider: options.tracerProvider, source: SOURCE_HTTP });
  const resolveTurn = options.resolveTurn ?? defaultResolveTurn;
  const turnStatus = options.turnStatus ?? turnStatusFromHttp;
  const rendererIdOf = options.rendererId ?? defaultRendererId;
  const turns: HttpTurns = { turnTracer, turnStatus, clientGoneStatus: options.clientGoneStatus };
  return (req, res) => {
    const existing = (req as TurnCarrier)[TURN];
    if (existing) return existing;
    const ids = resolveTurn(req);
    if (!ids) return undefined;
    const threadId = ids.threadId;
    const turnId = ids.turnId ?? randomUUID();
    const turn = turnTracer.startTurn({ threadId, turnId });
    (req as TurnCarrier)[TURN] = turn;
    turn.accepted();
    const rendererId = rendererIdOf(req);
    turnTracer.rendererAttached(rendererId, { threadId, turnId });
    watchResponse(res, new ResponseWatch(turns, turn, { threadId, turnId }, rendererId, res.end));
    return turn;
  };
}

/** What every request's watch of one starter shares. */
interface HttpTurns {
  readonly turnTracer: TurnTracer;
  readonly turnStatus: (statusCode: number) => TurnEndStatus;
  readonly clientGoneStatus: TurnEndStatus | undefined;
}

/**
 * One request's turn and how its response ends. One object per request, read by listeners shared
 * by all requests (the response is their `this`), rather than a handful of closures per request.
 */
class ResponseWatch {
  clientGone = false;

  constructor(
    private readonly turns: HttpTurns,
    private readonly turn: TurnHandle,
    /** The ids the turn started with (an app may `identify()` it later; its renderer keeps these). */
    private readonly ids: { readonly threadId: string | undefined; readonly turnId: string },
    private readonly rendererId: string,
    /** The response's `end` before it was wrapped. */
    readonly end: ServerResponse['end'],
  ) {}

  /** The response was written completely. */
  finished(res: ServerResponse): void {
    this.turn.endTurn(this.turns.turnStatus(res.statusCode));
  }

  /** The connection closed before the response was complete. */
  lostClient(): void {
    if (this.clientGone) return;
    this.clientGone = true;
    const { threadId, turnId } = this.ids;
    this.turns.turnTracer.rendererDetached(this.rendererId, { threadId, turnId, attributes: { [ATTR_RENDERER_REASON]: 'closed' } });
    if (this.turns.clientGoneStatus) this.turn.endTurn(this.turns.clientGoneStatus);
  }

  /** The app ended its response after the client had gone: its work is done though nobody received it. */
  endedAfterClientGone(res: ServerResponse): void {
    this.turn.endTurn(this.turns.turnStatus(res.statusCode));
  }
}

const WATCH = Symbol('stall-why response watch');
type WatchedResponse = ServerResponse & { [WATCH]: ResponseWatch };

function watchResponse(res: ServerResponse, watch: ResponseWatch): void {
  (res as WatchedResponse)[WATCH] = watch;
  // `on`, not `once`: node:http emits each once, and `once` wraps each listener anew per request.
  res.on('finish', onResponseFinish);
  res.on('close', onResponseClose);
  // `finish` never comes for a response whose socket is gone, so the app's own `end()` is the only
  // sign that its work for the turn is over. Wrapping `end` on the instance is what `on-finished`
  // style middleware does too; the original is always called with the same arguments.
  res.end = endWatched as ServerResponse['end'];
}

function onResponseFinish(this: ServerResponse): void {
  (this as WatchedResponse)[WATCH].finished(this);
}

function onResponseClose(this: ServerResponse): void {
  if (!this.writableFinished) (this as WatchedResponse)[WATCH].lostClient();
}

function endWatched(this: ServerResponse, ...args: unknown[]): ServerResponse {
  const watch = (this as WatchedResponse)[WATCH];
  if (watch.clientGone) watch.endedAfterClientGone(this);
  return (watch.end as (...a: unknown[]) => ServerResponse).apply(this, args);
}

/** A node:http request handler (sync or async). */
export type HttpRequestHandler = (req: IncomingMessage, res: ServerResponse) => unknown;

/**
 * Wraps a node:http request handler: every request that `resolveTurn` accepts becomes a turn,
 * ended when the response ends (see `HttpTurnOptions`). The handler runs with the turn span
 * active and reads its turn with `getTurn(req)`. A handler whose promise rejects ends its turn
 * as failed; the rejection is passed on unchanged.
 */
export function instrumentHttpHandler(handler: HttpRequestHandler, options: HttpTurnOptions = {}): (req: IncomingMessage, res: ServerResponse) => unknown {
  const startTurn = createHttpTurnStarter(options);
  return function stallWhyHttpHandler(req, res) {
    const turn = startTurn(req, res);
    if (!turn) return handler(req, res);
    const result = otelContext.with(turn.context, () => handler(req, res));
    if (result instanceof Promise) {
      return result.catch((error: unknown) => {
        turn.endTurn(TURN_END_STATUS_FAILED, { error: error instanceof Error ? error.name : 'handler_rejected' });
        throw error;
      });
    }
    return result;
  };
}
