import {
  ATTR_PENDING,
  ATTR_PENDING_SEEN_AT,
  ATTR_SOURCE,
  ATTR_THREAD_ID,
  ATTR_TURN_ID,
  ATTR_TURN_KEYED_BY_TRACE,
  PHASE_THREAD_HYDRATION,
  PHASE_TURN,
  PHASE_UPSTREAM_STREAM_PROGRESS,
  PHASE_WRITER_STOPPED,
  TURN_ID_TRACE_PREFIX,
} from '@stall-why/conventions';
import { isPendingSpanMarker, openSpanOfMarker, type RecordedSpan } from '@stall-why/flight-record';
import { boundedSpan } from './bounded-span.js';
import { InsertionBoundedMap } from './insertion-bounded-map.js';
import { ATTEMPT_MILESTONES, KNOWN_PHASES, PARENT_PHASES, THREAD_PHASES } from './phase-groups.js';
import { isTraceKeyed, mergeTurnInto, newerRecord, preferredTurnSpan, spanKey, type Sight, type SourceWriter, type ThreadTimeline, type TurnTimeline } from './timeline.js';
import { showsApprovals, showsRenderer, showsUpstream } from './sight.js';
import { DEFAULT_TIMELINE_LIMITS, type TimelineLimits } from './timeline-limits.js';

/** The writer key of spans added with no source (`classifySpans` over spans in memory). */
export const ANONYMOUS_SOURCE = '';

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);

/**
 * Groups spans into threads and turns as they stream in. A span finds its turn by its turn id, else
 * through its parent (a milestone under an attempt), else its trace (one turn per trace), else, at the
 * end, the turn of its thread that was open when it started.
 */
export class TimelineBuilder {
  readonly limits: TimelineLimits;
  private readonly threads = new Map<string, ThreadTimeline>();
  /** spanKey of parent-capable spans → turn key; traceId → turn key. */
  private readonly parentTurn = new Map<string, TurnTimeline>();
  private readonly traceTurn = new Map<string, TurnTimeline | null>();
  /** Turns known only by their trace (`ATTR_TURN_KEYED_BY_TRACE`), by trace id, until a span names them. */
  private readonly traceKeyedTurns = new Map<string, TurnTimeline>();
  /**
   * Trace id → the ids of the turn a span of that trace named: where trace-keyed phases go. Ids, not
   * the turn, so that a turn evicted from the window is not held here.
   */
  private readonly namedTurnOfTrace: InsertionBoundedMap<string, { threadId: string | null; turnId: string }>;
  /** spanKey of a parent not (yet) placed in a turn → the thread and turn ids its children carry. */
  private readonly childTurn: InsertionBoundedMap<string, { threadId: string | null; turnId: string }>;
  private pending: Array<{ span: RecordedSpan; source: string | undefined }> = [];
  /** Phase spans held by turns (turn spans included). */
  private retained = 0;
  /** When eviction could not get under the bound (open turns), the next pass waits until this count. */
  private nextEvictionAt = 0;
  private upstream = false;
  private renderer = false;
  private approvals = false;
  /** Spans that are not stall-why phases (counted, not kept). */
  foreignSpans = 0;
  /** Spans dropped: pending overflow and per-turn caps. */
  droppedSpans = 0;
  /** Per source (file or directory): when it was last written and the stops it recorded. */
  readonly writers = new Map<string, SourceWriter>();
  /** Most stops kept per source: a ring restarted thousands of times needs only its latest. */
  private static readonly MAX_STOPS_PER_SOURCE = 64;
  private lastWriter?: { source: string; writer: SourceWriter };

  constructor(
    limits: Partial<TimelineLimits> = {},
    private readonly onEvict?: (turn: TurnTimeline, thread: ThreadTimeline, sight: Sight) => void,
  ) {
    this.limits = { ...DEFAULT_TIMELINE_LIMITS, ...limits };
    this.namedTurnOfTrace = new InsertionBoundedMap(this.limits.maxPendingSpans);
    this.childTurn = new InsertionBoundedMap(this.limits.maxPendingSpans);
  }

  get sight(): Sight {
    return { upstream: this.upstream, renderer: this.renderer, approvals: this.approvals };
  }

