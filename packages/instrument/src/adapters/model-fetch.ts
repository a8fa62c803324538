import {
  ATTR_GEN_AI_REQUEST_MODEL,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  ATTR_URL_PATH,
  RETRY_REASON_CONNECT_ERROR,
  RETRY_REASON_HTTP_STATUS,
  SOURCE_FETCH,
  type RetryReason,
} from '@stall-why/conventions';
import type { PhaseAttributes, TurnHandle, UpstreamAttempt } from '../turn-tracer.js';
import { errorTypeOf } from './error-type.js';
import { observeBody } from './observed-body.js';
import { resolveRetryPolicy, retryDelayMs, sleep, type RetryPolicy } from './retry-policy.js';

/** A fetch-compatible function (global `fetch`, undici's `fetch`, or a wrapper of either). */
export type FetchFunction = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/** Options of one traced model request. */
export interface ModelFetchOptions {
  /** The fetch to call. Default `globalThis.fetch` (undici in Node). */
  readonly fetch?: FetchFunction;
  /** Number of the first attempt made by this call; give `n + 1` when the app itself retries after a broken stream. Default 1. */
  readonly attempt?: number;
  /** Whether this is the post-tool continuation request. */
  readonly continuation?: boolean;
  /** The model asked for (`gen_ai.request.model`); the request body is never read. */
  readonly model?: string;
  /**
   * Retries before the body reaches the caller: on a failed connection (`connect_error`) and on
   * a retryable status (`http_status`), each marked `stall_why.upstream.retry` with its reason and
   * delay. `false` (default) makes one attempt. A stream that breaks after the body was handed
   * over cannot be retried here: the caller marks `turn.retry(...)` and calls again with `attempt`.
   */
  readonly retry?: Partial<RetryPolicy> | boolean;
  /** Extra attributes of each attempt span (bounded like all others). */
  readonly attributes?: PhaseAttributes;
  /** Called with each attempt as it opens, e.g. to learn the number of the last one before retrying a broken stream. */
  readonly onAttempt?: (attempt: UpstreamAttempt, attemptNumber: number) => void;
}

/**
 * Sends a model request as upstream attempts of `turn`: per attempt it marks request sent,
 * headers (with the status), first byte, first SSE event, and stream end or error. The response
 * body reaches the caller unchanged and unbuffered. Request and response bodies and headers are
 * never recorded, only the method, host, port and path.
 */
export async function tracedModelFetch(
  turn: TurnHandle,
  input: string | URL | Request,
  init?: RequestInit,
  options: ModelFetchOptions = {},
): Promise<Response> {
  const fetchFn = options.fetch ?? globalThis.fetch;
  const policy = options.retry ? resolveRetryPolicy(options.retry === true ? {} : options.retry) : undefined;
  const firstAttempt = options.attempt ?? 1;
  const request = asRequest(input);
  const signal = init?.signal ?? request?.signal;
  const attributes = { ...requestAttributes(input, init, options.model), ...options.attributes };
  for (let retry = 0; ; retry++) {
    const attemptNumber = firstAttempt + retry;
    const attempt = turn.startAttempt({ attempt: attemptNumber, continuation: options.continuation, source: SOURCE_FETCH, attributes });
    options.onAttempt?.(attempt, attemptNumber);
    const canRetry = policy !== undefined && retry < policy.maxRetries && !signal?.aborted;
    let response: Response;
    attempt.requestSent();
    try {
      // A Request's body can be read once: each attempt sends a clone while retries remain.
      response = await fetchFn(canRetry && request ? request.clone() : input, init);
    } catch (error) {
      const errorType = errorTypeOf(error);
      attempt.streamError(errorType);
      if (!canRetry || signal?.aborted) throw error;
      await backoff(turn, policy, retry + 1, RETRY_REASON_CONNECT_ERROR, errorType, null, signal);
      continue;
    }
    attempt.headers(response.status);
    if (canRetry && policy.retryStatuses.includes(response.status)) {
      attempt.streamError(String(response.status));
      // Free the connection of the response nobody will read.
      await response.body?.cancel().catch(() => undefined);
      await backoff(turn, policy, retry + 1, RETRY_REASON_HTTP_STATUS, String(response.status), response.headers.get('retry-after'), signal);
      continue;
    }
    return observedResponse(response, attempt);
  }
}

