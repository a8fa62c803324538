/**
 * The e2e suite's recordings (test/e2e/recordings: `stall-why record` around the real Codex
 * app-server 0.169, one per fault, snapshotted when it was judged live) judged again through the
 * library at the same moment: every turn keeps the status and verdict the live judgement gave. The
 * e2e suite needs minutes and the Codex binary; this keeps its findings in the fast suite.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyzeTraces } from '@stall-why/classifier';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '../e2e/recordings');
interface Judged {
  scenario: string;
  nowMs: number;
  turns: Array<{ threadId: string | null; turnId: string | null; status: string; verdict: string }>;
}
const scenarios = readdirSync(root, { withFileTypes: true })
  .filter((e) => e.isDirectory() && existsSync(join(root, e.name, 'judged.json')))
  .map((e) => e.name);

describe('the e2e recordings of the real Codex app-server, judged again', () => {
  it('has a recording for each fault', () => {
    expect(scenarios.length).toBeGreaterThanOrEqual(18);
  });

  it.each(scenarios)('%s', async (name) => {
    const judged = JSON.parse(readFileSync(join(root, name, 'judged.json'), 'utf8')) as Judged;
    expect(judged.turns.length).toBeGreaterThan(0);
    const { report } = await analyzeTraces([join(root, name, 'recording')], { now: judged.nowMs });
    const now = report.turns.map(({ threadId, turnId, status, verdict }) => ({ threadId, turnId, status, verdict }));
    expect(now).toEqual(judged.turns);
  });
});
