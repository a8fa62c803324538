/**
 * The timeline model: threads → turns → phase spans. Built span by span (importers stream), with
 * memory bounded by `TimelineLimits`; read by the rules through `TurnScene`.
 */
import { ATTR_TURN_ID, ATTR_TURN_KEYED_BY_TRACE } from '@stall-why/conventions';
import type { RecordedSpan } from '@stall-why/flight-record';

/** One turn: its turn span (when recorded) and its other phase spans, by span id. */
export interface TurnTimeline {
  /** `threadId/turnId`; unique in a timeline. */
  readonly key: string;
  readonly threadId: string | null;
  readonly turnId: string | null;
  /** The `stall_why.turn` span, undefined when it was not recorded (evicted, or recording began mid-turn). */
  turnSpan: RecordedSpan | undefined;
  /** Every other phase span of the turn, by `traceId/spanId`. */
  readonly spans: Map<string, RecordedSpan>;
  /** The sources (`stall_why.source` values and files) the turn's spans came from. */
  readonly sources: Set<string>;
  /** Of those, the `stall_why.source` values: which observers saw the turn. */
  readonly sourceNames: Set<string>;
  /** Spans dropped to keep the turn within `maxSpansPerTurn`. */
  droppedSpans: number;
  /** Earliest and latest boundary seen, epoch ms. */
  firstMs: number;
  lastMs: number;
  /**
   * Some span of the turn was recorded while open (a start record, an open span): its source shows
   * what is open. A turn read only from ended spans (a standard OTLP exporter) cannot show what an
   * open turn waits on.
   */
  recordsOpen: boolean;
  /** Bumped on every change to `spans` or `turnSpan`: what is worked out from them once is valid while it is the same. */
  version: number;
}

/** One thread: its turns and the phases that belong to the thread (hydrations, renderer sessions). */
export interface ThreadTimeline {
  readonly threadId: string | null;
  readonly turns: Map<string, TurnTimeline>;
  readonly hydrations: Map<string, RecordedSpan>;
  readonly renderer: Map<string, RecordedSpan>;
  readonly sources: Set<string>;
}

/** What the spans of the whole input can show: rules say what could not be seen. */
export interface Sight {
  /** Upstream attempt spans exist (a fetch instrumentation or the upstream proxy). */
  readonly upstream: boolean;
  /** Renderer attach/detach phases exist. */
  readonly renderer: boolean;
  /** Some source can show approvals (anything but a rollout). */
  readonly approvals: boolean;
}

/** What is known of whatever wrote one source (a file or a flight-recorder directory). */
export interface SourceWriter {
  /** The source's latest boundary (or last line), epoch ms. */
  lastWriteMs: number;
  /** Recorded stops (`PHASE_WRITER_STOPPED`), in the order read. */
  readonly stops: RecordedSpan[];
}

/** The span's key in a timeline: span ids are unique within a trace. */
export function spanKey(span: RecordedSpan): string {
  return `${span.traceId}/${span.spanId}`;
}

/**
 * Of two records of the same span (its start record and its end record, or a replayed duplicate),
 * the one to keep: an ended span beats an open one, then the later end.
 */
export function newerRecord(a: RecordedSpan, b: RecordedSpan): RecordedSpan {
  if (a.endTimeMs === undefined) return b.endTimeMs === undefined ? mergeAttributes(a, b) : mergeAttributes(a, b, b);
  if (b.endTimeMs === undefined) return a;
  return b.endTimeMs >= a.endTimeMs ? mergeAttributes(a, b, b) : a;
}

// An end record carries the attributes set while the span was open; a start record may carry some the
// end record lost to attribute limits. Keep both, the end record's winning.
function mergeAttributes(a: RecordedSpan, b: RecordedSpan, base: RecordedSpan = a): RecordedSpan {
  if (a.attributes === b.attributes) return base;
  // The usual case: the end record holds every attribute of the start record and more.
  const other = base === a ? b : a;
  let count = 0;
  for (const key in other.attributes) {
    if (!(key in base.attributes)) {
      count++;
      break;
    }
  }
  if (count === 0) return base;
  return { ...base, attributes: { ...a.attributes, ...b.attributes } };
}

/** Whether the span's turn is the one its trace holds (its source knew no turn id). */
export function isTraceKeyed(span: RecordedSpan): boolean {
  return span.attributes[ATTR_TURN_KEYED_BY_TRACE] === true && span.attributes[ATTR_TURN_ID] === undefined;
}

/** Of two turn spans of one turn, the one to keep: a span that named the turn beats one inferred from its trace's logs. */
export function preferredTurnSpan(a: RecordedSpan, b: RecordedSpan): RecordedSpan {
  const aKeyed = isTraceKeyed(a);
  if (aKeyed !== isTraceKeyed(b)) return aKeyed ? b : a;
  return newerRecord(a, b);
}

/** Moves everything of `from` into `into` (one turn seen through two keys). */
export function mergeTurnInto(into: TurnTimeline, from: TurnTimeline): void {
  if (from.turnSpan) into.turnSpan = into.turnSpan ? preferredTurnSpan(into.turnSpan, from.turnSpan) : from.turnSpan;
  for (const [key, span] of from.spans) {
    const old = into.spans.get(key);
    into.spans.set(key, old ? newerRecord(old, span) : span);
  }
  for (const src of from.sources) into.sources.add(src);
  for (const name of from.sourceNames) into.sourceNames.add(name);
  into.recordsOpen ||= from.recordsOpen;
  into.droppedSpans += from.droppedSpans;
  into.version++;
  into.firstMs = Math.min(into.firstMs, from.firstMs);
  into.lastMs = Math.max(into.lastMs, from.lastMs);
}
