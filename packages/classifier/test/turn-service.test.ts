/**
 * A report names the service each turn ran in (`service.name` of its spans' resource), so verdicts
 * can be counted per service. The recordings are the example app-server's (test/corpus/example) and
 * the real Codex app-server's rollout (test/corpus/codex), which has no resource.
 */
import { join } from 'node:path';
import { analyzeTraces, classifySpans } from '@stall-why/classifier';
import { ATTR_SERVICE_NAME, ATTR_THREAD_ID, ATTR_TURN_ID, PHASE_TURN } from '@stall-why/conventions';
import { describe, expect, it } from 'vitest';

const corpus = join(import.meta.dirname, '..', '..', '..', 'test', 'corpus');

describe('TurnReport.service', () => {
  it('is the service.name of the spans, live from a flight recorder and after the turn ended from OTLP JSON', async () => {
    for (const input of ['example/tool-running.live.flight', 'example/tool-running.otlp.jsonl']) {
      const { report } = await analyzeTraces([join(corpus, input)]);
      expect(report.turns.map((t) => t.service), input).toEqual(['stall-why-example-app-server']);
    }
  });

  it('is absent when no span carries a resource (a Codex rollout)', async () => {
    const { report } = await analyzeTraces([join(corpus, 'codex', 'approval.rollout.jsonl')]);
    expect(report.turns.length).toBeGreaterThan(0);
    for (const turn of report.turns) expect(turn).not.toHaveProperty('service');
  });

  it("takes the turn span's service before its children's", () => {
    const attributes = { [ATTR_THREAD_ID]: 'th', [ATTR_TURN_ID]: 'tu' };
    const child = { traceId: 'a'.repeat(32), spanId: '2'.repeat(16), parentSpanId: '1'.repeat(16), name: 'stall_why.upstream.attempt', startTimeMs: 1_000, attributes, resource: { [ATTR_SERVICE_NAME]: 'proxy' } };
    const turn = { traceId: 'a'.repeat(32), spanId: '1'.repeat(16), name: PHASE_TURN, startTimeMs: 900, attributes, resource: { [ATTR_SERVICE_NAME]: 'app-server' } };
    expect(classifySpans([child, turn], { now: 2_000 }).turns[0]!.service).toBe('app-server');
  });
});
