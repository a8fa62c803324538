/** How much of its input a timeline holds in memory: the bounds and their defaults. */
import { DEFAULT_MAX_VALUE_LENGTH } from './bounded-span.js';

/** Bounds on what a timeline keeps in memory, whatever the input's size. */
export interface TimelineLimits {
  /**
   * Most phase spans kept per turn; beyond it the oldest ended item and point spans are dropped
   * (and counted) first. Default 5 000.
   */
  readonly maxSpansPerTurn: number;
  /**
   * Most phase spans kept across all turns; beyond it the oldest ended turns are handed to
   * `onEvict` (judged then, with what was read so far) and forgotten. Open turns are evicted too,
   * quietest first, only when they alone hold twice this many. Default 5 000: a retained span costs
   * about 700 bytes of heap, and V8 lets the old generation grow to about four times what is live
   * between full collections, so the window is what the peak RSS follows.
   */
  readonly maxRetainedSpans: number;
  /**
   * Most spans held while their turn is not known yet (no turn id, parent not seen). When full, the
   * oldest half is placed at once in the turn open when each started (as at the end of the input), or
   * dropped and counted. Default 10 000.
   */
  readonly maxPendingSpans: number;
  /**
   * Most turns listed in a report; beyond it turns are summarised (counted by status and verdict in
   * `Report.summary`, per file in `sources[].turnsSummarised`): healthy ended turns first, then the
   * oldest other ended turns, then open ones. Default 500 (a listed turn evicted from the window keeps
   * its evidence, about 2 KB, but not its phases).
   */
  readonly maxReportedTurns: number;
  /**
   * Longest string kept of a span's ids, attribute values and status message; a longer one keeps its
   * start, its length and a fingerprint (see bounded-span.ts). Default 1 024.
   */
  readonly maxValueLength: number;
}

export const DEFAULT_TIMELINE_LIMITS: TimelineLimits = Object.freeze({
  maxSpansPerTurn: 5_000,
  maxRetainedSpans: 5_000,
  maxPendingSpans: 10_000,
  maxReportedTurns: 500,
  maxValueLength: DEFAULT_MAX_VALUE_LENGTH,
});
