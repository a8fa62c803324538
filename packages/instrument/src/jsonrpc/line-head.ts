/**
 * Cheap looks at the head of a JSON-RPC line, so that hot lines (deltas) are counted without a
 * JSON.parse and oversized lines can still be matched to the request they answer. Codex 0.169
 * writes `{"method":"…",` first in notifications and `{"id":…,"result"|"error"` first in responses;
 * a line in any other shape simply falls through to the full parse.
 */

const METHOD_PREFIX = '{"method":"';
const METHOD_PREFIX_BYTES = Buffer.from(METHOD_PREFIX, 'latin1');
/** Method names are short ASCII; anything longer is not a method we know. */
const MAX_METHOD_LENGTH = 96;
const QUOTE = 0x22;

/** The method of a line that starts with `{"method":"`, or undefined. Never decodes more than the name. */
export function methodAtHead(line: string | Buffer): string | undefined {
  if (typeof line === 'string') {
    if (!line.startsWith(METHOD_PREFIX)) return undefined;
    const end = line.indexOf('"', METHOD_PREFIX.length);
    return end > 0 && end - METHOD_PREFIX.length <= MAX_METHOD_LENGTH ? line.slice(METHOD_PREFIX.length, end) : undefined;
  }
  const start = METHOD_PREFIX_BYTES.length;
  if (line.length <= start || line.compare(METHOD_PREFIX_BYTES, 0, start, 0, start) !== 0) return undefined;
  const end = line.indexOf(QUOTE, start);
  return end > 0 && end - start <= MAX_METHOD_LENGTH ? line.toString('latin1', start, end) : undefined;
}

const RESPONSE_HEAD = /^\{"id":(-?\d{1,15}|"[^"\\]{0,200}"),"(result|error)"/;

/** The id of a response line, read from its first 256 characters, and whether it is an error. */
export function responseAtHead(line: string | Buffer): { readonly id: string | number; readonly isError: boolean } | undefined {
  const head = typeof line === 'string' ? line.slice(0, 256) : line.toString('utf8', 0, Math.min(line.length, 256));
  const match = RESPONSE_HEAD.exec(head);
  if (!match) return undefined;
  const raw = match[1]!;
  return { id: raw.startsWith('"') ? raw.slice(1, -1) : Number(raw), isError: match[2] === 'error' };
}
