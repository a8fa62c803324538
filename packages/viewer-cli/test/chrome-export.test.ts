import { classifySpans } from '@stall-why/classifier';
import { ATTR_ITEM_ID, ATTR_ITEM_TYPE, ATTR_THREAD_ID, ATTR_TURN_ID, ATTR_TURN_STATUS, PHASE_ITEM } from '@stall-why/conventions';
import type { RecordedSpan } from '@stall-why/flight-record';
import { describe, expect, it } from 'vitest';
import { buildChromeTrace, OPEN_MARK, assignLanes } from 'stall-why';
import { CHROME_ARG_SPAN, CHROME_ARG_VERDICT, PHASE_TURN } from '@stall-why/conventions';
import { consumeTrace } from './trace-engine-consumer.js';
import { traceEventRuleViolations } from './trace-event-rules.js';
import { JUDGED_AT, STUCK_TURN, stuckReport, stuckTurnSpans, T0 } from './stuck-turn-fixture.js';

const trace = buildChromeTrace(stuckReport(), stuckTurnSpans());
const nonMeta = trace.traceEvents.filter((e) => e.ph !== 'M');

describe('buildChromeTrace', () => {
  it("keeps the Trace Event Format's rules", () => {
    expect(traceEventRuleViolations(JSON.parse(JSON.stringify(trace)), 1e15)).toEqual([]);
  });

  it('is read by the DevTools trace engine: processes, named turn tracks, bounds in µs, the flow arrow', async () => {
    const consumed = await consumeTrace(trace.traceEvents);
    expect([...consumed.processNames.values()]).toEqual(['codex-app-server']);
    const threadNames = [...consumed.threadNames.get(1)!.values()];
    expect(threadNames).toContain(`turn ${STUCK_TURN} · stuck · backend_stall`);
    expect(threadNames).toContain('turn turn-1 · completed · healthy');
    expect(consumed.bounds.min).toBe((T0 - 20_000) * 1000);
    expect(consumed.bounds.max).toBe(JUDGED_AT * 1000);
    // The continuation request and its attempt start together; the engine binds the arrow to the first event there.
    expect(consumed.flows).toEqual([['tool result', `upstream #2 (continuation) ${OPEN_MARK}`]]);
    const entries = [...consumed.entries.get(1)!.values()].flat();
    expect(entries).toContain(`turn ${OPEN_MARK}`);
    expect(entries).toContain('tool exec_command');
  });

  it('draws phases as X events in µs, points as instants, open phases to the judged moment', () => {
    const tool = nonMeta.find((e) => e.name === 'tool exec_command')!;
    expect(tool).toMatchObject({ ph: 'X', ts: (T0 + 1_300) * 1000, dur: 700_000 });
    const headers = nonMeta.find((e) => e.name === 'headers 200')!;
    expect(headers).toMatchObject({ ph: 'i', s: 't', ts: (T0 + 400) * 1000 });
    const open = nonMeta.find((e) => e.name === `upstream #2 (continuation) ${OPEN_MARK}`)!;
    expect(open.ph).toBe('X');
    expect(open.ts + open.dur!).toBe(JUDGED_AT * 1000);
    expect(String(open.args!.open)).toContain('judged moment');
  });

  it('carries every span under args[CHROME_ARG_SPAN] and the verdict on the turn event', () => {
    const spans = nonMeta.filter((e) => e.args?.[CHROME_ARG_SPAN] !== undefined).map((e) => e.args![CHROME_ARG_SPAN]);
    expect(spans).toEqual(expect.arrayContaining(stuckTurnSpans().map((s) => expect.objectContaining({ name: s.name, startTimeMs: s.startTimeMs }))));
    expect(spans).toHaveLength(stuckTurnSpans().length);
    const turnEvent = nonMeta.find((e) => (e.args?.[CHROME_ARG_SPAN] as { name: string; attributes: Record<string, unknown> })?.name === PHASE_TURN && e.name.endsWith(OPEN_MARK))!;
    expect(turnEvent.args![CHROME_ARG_VERDICT]).toMatchObject({ verdict: 'backend_stall', status: 'stuck', confidence: 0.9 });
    expect((turnEvent.args![CHROME_ARG_VERDICT] as { evidence: string[] }).evidence[1]).toBe('tool exec_command returned at 14:52:42.000');
  });

  it('splits a turn into nested lanes where its phases overlap without nesting', () => {
    const attempt = nonMeta.find((e) => e.name === 'upstream #1' && e.ts === (T0 + 100) * 1000)!;
    const item = nonMeta.find((e) => e.name === 'item commandExecution')!;
    expect(attempt.tid).not.toBe(item.tid);
  });

  it('shows a verdict for a turn that has no turn span', () => {
    const withoutTurnSpan = stuckTurnSpans().filter((s) => s.name !== PHASE_TURN);
    const events = buildChromeTrace(stuckReport(), withoutTurnSpan).traceEvents;
    const verdicts = events.filter((e) => e.name.startsWith('verdict: '));
    expect(verdicts.map((e) => e.name).sort()).toEqual(['verdict: backend_stall', 'verdict: healthy']);
    expect(traceEventRuleViolations({ traceEvents: events })).toEqual([]);
  });
});

describe('assignLanes', () => {
  it('keeps nested intervals in one lane and moves a partial overlap to the next', () => {
    expect(assignLanes([{ start: 0, end: 10 }, { start: 1, end: 5 }, { start: 4, end: 8 }, { start: 8, end: 9 }])).toEqual([0, 0, 1, 0]);
  });
});

describe('buildChromeTrace labels', () => {
  it('every slice is labelled by its own span, even when siblings share a name and a start millisecond', () => {
    const t0 = Date.parse('2026-11-24T14:52:40.000Z');
    const ids = { [ATTR_THREAD_ID]: 'th', [ATTR_TURN_ID]: 'tu' };
    const item = (spanId: string, type: string): RecordedSpan => ({
      traceId: 'e'.repeat(32), spanId, parentSpanId: 'f'.repeat(16), name: PHASE_ITEM, startTimeMs: t0 + 100, endTimeMs: t0 + 900,
      attributes: { ...ids, [ATTR_ITEM_TYPE]: type, [ATTR_ITEM_ID]: spanId },
    });
    const spans: RecordedSpan[] = [
      { traceId: 'e'.repeat(32), spanId: 'f'.repeat(16), name: PHASE_TURN, startTimeMs: t0, endTimeMs: t0 + 1000, attributes: { ...ids, [ATTR_TURN_STATUS]: 'completed' } },
      item('0000000000000001', 'commandExecution'),
      item('0000000000000002', 'agentMessage'),
      item('0000000000000003', 'reasoning'),
    ];
    const report = classifySpans(spans, { now: t0 + 2000 });
    const events = buildChromeTrace(report, spans).traceEvents as Array<{ name: string; args?: Record<string, unknown> }>;
    const slices = events.filter((e) => (e.args?.[CHROME_ARG_SPAN] as RecordedSpan | undefined)?.name === PHASE_ITEM);
    expect(slices).toHaveLength(3);
    for (const e of slices) expect(e.name).toBe(`item ${(e.args![CHROME_ARG_SPAN] as RecordedSpan).attributes[ATTR_ITEM_TYPE]}`);
  });
});
