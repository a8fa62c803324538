/**
 * The real Codex 0.169 rollouts of the corpus, rewritten the way another Codex version or a tool
 * might write them (keys in another order, spaces after `:` and `,`): each must read as the
 * original does, turn for turn, verdict for verdict.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { analyzeTraces } from '@stall-why/classifier';
import { afterAll, describe, expect, it } from 'vitest';

const corpus = join(import.meta.dirname, '../../../test/corpus');
const manifest = JSON.parse(readFileSync(join(corpus, 'manifest.json'), 'utf8')) as { entries: Array<{ name: string; paths: string[]; now: number }> };
const rollouts = manifest.entries.filter((e) => e.paths.length === 1 && e.paths[0]!.endsWith('.rollout.jsonl'));
const dir = mkdtempSync(join(tmpdir(), 'stall-why-shapes-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Payload first, timestamp last, Python-style separators. */
function rewrite(line: string): string {
  const { timestamp, type, payload, ...rest } = JSON.parse(line) as Record<string, unknown>;
  return JSON.stringify({ payload, ...rest, type, timestamp }, null, 0).replace(/","/g, '", "').replace(/":/g, '": ');
}

const judged = async (path: string, now: number) =>
  (await analyzeTraces([path], { now })).report.turns.map(({ turnId, status, verdict }) => ({ turnId, status, verdict }));

describe('rollouts in other shapes', () => {
  it.each(rollouts.map((e) => [e.name, e] as const))('%s reads the same with its keys reordered and spaced', async (_name, entry) => {
    const original = join(corpus, entry.paths[0]!);
    const copy = join(dir, basename(original));
    writeFileSync(copy, readFileSync(original, 'utf8').split('\n').filter(Boolean).map(rewrite).join('\n') + '\n');
    const expected = await judged(original, entry.now);
    expect(expected.length).toBeGreaterThan(0);
    expect(await judged(copy, entry.now)).toEqual(expected);
  });
});
