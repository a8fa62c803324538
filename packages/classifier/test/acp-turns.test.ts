/**
 * ACP turns as the ACP observer records them (`stall-why record` on codex-acp, claude-agent-acp,
 * gemini-cli --acp without `--upstream`): the prompt is the turn span, `session/update` chunks are
 * items, the answer's `stopReason` the turn's stop reason. No model request is ever on the wire, so
 * a silent turn cannot tell a stall from retries; and two quirks of claude-agent-acp 0.23.1
 * (/work/shared/research/acp/README.md §3.5, §3.6) are named when seen.
 */
import {
  ATTR_CANCEL_RESULT, ATTR_ITEM_TYPE, ATTR_SOURCE, ATTR_THREAD_ID, ATTR_TURN_ID, ATTR_TURN_STATUS, ATTR_TURN_STOP_REASON,
  PHASE_CANCEL, PHASE_ITEM, PHASE_TURN, PHASE_TURN_ACCEPTED, SOURCE_ACP,
} from '@stall-why/conventions';
import type { RecordedSpan } from '@stall-why/flight-record';
import { classifySpans } from '@stall-why/classifier';
import { describe, expect, it } from 'vitest';

const T0 = Date.parse('2026-12-01T10:00:00.000Z');
let id = 0;
function span(name: string, turnId: string, start: number, end: number | undefined, extra: Record<string, string> = {}): RecordedSpan {
  return {
    traceId: turnId.padEnd(32, '0').slice(0, 32).replace(/[^0-9a-f]/g, 'a'),
    spanId: (++id).toString(16).padStart(16, '0'),
    name,
    startTimeMs: T0 + start,
    ...(end === undefined ? {} : { endTimeMs: T0 + end }),
    attributes: { [ATTR_THREAD_ID]: 'sess-1', [ATTR_TURN_ID]: turnId, [ATTR_SOURCE]: SOURCE_ACP, ...extra },
  };
}

/** A prompt answered `stopReason` at `end` (undefined: still open). */
function prompt(turnId: string, start: number, end: number | undefined, stopReason = 'end_turn'): RecordedSpan {
  const status = stopReason === 'cancelled' ? 'interrupted' : 'completed';
  return span(PHASE_TURN, turnId, start, end, end === undefined ? {} : { [ATTR_TURN_STATUS]: status, [ATTR_TURN_STOP_REASON]: stopReason });
}

/** The agent's answer streamed as a thought then a message, from `start` to `end`. */
function answer(turnId: string, start: number, end: number): RecordedSpan[] {
  const mid = (start + end) / 2;
  return [
    span(PHASE_TURN_ACCEPTED, turnId, start, start),
    span(PHASE_ITEM, turnId, start, mid, { [ATTR_ITEM_TYPE]: 'reasoning' }),
    span(PHASE_ITEM, turnId, mid, end, { [ATTR_ITEM_TYPE]: 'agentMessage' }),
  ];
}

const ACP_LIMIT = 'an ACP transcript alone shows no upstream attempts: backend_stall and transport_retry cannot be told apart (record --upstream shows them)';

describe('an ACP prompt with no word from the agent', () => {
  it('is a backend stall while open, and says that only record --upstream tells a stall from retries', () => {
    const turn = classifySpans([prompt('p1', 0, undefined)], { now: T0 + 90_000 }).turns[0]!;
    expect(turn).toMatchObject({ status: 'stuck', verdict: 'backend_stall' });
    expect(turn.evidence[0]).toBe('no model output since the turn started at 10:00:00.000 (90 s)');
    expect(turn.evidence).toContain(ACP_LIMIT);
    expect(turn.evidence).not.toContainEqual(expect.stringMatching(/^no upstream attempt spans/));
  });

  it('a source that is not only ACP keeps the generic line', () => {
    const other = { ...prompt('p1', 0, undefined), attributes: { [ATTR_THREAD_ID]: 'sess-1', [ATTR_TURN_ID]: 'p1', [ATTR_SOURCE]: 'jsonrpc' } };
    const turn = classifySpans([other], { now: T0 + 90_000 }).turns[0]!;
    expect(turn.verdict).toBe('backend_stall');
    expect(turn.evidence).toContain('no upstream attempt spans: backend_stall and transport_retry cannot be told apart');
    expect(turn.evidence).not.toContain(ACP_LIMIT);
  });
});