  /** Adds one span record (a start record, an end record, or a finished span). `source` is the file it came from. */
  add(span: RecordedSpan, source?: string): void {
    if (span.attributes[ATTR_PENDING] === true && isPendingSpanMarker(span)) {
      // A pending-span marker stands for a span open when it was sent: read as that open span.
      const seen = span.attributes[ATTR_PENDING_SEEN_AT];
      if (typeof seen === 'number') this.noteWrite(source ?? ANONYMOUS_SOURCE, seen);
      span = openSpanOfMarker(span);
    }
    this.noteWrite(source ?? ANONYMOUS_SOURCE, span.endTimeMs ?? span.startTimeMs, span.name === PHASE_WRITER_STOPPED ? span : undefined);
    if (span.name === PHASE_WRITER_STOPPED) return;
    if (!KNOWN_PHASES.has(span.name)) {
      this.foreignSpans++;
      return;
    }
    span = boundedSpan(span, this.limits.maxValueLength);
    this.noteSight(span);
    const threadId = str(span.attributes[ATTR_THREAD_ID]) ?? null;
    // Hydrations and renderer sessions belong to the thread even when they carry a turn id: a renderer
    // outlives the turn it attached during, and a turn's scene picks the hydrations that overlap it.
    if (THREAD_PHASES.has(span.name)) {
      if (threadId !== null) this.forgetUnnamed(span);
      this.addThreadPhase(this.thread(threadId), span, source);
      return;
    }
    const turn = isTraceKeyed(span) ? this.turnOfTrace(span, threadId) : this.turnOf(span, threadId);
    if (turn) {
      this.addToTurn(turn, span, source);
      return;
    }
    if (this.pending.length >= this.limits.maxPendingSpans) this.placePending(Math.ceil(this.pending.length / 2));
    this.pending.push({ span, source });
  }

  /**
   * Adds a turn another builder made from exactly `count` spans, as adding those spans one by one
   * would, without grouping them again: a live view's turn that nothing changed for since the last
   * judgement (`KeptTurnTimelines`, which says when that holds). What the spans say of the input is
   * given with them: their latest write (`lastWriteMs`) and `sightOfSpans`. The caller asks
   * `wouldEvictWithin(count)` first: an eviction pass in the middle of the turn is made only by adding
   * its spans one by one.
   */
  adoptTurn(turn: TurnTimeline, spans: { readonly count: number; readonly lastWriteMs: number; readonly sight: Sight }): void {
    this.noteWrite(ANONYMOUS_SOURCE, spans.lastWriteMs);
    this.upstream ||= spans.sight.upstream;
    this.renderer ||= spans.sight.renderer;
    this.approvals ||= spans.sight.approvals;
    this.thread(turn.threadId).turns.set(turn.turnId!, turn);
    this.retained += spans.count;
  }

  /** Whether adding `count` more phase spans, none of them to a turn already held, would start an eviction pass. */
  wouldEvictWithin(count: number): boolean {
    const retained = this.retained + count;
    return retained > this.limits.maxRetainedSpans && retained >= this.nextEvictionAt;
  }

  /** The turn held now under these ids, if any. */
  heldTurn(threadId: string | null, turnId: string): TurnTimeline | undefined {
    return this.threads.get(threadId ?? '')?.turns.get(turnId);
  }

  /**
   * The source was written at `atMs` (a line or record the importer did not turn into a span counts
   * too: a rollout's last line), and, with `stop`, says its writer stopped.
   */
  noteWrite(source: string, atMs: number, stop?: RecordedSpan): void {
    // Spans come file by file: the last source's writer saves a map lookup per span.
    let writer = this.lastWriter?.source === source ? this.lastWriter.writer : this.writers.get(source);
    if (!writer) {
      writer = { lastWriteMs: atMs, stops: [] };
      this.writers.set(source, writer);
    }
    if (this.lastWriter?.writer !== writer) this.lastWriter = { source, writer };
    if (atMs > writer.lastWriteMs) writer.lastWriteMs = atMs;
    if (stop) {
      writer.stops.push(stop);
      if (writer.stops.length > TimelineBuilder.MAX_STOPS_PER_SOURCE) writer.stops.shift();
    }
  }

  /** The threads, with pending spans placed; call once, after the last `add`. */
  build(): { threads: ThreadTimeline[]; sight: Sight } {
    this.placePending(this.pending.length);
    this.mergeThreadlessTurns();
    return { threads: [...this.threads.values()].filter((t) => t.turns.size + t.hydrations.size + t.renderer.size > 0), sight: this.sight };
  }

  // Places the oldest `count` pending spans: in their turn if it is known by now, else in the turn of
  // their thread open when they started; spans that find no turn are dropped and counted.
  private placePending(count: number): void {
    const placing = this.pending.slice(0, count);
    this.pending = this.pending.slice(count);
    for (const { span, source } of placing) {
      const turn = this.turnOf(span, str(span.attributes[ATTR_THREAD_ID]) ?? null) ?? this.openTurnAt(span);
      if (turn) this.addToTurn(turn, span, source);
      else this.droppedSpans++;
    }
  }

