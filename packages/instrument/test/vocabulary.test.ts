import { describe, expect, it } from 'vitest';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import * as conventions from '@stall-why/conventions';
import {
  ATTR_APPROVAL_DECISION, ATTR_APPROVAL_KIND, ATTR_APPROVAL_REQUEST_ID, ATTR_CANCEL_RESULT, ATTR_ERROR_TYPE,
  ATTR_GEN_AI_REQUEST_MODEL, ATTR_GEN_AI_TOOL_CALL_ID, ATTR_GEN_AI_TOOL_NAME, ATTR_HTTP_REQUEST_METHOD, ATTR_HYDRATION_BYTES,
  ATTR_HYDRATION_ITEMS, ATTR_ITEM_ID, ATTR_ITEM_STATUS, ATTR_ITEM_TYPE, ATTR_PHASE_KIND, ATTR_RENDERER_REASON,
  ATTR_SERVER_ADDRESS, ATTR_SERVER_PORT, ATTR_SOURCE, ATTR_THREAD_ID, ATTR_TOOL_EXIT_CODE, ATTR_TOOL_KIND,
  ATTR_TURN_ERROR, ATTR_TURN_ID, ATTR_UPSTREAM_BYTES, ATTR_UPSTREAM_EVENTS, ATTR_URL_PATH, PHASES,
  PHASE_APPROVAL, PHASE_COMPACTION, PHASE_CONTINUATION_REQUESTED, PHASE_FIRST_ASSISTANT_ITEM, PHASE_FIRST_REASONING_ITEM,
  PHASE_FIRST_TOOL_ITEM, PHASE_ITEM, PHASE_TOOL_CALL, PHASE_TURN, PHASE_TURN_ERROR, PHASE_UPSTREAM_ATTEMPT,
  PHASE_UPSTREAM_RETRY, RETRY_REASON_STREAM_DISCONNECTED, SOURCE_API,
} from '@stall-why/conventions';
import { TurnTracer } from '@stall-why/instrument';
import { captureSpans } from './span-capture.js';

/**
 * Drives one turn through the public TurnTracer API that meets every phase of the vocabulary,
 * leaving the approval and the turn open (a turn stuck on a person), then checks each phase
 * against its descriptor in PHASES.
 */
