/**
 * The scenario corpus (test/corpus/manifest.json): traces recorded from running servers (the
 * example app-server, the real Codex app-server), each judged at its recorded moment. Precision and
 * recall per verdict must be 1.0, and every status must match.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyzeTraces, type Thresholds } from '@stall-why/classifier';
import { VERDICTS, type Verdict } from '@stall-why/conventions';
import { describe, expect, it } from 'vitest';

interface Entry {
  readonly name: string;
  readonly paths: string[];
  readonly now: number;
  readonly thresholds?: Partial<Thresholds>;
  readonly expect: Array<{ status: string; verdict: Verdict }>;
}

const corpus = join(import.meta.dirname, '../corpus');
const manifest = JSON.parse(readFileSync(join(corpus, 'manifest.json'), 'utf8')) as { entries: Entry[] };

describe('classifier scenario corpus', () => {
  it('has traces for every verdict but unknown, and healthy and ambiguous ones', () => {
    const expected = new Set(manifest.entries.flatMap((e) => e.expect.map((x) => x.verdict)));
    for (const { id } of VERDICTS) if (id !== 'unknown') expect(expected, `no corpus trace for ${id}`).toContain(id);
    expect(manifest.entries.some((e) => e.expect.some((x) => x.status === 'in_progress'))).toBe(true);
  });

  it('judges every recorded scenario right: precision and recall 1.0 per verdict', async () => {
    const pairs: Array<{ entry: string; expected: Entry['expect'][number]; got: { status: string; verdict: string } | undefined }> = [];
    for (const entry of manifest.entries) {
      const { report } = await analyzeTraces(entry.paths.map((p) => join(corpus, p)), { now: entry.now, thresholds: entry.thresholds });
      const turns = report.turns;
      expect(turns.length, `${entry.name}: number of turns`).toBe(entry.expect.length);
      entry.expect.forEach((expected, i) => pairs.push({ entry: entry.name, expected, got: turns[i] && { status: turns[i]!.status, verdict: turns[i]!.verdict } }));
      for (const t of turns) {
        expect(t.evidence.length, `${entry.name}: evidence`).toBeGreaterThan(0);
        expect(t.confidence).toBeGreaterThan(0);
        expect(t.confidence).toBeLessThanOrEqual(1);
      }
    }
    const rows: string[] = [];
    let worst = 1;
    for (const { id } of VERDICTS) {
      const tp = pairs.filter((p) => p.expected.verdict === id && p.got?.verdict === id).length;
      const predicted = pairs.filter((p) => p.got?.verdict === id).length;
      const actual = pairs.filter((p) => p.expected.verdict === id).length;
      if (predicted + actual === 0) continue;
      const precision = predicted ? tp / predicted : 0;
      const recall = actual ? tp / actual : 0;
      worst = Math.min(worst, precision, recall);
      rows.push(`${id.padEnd(28)} precision ${precision.toFixed(2)} recall ${recall.toFixed(2)} (${actual} expected)`);
    }
    const wrong = pairs.filter((p) => p.got?.verdict !== p.expected.verdict || p.got?.status !== p.expected.status);
    const detail = wrong.map((p) => `${p.entry}: expected ${p.expected.status}/${p.expected.verdict}, got ${p.got?.status}/${p.got?.verdict}`);
    expect(detail, rows.join('\n')).toEqual([]);
    expect(worst, rows.join('\n')).toBe(1);
  });
});
