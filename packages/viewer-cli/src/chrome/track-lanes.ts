/**
 * Chrome and Perfetto draw the complete events of one thread as a stack and need them properly
 * nested: an event that starts inside another must end inside it too. Phases of one turn overlap
 * without nesting (an item streams past the end of the attempt that produced it), so a turn's track
 * is split into lanes, each properly nested, greedily: a span goes to the first lane where it nests.
 */

export interface Interval {
  /** Microseconds. */
  readonly start: number;
  readonly end: number;
}

/** Lane index of each interval, in input order. Lane 0 is filled first. */
export function assignLanes(intervals: readonly Interval[]): number[] {
  const order = intervals
    .map((interval, index) => ({ interval, index }))
    .sort((a, b) => a.interval.start - b.interval.start || b.interval.end - a.interval.end);
  // Per lane, the ends of the events still enclosing the current start (a stack: innermost last).
  const lanes: number[][] = [];
  const result = new Array<number>(intervals.length);
  for (const { interval, index } of order) {
    let lane = 0;
    for (; lane < lanes.length; lane++) {
      const stack = lanes[lane];
      while (stack.length > 0 && stack[stack.length - 1] <= interval.start) stack.pop();
      if (stack.length === 0 || stack[stack.length - 1] >= interval.end) break;
    }
    if (lane === lanes.length) lanes.push([]);
    lanes[lane].push(interval.end);
    result[index] = lane;
  }
  return result;
}
