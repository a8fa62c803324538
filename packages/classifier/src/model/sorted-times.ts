/**
 * Sorting and searching the ascending times a turn's scenes are built from (starts, boundaries, tool
 * ends): a turn is replayed at many moments, so each lookup is a binary search, not a scan.
 */
import type { RecordedSpan } from '@stall-why/flight-record';

/**
 * The spans in start order, stably: a turn's spans mostly come in that order already (the sort is
 * then skipped: it showed in profiles of a 1 GB OTLP input, issue 14).
 */
export function inStartOrder(spans: RecordedSpan[]): RecordedSpan[] {
  for (let k = 1; k < spans.length; k++) {
    if (!(spans[k - 1]!.startTimeMs <= spans[k]!.startTimeMs)) return spans.sort((a, b) => a.startTimeMs - b.startTimeMs);
  }
  return spans;
}

/** Shifts an insertion sort may make per value before the typed array's own sort takes over. */
const INSERTION_SHIFTS_PER_VALUE = 8;

/**
 * Sorts numbers ascending in place, as `Float64Array.prototype.sort` does: a turn's boundaries are
 * nearly in order (each end near its start), and an insertion sort of them is linear; values far
 * from their place, or NaN, are left to the typed array's sort.
 */
export function ascending(values: Float64Array): Float64Array {
  let budget = values.length * INSERTION_SHIFTS_PER_VALUE;
  for (let k = 1; k < values.length; k++) {
    const v = values[k]!;
    if (v !== v) return values.sort();
    let j = k - 1;
    while (j >= 0 && values[j]! > v) {
      values[j + 1] = values[j]!;
      j--;
      if (--budget < 0) {
        values[j + 1] = v;
        return values.sort();
      }
    }
    values[j + 1] = v;
  }
  return values;
}

export function startsOf(sorted: readonly RecordedSpan[]): Float64Array {
  const starts = new Float64Array(sorted.length);
  for (let k = 0; k < sorted.length; k++) starts[k] = sorted[k]!.startTimeMs;
  return starts;
}

/**
 * In an ascending array, the index of the first value above `at` (`strict`: at or above it); the
 * length when there is none. The one binary search the scene's lookups share.
 */
export function upperBound(values: Float64Array, at: number, strict = false): number {
  let lo = 0;
  let hi = values.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (strict ? values[mid]! < at : values[mid]! <= at) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The first value of an ascending array greater than `at`, or Infinity. */
export const firstAfter = (values: Float64Array, at: number): number => values[upperBound(values, at)] ?? Infinity;

/** The largest value of an ascending array that is at most `at`, or undefined. */
export const lastAtMost = (values: Float64Array, at: number): number | undefined => values[upperBound(values, at) - 1];
