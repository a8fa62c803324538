/**
 * Codex's remote compaction in its log export: a `codex.api_request` to `/responses/compact` (seen in
 * a public Codex 0.139 log, mid-turn), logged when the compacted history comes back in one JSON body,
 * `duration_ms` after it was asked for. Made from the real capture of a tool turn
 * (test/corpus/codex-otel/tool.logs.otlp.jsonl, Codex 0.169): after the tool result, a 29 s remote
 * compaction, then the continuation as captured, and a next prompt that ends the turn (Codex logs no
 * turn end).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyzeTraces } from '@stall-why/classifier';
import { afterAll, describe, expect, it } from 'vitest';

const capture = join(import.meta.dirname, '../../../test/corpus/codex-otel/tool.logs.otlp.jsonl');
const dir = mkdtempSync(join(tmpdir(), 'stall-why-compact-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface LogRecord {
  observedTimeUnixNano: string;
  attributes: Array<{ key: string; value: Record<string, unknown> }>;
}
type Batch = { resourceLogs: Array<{ scopeLogs: Array<{ logRecords: LogRecord[] }> }> };

const COMPACTION_MS = 29_000;
const eventName = (r: LogRecord): unknown => r.attributes.find((a) => a.key === 'event.name')?.value.stringValue;
const nanos = (r: LogRecord): bigint => BigInt(r.observedTimeUnixNano);
const later = (r: LogRecord, ms: number): LogRecord => ({ ...r, observedTimeUnixNano: (nanos(r) + BigInt(ms) * 1_000_000n).toString() });
const withAttribute = (r: LogRecord, key: string, value: string): LogRecord => ({ ...r, attributes: r.attributes.map((a) => (a.key === key ? { key, value: { stringValue: value } } : a)) });

/** The capture with a remote compaction after the tool result: every later record 30 s later, and a next prompt. */
function withRemoteCompaction(): { path: string; resultMs: number; endMs: number } {
  const batches = readFileSync(capture, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Batch);
  const records = batches.flatMap((b) => b.resourceLogs.flatMap((r) => r.scopeLogs.flatMap((s) => s.logRecords)));
  const result = records.find((r) => eventName(r) === 'codex.tool_result')!;
  const request = records.find((r) => eventName(r) === 'codex.api_request')!;
  const prompt = records.find((r) => eventName(r) === 'codex.user_prompt')!;
  // The request record of the capture, as the compaction's: its time 30 s after the tool result.
  const compaction = withAttribute(withAttribute({ ...request, observedTimeUnixNano: later(result, 30_000).observedTimeUnixNano }, 'duration_ms', String(COMPACTION_MS)), 'endpoint', '/responses/compact');
  const after = records.filter((r) => nanos(r) > nanos(result)).map((r) => later(r, 30_000));
  const last = after.reduce((a, r) => (nanos(r) > nanos(a) ? r : a));
  // The next turn's prompt: a trace of its own.
  const next = later({ ...prompt, observedTimeUnixNano: last.observedTimeUnixNano, traceId: 'f'.repeat(32), spanId: 'f'.repeat(16) } as LogRecord, 5_000);
  const kept = records.filter((r) => nanos(r) <= nanos(result)).concat(compaction, after, next);
  const scope = batches[0]!.resourceLogs[0]!.scopeLogs[0]!;
  for (const b of batches) for (const r of b.resourceLogs) for (const s of r.scopeLogs) s.logRecords = [];
  scope.logRecords = kept;
  const path = join(dir, 'compact.logs.otlp.jsonl');
  writeFileSync(path, batches.map((b) => `${JSON.stringify(b)}\n`).join(''));
  return { path, resultMs: Number(nanos(result) / 1_000_000n), endMs: Number(nanos(next) / 1_000_000n) };
}

describe("Codex's remote compaction in its logs", () => {
  it('is the compaction that held the turn up, not a model request waiting for its headers', async () => {
    const { path, resultMs, endMs } = withRemoteCompaction();
    const { report } = await analyzeTraces([path], { now: endMs + 1_000 });
    const [turn] = report.turns;
    expect(turn).toMatchObject({ status: 'completed', verdict: 'compaction' });
    expect(turn!.evidence[0]).toMatch(/^compaction took 29 s/);
    const bar = turn!.phases.find((p) => p.name === 'stall_why.compaction');
    expect(bar!.endMs! - bar!.startMs).toBeCloseTo(COMPACTION_MS, 3);
    expect(bar!.startMs).toBeCloseTo(resultMs + 30_000 - COMPACTION_MS, -1);
  });
});
