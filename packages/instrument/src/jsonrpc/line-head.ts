/**
 * Cheap looks at the head of a JSON-RPC line, so that hot lines (deltas) are counted without a
 * JSON.parse and oversized lines can still be matched to the request they answer. Codex 0.169
 * writes `{"method":"…",` first in notifications and `{"id":…,"result"|"error"` first in responses;
 * a line in any other shape simply falls through to the full parse.
 */

const METHOD_PREFIX = '{"method":"';
const METHOD_PREFIX_BYTES = Buffer.from(METHOD_PREFIX, 'latin1');
const QUOTE = 0x22;

/**
 * Tells whether a line is a notification of one of a fixed set of methods, from its first bytes.
 * On Buffers it compares bytes in place: no string is made, no native call is paid per line
 * (this runs on every streamed delta, hundreds per second per turn).
 */
export class MethodHeadMatcher {
  private readonly names: ReadonlySet<string>;
  /** The methods' bytes, bucketed by length. */
  private readonly byLength = new Map<number, Buffer[]>();
  private readonly longest: number;

  constructor(methods: Iterable<string>) {
    this.names = new Set(methods);
    let longest = 0;
    for (const name of this.names) {
      const bytes = Buffer.from(name, 'latin1');
      const bucket = this.byLength.get(bytes.length);
      if (bucket) bucket.push(bytes);
      else this.byLength.set(bytes.length, [bytes]);
      longest = Math.max(longest, bytes.length);
    }
    this.longest = longest;
  }

  matches(line: string | Buffer): boolean {
    if (typeof line === 'string') {
      if (!line.startsWith(METHOD_PREFIX)) return false;
      const end = line.indexOf('"', METHOD_PREFIX.length);
      return end > 0 && end - METHOD_PREFIX.length <= this.longest && this.names.has(line.slice(METHOD_PREFIX.length, end));
    }
    const start = METHOD_PREFIX_BYTES.length;
    if (line.length <= start) return false;
    for (let i = 0; i < start; i++) if (line[i] !== METHOD_PREFIX_BYTES[i]) return false;
    const limit = Math.min(line.length, start + this.longest + 1);
    let end = start;
    while (end < limit && line[end] !== QUOTE) end++;
    if (end === limit) return false;
    const bucket = this.byLength.get(end - start);
    if (bucket === undefined) return false;
    for (const candidate of bucket) if (sameBytes(line, start, candidate)) return true;
    return false;
  }
}

function sameBytes(line: Buffer, offset: number, expected: Buffer): boolean {
  for (let i = 0; i < expected.length; i++) if (line[offset + i] !== expected[i]) return false;
  return true;
}

/** ACP agents put `"jsonrpc":"2.0"` first; codex-acp (Rust) writes `"result"` before `"id"`, which this cannot read. */
const RESPONSE_HEAD = /^\{(?:"jsonrpc":"2\.0",)?"id":(-?\d{1,15}|"[^"\\]{0,200}"),"(result|error)"/;

/** The id of a response line, read from its first 256 characters, and whether it is an error. */
export function responseAtHead(line: string | Buffer): { readonly id: string | number; readonly isError: boolean } | undefined {
  const head = typeof line === 'string' ? line.slice(0, 256) : line.toString('utf8', 0, Math.min(line.length, 256));
  const match = RESPONSE_HEAD.exec(head);
  if (!match) return undefined;
  const raw = match[1]!;
  return { id: raw.startsWith('"') ? raw.slice(1, -1) : Number(raw), isError: match[2] === 'error' };
}
