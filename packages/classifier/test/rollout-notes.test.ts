/**
 * A rollout that marks no turns (no task_started lines, as Codex wrote them up to 0.9x) has its turns
 * inferred from message boundaries, and the report says so. Made from a real 0.169 rollout with its
 * turn markers taken out; older shapes are in test/corpus/wild.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyzeTraces } from '@stall-why/classifier';
import { afterAll, describe, expect, it } from 'vitest';

const sample = join(import.meta.dirname, '../../../test/corpus/codex/healthy_tool.rollout.jsonl');
const dir = mkdtempSync(join(tmpdir(), 'stall-why-notes-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('rollout notes', () => {
  it('a rollout without turn markers: its turn is inferred from the messages, and a note says so', async () => {
    const path = join(dir, 'rollout-2026-01-01T00-00-00-00000000-0000-0000-0000-000000000000.jsonl');
    const lines = readFileSync(sample, 'utf8').split('\n').filter((l) => !/"type":"(task_started|task_complete)"/.test(l));
    writeFileSync(path, lines.join('\n'));
    const marked = (await analyzeTraces([sample], { now: Date.now() })).report.turns[0]!;
    const { report } = await analyzeTraces([path], { now: Date.now() });
    const userLine = lines.findIndex((l) => /"role":"user"/.test(l) && !/environment_context|AGENTS\.md/.test(l)) + 1;
    expect(report.turns).toMatchObject([{ turnId: `inferred-L${userLine}`, status: 'completed', verdict: 'healthy' }]);
    // It ends at the answer: the marked turn ended at task_complete, a few milliseconds later.
    expect(Date.parse(marked.endedAt!) - Date.parse(report.turns[0]!.endedAt!)).toBeLessThan(1000);
    expect(report.sources[0]!.notes).toEqual([expect.stringMatching(/^1 turn inferred from message boundaries \(this Codex version writes no task_started\)/)]);
  });

  it('a turn the person rolled back (0.139+ thread_rolled_back: Esc, edit, send again) is listed as it ran, and a note says so', async () => {
    const path = join(dir, 'rollout-2026-01-01T00-00-00-00000000-0000-0000-0000-000000000001.jsonl');
    const lines = readFileSync(sample, 'utf8').split('\n').filter(Boolean);
    const last = JSON.parse(lines.at(-1)!) as { timestamp: string };
    lines.push(JSON.stringify({ timestamp: last.timestamp, type: 'event_msg', payload: { type: 'thread_rolled_back', num_turns: 1 } }));
    writeFileSync(path, `${lines.join('\n')}\n`);
    const { report } = await analyzeTraces([path], { now: Date.now() });
    expect(report.turns).toHaveLength(1);
    expect(report.sources[0]!.notes).toEqual([expect.stringMatching(/^the person rolled back 1 turn \(thread_rolled_back/)]);
  });

  it('a rollout with its turns has no such note', async () => {
    const { report } = await analyzeTraces([sample], { now: Date.now() });
    expect(report.turns).toHaveLength(1);
    expect(report.sources[0]!.notes).toBeUndefined();
  });
});
