/**
 * Turn timelines kept from one judgement of a live view to the next (`stall-why watch` judges the
 * spans a flight recorder holds every second): a turn whose spans are the same objects, in the same
 * order, as last time is handed to the timeline builder whole (`TimelineBuilder.adoptTurn`) instead of
 * being grouped again span by span, which was most of a refresh once its ended turns' reports were
 * kept (issue 14). Its `TurnTimeline` is then the same object as last time, so the reports kept by
 * `EndedTurnVerdicts` and the turn's scene statics are found again too.
 *
 * Taking a turn whole gives the timeline adding its spans gives only when every span finds its turn
 * by its own ids. So it is done only when every span of the input is a turn phase (not a thread
 * phase, a writer stop, a pending-span marker or a span of no known phase) that names its thread and
 * turn, not through its trace; the spans of each turn come one after another (no other turn's in
 * between); and no trace holds two turns. Any other input is added span by span, as without this.
 */
import {
  ATTR_PENDING,
  ATTR_THREAD_ID,
  ATTR_TURN_ID,
  ATTR_TURN_KEYED_BY_TRACE,
  PHASE_TURN,
  PHASE_WRITER_STOPPED,
} from '@stall-why/conventions';
import type { RecordedSpan } from '@stall-why/flight-record';
import { KNOWN_PHASES, THREAD_PHASES } from './phase-groups.js';
import type { Sight, TurnTimeline } from './timeline.js';
import { sightOfSpans } from './sight.js';
import type { TimelineBuilder } from './timeline-builder.js';

/** The spans of one turn, one after another in the input; `kept` when they are those of a kept turn. */
interface TurnRun {
  readonly key: string;
  readonly threadId: string;
  readonly turnId: string;
  spans: RecordedSpan[];
  kept: KeptTurn | undefined;
}

interface KeptTurn {
  readonly key: string;
  readonly turn: TurnTimeline;
  readonly spans: RecordedSpan[];
  readonly traces: readonly string[];
  /** What `TimelineBuilder.adoptTurn` takes. */
  readonly count: number;
  readonly lastWriteMs: number;
  readonly sight: Sight;
}

export class KeptTurnTimelines {
  /** By the turn's first span. */
  private kept = new Map<RecordedSpan, KeptTurn>();
  private adopted = 0;

  /** Turns taken whole from an earlier judgement, since the start. */
  get adoptedTurns(): number {
    return this.adopted;
  }

  /** Adds `spans` to `builder`, in order: turns nothing changed for whole, the rest span by span. */
  addTo(builder: TimelineBuilder, spans: Iterable<RecordedSpan>): void {
    const all = Array.isArray(spans) ? (spans as readonly RecordedSpan[]) : [...spans];
    const runs = this.turnRuns(all);
    const kept = new Map<RecordedSpan, KeptTurn>();
    if (runs === undefined) {
      for (const span of all) builder.add(span);
      this.kept = kept;
      return;
    }
    for (const run of runs) {
      // A caller may ask with other limits than last time: a turn the per-turn cap would now trim is added again.
      if (run.kept !== undefined && run.kept.turn.spans.size <= builder.limits.maxSpansPerTurn && !builder.wouldEvictWithin(run.kept.count)) {
        builder.adoptTurn(run.kept.turn, run.kept);
        kept.set(run.spans[0]!, run.kept);
        this.adopted++;
        continue;
      }
      for (const span of run.spans) builder.add(span);
      // Kept only when the turn holds every span of the run, each once: not split by an eviction pass,
      // not trimmed, no second turn span (then adopting it would count differently).
      const turn = builder.heldTurn(run.threadId, run.turnId);
      if (turn !== undefined && turn.droppedSpans === 0 && turn.spans.size + (turn.turnSpan ? 1 : 0) === run.spans.length) kept.set(run.spans[0]!, keptTurn(run, turn));
    }
    this.kept = kept;
  }

  /**
   * The input cut into runs of one turn's spans; undefined when some span or turn is not of the kind
   * described above. A run that starts with a kept turn's spans is recognised by identity alone: its
   * spans were looked at when it was kept.
   */
  private turnRuns(spans: readonly RecordedSpan[]): TurnRun[] | undefined {
    const runs: TurnRun[] = [];
    const seen = new Set<string>();
    const turnOfTrace = new Map<string, string>();
    const noteTrace = (traceId: string, key: string): boolean => {
      const other = turnOfTrace.get(traceId);
      turnOfTrace.set(traceId, key);
      return other === undefined || other === key;
    };
    let run: TurnRun | undefined;
    let lastTrace: string | undefined;
    for (let i = 0; i < spans.length; i++) {
      const span = spans[i]!;
      const kept = this.kept.get(span);
      if (kept !== undefined && startsWith(spans, i, kept.spans)) {
        if (seen.has(kept.key)) return undefined;
        seen.add(kept.key);
        for (const traceId of kept.traces) if (!noteTrace(traceId, kept.key)) return undefined;
        run = { key: kept.key, threadId: kept.turn.threadId!, turnId: kept.turn.turnId!, spans: kept.spans, kept };
        runs.push(run);
        lastTrace = undefined;
        i += kept.spans.length - 1;
        continue;
      }
      const { attributes } = span;
      const threadId = attributes[ATTR_THREAD_ID];
      const turnId = attributes[ATTR_TURN_ID];
      if (typeof threadId !== 'string' || threadId === '' || typeof turnId !== 'string' || turnId === '') return undefined;
      if (attributes[ATTR_PENDING] === true || attributes[ATTR_TURN_KEYED_BY_TRACE] === true) return undefined;
      if (span.name !== PHASE_TURN && (!KNOWN_PHASES.has(span.name) || THREAD_PHASES.has(span.name) || span.name === PHASE_WRITER_STOPPED)) return undefined;
      if (run !== undefined && run.threadId === threadId && run.turnId === turnId) {
        // More spans of a kept turn: the turn changed.
        if (run.kept !== undefined) {
          run.spans = [...run.spans];
          run.kept = undefined;
        }
      } else {
        run = { key: `${threadId}/${turnId}`, threadId, turnId, spans: [], kept: undefined };
        if (seen.has(run.key)) return undefined;
        seen.add(run.key);
        runs.push(run);
        lastTrace = undefined;
      }
      if (span.traceId !== lastTrace) {
        if (!noteTrace(span.traceId, run.key)) return undefined;
        lastTrace = span.traceId;
      }
      run.spans.push(span);
    }
    return runs;
  }
}

function keptTurn(run: TurnRun, turn: TurnTimeline): KeptTurn {
  let lastWriteMs = -Infinity;
  for (const span of run.spans) lastWriteMs = Math.max(lastWriteMs, span.endTimeMs ?? span.startTimeMs);
  const traces = [...new Set(run.spans.map((s) => s.traceId))];
  return { key: run.key, turn, spans: run.spans, traces, count: run.spans.length, lastWriteMs, sight: sightOfSpans(run.spans) };
}

/** Whether `spans` holds `run`'s spans from `at` on, the same objects in the same order. */
function startsWith(spans: readonly RecordedSpan[], at: number, run: readonly RecordedSpan[]): boolean {
  if (at + run.length > spans.length) return false;
  for (let i = 0; i < run.length; i++) if (spans[at + i] !== run[i]) return false;
  return true;
}
