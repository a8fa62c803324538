/**
 * The rules through the pure entry point, on spans recorded from the example app-server's flight
 * recorder (test/corpus/example): each verdict with the evidence it must cite, at a fixed moment.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { classifySpans, type Report } from '@stall-why/classifier';
import { readFlightRecords, type RecordedSpan } from '@stall-why/flight-record';
import { describe, expect, it } from 'vitest';

const example = join(import.meta.dirname, '../../../test/corpus/example');
const recorded = JSON.parse(readFileSync(join(example, 'recorded.json'), 'utf8')) as Record<string, { liveAt: number }>;
const thresholds = { stuckAfterMs: 1000, slowPhaseMs: 1000, slowHydrationMs: 500 };

async function spansOf(stall: string): Promise<RecordedSpan[]> {
  const spans: RecordedSpan[] = [];
  for await (const r of readFlightRecords(join(example, `${stall}.live.flight`))) spans.push(r.span);
  return spans;
}

async function judge(stall: string, at?: number): Promise<Report['turns'][number]> {
  const report = classifySpans(await spansOf(stall), { now: at ?? recorded[stall]!.liveAt, thresholds });
  expect(report.turns).toHaveLength(1);
  return report.turns[0]!;
}

const CLOCK = /\d\d:\d\d:\d\d\.\d{3}/;

describe('rules on recorded spans', () => {
  it('backend_stall: the open attempt, its headers time and the silence since', async () => {
    const t = await judge('backend-silent');
    expect(t).toMatchObject({ status: 'stuck', verdict: 'backend_stall' });
    expect(t.evidence[0]).toMatch(/model request \(upstream attempt #1\) sent .* ago at \d\d:\d\d:\d\d\.\d{3}, headers at \d\d:\d\d:\d\d\.\d{3} \(HTTP 200\), no body byte since/);
    expect(t.stuckForMs).toBeGreaterThanOrEqual(1000);
  });

  it('backend_stall before headers', async () => {
    const t = await judge('backend-silent-before-headers');
    expect(t.evidence[0]).toMatch(/no response headers/);
  });

  it('transport_retry: the failed attempts, listed with times', async () => {
    const t = await judge('dropped-connections');
    expect(t.verdict).toBe('transport_retry');
    expect(t.evidence.join('\n')).toMatch(/failed (before response headers|mid-stream)/);
    expect(t.evidence[0]).toMatch(CLOCK);
  });

  it('compaction, hydration, tool_running, awaiting_approval: the open phase and how long', async () => {
    expect((await judge('slow-compaction')).evidence[0]).toMatch(/^context compaction started at .*, open for .*, not completed$/);
    expect((await judge('slow-history-load')).evidence[0]).toMatch(/^history load \(resume\).* started at .*, open for/);
    expect((await judge('tool-running')).evidence[0]).toMatch(/^tool call .* started at .*, open for .*, no result$/);
    expect((await judge('unanswered-approval')).evidence[0]).toMatch(/^approval request.* started at .*, no answer$/);
  });

  it('post_tool_continuation_lost: the tool result and nothing after it', async () => {
    const t = await judge('tool-no-continuation');
    expect(t.verdict).toBe('post_tool_continuation_lost');
    expect(t.evidence[0]).toMatch(/returned its result .* ago at .*; no continuation request, upstream attempt or model output since/);
  });

  it('renderer_detached: which renderer left and when, and that the backend is alive', async () => {
    const t = await judge('client-gone');
    expect(t.verdict).toBe('renderer_detached');
    expect(t.evidence[0]).toMatch(/^renderer .* detached at .* \(closed\), no renderer attached since/);
    expect(t.evidence[1]).toMatch(/backend turn is still open/);
  });

  it('a turn judged before anything happened is not reported; judged early it is in progress, named by what it waits on', async () => {
    const spans = await spansOf('backend-silent');
    const first = Math.min(...spans.map((s) => s.startTimeMs));
    expect(classifySpans(spans, { now: first - 1000, thresholds }).turns).toHaveLength(0);
    const early = classifySpans(spans, { now: recorded['backend-silent']!.liveAt, thresholds: { stuckAfterMs: 60_000 } }).turns[0]!;
    // Six seconds into a silent request: not "healthy", the wait is named from its first millisecond.
    expect(early).toMatchObject({ status: 'in_progress', verdict: 'backend_stall' });
    expect(early.evidence.join('\n')).toMatch(/no body byte since|no response headers/);
    expect(early.evidence.join('\n')).toMatch(/in progress: stuck after 1m 0s|in progress: stuck after 60/);
  });

  it('waterfall phases in start order, open ones with endMs null', async () => {
    const t = await judge('tool-running');
    const starts = t.phases.map((p) => p.startMs);
    expect(starts).toEqual([...starts].sort((a, b) => a - b));
    expect(t.phases.some((p) => p.endMs === null && p.name === 'stall_why.tool.call')).toBe(true);
    expect(t.phases[0]!.depth).toBe(0);
  });
});