  // A turn first seen through spans with no thread id lands in the thread-less bucket; when another
  // thread holds the same turn id, its spans move there.
  private mergeThreadlessTurns(): void {
    const orphanThread = this.threads.get('');
    if (!orphanThread) return;
    for (const [turnId, turn] of orphanThread.turns) {
      const home = [...this.threads.values()].find((t) => t !== orphanThread && t.turns.has(turnId));
      if (!home) continue;
      mergeTurnInto(home.turns.get(turnId)!, turn);
      orphanThread.turns.delete(turnId);
    }
  }

  // A trace-keyed phase goes to the turn a span of its trace named, else to the turn its trace stands for.
  private turnOfTrace(span: RecordedSpan, threadId: string | null): TurnTimeline {
    const named = this.namedTurn(span.traceId);
    if (named) return named;
    let turn = this.traceKeyedTurns.get(span.traceId);
    if (!turn) {
      turn = this.turn(threadId, `${TURN_ID_TRACE_PREFIX}${span.traceId}`, span);
      this.traceKeyedTurns.set(span.traceId, turn);
    }
    return turn;
  }

  // A span named its turn: the turn its trace stood for (if any) joins it, in the thread the trace-keyed
  // turn knew when the named one knows none.
  private nameTrace(traceId: string, named: TurnTimeline): void {
    if (this.namedTurnOfTrace.has(traceId)) return;
    let target = named;
    const keyed = this.traceKeyedTurns.get(traceId);
    if (keyed) {
      this.traceKeyedTurns.delete(traceId);
      this.threads.get(keyed.threadId ?? '')?.turns.delete(keyed.turnId!);
      if (named.threadId === null && keyed.threadId !== null) {
        this.threads.get('')?.turns.delete(named.turnId!);
        target = this.turn(keyed.threadId, named.turnId!, named.turnSpan ?? keyed.turnSpan ?? [...named.spans.values()][0]!);
        if (target !== named) mergeTurnInto(target, named);
      }
      mergeTurnInto(target, keyed);
      for (const key of target.spans.keys()) if (this.parentTurn.has(key)) this.parentTurn.set(key, target);
      // Maps that led to either turn lead to the one left.
      if (this.traceTurn.get(traceId) === keyed || this.traceTurn.get(traceId) === named) this.traceTurn.set(traceId, target);
    }
    this.namedTurnOfTrace.set(traceId, { threadId: target.threadId, turnId: target.turnId! });
  }

  /** The turn a span of the trace named, while it is in the window. */
  private namedTurn(traceId: string): TurnTimeline | undefined {
    const ids = this.namedTurnOfTrace.get(traceId);
    return ids && this.threads.get(ids.threadId ?? '')?.turns.get(ids.turnId);
  }

  private noteSight(span: RecordedSpan): void {
    if (showsUpstream(span)) this.upstream = true;
    else if (showsRenderer(span)) this.renderer = true;
    if (showsApprovals(span)) this.approvals = true;
  }

  private thread(threadId: string | null): ThreadTimeline {
    const key = threadId ?? '';
    let thread = this.threads.get(key);
    if (!thread) {
      thread = { threadId, turns: new Map(), hydrations: new Map(), renderer: new Map(), sources: new Set() };
      this.threads.set(key, thread);
    }
    return thread;
  }

  /**
   * A thread phase that started before its thread had an id (a new session or thread is named only
   * by the answer that ends its hydration) was filed under no thread: its end, now named, replaces it.
   */
  private forgetUnnamed(span: RecordedSpan): void {
    const unnamed = this.threads.get('');
    if (unnamed === undefined) return;
    const map = span.name === PHASE_THREAD_HYDRATION ? unnamed.hydrations : unnamed.renderer;
    if (!map.delete(spanKey(span))) return;
    if (unnamed.turns.size + unnamed.hydrations.size + unnamed.renderer.size === 0) this.threads.delete('');
  }

  private addThreadPhase(thread: ThreadTimeline, span: RecordedSpan, source: string | undefined): void {
    const map = span.name === PHASE_THREAD_HYDRATION ? thread.hydrations : thread.renderer;
    const key = spanKey(span);
    const old = map.get(key);
    map.set(key, old ? newerRecord(old, span) : span);
    if (source) thread.sources.add(source);
  }

