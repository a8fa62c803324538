/**
 * Ended turns on spans recorded from the example app-server (test/corpus/ended: stalls of 8 s
 * released to their end; test/corpus/example: stalls of 4 s): the wait that dominated a turn is
 * named whatever its kind, a failed or interrupted turn by the wait it ended in, and a turn with no
 * dominant wait is healthy, with the share and times in the evidence.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyzeTraces, classifySpans, type Report, type Thresholds } from '@stall-why/classifier';
import { readFlightRecords, type RecordedSpan } from '@stall-why/flight-record';
import { describe, expect, it } from 'vitest';

const corpus = join(import.meta.dirname, '../../../test/corpus');
const ended = JSON.parse(readFileSync(join(corpus, 'ended/recorded.json'), 'utf8')) as Record<string, { endedAt: number }>;

async function spansOf(dir: string): Promise<RecordedSpan[]> {
  const spans: RecordedSpan[] = [];
  for await (const r of readFlightRecords(dir)) spans.push(r.span);
  return spans;
}

async function judgeEnded(stall: string, thresholds?: Partial<Thresholds>): Promise<Report['turns'][number]> {
  const report = classifySpans(await spansOf(join(corpus, `ended/${stall}.flight`)), { now: ended[stall]!.endedAt + 1000, thresholds });
  expect(report.turns).toHaveLength(1);
  return report.turns[0]!;
}

const CLOCK = /\d\d:\d\d:\d\d\.\d{3}/;

describe('ended turns: the wait that dominated', () => {
  it.each([
    ['tool-no-continuation', 'failed', 'post_tool_continuation_lost', /returned its result at .*; no continuation request, upstream attempt or model output for 8\.0 s$/],
    ['slow-compaction', 'completed', 'compaction', /^context compaction started at .*, open for 8\.0 s/],
    ['slow-history-load', 'completed', 'hydration', /^history load \(resume\).* open for 8\.0 s/],
    ['backend-silent', 'completed', 'backend_stall', /sent at .*, headers at .* \(HTTP 200\), no body byte for 8\.0 s$/],
    ['dropped-connections', 'completed', 'transport_retry', /failed attempts or retries since/],
  ])('%s: %s, %s, with its share of the turn and the replayed wait', async (stall, status, verdict, line) => {
    const t = await judgeEnded(stall);
    expect(t).toMatchObject({ status, verdict });
    expect(t.evidence[0]).toMatch(new RegExp(`^${verdict} took \\d+(\\.\\d)? s of the turn's .* \\(\\d+ %\\)`));
    expect(t.evidence[0]).toMatch(CLOCK);
    expect(t.evidence[1]).toMatch(line);
    // Replayed, not seen live: less sure than the live rule, more than a guess.
    expect(t.confidence).toBeGreaterThan(0.7);
    expect(t.confidence).toBeLessThan(0.9);
  });

  it('a tool that took most of a turn that completed is work, not a wait: healthy, with the tool time said', async () => {
    const t = await judgeEnded('tool-running');
    expect(t).toMatchObject({ status: 'completed', verdict: 'healthy' });
    expect(t.evidence).toContainEqual(expect.stringMatching(/^tools ran 8\.0 s of the turn's .* \(\d+ %\): work, not a wait/));
  });

  it('an approval nobody answered, then interrupted after 8 s: named by the wait it ended in', async () => {
    const t = await judgeEnded('unanswered-approval');
    expect(t).toMatchObject({ status: 'interrupted', verdict: 'awaiting_approval' });
    expect(t.evidence[0]).toMatch(/^the turn ended interrupted at .* after waiting 8\.0 s from .* on:$/);
    expect(t.evidence[1]).toMatch(/^approval request \(command\) started at .*, open for 8\.0 s until \d\d:\d\d:\d\d\.\d{3}; answered \(cancelled\) at \d\d:\d\d:\d\d\.\d{3}$/);
  });

  it('an app that closes the approval a little before the turn (a loaded machine): still the wait it ended in', async () => {
    const spans = await spansOf(join(corpus, 'ended/unanswered-approval.flight'));
    const turnEnd = spans.find((s) => s.name === 'stall_why.turn' && s.endTimeMs !== undefined)!.endTimeMs!;
    // Codex, shutting down on a busy machine, closed its approval 125 ms before the turn, a stream's break between.
    const closedEarly = (ms: number) => spans.map((s) => (s.name === 'stall_why.approval' && s.endTimeMs !== undefined ? { ...s, endTimeMs: turnEnd - ms } : s));
    const now = ended['unanswered-approval']!.endedAt + 1000;
    expect(classifySpans(closedEarly(300), { now }).turns[0]).toMatchObject({ status: 'interrupted', verdict: 'awaiting_approval' });
    // Work begun after the approval closed (a request sent): the approval was answered, not the ending.
    const answered = closedEarly(300);
    const sent = answered.find((s) => s.name === 'stall_why.upstream.request_sent')!;
    answered.push({ ...sent, spanId: 'feedfacefeedface', startTimeMs: turnEnd - 200, endTimeMs: turnEnd - 200 });
    expect(classifySpans(answered, { now }).turns[0]!.verdict).not.toBe('awaiting_approval');
  });

  it('the same turn, judged ten minutes after it ended, keeps its verdict', async () => {
    const spans = await spansOf(join(corpus, 'ended/unanswered-approval.flight'));
    const later = classifySpans(spans, { now: ended['unanswered-approval']!.endedAt + 600_000 }).turns[0]!;
    expect(later).toMatchObject({ status: 'interrupted', verdict: 'awaiting_approval' });
  });

  it('a dominant wait must also last slowPhaseMs: a short compaction that took most of a short turn is healthy, and says so', async () => {
    const t = await judgeEnded('slow-compaction', { slowPhaseMs: 60_000 });
    expect(t.verdict).toBe('healthy');
    expect(t.evidence[1]).toMatch(/^no wait dominated: the largest, compaction, took 8\.0 s of the turn's .* \(a cause takes at least 60 s and 50 %\)$/);
  });
});

describe('ended turns: failed or interrupted, named by the wait they ended in', () => {
  const example = JSON.parse(readFileSync(join(corpus, 'example/recorded.json'), 'utf8')) as Record<string, { otlpEndedAt: number }>;
  async function judgeShort(stall: string): Promise<Report['turns'][number]> {
    // The 4 s stalls of example/, default thresholds: below slowPhaseMs (5 s), so nothing dominates.
    const { report } = await analyzeTraces([join(corpus, `example/${stall}.otlp.jsonl`)], { now: example[stall]!.otlpEndedAt });
    return report.turns[0]!;
  }

  it('an approval nobody answered, then interrupted: awaiting_approval, less sure than a dominant wait', async () => {
    const t = await judgeShort('unanswered-approval');
    expect(t).toMatchObject({ status: 'interrupted', verdict: 'awaiting_approval' });
    expect(t.evidence[0]).toMatch(/^the turn ended interrupted at .* \(its ending began at .*\) after waiting 4\.0 s from .* \(\d+ % of its .*\) on:$/);
    expect(t.evidence[1]).toMatch(/^approval request/);
    expect(t.confidence).toBeLessThan(0.8);
  });

  it('a continuation never sent, then failed: post_tool_continuation_lost', async () => {
    const t = await judgeShort('tool-no-continuation');
    expect(t).toMatchObject({ status: 'failed', verdict: 'post_tool_continuation_lost' });
    expect(t.evidence[0]).toMatch(/^the turn ended failed at .* after waiting 4\.0 s/);
    expect(t.evidence.join('\n')).toMatch(/the server reported: continuation never started/);
  });

  it('--stuck-after does not change an ended turn: a completed 4 s compaction stays healthy at 1 s', async () => {
    const { report } = await analyzeTraces([join(corpus, 'example/slow-compaction.otlp.jsonl')], { now: example['slow-compaction']!.otlpEndedAt, thresholds: { stuckAfterMs: 1_000 } });
    expect(report.turns[0]).toMatchObject({ status: 'completed', verdict: 'healthy' });
    expect(report.turns[0]!.evidence.join('\n')).not.toMatch(/not completed/);
  });

  it('a completed turn whose wait stayed under slowPhaseMs is healthy', async () => {
    const t = await judgeShort('slow-compaction');
    expect(t).toMatchObject({ status: 'completed', verdict: 'healthy' });
    expect(t.evidence[1]).toMatch(/^no wait dominated: the largest, compaction, took 4\.0 s/);
  });
});