async function backoff(
  turn: TurnHandle,
  policy: RetryPolicy,
  retry: number,
  reason: RetryReason,
  errorType: string,
  retryAfter: string | null,
  signal: AbortSignal | null | undefined,
): Promise<void> {
  const delayMs = retryDelayMs(policy, retry, retryAfter);
  turn.retry({ reason, attempt: retry, max: policy.maxRetries, delayMs, errorType, source: SOURCE_FETCH });
  await sleep(delayMs, signal);
}

function observedResponse(response: Response, attempt: UpstreamAttempt): Response {
  if (!response.body) {
    attempt.streamEnd();
    return response;
  }
  const sse = (response.headers.get('content-type') ?? '').toLowerCase().includes('text/event-stream');
  const observed = new Response(observeBody(response.body, attempt, sse), {
    status: response.status,
    statusText: response.statusText,
    headers: response.headers,
  });
  // A constructed Response has an empty `url` and `redirected` false: keep the original's.
  Object.defineProperty(observed, 'url', { value: response.url });
  Object.defineProperty(observed, 'redirected', { value: response.redirected });
  return observed;
}

/** The input as a Request, by shape: undici's own `Request` class is not the global one. */
function asRequest(input: string | URL | Request): Request | undefined {
  return typeof input === 'object' && !(input instanceof URL) && typeof (input as Request).clone === 'function' ? (input as Request) : undefined;
}

function requestAttributes(input: string | URL | Request, init: RequestInit | undefined, model: string | undefined): PhaseAttributes {
  const request = asRequest(input);
  const href = request ? request.url : String(input);
  const method = init?.method ?? request?.method ?? 'GET';
  let url: URL | undefined;
  try {
    url = new URL(href);
  } catch {
    url = undefined;
  }
  const port = url ? (url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80) : undefined;
  return {
    [ATTR_HTTP_REQUEST_METHOD]: method.toUpperCase(),
    [ATTR_SERVER_ADDRESS]: url?.hostname,
    [ATTR_SERVER_PORT]: port,
    // Never the query string: it can carry keys.
    [ATTR_URL_PATH]: url?.pathname,
    [ATTR_GEN_AI_REQUEST_MODEL]: model,
  };
}

/** Options of `instrumentFetch`. */
export interface InstrumentFetchOptions extends Omit<ModelFetchOptions, 'fetch'> {
  /** The turn a request belongs to, looked up at call time; `undefined` sends the request untraced. */
  readonly turn: (input: string | URL | Request, init?: RequestInit) => TurnHandle | undefined;
  /** Per-request options (attempt number, continuation, model), merged over the defaults above. */
  readonly requestOptions?: (input: string | URL | Request, init?: RequestInit) => Omit<ModelFetchOptions, 'fetch'> | undefined;
}

/**
 * Wraps a fetch function so every call made inside a turn is traced as a model request (see
 * `tracedModelFetch`). Calls with no turn go straight to `fetchFn`.
 *
 * ```ts
 * const modelFetch = instrumentFetch(fetch, { turn: () => currentTurn, retry: { maxRetries: 3 } });
 * ```
 */
export function instrumentFetch(fetchFn: FetchFunction, options: InstrumentFetchOptions): FetchFunction {
  const { turn: turnOf, requestOptions, ...defaults } = options;
  return function stallWhyFetch(input, init) {
    const turn = turnOf(input, init);
    if (!turn) return fetchFn(input, init);
    return tracedModelFetch(turn, input, init, { ...defaults, ...requestOptions?.(input, init), fetch: fetchFn });
  };
}
