/**
 * A rollout's lines as the importer reads them: each line's head (its first `ROLLOUT_HEAD_BYTES` as
 * a string), timestamp, type and payload type, in any Codex version's shape, or a one-line error
 * naming the file and line. What the lines mean (turns, calls, approvals) is the importer's; this is
 * only how they are framed: the header and key order of each version, the mid-2025 shape with no
 * timestamps, a last line still being written.
 */
import type { LineInfo } from './line-reader.js';
import { tornTailNote } from './line-reader.js';
import { HEADER } from './rollout-line-head.js';
import { RolloutTimestamps } from './rollout-timestamp.js';
import { TraceInputError } from '../trace-input-error.js';

/**
 * Rollout line types Codex writes (0.169, and 0.15x's `inter_agent_communication_metadata` beside a
 * sub-agent's message, which says nothing the rules read); any other is skipped and counted.
 */
export const ROLLOUT_LINE_TYPES: ReadonlySet<string> = new Set([
  'session_meta', 'turn_context', 'world_state', 'response_item', 'event_msg', 'token_usage_record', 'compacted', 'inter_agent_communication_metadata',
]);

/** Lines up to this size are parsed whole when their payload is needed; longer ones by their head. */
export const ROLLOUT_PARSE_BYTES = 256 * 1024;
/** How much of a line's head the field scan looks at (and turns into a string: the most a line costs). */
export const ROLLOUT_HEAD_BYTES = 8192;

/** One line to map: its type and payload type, its head, and when it was written. */
export interface RolloutLine {
  readonly type: string;
  readonly sub: string | undefined;
  readonly head: string;
  readonly ts: number;
  /** The line's `ordinal` as written (0.15x, in the header's key order), else undefined. */
  readonly ordinal: string | undefined;
  /**
   * `legacy-header`: the session header of a mid-2025 rollout (its `id` names the thread);
   * `legacy-item`: a bare item of one, timed at the session's start (no forked history then).
   */
  readonly shape: 'current' | 'legacy-header' | 'legacy-item';
}

/** Frames the lines of one rollout file; `read` answers each line's fields, or undefined for a line with nothing to map. */
export class RolloutLines {
  /** Lines whose type is not a known rollout line type. */
  skipped = 0;
  /** The latest timestamp of any line: when the rollout was last written (an open turn's writer is judged by it). */
  lastLineMs: number | undefined;
  /** The line number of a last line cut short, if any. */
  private tornTail: number | undefined;
  /** Mid-2025 rollouts: a header line with the session's timestamp, then items with none of their own. */
  private legacyTs: number | undefined;
  private legacyLines = 0;
  private readonly timestamps = new RolloutTimestamps();

  constructor(private readonly file: string) {}

  read(buf: Buffer, info: LineInfo): RolloutLine | undefined {
    if (info.length === 0) return undefined;
    // UTF-8, so the messages taken from the head (errors) keep their characters; a character cut at the end is harmless.
    const head = buf.toString('utf8', 0, Math.min(buf.length, ROLLOUT_HEAD_BYTES));
    const legacy = this.legacyLine(head, info);
    if (legacy !== false) return legacy;
    const m = HEADER.exec(head) ?? (info.lastByte === 0x7d ? this.otherKeyOrder(buf, info) : undefined);
    if (!m || info.lastByte !== 0x7d) {
      this.invalid(buf, info);
      return undefined;
    }
    const ts = this.timestamps.ms(m[1]!);
    if (!Number.isFinite(ts)) throw new TraceInputError(this.file, info.lineNo, `bad timestamp "${m[1]}" in a rollout line`);
    if (this.lastLineMs === undefined || ts > this.lastLineMs) this.lastLineMs = ts;
    const type = m[3]!;
    if (!ROLLOUT_LINE_TYPES.has(type)) {
      this.skipped++;
      return undefined;
    }
    return { type, sub: m[4], head, ts, ordinal: m[2], shape: 'current' };
  }