  private turnOf(span: RecordedSpan, threadId: string | null): TurnTimeline | undefined {
    const turnId = str(span.attributes[ATTR_TURN_ID]);
    if (turnId !== undefined) return this.turn(threadId, turnId, span);
    if (span.parentSpanId) {
      const viaParent = this.parentTurn.get(`${span.traceId}/${span.parentSpanId}`);
      if (viaParent) return viaParent;
    }
    // A span with no turn id adopts the turn its children carry: a turn span opened before the server
    // named the turn, whose start record was written before the name came.
    const viaChildren = this.childTurn.get(spanKey(span));
    const adopted = viaChildren && this.threads.get(viaChildren.threadId ?? '')?.turns.get(viaChildren.turnId);
    if (adopted) return adopted;
    return this.traceTurn.get(span.traceId) ?? undefined;
  }

  private turn(threadId: string | null, turnId: string, span: RecordedSpan): TurnTimeline {
    const thread = this.thread(threadId ?? this.threadOfTurn(turnId));
    let turn = thread.turns.get(turnId);
    if (!turn) {
      turn = {
        key: `${thread.threadId ?? ''}/${turnId}`,
        threadId: thread.threadId,
        turnId,
        turnSpan: undefined,
        spans: new Map(),
        sources: new Set(),
        sourceNames: new Set(),
        droppedSpans: 0,
        firstMs: span.startTimeMs,
        lastMs: span.startTimeMs,
        recordsOpen: false,
        version: 0,
      };
      thread.turns.set(turnId, turn);
    }
    return turn;
  }

  // Remembers the turn of a parent not placed yet (bounded like the pending spans: oldest forgotten).
  private noteChildTurn(parentKey: string, turn: TurnTimeline): void {
    if (this.parentTurn.has(parentKey) || this.childTurn.has(parentKey)) return;
    this.childTurn.set(parentKey, { threadId: turn.threadId, turnId: turn.turnId! });
  }

  // A span with a turn id and no thread id (an upstream proxy may know only the turn) joins the thread
  // that already holds that turn.
  private threadOfTurn(turnId: string): string | null {
    for (const thread of this.threads.values()) if (thread.turns.has(turnId)) return thread.threadId;
    return null;
  }

  private addToTurn(turn: TurnTimeline, span: RecordedSpan, source: string | undefined): void {
    if (span.attributes[ATTR_TURN_ID] !== undefined && !isTraceKeyed(span)) {
      this.nameTrace(span.traceId, turn);
      turn = this.namedTurn(span.traceId) ?? turn;
    }
    const key = spanKey(span);
    turn.version++;
    if (span.name === PHASE_TURN) {
      if (!turn.turnSpan) this.retained++;
      turn.turnSpan = turn.turnSpan ? preferredTurnSpan(turn.turnSpan, span) : span;
      const known = this.traceTurn.get(span.traceId);
      // Two turns in one trace: the trace no longer identifies a turn.
      this.traceTurn.set(span.traceId, known === undefined || known === turn ? turn : null);
    } else {
      const old = turn.spans.get(key);
      if (!old) this.retained++;
      turn.spans.set(key, old ? newerRecord(old, span) : span);
    }
    if (PARENT_PHASES.has(span.name)) this.parentTurn.set(key, turn);
    if (span.parentSpanId && span.name !== PHASE_TURN && span.attributes[ATTR_TURN_ID] !== undefined) this.noteChildTurn(`${span.traceId}/${span.parentSpanId}`, turn);
    if (span.endTimeMs === undefined) turn.recordsOpen = true;
    const src = str(span.attributes[ATTR_SOURCE]);
    if (src) {
      turn.sources.add(src);
      turn.sourceNames.add(src);
    }
    if (source) turn.sources.add(source);
    turn.firstMs = Math.min(turn.firstMs, span.startTimeMs);
    turn.lastMs = Math.max(turn.lastMs, span.endTimeMs ?? span.startTimeMs);
    if (turn.spans.size > this.limits.maxSpansPerTurn) this.trimTurn(turn);
    if (this.retained > this.limits.maxRetainedSpans && this.retained >= this.nextEvictionAt) this.evictOldestEndedTurns();
  }

