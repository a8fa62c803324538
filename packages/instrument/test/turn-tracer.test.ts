import { describe, expect, it } from 'vitest';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import {
  ATTR_PHASE_KIND, ATTR_RENDERER_ID, ATTR_SOURCE, ATTR_THREAD_ID, ATTR_TURN_ID, ATTR_TURN_STATUS, PHASE_TURN, PHASE_TURN_ACCEPTED,
  PHASE_UPSTREAM_ATTEMPT, PHASE_UPSTREAM_HEADERS, PHASE_UPSTREAM_REQUEST_SENT,
} from '@stall-why/conventions';
import { TurnTracer } from '@stall-why/instrument';

function setup() {
  const exporter = new InMemorySpanExporter();
  const started: string[] = [];
  const onStart: SpanProcessor = {
    onStart: (span) => { started.push((span as unknown as ReadableSpan).name); },
    onEnd: () => {}, forceFlush: async () => {}, shutdown: async () => {},
  };
  const provider = new BasicTracerProvider({ spanProcessors: [onStart, new SimpleSpanProcessor(exporter)] });
  return { exporter, started, turns: new TurnTracer({ tracer: provider.getTracer('test') }) };
}

describe('TurnTracer', () => {
  it('hands an open turn span to processors at start and ends it with its status', () => {
    const { exporter, started, turns } = setup();
    const turn = turns.startTurn({ threadId: 'th1', turnId: 'tu1' });
    turn.accepted();
    const attempt = turn.startAttempt();
    attempt.requestSent();
    attempt.headers(200);
    expect(started).toEqual([PHASE_TURN, PHASE_TURN_ACCEPTED, PHASE_UPSTREAM_ATTEMPT, PHASE_UPSTREAM_REQUEST_SENT, PHASE_UPSTREAM_HEADERS]);
    // Still stuck: only the point phases have ended.
    expect(exporter.getFinishedSpans().map((s) => s.name)).toEqual([PHASE_TURN_ACCEPTED, PHASE_UPSTREAM_REQUEST_SENT, PHASE_UPSTREAM_HEADERS]);
    attempt.streamEnd();
    turn.endTurn('completed');
    const turnSpan = exporter.getFinishedSpans().find((s) => s.name === PHASE_TURN)!;
    expect(turnSpan.attributes[ATTR_TURN_STATUS]).toBe('completed');
    expect(turnSpan.attributes[ATTR_THREAD_ID]).toBe('th1');
    expect(turnSpan.attributes[ATTR_TURN_ID]).toBe('tu1');
    const accepted = exporter.getFinishedSpans().find((s) => s.name === PHASE_TURN_ACCEPTED)!;
    expect(accepted.attributes[ATTR_PHASE_KIND]).toBe('point');
    expect(accepted.parentSpanContext?.spanId).toBe(turnSpan.spanContext().spanId);
  });
});

describe('TurnHandle.identify', () => {
  it('names a turn opened before its id was known, on the span and on later phases', () => {
    const { exporter, turns } = setup();
    const turn = turns.startTurn({ threadId: 'th1' });
    const before = turn.startAttempt();
    turn.identify({ turnId: 'tu9' });
    const after = turn.startAttempt();
    before.streamEnd();
    after.streamEnd();
    turn.endTurn('completed');
    const spans = exporter.getFinishedSpans();
    const attempts = spans.filter((s) => s.name === PHASE_UPSTREAM_ATTEMPT);
    expect(attempts.map((s) => s.attributes[ATTR_TURN_ID])).toEqual([undefined, 'tu9']);
    const turnSpan = spans.find((s) => s.name === PHASE_TURN)!;
    expect(turnSpan.attributes[ATTR_TURN_ID]).toBe('tu9');
    expect(turnSpan.attributes[ATTR_THREAD_ID]).toBe('th1');
    expect(turn.turnId).toBe('tu9');
  });

  it('puts the phase attributes first, in a fixed order, as a spread of the caller\'s attributes over them would', () => {
    const { exporter, turns } = setup();
    // The caller's thread id replaces the ids' (in its place), an undefined one removes the turn id,
    // secrets and nulls are left out, strings are bounded; the caller's other keys follow in their order.
    turns.point('test.point', { threadId: 'from-ids', turnId: 'turn-1' }, {
      attributes: { zeta: 1, [ATTR_THREAD_ID]: 'from-caller', authorization: 'Bearer abc', [ATTR_TURN_ID]: undefined, alpha: null, '7': 'a b '.repeat(500), [ATTR_RENDERER_ID]: 'r' },
    });
    turns.rendererAttached('tty-1', { threadId: 'th', attributes: { [ATTR_SOURCE]: 'custom' } });
    const [point, attached] = exporter.getFinishedSpans();
    expect(Object.keys(point!.attributes)).toEqual(['7', ATTR_PHASE_KIND, ATTR_SOURCE, ATTR_THREAD_ID, 'zeta', ATTR_RENDERER_ID]);
    expect(point!.attributes[ATTR_THREAD_ID]).toBe('from-caller');
    expect(point!.attributes['7']).toBe(`${'a b '.repeat(256)}…[truncated len=2000]`);
    expect(attached!.attributes).toEqual({ [ATTR_PHASE_KIND]: 'point', [ATTR_SOURCE]: 'custom', [ATTR_THREAD_ID]: 'th', [ATTR_RENDERER_ID]: 'tty-1' });
    expect(Object.keys(attached!.attributes)).toEqual([ATTR_PHASE_KIND, ATTR_SOURCE, ATTR_THREAD_ID, ATTR_RENDERER_ID]);
  });
});
