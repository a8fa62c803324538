/**
 * A low-cardinality `error.type` for a failed fetch or a broken stream: undici wraps socket errors
 * as `TypeError('fetch failed' | 'terminated')` with the real cause (`ECONNREFUSED`,
 * `UND_ERR_SOCKET`, ...) in `cause`, so the cause's code wins, then the error's own code, then its name.
 * Never the message: messages can carry URLs and user text.
 */
export function errorTypeOf(error: unknown): string {
  if (typeof error !== 'object' || error === null) return 'unknown';
  const cause = (error as { cause?: unknown }).cause;
  if (typeof cause === 'object' && cause !== null) {
    const code = (cause as { code?: unknown }).code;
    if (typeof code === 'string' && code) return code;
  }
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && code) return code;
  const name = (error as { name?: unknown }).name;
  return typeof name === 'string' && name ? name : 'unknown';
}
