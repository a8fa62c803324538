import type { JsonRpcDirection } from './json-rpc-stream.js';

/** What a transcript is replayed into: any JSON-RPC observer. */
export interface TranscriptObserver {
  observeMessage(direction: JsonRpcDirection, message: unknown, timeMs?: number): void;
  noteMalformed(): void;
}

/**
 * One line of a transcript: `{"t": epoch ms, "dir": "client->server"|"server->client", "msg": {...}}`.
 * ACP transcripts name the server the agent (`client->agent`, `agent->client`): read as the same two directions.
 */
export interface TranscriptLine {
  readonly t: number;
  readonly dir: JsonRpcDirection;
  readonly msg: unknown;
}

const DIRECTIONS: ReadonlyMap<string, JsonRpcDirection> = new Map([
  ['client->server', 'client->server'],
  ['server->client', 'server->client'],
  ['client->agent', 'client->server'],
  ['agent->client', 'server->client'],
]);

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
  const direction = typeof dir === 'string' ? DIRECTIONS.get(dir) : undefined;
  if (typeof t !== 'number' || !Number.isFinite(t) || direction === undefined) return undefined;
  return { t, dir: direction, msg };
}

/**
 * Replays one transcript line through the observer at the line's own time. A line that is not a
 * transcript line is counted as malformed (blank lines are skipped). Returns whether it was one.
 */
export function observeTranscriptLine(observer: TranscriptObserver, line: string | Uint8Array): boolean {
  const parsed = parseTranscriptLine(line);
  if (parsed === undefined) {
    const blank = typeof line === 'string' ? line.trim().length === 0 : line.byteLength === 0;
    if (!blank) observer.noteMalformed();
    return false;
  }
  observer.observeMessage(parsed.dir, parsed.msg, parsed.t);
  return true;
}
