import type { IncomingMessage, ServerResponse } from 'node:http';
import { context as otelContext } from '@opentelemetry/api';
import type { TurnHandle } from '../turn-tracer.js';
import { createHttpTurnStarter, type HttpTurnOptions } from './http-turn.js';

/** The key under `res.locals` where the Express middleware puts the request's `TurnHandle`. */
export const EXPRESS_TURN_LOCAL = 'stallWhyTurn';

/** The parts of Express's request and response the middleware uses (no dependency on Express's types). */
export type ExpressMiddleware = (
  req: IncomingMessage,
  res: ServerResponse & { locals?: Record<string, unknown> },
  next: (error?: unknown) => void,
) => void;

/**
 * Express middleware: every request that `resolveTurn` accepts becomes a turn (see
 * `HttpTurnOptions`). Handlers read it as `res.locals.stallWhyTurn` or `getTurn(req)`.
 *
 * ```ts
 * app.use(stallWhyExpress({ resolveTurn: (req) => ({ threadId: req.headers['x-thread-id'] as string }) }));
 * ```
 */
export function stallWhyExpress(options: HttpTurnOptions = {}): ExpressMiddleware {
  const startTurn = createHttpTurnStarter(options);
  return function stallWhyMiddleware(req, res, next) {
    const turn: TurnHandle | undefined = startTurn(req, res);
    if (!turn) return next();
    if (res.locals) res.locals[EXPRESS_TURN_LOCAL] = turn;
    otelContext.with(turn.context, next);
  };
}
