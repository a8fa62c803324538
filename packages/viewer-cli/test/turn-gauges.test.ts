/**
 * The verdict metrics' values from reports: counts by state, verdict and service, the longest quiet
 * time per group, the cap on named services, turns the report only summarised, and groups that
 * empty out (0, not their last value). Reports are made by the classifier from spans.
 */
import { describe, expect, it } from 'vitest';
import { classifySpans, type Report } from '@stall-why/classifier';
import { ATTR_SERVICE_NAME, ATTR_THREAD_ID, ATTR_TURN_ID, ATTR_TURN_STATE, ATTR_TURN_STATUS, ATTR_TURN_VERDICT, PHASE_TURN, SERVICE_NAME_OTHER } from '@stall-why/conventions';
import type { RecordedSpan } from '@stall-why/flight-record';
import { TurnGauges } from 'stall-why';

const NOW = 1_800_000_000_000;

/** A turn span of `service`: open since `quietMs` before NOW, or ended. */
function turnSpan(i: number, service: string, ended: boolean, quietMs = 60_000): RecordedSpan {
  const start = NOW - quietMs;
  return {
    traceId: i.toString(16).padStart(32, '0'), spanId: i.toString(16).padStart(16, '0'), name: PHASE_TURN, startTimeMs: start,
    ...(ended ? { endTimeMs: start + 10 } : {}),
    attributes: { [ATTR_THREAD_ID]: `thread-${i}`, [ATTR_TURN_ID]: `turn-${i}`, ...(ended ? { [ATTR_TURN_STATUS]: 'completed' } : {}) },
    resource: { [ATTR_SERVICE_NAME]: service },
  };
}

const judge = (spans: RecordedSpan[], maxReportedTurns?: number): Report =>
  classifySpans(spans, { now: NOW, ...(maxReportedTurns ? { limits: { maxReportedTurns } } : {}) });
const sorted = <T extends { attributes: Record<string, string> }>(points: T[]) => [...points].sort((a, b) => JSON.stringify(a.attributes).localeCompare(JSON.stringify(b.attributes)));

describe('TurnGauges', () => {
  it('counts turns by state, verdict and service and keeps the longest quiet time of each group', () => {
    const gauges = new TurnGauges();
    gauges.update(judge([turnSpan(1, 'a', false, 60_000), turnSpan(2, 'a', false, 90_000), turnSpan(3, 'b', true)]));
    const stuck = { [ATTR_TURN_STATE]: 'stuck', [ATTR_TURN_VERDICT]: 'backend_stall', [ATTR_SERVICE_NAME]: 'a' };
    const completed = { [ATTR_TURN_STATE]: 'completed', [ATTR_TURN_VERDICT]: 'healthy', [ATTR_SERVICE_NAME]: 'b' };
    expect(sorted(gauges.turnCounts())).toEqual(sorted([{ attributes: stuck, value: 2 }, { attributes: completed, value: 1 }]));
    expect(gauges.stuckDurations()).toEqual([{ attributes: stuck, value: 90 }]);

    // The stuck turns ended: their group is 0 (a cumulative reader would otherwise keep its last value).
    gauges.update(judge([turnSpan(1, 'a', true), turnSpan(2, 'a', true), turnSpan(3, 'b', true)]));
    expect(sorted(gauges.turnCounts())).toEqual(sorted([
      { attributes: stuck, value: 0 },
      { attributes: completed, value: 1 },
      { attributes: { ...completed, [ATTR_SERVICE_NAME]: 'a' }, value: 2 },
    ]));
    expect(gauges.stuckDurations()).toEqual([{ attributes: stuck, value: 0 }]);
  });

  it('names at most maxServices services, the first seen, and counts the others as _other', () => {
    const gauges = new TurnGauges(2);
    gauges.update(judge([turnSpan(1, 's1', true), turnSpan(2, 's2', true), turnSpan(3, 's3', true), turnSpan(4, 's4', true)]));
    const services = gauges.turnCounts().map((p) => [p.attributes[ATTR_SERVICE_NAME], p.value]);
    expect(services.sort()).toEqual([[SERVICE_NAME_OTHER, 2], ['s1', 1], ['s2', 1]]);
  });

  it('counts turns the report summarised by state alone', () => {
    const gauges = new TurnGauges();
    const report = judge([1, 2, 3, 4, 5].map((i) => turnSpan(i, 'a', true)), 2);
    expect(report.summary?.summarised).toBe(3);
    expect(sorted(gauges.turnCounts())).toEqual([]);
    gauges.update(report);
    expect(sorted(gauges.turnCounts())).toEqual(sorted([
      { attributes: { [ATTR_TURN_STATE]: 'completed', [ATTR_TURN_VERDICT]: 'healthy', [ATTR_SERVICE_NAME]: 'a' }, value: 2 },
      { attributes: { [ATTR_TURN_STATE]: 'completed' }, value: 3 },
    ]));
  });
});
