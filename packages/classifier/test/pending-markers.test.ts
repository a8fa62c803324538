/**
 * Pending-span markers (test/viewer-cli's pending-markers test sends them through collect): any
 * source that holds them (an OTLP JSON file, a backend) is read as holding the open spans they stand
 * for, and the real span, once ended, supersedes its marker.
 */
import { ATTR_GEN_AI_TOOL_NAME, ATTR_PHASE_KIND, ATTR_THREAD_ID, ATTR_TURN_ID, ATTR_TURN_STATUS, PHASE_TOOL_CALL, PHASE_TURN, PHASE_TURN_ACCEPTED } from '@stall-why/conventions';
import { isPendingSpanMarker, openSpanOfMarker, pendingSpanMarker, type RecordedSpan } from '@stall-why/flight-record';
import { classifySpans } from '@stall-why/classifier';
import { describe, expect, it } from 'vitest';

const T0 = Date.parse('2026-12-01T10:00:00Z');
const ids = { [ATTR_THREAD_ID]: 'th', [ATTR_TURN_ID]: 't' };
const turnSpan: RecordedSpan = { traceId: 'd'.repeat(32), spanId: '1'.repeat(16), name: PHASE_TURN, startTimeMs: T0, attributes: { ...ids, [ATTR_PHASE_KIND]: 'span' } };
const tool: RecordedSpan = { traceId: 'd'.repeat(32), spanId: '2'.repeat(16), parentSpanId: turnSpan.spanId, name: PHASE_TOOL_CALL, startTimeMs: T0 + 100, attributes: { ...ids, [ATTR_GEN_AI_TOOL_NAME]: 'exec_command' } };
const accepted: RecordedSpan = { traceId: 'd'.repeat(32), spanId: '3'.repeat(16), parentSpanId: turnSpan.spanId, name: PHASE_TURN_ACCEPTED, startTimeMs: T0, endTimeMs: T0, attributes: { ...ids, [ATTR_PHASE_KIND]: 'point' } };

describe('pending-span markers', () => {
  it('round-trip: a marker is a zero-duration child of the open span, and stands for it', () => {
    const marker = pendingSpanMarker(tool, T0 + 5_000);
    expect(isPendingSpanMarker(marker)).toBe(true);
    expect(marker).toMatchObject({ traceId: tool.traceId, parentSpanId: tool.spanId, startTimeMs: tool.startTimeMs, endTimeMs: tool.startTimeMs });
    expect(marker.spanId).not.toBe(tool.spanId);
    expect(pendingSpanMarker(tool, T0 + 9_000).spanId).toBe(marker.spanId);
    expect(openSpanOfMarker(marker)).toEqual(tool);
  });

  it('ended spans and markers only: the open tool is seen, the turn is tool_running, not unknown', () => {
    const report = classifySpans([accepted, pendingSpanMarker(turnSpan, T0 + 50_000), pendingSpanMarker(tool, T0 + 50_000)], { now: T0 + 60_000 });
    expect(report.turns[0]).toMatchObject({ status: 'stuck', verdict: 'tool_running' });
  });

  it('the real span, once ended, supersedes its marker, in either order', () => {
    const ended = [{ ...tool, endTimeMs: T0 + 20_000 }, { ...turnSpan, endTimeMs: T0 + 21_000, attributes: { ...turnSpan.attributes, [ATTR_TURN_STATUS]: 'completed' } }];
    const markers = [pendingSpanMarker(turnSpan, T0 + 10_000), pendingSpanMarker(tool, T0 + 10_000)];
    for (const spans of [[accepted, ...markers, ...ended], [accepted, ...ended, ...markers]]) {
      expect(classifySpans(spans, { now: T0 + 60_000 }).turns[0]).toMatchObject({ status: 'completed', verdict: 'healthy' });
    }
  });
});
