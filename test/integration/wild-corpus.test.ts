/**
 * Verdicts on real sessions in the wild: public Codex rollouts of many versions and originators
 * (test/corpus/wild, provenance and licences in its sources.json), every turn labelled by reading the
 * file before the tool was run on it (labels.json, each label with its reason), whole files and
 * prefixes cut inside real waits. Precision and recall per verdict and per status, over these and the
 * recorded scenario corpus (test/corpus/manifest.json), must be at least 0.9; no completed turn a
 * reader labelled healthy may be given another verdict (a false alarm on a finished turn).
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { analyzeTraces, type Thresholds } from '@stall-why/classifier';
import { describe, expect, it } from 'vitest';

interface Label {
  readonly ordinal: number;
  readonly status: string;
  readonly verdict: string;
  readonly reason: string;
}
interface Judged {
  readonly where: string;
  readonly want: { status: string; verdict: string };
  readonly got: { status: string; verdict: string } | undefined;
}

const corpus = join(import.meta.dirname, '../corpus');
/** The batches: test/corpus/wild and each folder in it with its own labels.json (a batch is added by adding its folder). */
const batches = ['wild', ...readdirSync(join(corpus, 'wild'), { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => `wild/${d.name}`)]
  .filter((d) => existsSync(join(corpus, d, 'labels.json')))
  .sort();
const labelFiles = batches.map((d) => join(corpus, d, 'labels.json'));

async function judgeWild(): Promise<Judged[]> {
  const out: Judged[] = [];
  for (const labels of labelFiles) {
    const { files } = JSON.parse(readFileSync(labels, 'utf8')) as { files: Array<{ file: string; now: string; turns: Label[] }> };
    for (const f of files) {
      const { report } = await analyzeTraces([join(dirname(labels), f.file)], { now: Date.parse(f.now) });
      expect(report.turns.length, `${f.file}: turns`).toBe(f.turns.length);
      for (const label of f.turns) {
        const got = report.turns[label.ordinal - 1];
        out.push({ where: `${f.file} #${label.ordinal}`, want: label, got: got && { status: got.status, verdict: got.verdict } });
      }
    }
  }
  return out;
}

async function judgeManifest(): Promise<Judged[]> {
  const manifest = JSON.parse(readFileSync(join(corpus, 'manifest.json'), 'utf8')) as {
    entries: Array<{ name: string; paths: string[]; now: number; thresholds?: Partial<Thresholds>; expect: Array<{ status: string; verdict: string }> }>;
  };
  const out: Judged[] = [];
  for (const e of manifest.entries) {
    const { report } = await analyzeTraces(e.paths.map((p) => join(corpus, p)), { now: e.now, thresholds: e.thresholds });
    e.expect.forEach((want, i) => out.push({ where: `${e.name} #${i + 1}`, want, got: report.turns[i] && { status: report.turns[i]!.status, verdict: report.turns[i]!.verdict } }));
  }
  return out;
}

/** Precision and recall of one label value, by what a judgement picks out of it. */
function score(judged: readonly Judged[], key: 'status' | 'verdict', value: string): { precision: number; recall: number; n: number } {
  const tp = judged.filter((j) => j.want[key] === value && j.got?.[key] === value).length;
  const predicted = judged.filter((j) => j.got?.[key] === value).length;
  const actual = judged.filter((j) => j.want[key] === value).length;
  return { precision: predicted ? tp / predicted : 1, recall: actual ? tp / actual : 1, n: actual };
}

describe('verdicts on real sessions in the wild', () => {
  it('has real rollouts of at least four Codex versions and three originators, each with its provenance and licence', () => {
    expect(batches.length).toBeGreaterThanOrEqual(4);
    const sources = batches.flatMap((d) =>
      existsSync(join(corpus, d, 'sources.json'))
        ? (JSON.parse(readFileSync(join(corpus, d, 'sources.json'), 'utf8')) as Array<Record<string, string | boolean | null>>).map((s) => ({ ...s, dir: d }))
        : [],
    );
    const whole = sources.filter((s) => !s.cutFrom);
    expect(new Set(whole.map((s) => s.cliVersion).filter(Boolean)).size).toBeGreaterThanOrEqual(4);
    expect(new Set(whole.map((s) => s.originator).filter(Boolean)).size).toBeGreaterThanOrEqual(3);
    for (const s of sources) {
      expect(s.repository, String(s.file)).toMatch(/^[\w.-]+\/[\w.-]+$/);
      expect(s.commit, String(s.file)).toMatch(/^[0-9a-f]{40}$/);
      expect(['MIT', 'Apache-2.0', 'MIT OR Apache-2.0', 'BSD-3-Clause', 'BSD-2-Clause', 'ISC', 'Unlicense', 'CC0-1.0', 'MPL-2.0']).toContain(s.licence);
      expect(existsSync(join(corpus, String(s.dir), String(s.file))), String(s.file)).toBe(true);
    }
  });

  it('precision and recall per verdict and per status are at least 0.9, and no finished turn is called a stall', async () => {
    const wild = await judgeWild();
    const judged = [...wild, ...(await judgeManifest())];
    const rows: string[] = [];
    let worst = 1;
    for (const key of ['verdict', 'status'] as const) {
      for (const value of new Set(judged.flatMap((j) => [j.want[key], j.got?.[key]]).filter((v): v is string => v !== undefined))) {
        const { precision, recall, n } = score(judged, key, value);
        worst = Math.min(worst, precision, recall);
        rows.push(`${key} ${value.padEnd(28)} precision ${precision.toFixed(2)} recall ${recall.toFixed(2)} (${n} labelled)`);
      }
    }
    const wrong = judged.filter((j) => j.got?.status !== j.want.status || j.got?.verdict !== j.want.verdict);
    const table = [...rows, `${wild.length} wild turns, ${judged.length} in all; ${wrong.length} judged otherwise:`, ...wrong.map((j) => `  ${j.where}: labelled ${j.want.status}/${j.want.verdict}, judged ${j.got?.status}/${j.got?.verdict}`)].join('\n');
    console.log(table);
    expect(wild.length).toBeGreaterThanOrEqual(100);
    expect(worst, table).toBeGreaterThanOrEqual(0.9);
    const falseAlarms = judged.filter((j) => j.want.status === 'completed' && j.want.verdict === 'healthy' && j.got?.verdict !== 'healthy');
    expect(falseAlarms.map((j) => `${j.where}: ${j.got?.status}/${j.got?.verdict}`), table).toEqual([]);
  });
});
