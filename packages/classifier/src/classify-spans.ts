/**
 * The pure entry point: spans in, report out. No files, no clock: `now` is given.
 */
import { TURN_STATE_COMPLETED, TURN_STATE_IN_PROGRESS, TURN_STATE_STUCK } from '@stall-why/conventions';
import type { RecordedSpan } from '@stall-why/flight-record';
import { judgeTurn, type JudgeContext } from './classify-turn.js';
import { TimelineBuilder } from './model/timeline-builder.js';
import { DEFAULT_TIMELINE_LIMITS, type TimelineLimits } from './model/timeline-limits.js';
import type { ThreadTimeline, TurnTimeline } from './model/timeline.js';
import type { EndedTurnVerdicts } from './ended-turn-verdicts.js';
import type { PhaseBar, Report, SourceSummary, TurnReport } from './report.js';
import { hydrationEntry } from './rules/index.js';
import { serviceNameOf } from './service-name.js';
import { withSubAgents } from './sub-agent-links.js';
import { resolveThresholds, type Thresholds } from './thresholds.js';
import { isoTime } from './time-text.js';
import { TurnReportBook } from './turn-report-book.js';

export interface ClassifyOptions {
  /** The judged moment, epoch ms. */
  readonly now: number;
  readonly thresholds?: Partial<Thresholds>;
  /** Memory bounds of the timeline (see `DEFAULT_TIMELINE_LIMITS`). */
  readonly limits?: Partial<TimelineLimits>;
  /**
   * Reports of ended turns kept from the last judgement of the same growing input (a live view):
   * a turn nothing changed for is not judged again. Off by default.
   */
  readonly endedTurns?: EndedTurnVerdicts;
}

/** What a classification produces besides the report: the spans behind the reported turns. */
export interface Classification {
  readonly report: Report;
  readonly spans: readonly RecordedSpan[];
}

/**
 * Streams spans into a timeline and judges it. `add` may be called with any number of spans (start
 * records, end records, finished spans, in any order); `finish` judges at `now`.
 */
export class SpanClassifier {
  private readonly builder: TimelineBuilder;
  private readonly thresholds: Thresholds;
  private readonly book: TurnReportBook;

  constructor(private readonly options: ClassifyOptions) {
    this.thresholds = resolveThresholds(options.thresholds);
    this.book = new TurnReportBook(options.limits?.maxReportedTurns ?? DEFAULT_TIMELINE_LIMITS.maxReportedTurns);
    const { endedTurns } = options;
    endedTurns?.beginRound();
    this.builder = new TimelineBuilder(options.limits, (turn, thread, sight) => {
      // Judged now, with what was read so far; its phases are not kept, so not drawn (a kept report
      // is drawn: a later judgement of a live view may give it again for a turn not evicted then).
      const context: JudgeContext = { now: this.options.now, thresholds: this.thresholds, sight, globalRenderer: [], writers: this.builder.writers };
      const report = endedTurns ? endedTurns.reportOf(turn, thread, context, () => judgeTurn(turn, thread, context)) : judgeTurn(turn, thread, context, false);
      const evidence = report.endedAt === null ? [...report.evidence, EVICTED_OPEN] : report.evidence;
      this.book.add({ ...report, evidence, phases: [] });
    });
  }

  add(span: RecordedSpan, source?: string): void {
    this.builder.add(span, source);
  }

  /**
   * Adds spans of no source file, in order, as `add` each would; given `endedTurns`, the turns that
   * nothing changed for since its last judgement are taken whole from it (`KeptTurnTimelines`).
   */
  addAll(spans: Iterable<RecordedSpan>): void {
    if (this.options.endedTurns) this.options.endedTurns.timelines.addTo(this.builder, spans);
    else for (const span of spans) this.builder.add(span);
  }

  /** The source was written at `atMs` though no span says so (a rollout's last line): an open turn's writer is judged by it. */
  noteWrite(source: string, atMs: number): void {
    this.builder.noteWrite(source, atMs);
  }

  finish(sources: readonly SourceSummary[] = []): Classification {
    return this.judgeAll(sources, true);
  }

  /** `finish().report` for spans of no source file, without gathering the spans behind it: what a live view asks every refresh. */
  report(): Report {
    return this.judgeAll([], false).report;
  }

