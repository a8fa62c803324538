/**
 * A rollout that marks no turns (no task_started lines, as older Codex versions wrote them) is not
 * "nothing happened": the report says why it judged no turn. Made from a real 0.169 rollout with
 * its turn markers taken out.
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
  it('a rollout without turn markers: no turns, and a note that says why', async () => {
    const path = join(dir, 'rollout-2026-01-01T00-00-00-00000000-0000-0000-0000-000000000000.jsonl');
    writeFileSync(path, readFileSync(sample, 'utf8').split('\n').filter((l) => !/"type":"(task_started|task_complete)"/.test(l)).join('\n'));
    const { report } = await analyzeTraces([path], { now: Date.now() });
    expect(report.turns).toHaveLength(0);
    expect(report.sources[0]!.notes).toEqual([expect.stringMatching(/^\d+ items and events but no turn start \(task_started\)/)]);
  });

  it('a rollout with its turns has no such note', async () => {
    const { report } = await analyzeTraces([sample], { now: Date.now() });
    expect(report.turns).toHaveLength(1);
    expect(report.sources[0]!.notes).toBeUndefined();
  });
});
