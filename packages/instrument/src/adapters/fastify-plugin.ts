import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TurnHandle } from '../turn-tracer.js';
import { createHttpTurnStarter, type HttpTurnOptions } from './http-turn.js';

/** The property of a Fastify request where the plugin puts its `TurnHandle`. */
export const FASTIFY_TURN_PROPERTY = 'stallWhyTurn';

/** The request and reply of Fastify's `onRequest` hook, as far as the plugin uses them. */
interface FastifyHookRequest {
  readonly raw: IncomingMessage;
  [FASTIFY_TURN_PROPERTY]?: unknown;
}

/**
 * The parts of a Fastify instance the plugin uses, without a dependency on Fastify's types. The
 * hook's parameters are `any` on purpose: Fastify's `addHook` is a generic overload over its own
 * request and reply types, which a structural type can only meet this way.
 */
export interface FastifyLike {
  decorateRequest(name: string, value: unknown): unknown;
  hasRequestDecorator?(name: string): boolean;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  addHook(name: 'onRequest', hook: (request: any, reply: any, done: (error?: Error) => void) => void): unknown;
}

/**
 * Fastify plugin: every request that `resolveTurn` accepts becomes a turn (see `HttpTurnOptions`),
 * readable in handlers as `request.stallWhyTurn` (or `getTurn(request.raw)`).
 *
 * It works on the raw node:http request and response, so streamed replies (`reply.raw.write`,
 * `reply.send(stream)`, `reply.hijack()`) are followed to their real end. It marks itself with
 * Fastify's `skip-override` symbol, as `fastify-plugin` would, so its hook applies to the whole
 * application and not only to the plugin's own encapsulation context.
 *
 * ```ts
 * await app.register(stallWhyFastify, { resolveTurn: (req) => ({ threadId: ... }) });
 * ```
 */
export function stallWhyFastify(fastify: FastifyLike, options: HttpTurnOptions, done: (error?: Error) => void): void {
  const startTurn = createHttpTurnStarter(options);
  if (!fastify.hasRequestDecorator?.(FASTIFY_TURN_PROPERTY)) fastify.decorateRequest(FASTIFY_TURN_PROPERTY, null);
  fastify.addHook('onRequest', (request: FastifyHookRequest, reply: { raw: ServerResponse }, next: (error?: Error) => void) => {
    const turn: TurnHandle | undefined = startTurn(request.raw, reply.raw);
    if (turn) request[FASTIFY_TURN_PROPERTY] = turn;
    next();
  });
  done();
}

// What `fastify-plugin` sets: no encapsulation, and a name in Fastify's error messages.
Object.assign(stallWhyFastify, {
  [Symbol.for('skip-override')]: true,
  [Symbol.for('fastify.display-name')]: '@stall-why/instrument',
});
