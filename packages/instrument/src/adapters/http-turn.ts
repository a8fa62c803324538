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

const turns = new WeakMap<IncomingMessage, TurnHandle>();

/** The turn the stall-why middleware opened for this request, if any (works for node:http, Express and Fastify's `request.raw`). */
export function getTurn(req: IncomingMessage): TurnHandle | undefined {
  return turns.get(req);
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
  return (req, res) => {
    const existing = turns.get(req);
    if (existing) return existing;
    const ids = resolveTurn(req);
    if (!ids) return undefined;
    const threadId = ids.threadId;
    const turnId = ids.turnId ?? randomUUID();
    const turn = turnTracer.startTurn({ threadId, turnId });
    turns.set(req, turn);
    turn.accepted();
    const rendererId = rendererIdOf(req);
    turnTracer.rendererAttached(rendererId, { threadId, turnId });
    watchResponse(res, {
      onFinish: () => turn.endTurn(turnStatus(res.statusCode)),
      onClientGone: () => {
        turnTracer.rendererDetached(rendererId, { threadId, turnId, attributes: { [ATTR_RENDERER_REASON]: 'closed' } });
        if (options.clientGoneStatus) turn.endTurn(options.clientGoneStatus);
      },
      onEndAfterClientGone: () => turn.endTurn(turnStatus(res.statusCode)),
    });
    return turn;
  };
}

interface ResponseWatch {
  /** The response was written completely. */
  onFinish(): void;
  /** The connection closed before the response was complete. */
  onClientGone(): void;
  /** The app ended its response after the client had gone: its work is done though nobody received it. */
  onEndAfterClientGone(): void;
}

function watchResponse(res: ServerResponse, watch: ResponseWatch): void {
  let clientGone = false;
  res.once('finish', watch.onFinish);
  res.once('close', () => {
    if (res.writableFinished) return;
    clientGone = true;
    watch.onClientGone();
  });
  // `finish` never comes for a response whose socket is gone, so the app's own `end()` is the only
  // sign that its work for the turn is over. Wrapping `end` on the instance is what `on-finished`
  // style middleware does too; the original is always called with the same arguments.
  const end = res.end;
  res.end = function patchedEnd(this: ServerResponse, ...args: unknown[]) {
    if (clientGone) watch.onEndAfterClientGone();
    return (end as (...a: unknown[]) => ServerResponse).apply(this, args);
  } as ServerResponse['end'];
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
