/** Adapters: thin mappings of foreign events (HTTP requests, fetch calls) onto the TurnTracer. */
export { turnStatusFromHttp, HTTP_STATUS_CLIENT_CLOSED_REQUEST } from './http-turn-status.js';
export { createHttpTurnStarter, getTurn, instrumentHttpHandler, type HttpRequestHandler, type HttpTurnIds, type HttpTurnOptions } from './http-turn.js';
export { stallWhyExpress, EXPRESS_TURN_LOCAL, type ExpressMiddleware } from './express-middleware.js';
export { stallWhyFastify, FASTIFY_TURN_PROPERTY, type FastifyLike } from './fastify-plugin.js';
export { instrumentFetch, tracedModelFetch, type FetchFunction, type InstrumentFetchOptions, type ModelFetchOptions } from './model-fetch.js';
export { DEFAULT_RETRY_POLICY, parseRetryAfterMs, retryDelayMs, type RetryPolicy } from './retry-policy.js';
export { ERROR_TYPE_BODY_CANCELLED } from './observed-body.js';
export { errorTypeOf } from './error-type.js';
