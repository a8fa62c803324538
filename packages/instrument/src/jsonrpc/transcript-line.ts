import type { CodexJsonRpcObserver, JsonRpcDirection } from './codex-json-rpc-observer.js';

/** One line of an app-server transcript: `{"t": epoch ms, "dir": "client->server"|"server->client", "msg": {...}}`. */
export interface TranscriptLine {
  readonly t: number;
  readonly dir: JsonRpcDirection;
  readonly msg: unknown;
}

/** Parses one transcript line, or returns undefined when it is not one (blank lines included). */
export function parseTranscriptLine(line: string | Uint8Array): TranscriptLine | undefined {
  const text = typeof line === 'string' ? line : Buffer.from(line.buffer, line.byteOffset, line.byteLength).toString('utf8');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (value === null || typeof value !== 'object') return undefined;
  const { t, dir, msg } = value as Record<string, unknown>;
  if (typeof t !== 'number' || !Number.isFinite(t) || (dir !== 'client->server' && dir !== 'server->client')) return undefined;
  return { t, dir, msg };
}

/**
 * Replays one transcript line through the observer at the line's own time. A line that is not a
 * transcript line is counted as malformed (blank lines are skipped). Returns whether it was one.
 */
export function observeTranscriptLine(observer: CodexJsonRpcObserver, line: string | Uint8Array): boolean {
  const parsed = parseTranscriptLine(line);
  if (parsed === undefined) {
    const blank = typeof line === 'string' ? line.trim().length === 0 : line.byteLength === 0;
    if (!blank) observer.noteMalformed();
    return false;
  }
  observer.observeMessage(parsed.dir, parsed.msg, parsed.t);
  return true;
}
