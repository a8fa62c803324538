/**
 * Every importer on real recordings: the example app-server's OTLP JSON lines re-encoded the other
 * ways OTLP JSON comes (one pretty-printed document, base64 ids, number nanoseconds), its flight
 * recording, a Chrome trace carrying the spans back, and Codex rollouts bloated past the parse limit.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyzeTraces, detectFormat, type Report } from '@stall-why/classifier';
import { CHROME_ARG_SPAN } from '@stall-why/conventions';
import { afterAll, describe, expect, it } from 'vitest';

const corpus = join(import.meta.dirname, '../corpus');
const recorded = JSON.parse(readFileSync(join(corpus, 'example/recorded.json'), 'utf8')) as Record<string, { liveAt?: number; otlpEndedAt: number }>;
const thresholds = { stuckAfterMs: 1000, slowPhaseMs: 1000, slowHydrationMs: 500 };
const dir = mkdtempSync(join(tmpdir(), 'stall-why-importers-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const verdicts = (r: Report) => r.turns.map((t) => ({ turnId: t.turnId, threadId: t.threadId, status: t.status, verdict: t.verdict, evidence: t.evidence }));

type Json = Record<string, any>;
function mapSpans(request: Json, f: (span: Json) => Json): Json {
  return { resourceSpans: request.resourceSpans.map((rs: Json) => ({ ...rs, scopeSpans: rs.scopeSpans.map((ss: Json) => ({ ...ss, spans: ss.spans.map(f) })) })) };
}
const b64 = (hex: string) => Buffer.from(hex, 'hex').toString('base64');

describe('OTLP JSON', () => {
  const source = join(corpus, 'example/dropped-connections.otlp.jsonl');
  const now = recorded['dropped-connections']!.otlpEndedAt;
  const lines = readFileSync(source, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Json);

  it('reads the same turns from JSON lines, one pretty document, base64 ids and number nanos', async () => {
    const reference = await analyzeTraces([source], { now, thresholds });
    expect(reference.report.turns[0]).toMatchObject({ verdict: 'transport_retry' });
    const merged = { resourceSpans: lines.flatMap((l) => l.resourceSpans) };
    const pretty = join(dir, 'pretty.json');
    writeFileSync(pretty, JSON.stringify(merged, null, 2));
    const base64 = join(dir, 'base64.json');
    writeFileSync(base64, lines.map((l) => JSON.stringify(mapSpans(l, (s) => ({
      ...s,
      traceId: b64(s.traceId),
      spanId: b64(s.spanId),
      ...(s.parentSpanId ? { parentSpanId: b64(s.parentSpanId) } : {}),
      startTimeUnixNano: Number(s.startTimeUnixNano),
      endTimeUnixNano: Number(s.endTimeUnixNano),
      kind: 'SPAN_KIND_INTERNAL',
    })))).join('\n'));
    for (const file of [pretty, base64]) {
      const got = await analyzeTraces([file], { now, thresholds });
      expect(got.report.sources[0]!.format).toBe('otlp-json');
      expect(got.report.sources[0]!.spans).toBe(reference.report.sources[0]!.spans);
      expect(verdicts(got.report)).toEqual(verdicts(reference.report));
    }
  });
});

describe('flight recorder and Chrome round trip', () => {
  it('reads a live flight recording (open spans) and reads it back from a Chrome trace', async () => {
    const live = join(corpus, 'example/unanswered-approval.live.flight');
    const now = recorded['unanswered-approval']!.liveAt!;
    const original = await analyzeTraces([live], { now, thresholds });
    expect(original.report.sources[0]!.format).toBe('flight-recorder');
    expect(original.report.turns[0]).toMatchObject({ status: 'stuck', verdict: 'awaiting_approval' });
    expect(original.spans.some((s) => s.endTimeMs === undefined)).toBe(true);
    const events = [
      { ph: 'M', name: 'process_name', pid: 1, tid: 0, args: { name: 'example' } },
      ...original.spans.map((span) => ({
        ph: span.endTimeMs === undefined || span.endTimeMs > span.startTimeMs ? 'X' : 'i',
        name: span.name,
        pid: 1,
        tid: 1,
        ts: span.startTimeMs * 1000,
        ...(span.endTimeMs !== undefined ? { dur: (span.endTimeMs - span.startTimeMs) * 1000 } : { dur: (now - span.startTimeMs) * 1000 }),
        args: { [CHROME_ARG_SPAN]: span },
      })),
    ];
    const chrome = join(dir, 'trace.json');
    writeFileSync(chrome, JSON.stringify({ traceEvents: events, displayTimeUnit: 'ms' }));
    const back = await analyzeTraces([chrome], { now, thresholds });
    expect(back.report.sources[0]).toMatchObject({ format: 'chrome-trace', spans: original.spans.length, skipped: 1 });
    expect(verdicts(back.report)).toEqual(verdicts(original.report));
  });
});

describe('Codex rollouts', () => {
  it('maps a rollout bloated with inline images and long tool output without parsing the payloads', async () => {
    const lines = readFileSync(join(corpus, 'codex/healthy_tool.rollout.jsonl'), 'utf8').split('\n').filter(Boolean);
    const image = `data:image/png;base64,${Buffer.alloc(3 * 1024 * 1024, 7).toString('base64')}`;
    const bloated = lines.flatMap((line) => {
      const o = JSON.parse(line) as Json;
      if (o.type === 'response_item' && o.payload.type === 'function_call_output') o.payload.output = 'x'.repeat(2 * 1024 * 1024);
      const out = [JSON.stringify(o)];
      if (o.type === 'response_item' && o.payload.type === 'message' && o.payload.role === 'user') {
        out.push(JSON.stringify({ ...o, payload: { ...o.payload, id: 'img', content: [{ type: 'input_image', image_url: image }] } }));
      }
      return out;
    });
    const file = join(dir, 'rollout-bloated.jsonl');
    writeFileSync(file, bloated.join('\n') + '\n');
    const small = await analyzeTraces([join(corpus, 'codex/healthy_tool.rollout.jsonl')], { now: Date.parse('2027-01-01T00:00:00Z') });
    const big = await analyzeTraces([file], { now: Date.parse('2027-01-01T00:00:00Z') });
    expect(verdicts(big.report)).toEqual(verdicts(small.report));
    const tool = big.report.turns[0]!.phases.find((p) => p.name === 'stall_why.tool.call');
    expect(tool?.endMs).not.toBeNull();
  });

  it('says what a rollout cannot show', async () => {
    const entry = join(corpus, 'codex/tool_no_continuation.rollout.jsonl');
    const { report } = await analyzeTraces([entry], { now: Date.parse('2026-11-25T04:50:00Z') });
    const turn = report.turns[0]!;
    expect(turn.verdict).toBe('post_tool_continuation_lost');
    expect(turn.evidence.join('\n')).toMatch(/whether the continuation was requested cannot be seen/);
    expect(turn.evidence.join('\n')).toMatch(/no upstream request timings or retries, no renderer; approvals only where the rollout shows them, and items written only once finished/);
  });
});

describe('detectFormat', () => {
  const bytes = (s: string) => new TextEncoder().encode(s);
  it('tells formats apart by content', () => {
    expect(detectFormat(bytes('{"timestamp":"2026-11-24T15:07:08.368Z","ordinal":0,"type":"session_meta","payload":{}}'))).toBe('codex-rollout');
    expect(detectFormat(bytes('{"timestamp":"2025-01-01T00:00:00Z","type":"event_msg","payload":{}}'))).toBe('codex-rollout');
    expect(detectFormat(bytes('{\n  "resourceSpans": [\n'))).toBe('otlp-json');
    expect(detectFormat(bytes('{"traceEvents":[{"ph":"X"}]}'))).toBe('chrome-trace');
    expect(detectFormat(bytes('[{"name":"a","ph":"X","ts":1}]'))).toBe('chrome-trace');
    expect(detectFormat(bytes('{"name":"x"}'))).toBeUndefined();
    expect(detectFormat(bytes(''))).toBeUndefined();
    expect(detectFormat(new Uint8Array([0, 1, 2, 255]))).toBeUndefined();
  });
});
