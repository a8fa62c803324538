/**
 * A directory of traces as people have them: rollouts, a gzip-compressed one, files that are not
 * traces, a FIFO, links back to the directory itself. Every trace is read, every other entry is
 * named in a note with why, and nothing hangs.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { analyzeTraces } from '@stall-why/classifier';
import { afterAll, describe, expect, it } from 'vitest';

const root = mkdtempSync(join(tmpdir(), 'stall-why-dir-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const corpus = join(import.meta.dirname, '../../../test/corpus/codex');

describe('a directory of traces', () => {
  it('reads rollouts and gzip rollouts in it, names what it did not read and why, and follows no link into a directory', async () => {
    const dir = join(root, 'sessions');
    mkdirSync(join(dir, '2026/11/24'), { recursive: true });
    copyFileSync(join(corpus, 'healthy.rollout.jsonl'), join(dir, '2026/11/24/rollout-2026-11-24T10-00-00-01a20000-0000-7000-8000-000000000001.jsonl'));
    writeFileSync(
      join(dir, '2026/11/24/rollout-2026-11-24T11-00-00-01a20000-0000-7000-8000-000000000002.jsonl.gz'),
      gzipSync(readFileSync(join(corpus, 'healthy_tool.rollout.jsonl'))),
    );
    writeFileSync(join(dir, 'README.txt'), 'my sessions\n');
    writeFileSync(join(dir, 'broken.jsonl.gz'), gzipSync(Buffer.from('{"a":1}\n')).subarray(0, 12));
    execFileSync('mkfifo', [join(dir, 'pipe')]);
    symlinkSync('.', join(dir, 'loop-a'));
    symlinkSync('..', join(dir, '2026/loop-b'));
    const { report } = await analyzeTraces([dir], { now: Date.parse('2026-12-01T00:00:00Z') });
    expect(report.turns.map((t) => t.status)).toEqual(['completed', 'completed']);
    expect(report.sources.filter((s) => s.format === 'codex-rollout').map((s) => s.path)).toEqual([
      join(dir, '2026/11/24/rollout-2026-11-24T10-00-00-01a20000-0000-7000-8000-000000000001.jsonl'),
      join(dir, '2026/11/24/rollout-2026-11-24T11-00-00-01a20000-0000-7000-8000-000000000002.jsonl.gz'),
    ]);
    const notes = report.sources.find((s) => s.format === 'directory')!.notes!;
    expect(notes).toEqual(
      expect.arrayContaining([
        `${join(dir, 'README.txt')}: not read (not a trace format stall-why reads)`,
        `${join(dir, 'broken.jsonl.gz')}: not read (gzip: corrupt or truncated data)`,
        `${join(dir, 'pipe')}: not read (not a regular file)`,
        `${join(dir, 'loop-a')}: not read (a link to a directory: links are not followed into directories)`,
        `${join(dir, '2026/loop-b')}: not read (a link to a directory: links are not followed into directories)`,
      ]),
    );
    expect(notes).toHaveLength(5);
  });

  it('an empty directory (a recording that has written nothing yet) is no turns and a note, not an error', async () => {
    const dir = join(root, 'not-yet');
    mkdirSync(dir);
    const { report } = await analyzeTraces([dir], { now: Date.now() });
    expect(report.turns).toEqual([]);
    expect(report.sources).toMatchObject([{ path: dir, format: 'directory', notes: [expect.stringMatching(/^empty: nothing recorded in it yet \(made at \d{4}-/)] }]);
  });

  it('a moment before the first turn says the turns began after it', async () => {
    const { report } = await analyzeTraces([join(corpus, 'healthy.rollout.jsonl')], { now: Date.parse('2020-01-01T00:00:00Z') });
    expect(report.turns).toEqual([]);
    expect(report.sources[0]!.notes).toEqual(['1 turn began after the judged moment (2020-01-01T00:00:00.000Z): not judged']);
  });

  it('a directory with nothing readable is one error that says why', async () => {
    const dir = join(root, 'empty-ish');
    mkdirSync(dir);
    writeFileSync(join(dir, 'notes.md'), '# nothing\n');
    const error = await analyzeTraces([dir], { now: 0 }).catch((e: Error) => e);
    expect((error as Error).message).toBe(
      `${dir}: no trace files in this directory (looked for flight-recorder, otlp-json, codex-rollout, chrome-trace; 1 entry not read, e.g. ${join(dir, 'notes.md')}: not read (not a trace format stall-why reads))`,
    );
  });
});