describe('claude-agent-acp: a prompt ended end_turn with nothing after a long silence', () => {
  it('is not healthy: the model was silent (backend_stall), and the agent ended the prompt with nothing', () => {
    // stall-long: 330 s of silence after headers, Claude Code re-sends without streaming, `end_turn` with usage all 0.
    const turn = classifySpans([prompt('p1', 0, 301_950)], { now: T0 + 400_000 }).turns[0]!;
    expect(turn).toMatchObject({ status: 'completed', verdict: 'backend_stall' });
    expect(turn.evidence[0]).toBe('the model was silent: no model output for 5 min 2 s, from the prompt at 10:00:00.000 until the agent ended it at 10:05:01.950');
    expect(turn.evidence).toContainEqual(expect.stringMatching(/^the agent ended the prompt end_turn with nothing \(no message, thought or tool call\) after 5 min 2 s: claude-agent-acp 0\.23 does so when Claude Code gives up on a stream silent for ~300 s/));
    expect(turn.evidence).toContain(ACP_LIMIT);
  });

  it('a silence shorter than silentModelMs, or a prompt that delivered an answer, is healthy and names no quirk', () => {
    const short = classifySpans([prompt('p1', 0, 60_000)], { now: T0 + 400_000 }).turns[0]!;
    expect(short).toMatchObject({ status: 'completed', verdict: 'healthy' });
    const answered = classifySpans([prompt('p1', 0, 301_950), ...answer('p1', 301_000, 301_900)], { now: T0 + 400_000 }).turns[0]!;
    expect(answered).toMatchObject({ status: 'completed', verdict: 'healthy' });
    for (const turn of [short, answered]) expect(turn.evidence.join('\n')).not.toMatch(/with nothing/);
    // The threshold is the classifier's silentModelMs.
    const lowered = classifySpans([prompt('p1', 0, 60_000)], { now: T0 + 400_000, thresholds: { silentModelMs: 50_000 } }).turns[0]!;
    expect(lowered.verdict).toBe('backend_stall');
  });
});

describe('claude-agent-acp: the prompt after a cancelled one answered within milliseconds with nothing', () => {
  /** cancel: `session/cancel` mid-stream → cancelled; the next prompt → end_turn in 7 ms, no updates; the one after carries its answer. */
  function cancelThenTwoPrompts(): RecordedSpan[] {
    return [
      prompt('p1', 0, 1_230, 'cancelled'),
      ...answer('p1', 400, 1_200),
      span(PHASE_CANCEL, 'p1', 1_200, 1_230, { [ATTR_CANCEL_RESULT]: 'cancelled' }),
      prompt('p2', 2_000, 2_007),
      prompt('p3', 3_000, 4_500),
      ...answer('p3', 3_005, 4_490),
    ];
  }

  it('is said in the evidence of that prompt, which stays completed and healthy; the next one says nothing of it', () => {
    const turns = classifySpans(cancelThenTwoPrompts(), { now: T0 + 60_000 }).turns;
    const byId = (turnId: string) => turns.find((t) => t.turnId === turnId)!;
    expect(byId('p1')).toMatchObject({ status: 'interrupted', verdict: 'healthy' });
    expect(byId('p2')).toMatchObject({ status: 'completed', verdict: 'healthy' });
    expect(byId('p2').evidence).toContain(
      "the agent answered this prompt end_turn with nothing in 7 ms, right after the session's previous prompt was cancelled (at 10:00:01.230): claude-agent-acp 0.23 answers a cancelled turn's successor so, before its model request is sent; the real answer arrives under the next prompt",
    );
    for (const turnId of ['p1', 'p3']) expect(byId(turnId).evidence.join('\n')).not.toMatch(/with nothing/);
  });

  it('is not said when the previous prompt completed, or when the empty answer took longer than a model request could', () => {
    const afterCompleted = classifySpans([prompt('p1', 0, 1_000), ...answer('p1', 100, 900), prompt('p2', 2_000, 2_007)], { now: T0 + 60_000 }).turns;
    const slow = classifySpans([prompt('p1', 0, 1_230, 'cancelled'), prompt('p2', 2_000, 4_500)], { now: T0 + 60_000 }).turns;
    for (const turn of [...afterCompleted, ...slow]) expect(turn.evidence.join('\n')).not.toMatch(/with nothing/);
  });
});