  // Drops the oldest tenth of the turn's ended spans, whole phases of any kind (an attempt goes with its
  // milestones): what the rules replay of the turn's start is then missing, never half there (an
  // attempt whose headers were dropped would read as silent). The rules look at what is open and at
  // the latest boundaries, which stay; the dropped stretch is booked to nothing.
  private trimTurn(turn: TurnTimeline): void {
    const ended = [...turn.spans.values()].filter((s) => s.endTimeMs !== undefined).map((s) => s.endTimeMs!).sort((a, b) => a - b);
    const cutoff = ended[Math.min(ended.length - 1, Math.max(0, Math.ceil(this.limits.maxSpansPerTurn / 10) - 1))];
    if (cutoff === undefined) return;
    let dropped = 0;
    for (const [key, s] of turn.spans) {
      if (s.endTimeMs === undefined || s.endTimeMs > cutoff) continue;
      // A milestone of an attempt that stays, stays with it; but its older progress points (one per 3 s
      // of a stream that may run for hours) go as any span does: only the latest is read.
      const keptWithAttempt = ATTEMPT_MILESTONES.has(s.name) && s.name !== PHASE_UPSTREAM_STREAM_PROGRESS;
      if (keptWithAttempt && s.parentSpanId && turn.spans.get(`${s.traceId}/${s.parentSpanId}`)?.endTimeMs === undefined) continue;
      turn.spans.delete(key);
      this.parentTurn.delete(key);
      dropped++;
    }
    turn.version++;
    turn.droppedSpans += dropped;
    this.droppedSpans += dropped;
    this.retained -= dropped;
  }

  // Ended turns go first, the least recently active first. Open turns are judged early only when
  // they alone hold twice the bound (a recording whose turns never end): a turn judged this way and
  // seen again later starts a new entry.
  private evictOldestEndedTurns(): void {
    const ended: Array<{ thread: ThreadTimeline; turn: TurnTimeline }> = [];
    const open: Array<{ thread: ThreadTimeline; turn: TurnTimeline }> = [];
    for (const thread of this.threads.values()) {
      for (const turn of thread.turns.values()) (turn.turnSpan?.endTimeMs !== undefined ? ended : open).push({ thread, turn });
    }
    const byLastActivity = (a: { turn: TurnTimeline }, b: { turn: TurnTimeline }): number => a.turn.lastMs - b.turn.lastMs;
    const target = this.limits.maxRetainedSpans * 0.8;
    // Each pass walks every retained turn: passes are spaced so the walk costs O(1) per span.
    this.nextEvictionAt = 0;
    for (const { thread, turn } of ended.sort(byLastActivity)) {
      if (this.retained <= target) return;
      this.evict(thread, turn);
    }
    if (this.retained > this.limits.maxRetainedSpans * 2) {
      for (const { thread, turn } of open.sort(byLastActivity)) {
        if (this.retained <= target) return;
        this.evict(thread, turn);
      }
    }
    this.nextEvictionAt = this.retained + Math.ceil(this.limits.maxRetainedSpans / 10);
  }

  private evict(thread: ThreadTimeline, turn: TurnTimeline): void {
    this.onEvict?.(turn, thread, this.sight);
    if (turn.turnId?.startsWith(TURN_ID_TRACE_PREFIX)) this.traceKeyedTurns.delete(turn.turnId.slice(TURN_ID_TRACE_PREFIX.length));
    thread.turns.delete(turn.turnId ?? '');
    this.retained -= turn.spans.size + (turn.turnSpan ? 1 : 0);
    for (const key of turn.spans.keys()) this.parentTurn.delete(key);
    if (turn.turnSpan) {
      this.parentTurn.delete(spanKey(turn.turnSpan));
      if (this.traceTurn.get(turn.turnSpan.traceId) === turn) this.traceTurn.delete(turn.turnSpan.traceId);
    }
    // A thread left with nothing is forgotten (it comes back if more of it is read).
    if (thread.turns.size + thread.hydrations.size + thread.renderer.size === 0) this.threads.delete(thread.threadId ?? '');
  }

  // Last resort for a span with no turn id, no known parent and no turn trace: the turn of its thread
  // that was open when it started (app-servers run one turn per thread at a time).
  private openTurnAt(span: RecordedSpan): TurnTimeline | undefined {
    const threadId = str(span.attributes[ATTR_THREAD_ID]);
    // No thread id either (an upstream proxy knows neither): any thread's turn open at that moment, the
    // latest started winning.
    const threads = threadId !== undefined ? [this.threads.get(threadId)] : [...this.threads.values()];
    let best: TurnTimeline | undefined;
    for (const thread of threads) {
      for (const turn of thread?.turns.values() ?? []) {
        const start = turn.turnSpan?.startTimeMs ?? turn.firstMs;
        const end = turn.turnSpan?.endTimeMs ?? Infinity;
        if (start <= span.startTimeMs && span.startTimeMs <= end && (!best || start > (best.turnSpan?.startTimeMs ?? best.firstMs))) best = turn;
      }
    }
    return best;
  }
}
