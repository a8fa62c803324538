/**
 * A flight-recorder directory followed as it is written, for `stall-why watch`: each refresh reads
 * only the records appended since the last one (per segment, from the offset it had reached) and
 * forgets segments the ring evicted, instead of decoding the whole ring (64 MiB, about 250 k
 * records, several seconds of CPU) every second beside the app it is watching.
 *
 * What is kept is bounded by what a live view needs: the spans of turns still open, of the
 * `maxEndedTurns` most recent turns that ended within the last `windowMs`, and of spans that belong
 * to no turn (history loads, renderer points) from that window. Other turns leave the view and memory.
 */
import { CodexTelemetryMapper } from '@stall-why/classifier';
import { ATTR_THREAD_ID, ATTR_TURN_ID, PHASE_TURN } from '@stall-why/conventions';
import { listSegments, readSegment, type RecordedSpan } from '@stall-why/flight-record';
import { DEFAULT_LIVE_MAX_ENDED_TURNS, DEFAULT_LIVE_WINDOW_MS } from './live-window.js';

export { DEFAULT_LIVE_MAX_ENDED_TURNS, DEFAULT_LIVE_WINDOW_MS };
/** While catching up on a full ring, what left the bounds is dropped this often, not only at the end. */
const PRUNE_EVERY_RECORDS = 8192;

interface TurnEntry {
  readonly keys: Set<string>;
  lastActivityMs: number;
  endedAtMs: number | undefined;
}

export interface LiveRecordingStats {
  /** Spans held now. */
  spans: number;
  /** Records read since the start. */
  recordsRead: number;
  /** Corrupt or torn stretches skipped since the start (a record caught mid-write is read on the next refresh). */
  corruptRecords: number;
}

export class LiveRecording {
  private readonly offsets = new Map<string, number>();
  private readonly spans = new Map<string, RecordedSpan>();
  private readonly turns = new Map<string, TurnEntry>();
  private readonly counters: LiveRecordingStats = { spans: 0, recordsRead: 0, corruptRecords: 0 };
  /** Codex's own spans and log events (a directory `collect` fills from Codex's export), read as phases in write order. */
  private readonly codex = new CodexTelemetryMapper();

  constructor(
    readonly directory: string,
    private readonly windowMs = DEFAULT_LIVE_WINDOW_MS,
    private readonly maxEndedTurns = DEFAULT_LIVE_MAX_ENDED_TURNS,
  ) {}

  stats(): LiveRecordingStats {
    return { ...this.counters, spans: this.spans.size };
  }

  /** Reads what was appended since the last call, drops what left the window, and returns the spans held. */
  async refresh(now: number): Promise<RecordedSpan[]> {
    const { segments } = await listSegments(this.directory);
    const present = new Set(segments.map((s) => s.name));
    for (const name of this.offsets.keys()) if (!present.has(name)) this.offsets.delete(name);
    for (const segment of segments) {
      // A torn tail is a record still being written: not counted, read again next time from its start.
      const onCorrupt = (c: { reason: string }): void => {
        if (c.reason !== 'torn') this.counters.corruptRecords++;
      };
      for await (const record of readSegment(segment, { fromOffset: this.offsets.get(segment.name), onCorrupt })) {
        if (record.type === 'log') this.codex.log(record.log, (phase) => this.add(phase, phase.endTimeMs !== undefined));
        else this.codex.span(record.span, (phase) => this.add(phase, record.type === 'end'));
        this.offsets.set(segment.name, record.end);
        if (++this.counters.recordsRead % PRUNE_EVERY_RECORDS === 0) this.prune(now);
      }
    }
    this.prune(now);
    return [...this.spans.values()];
  }

  private add(span: RecordedSpan, ended: boolean): void {
    const key = `${span.traceId}/${span.spanId}`;
    const held = this.spans.get(key);
    // An end record carries everything its start record had; a start record never replaces an end.
    if (held !== undefined && held.endTimeMs !== undefined && !ended) return;
    this.spans.set(key, span);
    const turnKey = turnKeyOf(span);
    if (turnKey === undefined) return;
    let turn = this.turns.get(turnKey);
    if (turn === undefined) {
      turn = { keys: new Set(), lastActivityMs: 0, endedAtMs: undefined };
      this.turns.set(turnKey, turn);
    }
    turn.keys.add(key);
    turn.lastActivityMs = Math.max(turn.lastActivityMs, span.endTimeMs ?? span.startTimeMs);
    if (span.name === PHASE_TURN && span.endTimeMs !== undefined) turn.endedAtMs = span.endTimeMs;
  }

  private prune(now: number): void {
    const horizon = now - this.windowMs;
    const ended: Array<[string, TurnEntry]> = [];
    for (const entry of this.turns) {
      const turn = entry[1];
      if (turn.endedAtMs === undefined) continue;
      if (turn.lastActivityMs < horizon) this.forget(...entry);
      else ended.push(entry);
    }
    if (ended.length > this.maxEndedTurns) {
      ended.sort((a, b) => a[1].lastActivityMs - b[1].lastActivityMs);
      for (const entry of ended.slice(0, ended.length - this.maxEndedTurns)) this.forget(...entry);
    }
    // Spans of no turn (history loads, renderer points) leave with the window.
    for (const [key, span] of this.spans) {
      if (span.endTimeMs !== undefined && span.endTimeMs < horizon && turnKeyOf(span) === undefined) this.spans.delete(key);
    }
  }

  private forget(turnKey: string, turn: TurnEntry): void {
    for (const key of turn.keys) this.spans.delete(key);
    this.turns.delete(turnKey);
  }
}

function turnKeyOf(span: RecordedSpan): string | undefined {
  const turnId = span.attributes[ATTR_TURN_ID];
  if (typeof turnId !== 'string' || turnId === '') return undefined;
  const threadId = span.attributes[ATTR_THREAD_ID];
  return `${typeof threadId === 'string' ? threadId : ''}/${turnId}`;
}
