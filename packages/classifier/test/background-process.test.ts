/**
 * A command that outlives its yield: Codex's `exec_command` hands the call back to the model after
 * `yield_time_ms` while the process runs on in a background terminal, and the app-server keeps its
 * `commandExecution` item open as long as the process lives. The turn waits on what comes after
 * (the model, a person, another tool), not on that process. Spans shaped as the JSON-RPC observer
 * and the upstream proxy record them.
 */
import {
  ATTR_GEN_AI_TOOL_CALL_ID,
  ATTR_GEN_AI_TOOL_NAME,
  ATTR_ITEM_TYPE,
  ATTR_THREAD_ID,
  ATTR_TURN_ID,
  ATTR_TURN_STATUS,
  ATTR_UPSTREAM_CONTINUATION,
  PHASE_ITEM,
  PHASE_TOOL_CALL,
  PHASE_TURN,
  PHASE_UPSTREAM_ATTEMPT,
  PHASE_UPSTREAM_FIRST_EVENT,
  PHASE_UPSTREAM_HEADERS,
  PHASE_UPSTREAM_STREAM_END,
} from '@stall-why/conventions';
import type { RecordedSpan } from '@stall-why/flight-record';
import { join } from 'node:path';
import { analyzeTraces, classifySpans } from '@stall-why/classifier';
import { describe, expect, it } from 'vitest';

const T0 = Date.parse('2026-12-01T10:00:00.000Z');
let id = 0;
function span(name: string, start: number, end: number | undefined, extra: Record<string, string | boolean> = {}, parentSpanId?: string): RecordedSpan {
  return {
    traceId: 'c'.repeat(32),
    spanId: (++id).toString(16).padStart(16, '0'),
    parentSpanId,
    name,
    startTimeMs: T0 + start,
    ...(end === undefined ? {} : { endTimeMs: T0 + end }),
    attributes: { [ATTR_THREAD_ID]: 'th', [ATTR_TURN_ID]: 'turn-bg', ...extra },
  };
}

/** The first request asks for `sleep 120` with a 1 s yield; the call is handed back at 2.1 s and the continuation goes out. */
function handedBack(): RecordedSpan[] {
  const first = span(PHASE_UPSTREAM_ATTEMPT, 0, 1_000);
  return [
    first,
    span(PHASE_UPSTREAM_HEADERS, 100, 100, {}, first.spanId),
    span(PHASE_UPSTREAM_FIRST_EVENT, 200, 200, {}, first.spanId),
    span(PHASE_UPSTREAM_STREAM_END, 1_000, 1_000, {}, first.spanId),
    span(PHASE_TOOL_CALL, 1_050, undefined, { [ATTR_GEN_AI_TOOL_NAME]: 'commandExecution', [ATTR_GEN_AI_TOOL_CALL_ID]: 'call_bg' }),
  ];
}

describe('a command still running in the background', () => {
  it('is not what the turn waits on: a silent continuation after it is a backend stall, the process named in the evidence', () => {
    const continuation = span(PHASE_UPSTREAM_ATTEMPT, 2_100, undefined, { [ATTR_UPSTREAM_CONTINUATION]: true });
    const spans = [span(PHASE_TURN, 0, undefined), ...handedBack(), continuation, span(PHASE_UPSTREAM_HEADERS, 2_200, 2_200, {}, continuation.spanId)];
    const turn = classifySpans(spans, { now: T0 + 60_000 }).turns[0]!;
    expect(turn).toMatchObject({ status: 'stuck', verdict: 'backend_stall' });
    expect(turn.evidence[0]).toMatch(/^continuation request \(upstream attempt #2 \(continuation\)\) sent .* headers at .*, no body byte since/);
    expect(turn.evidence).toContainEqual(
      'commandExecution (call_bg) still running in the background since 10:00:01.050: it was handed back to the model, which went on at 10:00:02.100; not what the turn waits on',
    );
  });

  it('is the wait while the model has not gone on yet: tool_running', () => {
    const turn = classifySpans([span(PHASE_TURN, 0, undefined), ...handedBack()], { now: T0 + 60_000 }).turns[0]!;
    expect(turn).toMatchObject({ status: 'stuck', verdict: 'tool_running' });
  });

  it('a turn that completes while its background process runs is completed and healthy', () => {
    const continuation = span(PHASE_UPSTREAM_ATTEMPT, 2_100, 4_000, { [ATTR_UPSTREAM_CONTINUATION]: true });
    const spans = [
      span(PHASE_TURN, 0, 4_100, { [ATTR_TURN_STATUS]: 'completed' }),
      ...handedBack(),
      continuation,
      span(PHASE_UPSTREAM_FIRST_EVENT, 2_300, 2_300, {}, continuation.spanId),
      span(PHASE_UPSTREAM_STREAM_END, 4_000, 4_000, {}, continuation.spanId),
      span(PHASE_ITEM, 3_000, 4_000, { [ATTR_ITEM_TYPE]: 'agentMessage' }),
    ];
    const turn = classifySpans(spans, { now: T0 + 600_000 }).turns[0]!;
    expect(turn).toMatchObject({ status: 'completed', verdict: 'healthy' });
    expect(turn.evidence.join('\n')).toMatch(/commandExecution \(call_bg\) still running in the background since 10:00:01\.050/);
  });
});

describe('a command handed back, in Codex\'s rollout (test/corpus/codex/background_silent_continuation)', () => {
  it('its output says the process runs on: named in the evidence, the turn judged by the continuation', async () => {
    const path = join(import.meta.dirname, '../../../test/corpus/codex/background_silent_continuation.rollout.jsonl');
    const { report } = await analyzeTraces([path], { now: Date.parse('2026-12-02T11:21:40Z') });
    expect(report.turns[0]).toMatchObject({ status: 'stuck', verdict: 'post_tool_continuation_lost' });
    expect(report.turns[0]!.evidence).toContainEqual(expect.stringMatching(/^exec_command \(call_bg\) returned at .* with its process still running in the background \(session \d+\)/));
  });
});