function emitEveryPhase(turns: TurnTracer) {
  const threadId = 'thread-1';
  const hydration = turns.startHydration({ threadId, trigger: 'resume' });
  hydration.end({ attributes: { [ATTR_HYDRATION_BYTES]: 35_000, [ATTR_HYDRATION_ITEMS]: 12 } });
  const turn = turns.startTurn({ threadId, turnId: 'turn-1', attributes: { [conventions.ATTR_TURN_KIND]: conventions.TURN_KIND_USER, [conventions.ATTR_THREAD_PARENT_ID]: 'thread-0', [conventions.ATTR_AGENT_NAME]: 'Sagan' } });
  turns.rendererAttached('tty-1', { threadId, turnId: 'turn-1' });
  turn.accepted();
  const upstream = { [ATTR_HTTP_REQUEST_METHOD]: 'POST', [ATTR_SERVER_ADDRESS]: '127.0.0.1', [ATTR_SERVER_PORT]: 8080, [ATTR_URL_PATH]: '/v1/responses', [ATTR_GEN_AI_REQUEST_MODEL]: 'gpt-fake' };
  const first = turn.startAttempt({ attributes: upstream });
  first.requestSent().headers(429, { attributes: { [conventions.ATTR_RETRY_DELAY_MS]: 2000 } }).firstByte();
  first.streamError('UND_ERR_SOCKET');
  turn.retry({ reason: RETRY_REASON_STREAM_DISCONNECTED, attempt: 1, max: 3, delayMs: 200, errorType: 'UND_ERR_SOCKET' });
  const second = turn.startAttempt({ attributes: upstream });
  second.requestSent().headers(200).firstByte().firstEvent();
  turn.mark(PHASE_FIRST_REASONING_ITEM);
  turn.mark(PHASE_FIRST_ASSISTANT_ITEM);
  turn.mark(PHASE_FIRST_TOOL_ITEM);
  const item = turn.startPhase(PHASE_ITEM, { attributes: { [ATTR_ITEM_TYPE]: 'commandExecution', [ATTR_ITEM_ID]: 'item-1' } });
  second.streamProgress({ attributes: { [ATTR_UPSTREAM_EVENTS]: 5, [ATTR_UPSTREAM_BYTES]: 600 } });
  second.streamEnd({ attributes: { [ATTR_UPSTREAM_EVENTS]: 7, [ATTR_UPSTREAM_BYTES]: 900 } });
  const tool = turn.startPhase(PHASE_TOOL_CALL, { attributes: { [ATTR_GEN_AI_TOOL_NAME]: 'exec_command', [ATTR_GEN_AI_TOOL_CALL_ID]: 'call_1', [ATTR_TOOL_KIND]: 'function_call' } });
  tool.end({ attributes: { [ATTR_TOOL_EXIT_CODE]: 0 } });
  item.mark(conventions.PHASE_ITEM_PROGRESS, { attributes: { [ATTR_ITEM_ID]: 'item-1' } });
  item.end({ attributes: { [ATTR_ITEM_STATUS]: 'completed' } });
  turn.mark(PHASE_CONTINUATION_REQUESTED);
  // An attempt whose stream the instrumentation does not see (a WebSocket it sees sent and completed only).
  turn.startAttempt({ attempt: 1, continuation: true, attributes: { ...upstream, [conventions.ATTR_UPSTREAM_STREAM_UNSEEN]: true } }).requestSent().streamEnd();
  turn.startPhase(PHASE_COMPACTION).end();
  const cancel = turn.startCancel();
  cancel.end({ attributes: { [ATTR_CANCEL_RESULT]: 'still_running' } });
  turn.mark(PHASE_TURN_ERROR, {
    attributes: { [ATTR_ERROR_TYPE]: 'internalServerError', [ATTR_TURN_ERROR]: 'high demand', [conventions.ATTR_RETRY_REASON]: conventions.RETRY_REASON_HTTP_STATUS },
  });
  const approval = turn.startPhase(PHASE_APPROVAL, { attributes: { [ATTR_APPROVAL_KIND]: 'command', [ATTR_APPROVAL_REQUEST_ID]: '42' } });
  turns.rendererDetached('tty-1', { threadId, turnId: 'turn-1', attributes: { [ATTR_RENDERER_REASON]: 'eof' } });
  turns.writerStopped(conventions.WRITER_STOP_REASON_SERVER_EXIT, { exitCode: 1, signal: 'SIGKILL', pid: 4242 });
  return { turn, approval };
}

