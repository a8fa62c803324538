// Turns with no tracer provider to go to are the first hour's most likely mistake (a provider made
// and never registered or passed): the first turn says so once, as a process warning.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

/** Runs `body` as an ES module (with TurnTracer and the SDK imported) and returns its stderr. */
function stderrOf(body: string): string {
  const script = `
    import { trace } from '@opentelemetry/api';
    import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
    import { TurnTracer } from '@stall-why/instrument';
    ${body}`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: import.meta.dirname, encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return r.stderr;
}

describe('turns that go to no tracer provider', () => {
  it('warn once per process, naming the fix', () => {
    const stderr = stderrOf(`
      for (let i = 0; i < 3; i++) new TurnTracer().startTurn({ turnId: 't' + i }).endTurn('completed');`);
    const warnings = stderr.split('\n').filter((l) => l.includes('STALL_WHY_NO_TRACER_PROVIDER'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('stall-why: turn spans go nowhere: no OpenTelemetry tracer provider is registered');
    expect(warnings[0]).toContain('pass { tracerProvider }');
  });

  it('do not warn with a provider passed, registered globally, or sampling a turn out', () => {
    expect(stderrOf(`
      const exporter = new InMemorySpanExporter();
      const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
      new TurnTracer({ tracerProvider: provider }).startTurn({ turnId: 't1' }).endTurn('completed');
      if (exporter.getFinishedSpans().length !== 1) throw new Error('the passed provider got no turn');
      trace.setGlobalTracerProvider(new BasicTracerProvider({ sampler: { shouldSample: () => ({ decision: 0 }), toString: () => 'off' } }));
      new TurnTracer().startTurn({ turnId: 't2' }).endTurn('completed');`)).toBe('');
  });
});
