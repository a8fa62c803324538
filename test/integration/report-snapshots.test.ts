/**
 * Every report `stall-why <input> --json` prints for the corpus (test/corpus) and the e2e recordings
 * (test/e2e/recordings), byte for byte, against a snapshot taken before the speed work of issue 14:
 * reading faster must not judge differently. An input is every file there (scripts and READMEs
 * aside; files that are no trace snapshot their error), every flight-recorder directory, and every
 * manifest entry that judges several files together. Each is judged at the moment its manifest,
 * labels or judged.json name (so live turns are judged live, not long abandoned), otherwise at
 * FIXED_NOW. The built CLI runs as a subprocess. After a deliberate change in judging, rewrite the
 * snapshots with `npx vitest run --project unit test/integration/report-snapshots.test.ts -u`.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';

const repo = join(import.meta.dirname, '../..');
const CLI = join(repo, 'packages/viewer-cli/bin/stall-why.js');
const FIXED_NOW = Date.parse('2026-12-03T00:00:00Z');
const roots = ['test/corpus', 'test/e2e/recordings'];
const notInput = /(\.md|\.mjs|\/README)$/;

interface Input {
  readonly name: string;
  readonly paths: readonly string[];
  readonly now: number;
}

function walk(dir: string, files: string[], recordings: Set<string>): void {
  for (const entry of readdirSync(join(repo, dir), { withFileTypes: true })) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory()) walk(path, files, recordings);
    else if (entry.name.endsWith('.swfr')) recordings.add(dir);
    else if (!notInput.test(path)) files.push(path);
  }
}

/** The moments the corpus names for its inputs: manifest entries, wild labels, e2e judged.json. */
function knownMoments(): Map<string, number> {
  const at = new Map<string, number>();
  const manifest = JSON.parse(readFileSync(join(repo, 'test/corpus/manifest.json'), 'utf8')) as { entries: Array<{ paths: string[]; now: number }> };
  for (const e of manifest.entries) for (const p of e.paths) if (!at.has(`test/corpus/${p}`)) at.set(`test/corpus/${p}`, e.now);
  for (const labels of ['test/corpus/wild/labels.json', 'test/corpus/wild/more/labels.json']) {
    const { files } = JSON.parse(readFileSync(join(repo, labels), 'utf8')) as { files: Array<{ file: string; now: string }> };
    for (const f of files) at.set(`${dirname(labels)}/${f.file}`, Date.parse(f.now));
  }
  for (const scenario of readdirSync(join(repo, 'test/e2e/recordings'))) {
    const judged = join(repo, 'test/e2e/recordings', scenario, 'judged.json');
    if (existsSync(judged)) at.set(`test/e2e/recordings/${scenario}/recording`, (JSON.parse(readFileSync(judged, 'utf8')) as { nowMs: number }).nowMs);
  }
  return at;
}

function inputs(): Input[] {
  const files: string[] = [];
  const recordings = new Set<string>();
  for (const root of roots) walk(root, files, recordings);
  const at = knownMoments();
  const single = [...files, ...recordings].sort().map((p) => ({ name: p, paths: [p], now: at.get(p) ?? FIXED_NOW }));
  const manifest = JSON.parse(readFileSync(join(repo, 'test/corpus/manifest.json'), 'utf8')) as { entries: Array<{ name: string; paths: string[]; now: number }> };
  const together = manifest.entries
    .filter((e) => e.paths.length > 1)
    .map((e) => ({ name: `manifest/${e.name}`, paths: e.paths.map((p) => `test/corpus/${p}`), now: e.now }));
  return [...single, ...together];
}

function judge(input: Input): Promise<string> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...input.paths, '--json', '--now', String(input.now)], { cwd: repo, maxBuffer: 256 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (err as { code?: number }).code : 0;
      resolve(`stall-why ${input.paths.join(' ')} --json --now ${input.now}\nexit ${code}\n--- stderr\n${stderr}--- stdout\n${stdout}`);
    });
  });
}

const all = inputs();
const snapshotFile = (name: string) => `report-snapshots/${name.replace(/^test\//, '').replace(/[^A-Za-z0-9._-]+/g, '__')}.txt`;

describe('reports on the corpus and the e2e recordings, against their snapshots', () => {
  it('finds the inputs', () => {
    expect(all.length).toBeGreaterThan(250);
    expect(new Set(all.map((i) => snapshotFile(i.name))).size).toBe(all.length);
  });

  it.concurrent.for(all.map((i) => [i.name, i] as const))('%s', async ([, input], { expect }) => {
    await expect(await judge(input)).toMatchFileSnapshot(snapshotFile(input.name));
  });
});