describe('the phase vocabulary through the public TurnTracer API', () => {
  it('emits every phase in PHASES with its documented name, kind and attributes', () => {
    const capture = captureSpans();
    emitEveryPhase(new TurnTracer({ tracer: capture.provider.getTracer('vocabulary') }));
    for (const phase of PHASES) {
      const spans = capture.named(phase.name);
      expect(spans.length, phase.name).toBeGreaterThan(0);
      for (const span of spans) {
        expect(span.attributes[ATTR_PHASE_KIND], phase.name).toBe(phase.kind);
        expect(span.attributes[ATTR_SOURCE]).toBe(SOURCE_API);
        // The writer's stop belongs to no thread: it ends every open turn of its recording.
        if (phase.name === conventions.PHASE_WRITER_STOPPED) continue;
        expect(span.attributes[ATTR_THREAD_ID]).toBe('thread-1');
        if (phase.name !== conventions.PHASE_THREAD_HYDRATION) expect(span.attributes[ATTR_TURN_ID]).toBe('turn-1');
        if (phase.kind === 'point') {
          expect(span.ended, phase.name).toBe(true);
          expect(span.duration).toEqual([0, 0]);
        }
      }
    }
    // Each attribute a descriptor lists is carried by at least one span of that phase, except the
    // ones this turn has no reason to set (the turn is still open, so it has no status yet).
    const notMet = new Set([`${PHASE_TURN} ${conventions.ATTR_TURN_STATUS}`, `${PHASE_TURN} ${ATTR_TURN_ERROR}`, `${PHASE_TURN} ${conventions.ATTR_TURN_STOP_REASON}`, `${PHASE_APPROVAL} ${ATTR_APPROVAL_DECISION}`]);
    for (const phase of PHASES) {
      for (const key of phase.attributes) {
        if (notMet.has(`${phase.name} ${key}`)) continue;
        const carried = capture.named(phase.name).some((span: ReadableSpan) => span.attributes[key] !== undefined);
        expect(carried, `${phase.name} carries ${key}`).toBe(true);
      }
    }
  });

  it('hands open phases to processors at start and reads them back ended with their values', () => {
    const capture = captureSpans();
    const { turn, approval } = emitEveryPhase(new TurnTracer({ tracer: capture.provider.getTracer('vocabulary') }));
    expect(capture.open().map((s) => s.name).sort()).toEqual([PHASE_APPROVAL, PHASE_TURN].sort());
    expect(capture.finished().some((s) => s.name === PHASE_TURN)).toBe(false);

    const attempts = capture.named(PHASE_UPSTREAM_ATTEMPT);
    expect(attempts.map((s) => s.attributes[conventions.ATTR_UPSTREAM_ATTEMPT])).toEqual([1, 2, 1]);
    expect(attempts.map((s) => s.attributes[conventions.ATTR_HTTP_REQUEST_RESEND_COUNT])).toEqual([0, 1, 0]);
    expect(attempts[0].attributes[ATTR_ERROR_TYPE]).toBe('UND_ERR_SOCKET');
    expect(attempts[0].status.code).toBe(2);
    expect(attempts[2].attributes[conventions.ATTR_UPSTREAM_CONTINUATION]).toBe(true);
    const retry = capture.one(PHASE_UPSTREAM_RETRY);
    expect(retry.attributes).toMatchObject({ [conventions.ATTR_RETRY_REASON]: 'stream_disconnected', [conventions.ATTR_RETRY_DELAY_MS]: 200, [conventions.ATTR_RETRY_WILL_RETRY]: true });

    approval.end({ attributes: { [ATTR_APPROVAL_DECISION]: 'approved' } });
    turn.endTurn('failed', { error: 'stream disconnected' });
    expect(capture.open()).toEqual([]);
    const ended = capture.finished().find((s) => s.name === PHASE_TURN)!;
    expect(ended.attributes[conventions.ATTR_TURN_STATUS]).toBe('failed');
    expect(ended.attributes[ATTR_TURN_ERROR]).toBe('stream disconnected');
    expect(ended.status.code).toBe(2);
    expect(capture.finished().find((s) => s.name === PHASE_APPROVAL)!.attributes[ATTR_APPROVAL_DECISION]).toBe('approved');
    // Phases nest under the turn: the first attempt's milestones are children of the attempt.
    const sent = capture.named(conventions.PHASE_UPSTREAM_REQUEST_SENT)[0];
    expect(sent.parentSpanContext?.spanId).toBe(attempts[0].spanContext().spanId);
    expect(attempts[0].parentSpanContext?.spanId).toBe(ended.spanContext().spanId);
  });

  it('ends a turn once: a second endTurn does not change its status', () => {
    const capture = captureSpans();
    const turn = new TurnTracer({ tracer: capture.provider.getTracer('t') }).startTurn({ turnId: 'x' });
    turn.endTurn('interrupted');
    turn.endTurn('completed');
    expect(capture.one(PHASE_TURN).attributes[conventions.ATTR_TURN_STATUS]).toBe('interrupted');
  });
});