  private judgeAll(sources: readonly SourceSummary[], gatherSpans: boolean): Classification {
    const { threads, sight } = this.builder.build();
    const globalRenderer = [...(threads.find((t) => t.threadId === null)?.renderer.values() ?? [])];
    const context: JudgeContext = { now: this.options.now, thresholds: this.thresholds, sight, globalRenderer, writers: this.builder.writers };
    const { endedTurns } = this.options;
    const spans: RecordedSpan[] = [];
    const notYet = new Map<string, number>();
    const afterNow = new Map<string, number>();
    for (const thread of threads) {
      for (const turn of thread.turns.values()) {
        // Judged at a moment before the turn began (replaying a recording): it does not exist yet.
        if (Math.min(turn.turnSpan?.startTimeMs ?? Infinity, turn.firstMs) > this.options.now) {
          for (const source of turn.sources) notYet.set(source, (notYet.get(source) ?? 0) + 1);
          continue;
        }
        this.book.add(endedTurns ? endedTurns.reportOf(turn, thread, context, () => judgeTurn(turn, thread, context)) : judgeTurn(turn, thread, context));
        // Spans of the turn after the judged moment are not looked at: said (in the sources' notes), not silently dropped.
        const later = sources.length > 0 ? countAfter(turn, this.options.now + FUTURE_TOLERANCE_MS) : 0;
        if (later > 0) for (const source of turn.sources) afterNow.set(source, (afterNow.get(source) ?? 0) + later);
        if (!gatherSpans) continue;
        if (turn.turnSpan) spans.push(turn.turnSpan);
        spans.push(...turn.spans.values());
      }
      if (gatherSpans) spans.push(...thread.hydrations.values(), ...thread.renderer.values());
      for (const entry of hydrationEntries(thread, context)) this.book.add(entry);
    }
    endedTurns?.endRound();
    const turns = withSubAgents(this.book.listed().sort(byStart));
    const withCounts = sources.map((s) => {
      const later = notYet.get(s.path);
      const after = afterNow.get(s.path);
      const added = [
        ...(later ? [`${later} turn${later > 1 ? 's' : ''} began after the judged moment (${isoTime(this.options.now)}): not judged`] : []),
        ...(after ? [`${after} span${after > 1 ? 's' : ''} of judged turns ${after > 1 ? 'lie' : 'lies'} after the judged moment (${isoTime(this.options.now)}): not looked at (a trace that goes on past --now, or a writer's clock ahead)`] : []),
      ];
      const notes = added.length ? [...(s.notes ?? []), ...added] : s.notes;
      return { ...s, ...(notes ? { notes } : {}), turnsSummarised: this.book.summarisedFrom(s.path) };
    });
    return { report: { judgedAt: isoTime(this.options.now), turns, sources: withCounts, summary: this.book.summary() }, spans };
  }
}

/**
 * Report order: by start, as `localeCompare` orders the ISO times. Two times of years 0 to 9999 are
 * of one shape (digits and the same punctuation at the same places), which it orders digit by digit,
 * as comparing their characters does: that is done for them, since the first `localeCompare` of a
 * process loads ICU's collation, about 5 ms of a short run (issue 14). Extended years (±YYYYYY) keep it.
 */
function byStart(a: TurnReport, b: TurnReport): number {
  const x = a.startedAt;
  const y = b.startedAt;
  if (x.length !== 24 || y.length !== 24) return x.localeCompare(y);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Spans this much past the judged moment are counted as after it (clocks of one host differ by less). */
const FUTURE_TOLERANCE_MS = 1000;

/** How many of the turn's spans start after `at`. */
function countAfter(turn: TurnTimeline, at: number): number {
  let n = 0;
  for (const span of turn.spans.values()) if (span.startTimeMs > at) n++;
  return n;
}

const EVICTED_OPEN =
  'judged before the end of the input: the turn was still open when the memory bound (maxRetainedSpans) evicted it; later spans of it are reported as a new entry';

/** Judges spans at `now`: the pure core of `analyzeTraces`. */
export function classifySpans(spans: Iterable<RecordedSpan>, options: ClassifyOptions): Report {
  const classifier = new SpanClassifier(options);
  classifier.addAll(spans);
  return classifier.report();
}

function overlapsTurn(h: RecordedSpan, turns: Iterable<TurnTimeline>, now: number): boolean {
  const hEnd = h.endTimeMs ?? now;
  for (const t of turns) {
    const start = Math.min(t.turnSpan?.startTimeMs ?? Infinity, t.firstMs);
    const end = t.turnSpan?.endTimeMs ?? now;
    if (h.startTimeMs <= end && hEnd >= start) return true;
  }
  return false;
}

/**
 * Hydrations outside every turn (a thread start or a resume still loading) become entries with
 * `turnId` null when they are open or slow; inside a turn they are part of its scene.
 */
function hydrationEntries(thread: ThreadTimeline, context: JudgeContext): TurnReport[] {
  const out: TurnReport[] = [];
  for (const h of thread.hydrations.values()) {
    if (h.startTimeMs > context.now || overlapsTurn(h, thread.turns.values(), context.now)) continue;
    const open = h.endTimeMs === undefined || h.endTimeMs > context.now;
    const end = open ? undefined : h.endTimeMs!;
    if (!open && end! - h.startTimeMs < context.thresholds.slowHydrationMs) continue;
    const finding = hydrationEntry({ span: h, start: h.startTimeMs, end }, context.now);
    const last = end ?? h.startTimeMs;
    const quiet = context.now - last;
    const bar: PhaseBar = { name: h.name, label: 'history load', kind: 'span', startMs: h.startTimeMs, endMs: end ?? null, depth: 0 };
    const service = serviceNameOf([h]);
    out.push({
      threadId: thread.threadId,
      turnId: null,
      ...(service === undefined ? {} : { service }),
      status: open ? (quiet >= context.thresholds.stuckAfterMs ? TURN_STATE_STUCK : TURN_STATE_IN_PROGRESS) : TURN_STATE_COMPLETED,
      verdict: finding.verdict,
      confidence: finding.confidence,
      startedAt: isoTime(h.startTimeMs),
      lastActivityAt: isoTime(last),
      stuckForMs: open ? Math.round(quiet) : null,
      evidence: finding.evidence,
      endedAt: end === undefined ? null : isoTime(end),
      sources: [...thread.sources].sort(),
      phases: [bar],
    });
  }
  return out;
}
