import {
  RETRY_REASON_CONNECT_ERROR,
  RETRY_REASON_HTTP_STATUS,
  RETRY_REASON_STREAM_DISCONNECTED,
  RETRY_REASON_TIMEOUT,
  RETRY_REASON_UNKNOWN,
  type RetryReason,
} from '@stall-why/conventions';

/** What a Codex `error` notification's `codexErrorInfo` says, reduced to what a verdict needs. */
export interface CodexErrorInfo {
  /** The variant's name, e.g. `responseStreamDisconnected`, `serverOverloaded`, `other`: a low-cardinality `error.type`. */
  readonly key: string;
  /** The upstream HTTP status when the server forwarded one. */
  readonly httpStatusCode?: number;
}

/**
 * Reads `codexErrorInfo`, which 0.169 sends either as a bare string (`"other"`) or as an object with
 * one key (`{"responseStreamDisconnected":{"httpStatusCode":null}}`).
 */
export function readCodexErrorInfo(info: unknown): CodexErrorInfo {
  if (typeof info === 'string' && info.length > 0) return { key: info.slice(0, 64) };
  if (info !== null && typeof info === 'object' && !Array.isArray(info)) {
    const key = Object.keys(info)[0];
    if (key === undefined) return { key: 'unknown' };
    const detail = (info as Record<string, unknown>)[key];
    const status = detail !== null && typeof detail === 'object' ? (detail as Record<string, unknown>).httpStatusCode : undefined;
    return typeof status === 'number' ? { key: key.slice(0, 64), httpStatusCode: status } : { key: key.slice(0, 64) };
  }
  return { key: 'unknown' };
}

const REASON_BY_KEY: ReadonlyMap<string, RetryReason> = new Map([
  ['responseStreamDisconnected', RETRY_REASON_STREAM_DISCONNECTED],
  ['responseStreamConnectionFailed', RETRY_REASON_CONNECT_ERROR],
  ['httpConnectionFailed', RETRY_REASON_CONNECT_ERROR],
  ['serverOverloaded', RETRY_REASON_HTTP_STATUS],
  ['rateLimitExceeded', RETRY_REASON_HTTP_STATUS],
  ['internalServerError', RETRY_REASON_HTTP_STATUS],
  ['responseTooManyFailedAttempts', RETRY_REASON_HTTP_STATUS],
  ['timeout', RETRY_REASON_TIMEOUT],
]);

/**
 * Why the server was retrying, for an error that ends a turn: a transport failure it gave up on
 * (5xx, overloaded, streams that kept breaking), or undefined for any other error (the context
 * window, credentials, a bad request), which no retry would have helped.
 */
export function exhaustedRetryReason(info: CodexErrorInfo): RetryReason | undefined {
  return REASON_BY_KEY.has(info.key) ? retryReason(info) : undefined;
}

/** The retry reason of an error the server will retry. A connection failure that got an HTTP status is a status retry. */
export function retryReason(info: CodexErrorInfo): RetryReason {
  const reason = REASON_BY_KEY.get(info.key) ?? RETRY_REASON_UNKNOWN;
  return reason === RETRY_REASON_CONNECT_ERROR && info.httpStatusCode !== undefined ? RETRY_REASON_HTTP_STATUS : reason;
}

/** "Reconnecting... 2/5" as 0.169 writes it; the ellipsis may also be the single character `…`. */
const RECONNECTING = /Reconnecting(?:\.\.\.|…)\s*(\d{1,6})\s*\/\s*(\d{1,6})/;

/** The `n/m` of a "Reconnecting… n/m" message, or undefined. Only the first 200 characters are looked at. */
export function parseReconnecting(message: string): { readonly attempt: number; readonly max: number } | undefined {
  const match = RECONNECTING.exec(message.length > 200 ? message.slice(0, 200) : message);
  return match ? { attempt: Number(match[1]), max: Number(match[2]) } : undefined;
}