  /** The note on a last line cut short, if it was. */
  tornTailNote(): string | undefined {
    return this.tornTail === undefined ? undefined : tornTailNote(this.tornTail);
  }

  /** The note on a mid-2025 rollout, if this is one. */
  legacyNote(): string | undefined {
    if (this.legacyTs === undefined) return undefined;
    return `a mid-2025 rollout: its ${this.legacyLines} items carry no timestamp of their own, so all are read at the session's start; turns and what the last one waits on are read, no wait can be timed`;
  }

  /**
   * The rollout shape of mid-2025 Codex: a header `{"id":…,"timestamp":…,"instructions":…}`, then
   * `{"record_type":"state"}` lines and bare response items with no timestamp. Each item is read as
   * a response item at the session's timestamp: turns and what they wait on are read, no wait is timed.
   * False: not a line of that shape; undefined: one with nothing to map (a state line).
   */
  private legacyLine(head: string, info: LineInfo): RolloutLine | undefined | false {
    if (info.lineNo === 1) {
      const m = /^\{\s*"id"\s*:\s*"[^"]*"\s*,\s*"timestamp"\s*:\s*"([^"]+)"/.exec(head);
      const ts = m ? Date.parse(m[1]!) : NaN;
      if (!Number.isFinite(ts) || /"type"\s*:/.test(head.slice(0, 200))) return false;
      this.legacyTs = ts;
      this.lastLineMs = ts;
      return { type: 'session_header', sub: undefined, head, ts, ordinal: undefined, shape: 'legacy-header' };
    }
    if (this.legacyTs === undefined) return false;
    if (/^\{\s*"record_type"/.test(head)) return undefined;
    const sub = /^\{\s*"type"\s*:\s*"([A-Za-z_]+)"/.exec(head)?.[1];
    if (sub === undefined || info.lastByte !== 0x7d) return false;
    this.legacyLines++;
    // One microsecond per line keeps the items in their order (a result before the next request) without timing anything.
    return { type: 'response_item', sub, head, ts: this.legacyTs + info.lineNo / 1000, ordinal: undefined, shape: 'legacy-item' };
  }

  /**
   * A rollout line whose keys are not in the order Codex 0.169 writes them (another version, a tool
   * that rewrote the file): parsed whole when small enough, and read the same way.
   */
  private otherKeyOrder(buf: Buffer, info: LineInfo): [string, string, undefined, string, string | undefined] | undefined {
    if (info.truncated || info.length > ROLLOUT_PARSE_BYTES) return undefined;
    let o: unknown;
    try {
      o = JSON.parse(buf.toString('utf8'));
    } catch {
      return undefined;
    }
    if (o === null || typeof o !== 'object') return undefined;
    const { timestamp, type, payload } = o as { timestamp?: unknown; type?: unknown; payload?: { type?: unknown } };
    if (typeof timestamp !== 'string' || typeof type !== 'string' || !/^[A-Za-z_]+$/.test(type)) return undefined;
    const sub = payload !== null && typeof payload === 'object' && typeof payload.type === 'string' ? payload.type : undefined;
    return ['', timestamp, undefined, type, sub];
  }

  private invalid(buf: Buffer, info: LineInfo): void {
    // A live rollout is appended line by line: its last line may be half-written. Judged up to the line before.
    if (info.atEof && info.lastByte !== 0x7d) {
      this.tornTail = info.lineNo;
      return;
    }
    if (!info.truncated) {
      try {
        const o = JSON.parse(buf.toString('utf8')) as Record<string, unknown>;
        if (o && typeof o === 'object' && (typeof o.timestamp !== 'string' || typeof o.type !== 'string')) {
          throw new TraceInputError(this.file, info.lineNo, 'not a rollout line: no "timestamp" and "type"');
        }
      } catch (error) {
        if (error instanceof TraceInputError) throw error;
        throw new TraceInputError(this.file, info.lineNo, `invalid JSON in a rollout line: ${(error as Error).message}`);
      }
    }
    throw new TraceInputError(this.file, info.lineNo, 'not a rollout line: it does not start with {"timestamp":…,"type":…}');
  }
}
