/** A provider's error text with a key in it is recorded without the key (every adapter records through the attribute limits). */
import { ATTR_TURN_ERROR, PHASE_TURN } from '@stall-why/conventions';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { TurnTracer } from '@stall-why/instrument';
import { describe, expect, it } from 'vitest';

describe('credentials in recorded text', () => {
  it('a turn failed with "Incorrect API key provided: sk-…" is recorded with the key redacted', () => {
    const memory = new InMemorySpanExporter();
    const turns = new TurnTracer({ tracer: new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(memory)] }).getTracer('t') });
    const turn = turns.startTurn({ threadId: 'th', turnId: 'tu' });
    turn.endTurn('failed', { error: 'Incorrect API key provided: sk-proj-AbCdEf0123456789AbCdEf0123456789.' });
    const span = memory.getFinishedSpans().find((s) => s.name === PHASE_TURN)!;
    expect(span.attributes[ATTR_TURN_ERROR]).toBe('Incorrect API key provided: sk-…[redacted].');
  });
});
