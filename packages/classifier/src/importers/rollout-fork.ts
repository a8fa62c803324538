/**
 * A sub-agent's rollout forked from another session (`forked_from_id` in its own session_meta) writes
 * its parent's session_meta next and the parent's history after it, all in the moment it is spawned
 * (Codex 0.114: 557 lines in 9 ms). Those are the parent's turns, in the parent's own rollout: read as
 * this thread's, they were zero-length copies, and the parent's turn still open at the fork was cut
 * by the sub-agent's first turn.
 *
 * Codex 0.15x says where the copy ends: its session_meta's `subagent_history_start_ordinal` is the
 * `ordinal` of the sub-agent's first own line. Older files are read by their turn ids and timing.
 */
import { field } from './rollout-line-head.js';

/** A pause this long between lines ends the copied history even without a turn of the sub-agent's own. */
const HISTORY_GAP_MS = 250;
const HISTORY_START_KEY = '"subagent_history_start_ordinal"';
const HISTORY_START = new RegExp(`^${HISTORY_START_KEY}\\s*:\\s*(\\d+)`);

/** The millisecond time a UUIDv7 (Codex's thread and turn ids) was made at, if `id` is one. */
function uuidV7Ms(id: string | undefined): number | undefined {
  if (id === undefined || !/^[0-9a-f]{8}-[0-9a-f]{4}-7/i.test(id)) return undefined;
  return parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
}

/** Tells the lines of a forked rollout that are its parent's history, to be skipped. */
export class ForkedHistory {
  private forkedFrom: string | undefined;
  private ownIdMs: number | undefined;
  /** The ordinal of the sub-agent's first own line, when its session_meta says it. */
  private ownFromOrdinal: number | undefined;
  private replaying = false;
  private lastTs = 0;
  private firstLine = 0;
  private lastLine = 0;

  /** The file's own session_meta: its head, and the whole line (the ordinal comes after the base instructions, tens of KB in). */
  ownSession(head: string, line: Buffer): void {
    this.forkedFrom = field(head, 'forked_from_id');
    this.ownIdMs = uuidV7Ms(field(head, 'id'));
    const at = this.forkedFrom === undefined ? -1 : line.indexOf(HISTORY_START_KEY);
    const start = at < 0 ? undefined : HISTORY_START.exec(line.toString('latin1', at, at + 64))?.[1];
    this.ownFromOrdinal = start === undefined ? undefined : Number(start);
  }

  /** A session_meta after the file's own: in a forked file, the parent's, with its history after it. */
  otherSession(ts: number, lineNo: number): void {
    if (this.forkedFrom === undefined || this.firstLine > 0) return;
    this.replaying = true;
    this.lastTs = ts;
    this.firstLine = lineNo;
    this.lastLine = lineNo;
  }

  /**
   * Whether the line is the parent's history. It ends at the line whose `ordinal` (as the header
   * gives it) the session_meta names, else at the sub-agent's first turn (a turn id made after its own
   * session's), or at the first pause in the writing.
   */
  skips(sub: string | undefined, head: string, ordinal: string | undefined, ts: number, lineNo: number): boolean {
    if (!this.replaying) return false;
    if (ordinal !== undefined && this.ownFromOrdinal !== undefined) return this.copied(Number(ordinal) < this.ownFromOrdinal, ts, lineNo);
    const turnMs = sub === 'task_started' || sub === 'turn_started' ? uuidV7Ms(field(head, 'turn_id')) : undefined;
    const ownTurn = turnMs !== undefined && this.ownIdMs !== undefined && turnMs >= this.ownIdMs;
    return this.copied(!ownTurn && ts - this.lastTs <= HISTORY_GAP_MS, ts, lineNo);
  }

  /** Notes a line of the copied history, or ends the copy at the sub-agent's first own line. */
  private copied(parents: boolean, ts: number, lineNo: number): boolean {
    if (!parents) {
      this.replaying = false;
      return false;
    }
    this.lastTs = ts;
    this.lastLine = lineNo;
    return true;
  }

  /** What the report says of the skipped history, if there was any. */
  note(): string | undefined {
    if (this.firstLine === 0) return undefined;
    return `a sub-agent forked from session ${this.forkedFrom}: lines ${this.firstLine}-${this.lastLine}, its parent's history copied in when it was spawned, are the parent's turns (judged from the parent's own rollout), not read as this thread's`;
  }
}
